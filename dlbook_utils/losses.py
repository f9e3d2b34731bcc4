"""Loss functions: each returns ``(loss, delta)``, the loss averaged over the batch and its
gradient delta with respect to the first argument (the prediction or the logits), 1/n of the
mean included -- Eq. (eq-loss-mean) in 02_core_concepts. Each equals a Keras loss at its default
``reduction="sum_over_batch_size"``:

=========================  ======================================================
``mse``                    ``keras.losses.MeanSquaredError()``
``binary_cross_entropy``   ``keras.losses.BinaryCrossentropy(from_logits=True)``
``softmax_cross_entropy``  ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)``
=========================  ======================================================
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, int_labels, target_array
from .activations import log_softmax, sigmoid

__all__ = ["mse", "binary_cross_entropy", "softmax_cross_entropy"]


def mse(y_pred, y):
    """Mean squared error over all N = y_pred.size elements, Eq. (eq-mse) in 02_core_concepts.

    loss = (1/N) sum (y_pred - y)^2;  delta = 2 (y_pred - y) / N.
    Shapes: y_pred (n, d) or (n,), y the same shape (``(n,)`` against ``(n, 1)`` would
    broadcast to (n, n), so it is refused) -> loss: float, delta: like y_pred.
    """
    y_pred = float_array(y_pred, "mse", "y_pred")
    y = target_array(y, y_pred, "mse", "y")
    if y_pred.size == 0:
        raise ValueError("mse expected at least one element, got an empty y_pred")
    diff = y_pred - y
    return float(np.mean(diff * diff)), diff * (2 / y_pred.size)


def binary_cross_entropy(logits, y):
    """Binary cross-entropy from logits z, Eq. (eq-bce-logits) in 02_core_concepts.

    With p = sigmoid(z): -[y log p + (1-y) log(1-p)] = max(z, 0) - z y + log(1 + exp(-|z|));
    the right-hand form never exponentiates a positive number, so it is finite for any z.
    loss = mean over all N elements; delta = (sigmoid(z) - y) / N.
    Shapes: logits (n,) or (n, d), y the same shape, in [0, 1] -> loss: float, delta: like z.
    """
    z = float_array(logits, "binary_cross_entropy", "logits")
    y = target_array(y, z, "binary_cross_entropy", "y")
    if z.size == 0:
        raise ValueError("binary_cross_entropy expected at least one logit, got an empty array")
    if y.min() < 0 or y.max() > 1:
        raise ValueError(
            f"binary_cross_entropy expected y in [0, 1], got values in [{y.min()}, {y.max()}]")
    per_element = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_element)), (sigmoid(z) - y) / z.size


def softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy with integer labels, Eq. (eq-softmax-ce) in 02_core_concepts.

    loss = -(1/n) sum_i log softmax(z_i)[labels_i]  (log-sum-exp form: finite for any z);
    delta = (softmax(z) - onehot(labels)) / n, Eq. (eq-softmax-ce-grad) in 04_backprop.
    Shapes: logits (n, k), labels (n,) integers in [0, k) -> loss: float, delta: (n, k).
    """
    z = float_array(logits, "softmax_cross_entropy", "logits", ndim=2)
    n, k = z.shape
    if n == 0 or k == 0:
        raise ValueError(f"softmax_cross_entropy expected logits of shape (n>0, k>0), got {z.shape}")
    labels = int_labels(labels, n, k, "softmax_cross_entropy")
    logp = log_softmax(z, axis=1)
    rows = np.arange(n)
    loss = -float(logp[rows, labels].mean())
    p = np.exp(logp)  # softmax(z), from the stable log-probabilities
    onehot = np.zeros_like(p)
    onehot[rows, labels] = 1
    delta = (p - onehot) / n
    return loss, delta
