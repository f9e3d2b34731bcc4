"""Losses return ``(loss, delta)``: the batch mean, Eq. (eq-loss-mean) of
ch. 2, and its gradient w.r.t. the prediction or logits. As Keras's
MeanSquaredError and, with from_logits=True, BinaryCrossentropy and
SparseCategoricalCrossentropy."""

from __future__ import annotations

import numpy as np

from ._validate import float_array, int_labels, target_array
from .activations import sigmoid

__all__ = ["mse", "binary_cross_entropy", "softmax_cross_entropy"]


def mse(y_pred, y):
    """Mean squared error over the N = y_pred.size entries, Eq. (eq-mse):
    loss = (1/N) sum (y_pred - y)^2, delta = 2 (y_pred - y) / N. Shapes:
    y_pred and y (n, d) or (n,), equal ((n,) vs (n, 1) is refused)."""
    y_pred = float_array(y_pred, "mse", "y_pred")
    y = target_array(y, y_pred, "mse", "y")
    if y_pred.size == 0:
        raise ValueError("mse expected y_pred of size > 0, got size 0")
    diff = y_pred - y
    return float(np.mean(diff * diff)), diff * (2 / y_pred.size)


def binary_cross_entropy(logits, y):
    """Binary cross-entropy from logits z, Eq. (eq-bce-logits). With
    p = sigmoid(z): -[y log p + (1-y) log(1-p)] = max(z, 0) - z y +
    log(1 + exp(-|z|)), finite for any z. loss: the mean over all N
    entries; delta = (sigmoid(z) - y) / N. Shapes: logits (n,) or (n, d),
    y the same, in [0, 1] -> loss: float, delta: like logits.
    """
    where = "binary_cross_entropy"
    z = float_array(logits, where, "logits")
    y = target_array(y, z, where, "y")
    if z.size == 0:
        raise ValueError(f"{where} expected logits of size > 0, got 0")
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"{where} expected y in [0, 1], got values in "
                         f"[{y.min()}, {y.max()}]")
    per_entry = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_entry)), (sigmoid(z) - y) / z.size


def softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy, integer labels, Eq. (eq-softmax-ce) of ch. 2:
    loss = -(1/n) sum_i log softmax(z_i)[labels_i] (finite for any z);
    delta = (softmax(z) - onehot(labels)) / n, (eq-softmax-ce-grad), ch. 4.
    Shapes: logits (n, k), labels (n,) in [0, k) -> float, delta (n, k).
    """
    where = "softmax_cross_entropy"
    z = float_array(logits, where, "logits", ndim=2)
    n, k = z.shape
    if n == 0 or k == 0:
        raise ValueError(f"{where} expected logits of shape (n>0, k>0), "
                         f"got {z.shape}")
    labels = int_labels(labels, n, k, where)
    # log_softmax (eq-log-softmax, ch. 2), inlined to read in one place
    shifted = z - z.max(axis=1, keepdims=True)  # every exponent <= 0
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -float(logp[rows, labels].sum() / n)
    delta = np.exp(logp)  # softmax(z)
    delta[rows, labels] -= 1  # minus the one-hot labels
    delta /= n  # the mean's 1/n
    return loss, delta
