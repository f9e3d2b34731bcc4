"""Chapter 4 (backpropagation): Dense backward, softmax-CE gradient, delta recursion, tanh'."""

import numpy as np

from ..registry import Mistake, function_question, value_question

SECTION = "../book/04_backprop.ipynb"

_TRANSPOSED = Mistake("transposed-gradient", "dW must have W's shape (d_in, d_out): "
                      "dW = X.T @ delta. You returned its transpose (delta.T @ X).",
                      detector="transposed")
_MATMUL_HINT = ("The shapes do not broadcast: backpropagating through X @ W needs matrix "
                "products (delta @ W.T, X.T @ delta), not element-wise *.")
_MATMUL = Mistake("elementwise-instead-of-matmul", _MATMUL_HINT,
                  variant=lambda X, W, delta: (delta * W.T, X.T * delta, delta.sum(axis=0)))


def _dense_backward(X, W, delta):
    return delta @ W.T, X.T @ delta, delta.sum(axis=0)


def _dense_cases():
    r = np.random.default_rng(41)
    return [(r.normal(size=(5, 3)), r.normal(size=(3, 2)), r.normal(size=(5, 2)) / 5),
            (r.normal(size=(2, 4)), r.normal(size=(4, 3)), r.normal(size=(2, 3)) / 2)]


def _dense_random(rng):
    n, d, k = 6, int(rng.integers(2, 5)), int(rng.integers(5, 8))
    return [(rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=(n, k)) / n)]


function_question(
    "4.1", "Dense layer backward", name="dense_backward", reference=_dense_backward,
    outputs=("dX", "dW", "db"), cases=_dense_cases(), random_cases=_dense_random,
    section=SECTION,
    mistakes=[_TRANSPOSED, _MATMUL,
              Mistake("missing-transpose", "dX = delta @ W.T: delta is (n, d_out) and W is "
                      "(d_in, d_out), so W must be transposed.",
                      variant=lambda X, W, delta: (delta @ W, X.T @ delta, delta.sum(axis=0))),
              Mistake("db-mean-not-sum", "db sums delta over the batch. delta already carries the 1/n "
                      "of the mean loss; averaging again divides by n twice.",
                      variant=lambda X, W, delta: (delta @ W.T, X.T @ delta, delta.mean(axis=0)))],
)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sce_grad(logits, labels):
    p = _softmax(logits)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


_LOGITS = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0], [0.1, 0.2, 0.3]])
function_question(
    "4.2", "Gradient of softmax cross-entropy", name="softmax_ce_grad", reference=_sce_grad,
    section=SECTION,
    cases=[(_LOGITS, np.array([1, 2, 0, 0])), (np.array([[1000.0, 0.0], [0.0, 1000.0]]),
                                                np.array([1, 1]))],
    random_cases=lambda rng: [(rng.normal(scale=2, size=(n, 5)), rng.integers(0, 5, n))
                              for n in rng.integers(2, 9, size=2)],
    mistakes=[Mistake("missing-1-over-n", "Your gradient is n times too large: the loss is the "
                      "batch MEAN, so the gradient is (softmax(z) - onehot) / n.",
                      detector="ratio_n"),
              Mistake("wrong-sign", "The gradient is softmax(z) - onehot(y), not onehot - "
                      "softmax.", detector="sign"),
              Mistake("unstable-softmax", "exp overflowed at large logits (nan): subtract the "
                      "row max before exp.", detector="nonfinite")],
)

_A = np.array([[-0.9, -0.5, 0.0], [0.3, 0.8, 0.99]])
function_question(
    "4.3", "tanh derivative from the activation", name="tanh_grad_from_output",
    reference=lambda a: 1 - a**2, cases=[(_A,), (np.tanh(np.array([-3.0, 0.5, 2.0])),)],
    random_cases=lambda rng: [(np.tanh(rng.normal(size=(3, 4))),)],
    batch_size_of=lambda args: None, section=SECTION,
    rtol=1e-5, atol=1e-7,  # a float32 answer is right: 1 - a**2 near |a| = 1 loses digits
    mistakes=[Mistake("tanh-grad-one-minus-a", "d tanh(z)/dz = 1 - tanh(z)**2 = 1 - a**2, not "
                      "1 - a.", variant=lambda a: 1 - a),
              Mistake("tanh-applied-twice", "a is already tanh(z): use 1 - a**2, not "
                      "1 - tanh(a)**2.", variant=lambda a: 1 - np.tanh(a) ** 2)],
)


def _delta(delta_next, W_next, Z):
    return (delta_next @ W_next.T) * (Z > 0)


def _delta_cases():
    r = np.random.default_rng(44)
    return [(r.normal(size=(4, 2)), r.normal(size=(3, 2)), r.normal(size=(4, 3))),
            (r.normal(size=(3, 5)), r.normal(size=(2, 5)), r.normal(size=(3, 2)))]


function_question(
    "4.4", "Backward recursion for delta", name="backprop_delta", reference=_delta,
    cases=_delta_cases(), section=SECTION,
    random_cases=lambda rng: [(rng.normal(size=(5, 3)), rng.normal(size=(4, 3)),
                               rng.normal(size=(5, 4)))],
    mistakes=[Mistake("forgot-activation-derivative", "Multiply by the activation's derivative "
                      "at Z: delta = (delta_next @ W_next.T) * relu'(Z).",
                      variant=lambda d, W, Z: d @ W.T),
              Mistake("missing-transpose", "delta_next (n, d_next) times W_next (d, d_next) "
                      "needs W_next.T: delta_next @ W_next.T.",
                      variant=lambda d, W, Z: (d @ W) * (Z > 0)),
              Mistake("derivative-as-activation", "Use relu'(Z) = (Z > 0), not relu(Z).",
                      variant=lambda d, W, Z: (d @ W.T) * np.maximum(Z, 0)),
              Mistake("elementwise-instead-of-matmul", _MATMUL_HINT,
                      variant=lambda d, W, Z: (d * W.T) * (Z > 0))],
)


def _two_layer(X, y, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    delta2 = _sce_grad(H @ W2 + b2, y)  # includes the 1/n
    dH = delta2 @ W2.T
    delta1 = dH * (Z1 > 0)
    return X.T @ delta1, delta1.sum(0), H.T @ delta2, delta2.sum(0)


def _two_layer_no_relu_grad(X, y, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    delta2 = _sce_grad(H @ W2 + b2, y)
    delta1 = delta2 @ W2.T
    return X.T @ delta1, delta1.sum(0), H.T @ delta2, delta2.sum(0)


def _two_layer_case(rng, n, d, h, k):
    return (rng.normal(size=(n, d)), rng.integers(0, k, n), rng.normal(size=(d, h)),
            rng.normal(size=h) * 0.1, rng.normal(size=(h, k)), rng.normal(size=k) * 0.1)


function_question(
    "4.5", "Gradients of a two-layer network", name="two_layer_grads", reference=_two_layer,
    outputs=("dW1", "db1", "dW2", "db2"), section=SECTION,
    cases=[_two_layer_case(np.random.default_rng(45), 6, 3, 5, 4),
           _two_layer_case(np.random.default_rng(46), 4, 2, 3, 3)],
    random_cases=lambda rng: [_two_layer_case(rng, 7, 4, 6, 3)],
    mistakes=[Mistake("missing-1-over-n", "Your gradients are n times too large: the loss is "
                      "the batch mean, so delta2 = (softmax - onehot) / n.", detector="ratio_n"),
              _TRANSPOSED,
              Mistake("forgot-activation-derivative", "Backpropagate through the ReLU: "
                      "delta1 = (delta2 @ W2.T) * (Z1 > 0).", variant=_two_layer_no_relu_grad)],
)

# 4.6: y_hat = sigmoid(w x + b), L = (y_hat - y)**2 / 2, x = 2, w = 0.5, b = -1, y = 1
value_question(
    "4.6", "The chain rule by hand", name="dL_dw", reference=-0.25, rtol=1e-9, atol=1e-9,
    section=SECTION,
    mistakes=[Mistake("wrong-sign", "dL/dy_hat = y_hat - y = -0.5 is negative here.",
                      value=0.25),
              Mistake("forgot-activation-derivative", "The chain passes through the sigmoid: "
                      "multiply by sigma'(z) = sigma(z)(1 - sigma(z)) = 0.25.", value=-1.0),
              Mistake("sigmoid-grad-as-sigmoid", "sigma'(z) is sigma(z)(1 - sigma(z)) = 0.25, not "
                      "sigma(z) = 0.5.", value=-0.5)],
)

# 4.7-4.12, the assignments, live in their own modules (one concept per module)
from . import ch04_init, ch04_layers  # noqa: E402, F401
