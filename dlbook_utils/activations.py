"""Activation functions and their derivatives, stable at extreme inputs.

Each maps an array z of any shape to an array of the same shape and dtype (float32 in, float32
out) and first checks that z is a float array (a NaN in z gives NaN out, as in NumPy; softmax,
log_softmax and relu_grad, which would hide it, refuse it). A ``*_grad`` function is the
derivative with respect to z, which a layer multiplies by the upstream gradient:
dz = delta * act_grad(z), Eq. (eq-activation-backward) in 04_backprop.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, logits_array

__all__ = ["sigmoid", "tanh", "relu", "softmax", "log_softmax",
           "sigmoid_grad", "tanh_grad", "relu_grad"]


def sigmoid(z):
    """1 / (1 + exp(-z)), Eq. (eq-sigmoid) in 02_core_concepts. Shapes: z (...) -> (...).

    Stable: exp only ever sees -|z| <= 0, so it cannot overflow; for z < 0 we use the
    equivalent form exp(z) / (1 + exp(z)).
    """
    z = float_array(z, "sigmoid", "z", finite=False)
    e = np.exp(-np.abs(z))  # in (0, 1]: no overflow for any finite z
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(z):
    """s (1 - s) with s = sigmoid(z), Eq. (eq-sigmoid-grad). Shapes: z (...) -> (...)."""
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z):
    """Hyperbolic tangent, Eq. (eq-tanh) in 02_core_concepts. Shapes: z (...) -> (...)."""
    return np.tanh(float_array(z, "tanh", "z", finite=False))


def tanh_grad(z):
    """1 - tanh(z)^2, Eq. (eq-tanh-grad). Shapes: z (...) -> (...).

    (Writing it as 1 - a with a = tanh(z) is a classic bug that the gradient check catches.)
    """
    a = tanh(z)
    return 1 - a * a


def relu(z):
    """max(z, 0), Eq. (eq-relu) in 02_core_concepts. Shapes: z (...) -> (...)."""
    return np.maximum(float_array(z, "relu", "z", finite=False), 0)


def relu_grad(z):
    """1 where z > 0, else 0 (0 at the kink, like TensorFlow), Eq. (eq-relu-grad).

    Shapes: z (...) -> (...), same dtype as z.
    """
    z = float_array(z, "relu_grad", "z")  # finite: z > 0 would turn a NaN into a quiet 0
    return (z > 0).astype(z.dtype)


def log_softmax(z, axis: int = -1):
    """log softmax(z)_k = (z_k - m) - log sum_j exp(z_j - m), m = max_j z_j (log-sum-exp).

    Eq. (eq-log-softmax) in 02_core_concepts. Shapes: z (n, k) -> (n, k) (any rank >= 1,
    normalised along ``axis``). Never takes log(0): the sum contains exp(0) = 1.
    """
    z = logits_array(z, axis, "log_softmax")
    shifted = z - z.max(axis=axis, keepdims=True)  # every exponent <= 0: nothing overflows
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis: int = -1):
    """exp(z_k - m) / sum_j exp(z_j - m), m = max_j z_j, Eq. (eq-softmax) in 02_core_concepts.

    Shapes: z (n, k) -> (n, k) (any rank >= 1, normalised along ``axis``). Subtracting the
    max changes nothing mathematically and keeps every exponent <= 0, so nothing overflows.
    """
    z = logits_array(z, axis, "softmax")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)

