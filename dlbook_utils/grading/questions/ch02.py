"""Chapter 2 (core concepts): activations, their derivatives, and the two basic losses."""

import numpy as np

from ..registry import Mistake, function_question

SECTION = "../book/02_core_concepts.ipynb"


def _sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


_Z = np.array([[-3.0, -0.5, 0.0], [0.5, 2.0, 8.0]])
_BIG = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])


def _random_z(rng):
    return [(rng.normal(scale=3, size=(int(rng.integers(2, 5)), int(rng.integers(2, 5)))),)]


function_question(
    "2.1", "Sigmoid", name="sigmoid", reference=_sigmoid, cases=[(_Z,), (_BIG,)],
    random_cases=_random_z, batch_size_of=lambda args: None, section=SECTION + "#ch2-activations",
    forbid_warnings=True,  # the statement: no overflow warnings at z = +-800
    mistakes=[Mistake("wrong-sign", "sigma(z) = 1 / (1 + exp(-z)): note the minus sign.",
                      variant=lambda z: _sigmoid(-np.asarray(z))),
              Mistake("unstable-sigmoid", "exp(-z) overflows at z = -800 (NumPy warns, even "
                      "though 1 / (1 + inf) = 0 is right). Use exp(-|z|): 1 / (1 + e) for "
                      "z >= 0 and e / (1 + e) for z < 0.", detector="warning"),
              Mistake("unstable-sigmoid-nan", "exp(z) overflows at z = 800 and inf / inf is "
                      "nan. Use exp(-|z|), which never overflows: 1 / (1 + e) for z >= 0 and "
                      "e / (1 + e) for z < 0.", detector="nonfinite")],
)

function_question(
    "2.2", "Derivative of the sigmoid", name="sigmoid_grad",
    reference=lambda z: _sigmoid(z) * (1 - _sigmoid(z)), cases=[(_Z,), (_BIG,)],
    random_cases=_random_z, batch_size_of=lambda args: None, section=SECTION + "#ch2-activations",
    mistakes=[Mistake("sigmoid-grad-as-sigmoid", "You returned sigma(z) itself. The derivative "
                      "is sigma(z) * (1 - sigma(z)).", variant=_sigmoid),
              Mistake("sigmoid-grad-of-z", "You applied a * (1 - a) to z. Compute a = sigma(z) "
                      "first: the derivative is a * (1 - a).",
                      variant=lambda z: np.asarray(z) * (1 - np.asarray(z)))],
)

function_question(
    "2.3", "Derivative of ReLU", name="relu_grad",
    reference=lambda z: (np.asarray(z) > 0).astype(float),
    cases=[(_Z,), (np.array([-2.0, 0.0, 3.0]),)], random_cases=_random_z,
    batch_size_of=lambda args: None, section=SECTION + "#ch2-activations",
    mistakes=[Mistake("derivative-as-activation", "You returned ReLU(z). Its derivative is 1 "
                      "where z > 0 and 0 elsewhere.", variant=lambda z: np.maximum(z, 0.0)),
              Mistake("relu-grad-at-zero-one", "At z = 0 this book (like TensorFlow) uses "
                      "relu'(0) = 0: the derivative is (z > 0), not (z >= 0).",
                      variant=lambda z: (np.asarray(z) >= 0).astype(float))],
)


# ---------------------------------------------------------------- 2.4 MSE
def _mse(y_pred, y):
    diff = y_pred - y
    return np.mean(diff**2), 2 * diff / diff.size


def _mse_cases():
    r = np.random.default_rng(24)
    return [(r.normal(size=(4, 1)), r.normal(size=(4, 1))),
            (r.normal(size=(3, 2)), r.normal(size=(3, 2)))]


function_question(
    "2.4", "Mean squared error and its gradient", name="mse", reference=_mse,
    outputs=("loss", "grad"), cases=_mse_cases(), section=SECTION + "#ch2-losses",
    random_cases=lambda rng: [(rng.normal(size=(n, 2)), rng.normal(size=(n, 2)))
                              for n in rng.integers(2, 7, size=2)],
    batch_size_of=lambda args: args[0].size,  # Keras's MSE averages over every element
    mistakes=[
        Mistake("sum-instead-of-mean", "Your loss is the SUM of squared errors; the loss is "
                "their MEAN (divide by the number of elements).", detector="ratio_n",
                output="loss"),
        Mistake("missing-1-over-n", "Your gradient is missing the 1/n from the mean: "
                "d/dy_pred mean((y_pred - y)**2) = 2 (y_pred - y) / n.", detector="ratio_n",
                output="grad"),
        Mistake("wrong-sign", "The gradient with respect to y_pred is 2 (y_pred - y) / n, not "
                "2 (y - y_pred) / n.", detector="sign", output="grad"),
        Mistake("mse-grad-missing-2", "d/du u**2 = 2u: the gradient needs the factor 2.",
                variant=lambda p, y: (np.mean((p - y) ** 2), (p - y) / (p - y).size)),
    ],
)


# ---------------------------------------------------------------- 2.5 BCE from logits
def _bce(logits, y):
    # log(1 + exp(-|z|)) + max(z, 0) - z y : stable for any z
    loss = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
    return np.mean(loss), (_sigmoid(logits) - y) / logits.size


def _bce_clipped(logits, y, eps=1e-7):
    p = np.clip(1 / (1 + np.exp(-logits)), eps, 1 - eps)  # Keras's epsilon, on probabilities
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return np.mean(loss), (1 / (1 + np.exp(-logits)) - y) / logits.size


def _bce_naive(logits, y):
    p = 1 / (1 + np.exp(-logits))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return np.mean(loss), (p - y) / logits.size


function_question(
    "2.5", "Binary cross-entropy from logits", name="bce_with_logits", reference=_bce,
    outputs=("loss", "grad"), section=SECTION + "#ch2-losses",
    cases=[(np.array([-2.0, 0.5, 3.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0])),
           (np.array([-800.0, 50.0, 800.0]), np.array([1.0, 0.0, 1.0]))],
    random_cases=lambda rng: [(rng.normal(scale=4, size=n), rng.integers(0, 2, n).astype(float))
                              for n in rng.integers(3, 9, size=2)],
    batch_size_of=lambda args: args[0].size,
    mistakes=[
        Mistake("unstable-log-sigmoid", "log(sigmoid(z)) overflows to -inf at large |z|. Use "
                "max(z, 0) - z*y + log1p(exp(-|z|)).", variant=_bce_naive),
        Mistake("clipped-bce", "Clipping the probability to [eps, 1 - eps] avoids log(0) but "
                "caps the loss near -log(eps): at z = -800 with y = 1 the true loss is 800. "
                "Work from the logits: max(z, 0) - z*y + log1p(exp(-|z|)).",
                variant=_bce_clipped),
        Mistake("sum-instead-of-mean", "Your loss is the SUM over the batch; the loss is the "
                "MEAN.", detector="ratio_n", output="loss"),
        Mistake("missing-1-over-n", "Your gradient is missing the 1/n from the mean: "
                "(sigmoid(z) - y) / n.", detector="ratio_n", output="grad"),
        Mistake("unstable-bce", "Your result has nan/inf at large |z|: compute the loss from "
                "logits with log1p(exp(-|z|)), never log(sigmoid(z)).", detector="nonfinite"),
    ],
)
