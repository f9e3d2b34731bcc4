"""Weight penalties in the Keras ``kernel_regularizer`` convention, Eq. (eq-l2-penalty) in
06_regularization.

``l2(W, lam)`` adds lam * sum(W^2) to the loss (gradient 2 lam W), exactly like
``keras.regularizers.L2(lam)``. Texts that write (lambda / 2m) * sum(W^2) with m training
examples use the same penalty with lam = lambda / (2m) (gradient (lambda / m) W).
Only weight matrices are penalised; biases are not.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, positive

__all__ = ["l1", "l2", "weight_penalty", "WeightPenalty"]


def l1(W, lam: float):
    """L1 penalty lam * sum|W| and its (sub)gradient lam * sign(W) (0 at W = 0, like TF).

    Shapes: W (...) -> penalty: float, grad: like W.
    """
    W = float_array(W, "l1", "W")
    lam = positive(lam, "l1", "lam", allow_zero=True)
    return float(lam * np.abs(W).sum()), lam * np.sign(W)


def l2(W, lam: float):
    """L2 penalty lam * sum W^2 and its gradient 2 lam W. Shapes: W (...) -> float, like W."""
    W = float_array(W, "l2", "W")
    lam = positive(lam, "l2", "lam", allow_zero=True)
    return float(lam * (W * W).sum()), (2 * lam) * W


KINDS = {"l1": l1, "l2": l2}


def weight_penalty(params: dict, kind: str = "l2", lam: float = 1e-4):
    """Sum the penalty over the weight matrices of a model (keys ending in ".W", or "W").

    Returns ``(penalty, grads)`` where ``grads`` has one entry per penalised key; add each to the
    loss gradient of that key before the optimizer step. Biases get no penalty.
    """
    if kind not in KINDS:
        raise ValueError(f"weight_penalty expected kind in {tuple(KINDS)}, got {kind!r}")
    if not isinstance(params, dict):
        raise ValueError(f"weight_penalty expected a dict of parameters, got {type(params).__name__}")
    total, grads = 0.0, {}
    for key, W in params.items():
        if key == "W" or key.endswith(".W"):
            penalty, grads[key] = KINDS[kind](W, lam)
            total += penalty
    return total, grads


class WeightPenalty:
    """A callable ``params -> (penalty, grads)``: ``WeightPenalty("l2", 1e-4)(model.params())``.

    ``per_model = True`` tells a training loop to pass the whole params dict (not one matrix).
    """

    per_model = True

    def __init__(self, kind: str = "l2", lam: float = 1e-4):
        if kind not in KINDS:
            raise ValueError(f"WeightPenalty expected kind in {tuple(KINDS)}, got {kind!r}")
        self.kind, self.lam = kind, positive(lam, "WeightPenalty", "lam", allow_zero=True)

    def __call__(self, params: dict):
        return weight_penalty(params, self.kind, self.lam)

    def __repr__(self):
        return f"WeightPenalty({self.kind!r}, lam={self.lam})"
