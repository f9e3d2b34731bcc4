"""Chapter 5 (optimizers): momentum, RMSprop, Adam, learning-rate schedules.

Conventions as in ``dlbook_utils.optim``: SGD momentum in Keras form (v <- mu v - lr g; w <- w + v),
RMSprop with eps inside the square root (Keras), Adam as Kingma & Ba's Algorithm 1.
"""

import numpy as np

from ..registry import Mistake, choice_question, function_question

SECTION = "../book/05_optimizers.ipynb"


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


def _adam_wrong_sign(w, g, m, v, t, lr, beta1, beta2, eps):
    w_new, m, v = _adam(w, g, m, v, t, lr, beta1, beta2, eps)
    return 2 * w - w_new, m, v


def _adam_cases():
    r = np.random.default_rng(53)
    w = r.normal(size=(3, 2))
    g = 1e-3 * r.normal(size=(3, 2))  # gradients comparable to eps: eps placement matters
    z = np.zeros((3, 2))
    return [
        (w, g, z, z, 1, 0.1, 0.9, 0.999, 1e-3),
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
    cases=_adam_cases(), random_cases=_adam_random, section=SECTION + "#adam",
    mistakes=[
        Mistake("adam-no-bias-correction", "You used m and v directly. Adam divides them by "
                "(1 - beta1**t) and (1 - beta2**t) because both start at zero and are biased "
                "towards zero in the first steps.", variant=_adam_no_bias_correction),
        Mistake("eps-inside-sqrt", "You computed sqrt(v_hat + eps). Adam adds eps after the "
                "square root: sqrt(v_hat) + eps.", variant=_adam_eps_inside_sqrt),
        Mistake("adam-epsilon-hat", "This is Keras's 'epsilon hat' form (bias correction folded "
                "into the step size, eps added to sqrt(v)). The exercise asks for Algorithm 1: "
                "eps is added to sqrt(v_hat).", variant=_adam_epsilon_hat),
        Mistake("wrong-sign", "Your weights move uphill: the update subtracts "
                "lr * m_hat / (sqrt(v_hat) + eps).", variant=_adam_wrong_sign),
    ],
)


# ---------------------------------------------------------------- 5.5 why bias correction
choice_question(
    "5.5", "Why Adam corrects the bias", name="answer_5_5", section=SECTION + "#adam",
    options={"A": "To decay the learning rate over time.",
             "B": "Because m and v start at zero, so early averages are biased towards zero.",
             "C": "To prevent overflow when gradients are large.",
             "D": "To implement weight decay."},
    answer="B",
    wrong={"A": "The factor 1/(1 - beta**t) tends to 1; it does not shrink the step over time.",
           "C": "Overflow is not the issue: m and v are averages of g and g**2.",
           "D": "Weight decay is a separate term (AdamW decouples it)."},
)
