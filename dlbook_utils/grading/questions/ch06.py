"""Chapter 6 (regularization): L2 and L1 penalties, inverted dropout, early stopping, AdamW.

Conventions as in ``dlbook_utils.regularizers`` (Keras ``kernel_regularizer``): the L2 penalty is
lam * sum(W**2) with gradient 2 lam W; the L1 penalty is lam * sum|W| with gradient lam sign(W),
sign(0) = 0. Dropout is inverted dropout with drop probability p. AdamW as in
``dlbook_utils.optim.AdamW`` (decay scaled by the learning rate, decoupled from m and v).
"""

import numpy as np

from ..registry import Mistake, function_question, value_question

SECTION = "../book/06_regularization.ipynb"
_NO_BATCH = {"batch_size_of": lambda args: None}  # penalties have no batch axis


# ---------------------------------------------------------------- 6.1 L2 penalty
def _l2(W, lam):
    return lam * np.sum(W**2), 2 * lam * W


def _w_cases(seed):
    r = np.random.default_rng(seed)
    return [(r.normal(size=(4, 3)), 0.01), (np.array([[1.5, -2.0], [0.0, 0.25]]), 0.5)]


def _w_random(rng):
    return [(rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(1, 5)))),
             float(rng.uniform(0.001, 1.0))) for _ in range(2)]


def _penalty_question(qid, title, name, reference, mistakes):
    """6.1 and 6.2 share everything but the penalty: (W, lam) -> (penalty, grad)."""
    function_question(qid, title, name=name, reference=reference, outputs=("penalty", "grad"),
                      cases=_w_cases(int(qid.replace(".", ""))), random_cases=_w_random,
                      section=SECTION + "#ch6-l1-l2", mistakes=mistakes, **_NO_BATCH)


_penalty_question(
    "6.1", "L2 penalty and its gradient", "l2_penalty", _l2, [
        Mistake("l2-half-convention", "You used the (lam/2) * sum(W**2) convention (gradient "
                "lam * W). This book follows Keras: penalty lam * sum(W**2), gradient 2 * lam * W.",
                variant=lambda W, lam: (0.5 * lam * np.sum(W**2), lam * W)),
        Mistake("l2-grad-missing-2", "The penalty is right but d/dW of lam * W**2 is 2 * lam * W: "
                "the factor 2 is missing.", variant=lambda W, lam: (lam * np.sum(W**2), lam * W)),
        Mistake("l2-sqrt-norm", "The L2 penalty is lam times the SUM of squares, not lam times "
                "the Euclidean norm sqrt(sum(W**2)).",
                variant=lambda W, lam: (lam * np.sqrt(np.sum(W**2)), 2 * lam * W)),
    ],
)


# ---------------------------------------------------------------- 6.2 L1 penalty
def _l1(W, lam):
    return lam * np.sum(np.abs(W)), lam * np.sign(W)


_penalty_question(
    "6.2", "L1 penalty and its (sub)gradient", "l1_penalty", _l1, [
        Mistake("l1-grad-without-sign", "Your gradient is lam * W, the L2-style gradient. "
                "d/dW lam * |W| = lam * sign(W): every nonzero weight is pushed towards 0 by the "
                "same amount, whatever its size.", variant=lambda W, lam: (
                    lam * np.sum(np.abs(W)), lam * W)),
        Mistake("l1-grad-constant", "Your gradient is the constant lam everywhere. The slope of "
                "|W| is +1 for W > 0 and -1 for W < 0: the gradient is lam * sign(W).",
                variant=lambda W, lam: (lam * np.sum(np.abs(W)), lam * np.ones_like(W))),
        Mistake("l1-sign-at-zero", "At W = 0 use the subgradient 0 (np.sign(0) = 0, as TF does), "
                "not +lam.", variant=lambda W, lam: (
                    lam * np.sum(np.abs(W)), np.where(W >= 0, lam, -lam))),
        Mistake("l1-sum-not-abs", "The penalty sums |W|, not W: negative weights must add to "
                "the penalty too.", variant=lambda W, lam: (lam * np.sum(W), lam * np.sign(W))),
    ],
)


# ---------------------------------------------------------------- 6.3 inverted dropout
def _dropout(x, keep, p, training):
    if not training:
        return x.copy()
    return x * keep / (1 - p)


def _dropout_no_rescale(x, keep, p, training):
    return x * keep if training else x.copy()


def _dropout_scaled_at_eval(x, keep, p, training):
    return x * keep / (1 - p) if training else x * (1 - p)


def _dropout_mask_at_eval(x, keep, p, training):
    return x * keep / (1 - p)


def _dropout_divided_by_p(x, keep, p, training):
    return x * keep / p if training else x.copy()


def _dropout_mask_flipped(x, keep, p, training):
    return x * ~keep / (1 - p) if training else x.copy()


def _dropout_cases():
    r = np.random.default_rng(63)
    x = r.normal(size=(4, 5))
    keep = r.random((4, 5)) >= 0.3
    x2 = r.normal(size=(2, 3))
    keep2 = np.array([[True, False, True], [False, True, True]])
    return [(x, keep, 0.3, True), (x, keep, 0.3, False), (x2, keep2, 0.5, True),
            (x2, keep2, 0.5, False)]


def _dropout_random(rng):
    p = float(rng.uniform(0.1, 0.7))
    x = rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(2, 6))))
    keep = rng.random(x.shape) >= p
    return [(x, keep, p, True), (x, keep, p, False)]


function_question(
    "6.3", "Inverted dropout forward", name="dropout_forward", reference=_dropout,
    cases=_dropout_cases(), random_cases=_dropout_random, section=SECTION + "#ch6-dropout",
    mistakes=[
        Mistake("dropout-no-rescale", "In training you zeroed the dropped units but did not "
                "divide the kept ones by (1 - p): the expected activation shrinks to (1 - p) x, "
                "and the network sees larger activations at evaluation than in training.",
                variant=_dropout_no_rescale),
        Mistake("dropout-scaled-at-eval", "Inverted dropout does all the scaling in training "
                "(divide by 1 - p); at evaluation the layer is the identity. Multiplying by "
                "(1 - p) at evaluation is the original, non-inverted recipe and here scales twice.",
                variant=_dropout_scaled_at_eval),
        Mistake("dropout-active-at-eval", "At evaluation (training=False) dropout is switched "
                "off: return x unchanged, without the mask.", variant=_dropout_mask_at_eval),
        Mistake("dropout-divided-by-p", "p is the DROP probability: the kept units are scaled "
                "by 1 / (1 - p), the inverse of the keep probability, not divided by p.",
                variant=_dropout_divided_by_p),
        Mistake("dropout-mask-flipped", "keep_mask is True for the units that are KEPT; you "
                "kept the dropped ones.", variant=_dropout_mask_flipped),
    ],
)


# ---------------------------------------------------------------- 6.4 early stopping (value)
# The notebook prints these curves; epochs are numbered from 1, as Keras logs them.
VAL_LOSS = [0.92, 0.71, 0.60, 0.55, 0.53, 0.54, 0.52, 0.53, 0.55, 0.56, 0.58, 0.61]
TRAIN_LOSS = [0.95, 0.70, 0.57, 0.49, 0.43, 0.38, 0.34, 0.30, 0.27, 0.24, 0.22, 0.20]

value_question(
    "6.4", "Early stopping: which weights are kept?", name="best_epoch", reference=7,
    rtol=0, atol=0.1, section=SECTION + "#ch6-early-stopping",
    mistakes=[
        Mistake("early-stopping-zero-based", "Epochs are numbered from 1 here (as Keras prints "
                "them): np.argmin gives a 0-based index, so add 1.", value=6),
        Mistake("early-stopping-stop-epoch", "Epoch 10 is where training STOPS (three epochs "
                "without improvement after the best one); restore_best_weights keeps the "
                "weights of the best epoch.", value=10),
        Mistake("early-stopping-first-rise", "With patience 3, one epoch without improvement "
                "does not stop training: keep reading the validation curve after its first "
                "rise, and keep the weights of its lowest point.", value=5),
        Mistake("early-stopping-train-loss", "Early stopping watches the VALIDATION loss; the "
                "training loss keeps falling to the end.", value=12),
    ],
)


# ---------------------------------------------------------------- 6.5 AdamW
def _adam_core(w, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adamw(w, g, m, v, t, lr, wd, beta1, beta2, eps):
    w = w - lr * wd * w  # decoupled: the decay never enters m or v
    return _adam_core(w, g, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_in_gradient(w, g, m, v, t, lr, wd, beta1, beta2, eps):
    return _adam_core(w, g + wd * w, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_in_gradient_2(w, g, m, v, t, lr, wd, beta1, beta2, eps):
    return _adam_core(w, g + 2 * wd * w, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_unscaled(w, g, m, v, t, lr, wd, beta1, beta2, eps):
    return _adam_core(w - wd * w, g, m, v, t, lr, beta1, beta2, eps)


def _adamw_no_decay(w, g, m, v, t, lr, wd, beta1, beta2, eps):
    return _adam_core(w, g, m, v, t, lr, beta1, beta2, eps)


def _adamw_cases():
    r = np.random.default_rng(65)
    w = 3 * r.normal(size=(3, 2))  # large weights next to small gradients: decay placement shows
    g = 0.1 * r.normal(size=(3, 2))
    z = np.zeros((3, 2))
    return [(w, g, z, z.copy(), 1, 0.01, 0.1, 0.9, 0.999, 1e-7),  # m, v: separate arrays
            (w, g, 0.1 * r.normal(size=(3, 2)), 0.01 * r.random((3, 2)), 4, 0.05, 0.2, 0.9,
             0.999, 1e-7)]


def _adamw_random(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    return [(3 * rng.normal(size=shape), 0.1 * rng.normal(size=shape), 0.1 * rng.normal(size=shape),
             0.01 * rng.random(shape), t, float(rng.uniform(0.005, 0.05)),
             float(rng.uniform(0.05, 0.3)), 0.9, 0.999, 1e-7) for t in (1, 7)]


function_question(
    "6.5", "AdamW step (decoupled weight decay)", name="adamw_step", reference=_adamw,
    outputs=("w", "m", "v"), cases=_adamw_cases(), random_cases=_adamw_random,
    section=SECTION + "#ch6-adamw", **_NO_BATCH,
    mistakes=[
        Mistake("weight-decay-in-gradient", "You added the decay to the gradient (g + wd * w) "
                "before Adam: that is L2 regularization, and Adam then divides it by sqrt(v_hat), "
                "so large-gradient weights are barely decayed. AdamW decouples it: w <- w - lr * "
                "wd * w, and m, v see only g.", variant=_adamw_decay_in_gradient),
        Mistake("weight-decay-in-gradient-keras-l2", "You added the gradient of a Keras L2 "
                "penalty (2 * wd * w) to g before Adam: that is L2 regularization, not decoupled "
                "decay. AdamW: w <- w - lr * wd * w, and m, v see only g.",
                variant=_adamw_decay_in_gradient_2),
        Mistake("adamw-decay-not-scaled-by-lr", "The decoupled decay is scaled by the learning "
                "rate (Keras, PyTorch): w <- w - lr * wd * w, not w - wd * w.",
                variant=_adamw_decay_unscaled),
        Mistake("adamw-no-decay", "This is a plain Adam step: the weight decay is missing.",
                variant=_adamw_no_decay),
    ],
)

# the assignments live in their own modules: 6.7 dropout layer and 6.9 written (ch06_dropout),
# 6.8 a training loop judged on held-out digits (ch06_train)
from . import ch06_dropout, ch06_train  # noqa: E402, F401
