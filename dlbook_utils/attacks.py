"""Attacks on a trained classifier: adversarial examples (FGSM, PGD) and membership inference.

Both attacks use only what a model of this package already computes. An adversarial attack
needs dL/dx, the gradient of the loss with respect to the *input*: the backward pass carried
one layer further (build the model with ``need_input_grad=True``). Membership inference needs
only the loss of each example.

- :func:`fgsm` (Goodfellow et al., 2015): one step of size ``eps`` along sign(dL/dx).
- :func:`pgd` (Madry et al., 2018): several smaller signed steps, each projected back into the
  L-infinity ball of radius ``eps`` around x and into the valid input range.
- :func:`membership_advantage` (Yeom et al., 2018): guess "member" when an example's loss is
  at most a threshold (by default the mean training loss); the advantage is the true-positive
  rate minus the false-positive rate, 0 for a model that reveals nothing this way.

Shapes: X (n, d) inputs, y (n,) integer labels, logits (n, k).
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array

__all__ = ["per_example_loss", "input_gradient", "fgsm", "pgd", "membership_advantage"]


def _check_model(model, where: str):
    if not getattr(model, "need_input_grad", False):
        raise ValueError(f"{where} needs dL/dx: build the model with need_input_grad=True, "
                         f"e.g. mlp(sizes, rng=rng, need_input_grad=True); got "
                         f"need_input_grad={getattr(model, 'need_input_grad', None)!r}")


def _check_xy(X, y, where: str):
    X = float_array(X, where, "X")
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(f"{where} expected X (n, d) and integer labels y (n,), got X "
                         f"{X.shape} and y {y.shape} of dtype {y.dtype}")
    return X, y


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """(n, k) -> (n, k) log-probabilities; the row maximum is subtracted first (no overflow)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class _eval_mode:
    """``with _eval_mode(model):`` runs in eval mode, then puts back the mode the model was in,
    so an attack inside a training loop leaves the loop's training mode alone."""

    def __init__(self, model):
        self.model, self.was_training = model, getattr(model, "training", False)

    def __enter__(self):
        self.model.eval()

    def __exit__(self, *exc):
        if self.was_training:
            self.model.train()


def per_example_loss(model, X, y) -> np.ndarray:
    """Cross-entropy of each example, in eval mode: X (n, d), y (n,) -> (n,).

    The model's mode (train or eval) is the same afterwards as before.
    """
    X, y = _check_xy(X, y, "per_example_loss")
    with _eval_mode(model):
        logp = _log_softmax(np.asarray(model.forward(X), dtype=np.float64))
    return -logp[np.arange(len(y)), y]


def input_gradient(model, X, y) -> np.ndarray:
    """dL_i/dx_i for each example's own cross-entropy L_i: X (n, d), y (n,) -> (n, d).

    One forward and one backward pass in eval mode (dropout off, BatchNorm's moving statistics):
    the model under attack is the deployed one. Per example, not the gradient of the batch mean
    (which would be this divided by n): a signed step does not care, a saliency map does.
    The model's mode is put back afterwards. Like any backward pass, this one overwrites the
    parameter gradients in ``model.grads()``: compute the training gradient after an attack.
    """
    _check_model(model, "input_gradient")
    X, y = _check_xy(X, y, "input_gradient")
    with _eval_mode(model):
        logits = np.asarray(model.forward(X))
        probs = np.exp(_log_softmax(logits.astype(np.float64)))
        probs[np.arange(len(y)), y] -= 1.0  # dL_i/dlogits_i = softmax - one_hot
        return np.asarray(model.backward(probs.astype(logits.dtype)), dtype=np.float64)


def _bounds(clip, where: str):
    if clip is None:
        return -np.inf, np.inf
    low, high = clip
    if not low < high:
        raise ValueError(f"{where} expected clip=(low, high) with low < high, got {clip!r}")
    return low, high


def _eps(eps, where: str) -> float:
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"{where} expected a finite eps >= 0, got {eps!r}")
    return float(eps)


def fgsm(model, X, y, eps: float, *, clip=(0.0, 1.0)) -> np.ndarray:
    """Fast gradient sign method: x + eps * sign(dL/dx), clipped to ``clip`` (eq-fgsm).

    X (n, d), y (n,) -> X_adv (n, d), with |X_adv - X| <= eps in every coordinate.
    ``clip=None`` for inputs without a valid range.
    """
    eps, (low, high) = _eps(eps, "fgsm"), _bounds(clip, "fgsm")
    X = float_array(X, "fgsm", "X")
    step = np.sign(input_gradient(model, X, y)).astype(X.dtype)  # float32 stays float32
    return np.clip(X + eps * step, low, high)


def pgd(model, X, y, eps: float, *, steps: int = 10, step_size: float | None = None,
        rng: np.random.Generator | None = None, clip=(0.0, 1.0)) -> np.ndarray:
    """Projected gradient descent on the loss, i.e. ascent (eq-pgd): ``steps`` signed steps.

    X (n, d), y (n,) -> X_adv (n, d). Each step moves by ``step_size`` along sign(dL/dx), then
    projects back into [x - eps, x + eps] and into ``clip``. The default step, 2.5 eps / steps,
    is a common choice (the total path is 2.5 eps, so the ball can be crossed); Madry et al.
    chose theirs per data set. With ``rng`` the start is a uniform random point of the ball
    (Madry et al.), else x itself: then steps=1, step_size=eps is FGSM.
    """
    eps, (low, high) = _eps(eps, "pgd"), _bounds(clip, "pgd")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"pgd expected an integer steps >= 1, got {steps!r}")
    alpha = 2.5 * eps / steps if step_size is None else _eps(step_size, "pgd")
    X = float_array(X, "pgd", "X")
    lo, hi = np.maximum(X - eps, low), np.minimum(X + eps, high)  # the feasible box
    X_adv = X if rng is None else np.clip(X + rng.uniform(-eps, eps, X.shape).astype(X.dtype),
                                          lo, hi)
    for _ in range(steps):
        step = np.sign(input_gradient(model, X_adv, y)).astype(X.dtype)
        X_adv = np.clip(X_adv + alpha * step, lo, hi)
    return X_adv


def membership_advantage(member_losses, nonmember_losses, threshold: float | None = None):
    """Loss-threshold membership inference (Yeom et al., 2018): advantage = TPR - FPR.

    ``member_losses`` (m,): losses of training examples; ``nonmember_losses`` (m',): of
    examples the model never saw. The attack says "member" when loss <= ``threshold``, by
    default the mean member loss (the training loss the attacker is assumed to know). TPR is
    the share of members it flags, FPR the share of non-members (eq-mi-advantage). Returns a
    float in [-1, 1]: 0 when losses reveal nothing, 1 when they separate perfectly.
    """
    members = float_array(member_losses, "membership_advantage", "member_losses")
    others = float_array(nonmember_losses, "membership_advantage", "nonmember_losses")
    for name, v in (("member_losses", members), ("nonmember_losses", others)):
        if v.ndim != 1 or len(v) == 0:
            raise ValueError(f"membership_advantage expected {name} of shape (m,), m >= 1, "
                             f"got {v.shape}")
    tau = float(members.mean()) if threshold is None else float(threshold)
    return float(np.mean(members <= tau) - np.mean(others <= tau))
