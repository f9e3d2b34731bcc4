"""Chapter 5 (optimizers): momentum, RMSprop, Adam, learning-rate schedules.

Conventions as in ``dlbook_utils.optim``: SGD momentum in Keras form (v <- mu v - lr g; w <- w + v),
RMSprop with eps inside the square root (Keras), Adam as Kingma & Ba's Algorithm 1.
"""

import numpy as np

from ..free_response import text_question
from ..registry import Mistake, function_question, value_question

SECTION = "../book/05_optimizers.ipynb"


# ---------------------------------------------------------------- 5.1 SGD with momentum
def _momentum(w, g, v, lr, momentum):
    v = momentum * v - lr * g
    return w + v, v


def _momentum_wrong_sign(w, g, v, lr, momentum):
    v = momentum * v + lr * g
    return w + v, v


def _momentum_stale_velocity(w, g, v, lr, momentum):
    return w + v, momentum * v - lr * g  # moves with the old velocity


def _momentum_cases():
    r = np.random.default_rng(51)
    return [(r.normal(size=(3, 2)), r.normal(size=(3, 2)), r.normal(size=(3, 2)), 0.1, 0.9),
            (np.array([1.0, -1.0]), np.array([0.5, 2.0]), np.zeros(2), 0.01, 0.5)]


def _momentum_random(rng):
    shape = (int(rng.integers(2, 6)),)
    return [(rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape),
             float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.5, 0.99))) for _ in range(3)]


function_question(
    "5.1", "SGD with momentum", name="momentum_step", reference=_momentum, outputs=("w", "v"),
    cases=_momentum_cases(), random_cases=_momentum_random, section=SECTION + "#ch5-momentum",
    mistakes=[
        Mistake("wrong-sign", "The velocity must point downhill: v = momentum * v - lr * g.",
                variant=_momentum_wrong_sign),
        Mistake("momentum-pytorch-form", "That is PyTorch's form (v = momentum * v + g; "
                "w -= lr * v). This exercise uses the Keras form of the chapter: "
                "v = momentum * v - lr * g, then w = w + v.",
                variant=lambda w, g, v, lr, momentum: (w - lr * (momentum * v + g),
                                                       momentum * v + g)),
        Mistake("momentum-stale-velocity", "You moved w with the old velocity. Update v first, "
                "then w = w + v.", variant=_momentum_stale_velocity),
    ],
)


# ---------------------------------------------------------------- 5.2 RMSprop
def _rmsprop(w, g, s, lr, rho, eps):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / np.sqrt(s + eps), s


def _rmsprop_eps_outside(w, g, s, lr, rho, eps):
    s = rho * s + (1 - rho) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s  # Adam's placement of eps


def _rmsprop_first_moment(w, g, s, lr, rho, eps):
    s = rho * s + (1 - rho) * g  # an average of g, not of g**2
    return w - lr * g / np.sqrt(s + eps), s


def _rmsprop_adam_like(w, g, s, lr, rho, eps):
    s = rho * s + (1 - rho) * g**2
    return w - lr * (1 - rho) * g / np.sqrt(s + eps), s  # numerator: a first-moment average


def _rmsprop_cases():
    r = np.random.default_rng(52)
    return [(r.normal(size=(2, 3)), r.normal(size=(2, 3)), r.random((2, 3)), 0.01, 0.9, 1e-7),
            # gradients so small that g**2 is near eps: where eps goes shows
            (np.array([0.5, -0.5]), np.array([2e-4, -4e-4]), np.zeros(2), 0.1, 0.9, 1e-7)]


def _rmsprop_random(rng):
    shape = (int(rng.integers(2, 6)),)
    return [(rng.normal(size=shape), rng.normal(size=shape), rng.random(shape),
             float(rng.uniform(0.001, 0.1)), float(rng.uniform(0.8, 0.99)), 1e-7)
            for _ in range(3)]


function_question(
    "5.2", "RMSprop step", name="rmsprop_step", reference=_rmsprop, outputs=("w", "s"),
    cases=_rmsprop_cases(), random_cases=_rmsprop_random, section=SECTION + "#ch5-rmsprop",
    mistakes=[
        Mistake("rmsprop-first-moment", "You averaged g instead of g**2. RMSprop keeps a running "
                "mean of the SQUARED gradient and has no first moment.",
                variant=_rmsprop_first_moment),
        Mistake("rmsprop-eps-outside-sqrt", "This book's RMSprop (as Keras) adds eps INSIDE "
                "the square root: w - lr * g / sqrt(s + eps). sqrt(s) + eps is Adam's form.",
                variant=_rmsprop_eps_outside),
        Mistake("rmsprop-adam-like", "RMSprop has no first moment: the numerator is the raw "
                "gradient g, not an average of g.", variant=_rmsprop_adam_like),
    ],
)


# ---------------------------------------------------------------- 5.3 Adam (the worked example)
def _adam(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)  # bias correction: m and v start at 0
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_no_bias_correction(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_eps_inside_sqrt(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _adam_epsilon_hat(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return w - alpha * m / (np.sqrt(v) + eps), m, v


def _adam_t_plus_one(w, g, m, v, t, lr, beta1, beta2, eps):
    return _adam(w, g, m, v, t + 1, lr, beta1, beta2, eps)  # t is already the step number


def _adam_corrected_state(w, g, m, v, t, lr, beta1, beta2, eps):
    w_new, m, v = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
    return w_new, m / (1 - beta1**t), v / (1 - beta2**t)


def _adam_wrong_sign(w, g, m, v, t, lr, beta1, beta2, eps):
    w_new, m, v = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
    return 2 * w - w_new, m, v


def _adam_cases():
    r = np.random.default_rng(53)
    w = r.normal(size=(3, 2))
    g = 1e-3 * r.normal(size=(3, 2))  # gradients comparable to eps: eps placement matters
    z = np.zeros((3, 2))
    return [
        (w, g, z, z.copy(), 1, 0.1, 0.9, 0.999, 1e-3),  # m and v never share memory
        (w, g, 1e-3 * r.normal(size=(3, 2)), 1e-6 * r.random((3, 2)), 5, 0.01, 0.9, 0.999, 1e-3),
        (np.array([1.0, -2.0]), np.array([0.5, -0.25]), np.zeros(2), np.zeros(2), 1, 0.001,
         0.9, 0.999, 1e-7),
    ]


def _adam_random(rng):
    cases = []
    for t in (1, 3, 10):
        shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
        scale = 10.0 ** rng.uniform(-4, -2)
        cases.append((rng.normal(size=shape), scale * rng.normal(size=shape),
                      scale * rng.normal(size=shape), scale**2 * rng.random(shape), t,
                      float(rng.uniform(0.001, 0.1)), 0.9, 0.999, 1e-3))
    return cases


function_question(
    "5.3", "Adam step", name="adam_step", reference=_adam, outputs=("w", "m", "v"),
    cases=_adam_cases(), random_cases=_adam_random, section=SECTION + "#ch5-adam",
    # relative only: v is ~1e-12..1e-6 here, so any atol would wave it through (1e-9 did);
    # a float32 answer is right: in float32, 1 - beta2 is off by 1.3e-5 of itself
    rtol=5e-5, atol=0.0,
    mistakes=[
        Mistake("adam-no-bias-correction", "You used m and v directly. Adam divides them by "
                "(1 - beta1**t) and (1 - beta2**t) because both start at zero and are biased "
                "towards zero in the first steps.", variant=_adam_no_bias_correction),
        Mistake("eps-inside-sqrt", "You computed sqrt(v_hat + eps). Adam adds eps after the "
                "square root: sqrt(v_hat) + eps.", variant=_adam_eps_inside_sqrt),
        Mistake("adam-epsilon-hat", "This is Keras's 'epsilon hat' form (bias correction folded "
                "into the step size, eps added to sqrt(v)). The exercise asks for Algorithm 1: "
                "eps is added to sqrt(v_hat).", variant=_adam_epsilon_hat),
        Mistake("adam-t-plus-one", "You used t + 1 in the bias correction. t is already the "
                "number of this step (1 for the first): divide by (1 - beta1**t) and "
                "(1 - beta2**t).", variant=_adam_t_plus_one),
        Mistake("adam-returns-corrected-moments", "Return the running averages m and v as "
                "the new state, not m_hat and v_hat: the bias correction is applied afresh at "
                "every step.", variant=_adam_corrected_state),
        Mistake("wrong-sign", "Your weights move uphill: the update subtracts "
                "lr * m_hat / (sqrt(v_hat) + eps).", variant=_adam_wrong_sign),
        Mistake("adam-old-v-returned", "You returned the OLD v: return the updated second "
                "moment v = beta2 * v + (1 - beta2) * g**2 as the new state.",
                variant=lambda w, g, m, v, *a: (*_adam(w, g, m, v, *a)[:2], v)),
    ],
)


# ---------------------------------------------------------------- 5.4 cosine schedule
def _cosine(step, total, lr_max, lr_min):
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(np.pi * np.asarray(step) / total))


def _cosine_no_half(step, total, lr_max, lr_min):
    return lr_min + (lr_max - lr_min) * (1 + np.cos(np.pi * np.asarray(step) / total))


def _cosine_rising(step, total, lr_max, lr_min):
    return lr_min + 0.5 * (lr_max - lr_min) * (1 - np.cos(np.pi * np.asarray(step) / total))


function_question(
    "5.4", "Cosine learning-rate schedule", name="cosine_lr", reference=_cosine,
    cases=[(np.arange(0, 11), 10, 0.1, 0.0), (np.arange(0, 101, 5), 100, 1e-3, 1e-5)],
    random_cases=lambda rng: [(np.arange(0, (t := int(rng.integers(5, 50))) + 1), t,
                               float(rng.uniform(0.01, 1)), float(rng.uniform(0, 0.001)))],
    batch_size_of=lambda args: None, section=SECTION + "#ch5-schedules",
    mistakes=[
        Mistake("cosine-missing-half", "At step 0 the rate must equal lr_max: the cosine term "
                "needs the factor 1/2.", variant=_cosine_no_half),
        Mistake("cosine-rising", "Your schedule rises from lr_min to lr_max: use 1 + cos(...), "
                "not 1 - cos(...).", variant=_cosine_rising),
    ],
)

# ---------------------------------------------------------------- 5.6 step decay by hand
value_question(
    "5.6", "Step decay by hand", name="lr_epoch_25", reference=0.025, rtol=1e-9, atol=1e-12,
    section=SECTION + "#ch5-schedules",
    mistakes=[Mistake("step-decay-off-by-one", "Count the drops: epochs 10 and 20 have "
                      "happened by epoch 25, so the rate was halved twice (floor(25 / 10) = 2).",
                      value=0.0125),
              Mistake("step-decay-once", "Epoch 20 is a drop too: floor(25 / 10) = 2 drops.",
                      value=0.05)],
)

text_question(
    "5.7", "Batch size and learning rate", name="answer_5_7",
    section=SECTION + "#ch5-batch-size", min_words=30, points=2,
    rubric=("2 points: says that a smaller batch gives a noisier gradient estimate (the "
            "variance of a mean of B examples falls like 1/B) but more updates per epoch, a "
            "larger batch a smoother estimate but fewer steps, so at a fixed number of epochs "
            "large batches can end undertrained; that the learning rate must be chosen with "
            "the batch size (a rate that suits large batches can diverge with small ones: "
            "nan, accuracy at chance); and backs a claim with a figure or measurement of the "
            "chapter. 1 point: the trade-off without evidence. 0: 'larger batches are "
            "always better'."))
