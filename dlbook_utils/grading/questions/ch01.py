"""Chapter 1 (background): history facts, the perceptron rule, parameter counting, XOR."""

import numpy as np

from ..registry import Mistake, function_question, value_question

SECTION = "../book/01_background.ipynb"


# ---------------------------------------------------------------- 1.4 perceptron learning rule
def _perceptron(w, b, x, y, lr):
    y_hat = 1.0 if float(x @ w + b) >= 0 else 0.0
    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)


def _perceptron_wrong_sign(w, b, x, y, lr):
    y_hat = 1.0 if float(x @ w + b) >= 0 else 0.0
    return w - lr * (y - y_hat) * x, b - lr * (y - y_hat)


def _perceptron_strict(w, b, x, y, lr):
    y_hat = 1.0 if float(x @ w + b) > 0 else 0.0  # predicts 0 ON the boundary
    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)


def _perceptron_always(w, b, x, y, lr):
    return w + lr * y * x, b + lr * y  # updates even when the prediction is right


_W = np.array([0.5, -1.0, 0.25])
function_question(
    "1.4", "Perceptron learning rule", name="perceptron_update", reference=_perceptron,
    outputs=("w", "b"), section=SECTION,
    cases=[(_W, 0.1, np.array([1.0, 2.0, 0.0]), 1.0, 0.5),   # wrong: predicts 0, label 1
           (_W, 0.1, np.array([2.0, 0.0, 1.0]), 0.0, 0.5),   # wrong: predicts 1, label 0
           (_W, 0.1, np.array([2.0, 0.0, 1.0]), 1.0, 0.5),   # right: no change
           (_W, 0.1, np.array([0.0, 0.1, 0.0]), 0.0, 0.1)],  # ON the boundary: predicts 1
    random_cases=lambda rng: [(rng.normal(size=4), float(rng.normal()), rng.normal(size=4),
                               float(rng.integers(0, 2)), 0.1) for _ in range(4)],
    batch_size_of=lambda args: None,
    mistakes=[Mistake("wrong-sign", "The rule moves towards the label: w + lr * (y - y_hat) * x.",
                      variant=_perceptron_wrong_sign),
              Mistake("perceptron-strict-threshold", "On the boundary, x @ w + b == 0, the "
                      "perceptron predicts 1: the threshold is >= 0, not > 0.",
                      variant=_perceptron_strict),
              Mistake("perceptron-bias-not-updated", "The bias learns too: b + lr * (y - y_hat), "
                      "as if it were a weight on a constant input 1.",
                      variant=lambda w, b, x, y, lr: (_perceptron(w, b, x, y, lr)[0], b)),
              Mistake("perceptron-update-always", "The perceptron only changes w when it is "
                      "wrong: multiply by (y - y_hat), which is 0 for a correct prediction.",
                      variant=_perceptron_always)],
)

value_question(
    "1.5", "Parameters of a 784-128-10 MLP", name="n_params", reference=101_770, rtol=0,
    atol=0.5, section=SECTION,
    mistakes=[Mistake("params-no-bias", "Each Dense layer also has one bias per output unit.",
                      value=784 * 128 + 128 * 10),
              Mistake("params-one-layer", "There are two Dense layers: 784 -> 128 and 128 -> 10.",
                      value=784 * 10 + 10)],
)


# ---------------------------------------------------------------- 1.6 XOR with two layers
def _xor(X):
    X = np.asarray(X) > 0.5
    return (X[:, 0] != X[:, 1]).astype(float)


_XOR_IN = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
function_question(
    "1.6", "XOR with two layers of threshold units", name="xor_net", reference=_xor,
    cases=[(_XOR_IN,), (_XOR_IN[::-1].copy(),)], section=SECTION,
    random_cases=lambda rng: [(_XOR_IN[rng.permutation(4)],)],
    batch_size_of=lambda args: None,
    mistakes=[Mistake("xor-computed-or", "That is OR. One threshold unit can compute OR; XOR "
                      "needs a hidden layer, e.g. NAND(x) AND OR(x).",
                      variant=lambda X: (np.asarray(X).sum(1) >= 1).astype(float)),
              Mistake("xor-computed-and", "That is AND. XOR is 1 when exactly one input is 1.",
                      variant=lambda X: (np.asarray(X).sum(1) >= 2).astype(float))],
)
