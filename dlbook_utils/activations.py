"""Activations (Eqs. of chapter 2) and their derivatives d/dz, ``*_grad``,
which a layer multiplies by delta, Eq. (eq-activation-backward) of ch. 4.
Stable at extreme inputs; z: a float array -> z's shape and dtype. A NaN
passes (NaN out) but softmax, log_softmax and relu_grad refuse it."""

from __future__ import annotations

import numpy as np

from ._validate import float_array, logits_array

__all__ = ["sigmoid", "tanh", "relu", "softmax", "log_softmax",
           "sigmoid_grad", "tanh_grad", "relu_grad"]


def sigmoid(z):
    """1 / (1 + exp(-z)), Eq. (eq-sigmoid). Shapes: z (...) -> (...).
    For z < 0 the equal form exp(z) / (1 + exp(z)): exp never overflows."""
    z = float_array(z, "sigmoid", "z", finite=False)
    e = np.exp(-np.abs(z))  # in (0, 1]: no overflow for any finite z
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(z):
    """s (1 - s), s = sigmoid(z), Eq. (eq-sigmoid-grad). (...) -> (...)."""
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z):
    """Hyperbolic tangent, Eq. (eq-tanh). Shapes: z (...) -> (...)."""
    return np.tanh(float_array(z, "tanh", "z", finite=False))


def tanh_grad(z):
    """1 - tanh(z)^2, Eq. (eq-tanh-grad); 1 - tanh(z) is a classic bug."""
    a = tanh(z)
    return 1 - a * a


def relu(z):
    """max(z, 0), Eq. (eq-relu), ch. 2. Shapes: z any -> like z."""
    return np.maximum(float_array(z, "relu", "z", finite=False), 0)


def relu_grad(z):
    """1 where z > 0, else 0 (0 at the kink, like TensorFlow),
    Eq. (eq-relu-grad), ch. 2. Shapes: z any -> like z, z's dtype."""
    z = float_array(z, "relu_grad", "z")  # finite: NaN > 0 is a quiet 0
    return (z > 0).astype(z.dtype)


def log_softmax(z, axis: int = -1):
    """(z_k - m) - log sum_j exp(z_j - m), m = max_j z_j (log-sum-exp),
    Eq. (eq-log-softmax). Shapes: z (n, k) -> (n, k), or any rank >= 1
    along ``axis``. Never log(0): the sum contains exp(0) = 1."""
    z = logits_array(z, axis, "log_softmax")
    shifted = z - z.max(axis=axis, keepdims=True)  # exponents <= 0
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis: int = -1):
    """exp(z_k - m) / sum_j exp(z_j - m), m = max_j z_j, Eq. (eq-softmax).
    Shapes: z (n, k) -> (n, k), or any rank >= 1 along ``axis``.
    Subtracting m keeps every exponent <= 0: nothing overflows."""
    z = logits_array(z, axis, "softmax")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
