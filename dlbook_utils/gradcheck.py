"""Gradient checking by centred finite differences, Eq. (eq-centred-difference) in 04_backprop.

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)     (error O(eps^2))

Use float64: with eps = 1e-6 the rounding error of float64 is ~1e-10 relative, while float32
would drown the difference in noise. A correct backward pass gives ``rel_error`` < 1e-7; a
wrong one (transposed weight gradient, missing 1/n, wrong derivative) gives ~1e-1 or more.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, generator, positive

__all__ = ["numerical_grad", "rel_error", "check_layer", "check_loss"]


def numerical_grad(f, x, eps: float = 1e-6):
    """Centred-difference gradient of the scalar function ``f()`` w.r.t. the array ``x``.

    ``f`` takes no arguments and reads ``x``, which is perturbed IN PLACE one entry at a time
    (so ``x`` may be a layer's own weight array) and restored exactly afterwards.
    Shapes: x (...) float64 -> grad (...) float64.
    """
    if not callable(f):
        raise ValueError(f"numerical_grad expected a callable f() -> float, got {f!r}")
    x = float_array(x, "numerical_grad", "x")
    if x.dtype != np.float64:
        raise ValueError(f"numerical_grad expected x of dtype float64 (float32 is too coarse for "
                         f"finite differences), got {x.dtype}")
    eps = positive(eps, "numerical_grad", "eps")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):  # reshape copied: edits of flat would not reach x
        raise ValueError("numerical_grad expected a contiguous array x, got a non-contiguous view")
    for i in range(flat.size):
        old = flat[i]
        try:
            flat[i] = old + eps
            f_plus = float(f())
            flat[i] = old - eps
            f_minus = float(f())
        finally:
            flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def rel_error(a, b) -> float:
    """Relative error max_i |a_i - b_i| / max_i (|a_i| + |b_i|)  (0 if both are all zero).

    Both maxima run over all elements, so the error is measured against the scale of the whole
    gradient: an entry that is ~0 in both arrays cannot blow up the ratio (as it can with an
    elementwise ratio), while any wrong entry of normal size still shows. Returns a float in [0, 1].
    """
    a = float_array(a, "rel_error", "a")
    b = float_array(b, "rel_error", "b")
    if a.shape != b.shape:
        raise ValueError(f"rel_error expected b of shape {a.shape} (same as a), got {b.shape}")
    if a.size == 0:
        return 0.0
    scale = float(np.max(np.abs(a) + np.abs(b)))
    return float(np.max(np.abs(a - b)) / max(scale, np.finfo(np.float64).tiny))


def _param_dicts(layer):
    """(params, grads) dicts of a Layer (attributes) or a Sequential (methods)."""
    params = layer.params() if callable(layer.params) else layer.params
    grads = layer.grads() if callable(layer.grads) else layer.grads
    return params, grads


def check_layer(layer, x, *, rng: np.random.Generator, eps: float = 1e-6,
                return_all: bool = False):
    """Check a layer's backward pass against finite differences.

    Uses the scalar loss L = sum(forward(x) * R) with a fixed random R (so dL/dout = R and every
    output entry matters). Compares dL/dx (unless backward returns None) and dL/dp for every
    parameter p. Returns the largest ``rel_error`` (float), or with ``return_all`` a dict
    {"x": err, "W": err, ...}. Needs float64 x and parameters; the layer must be deterministic
    (fix a Dropout mask with ``set_mask``).
    """
    x = float_array(x, "check_layer", "x")
    if x.dtype != np.float64:
        raise ValueError(f"check_layer expected x of dtype float64, got {x.dtype}")
    generator(rng, "check_layer")
    x = x.copy()
    out = layer.forward(x.copy())  # a copy each time: a layer may write over its input
    R = rng.standard_normal(out.shape)
    dx = layer.backward(R)
    params, grads = _param_dicts(layer)
    analytic = {k: np.array(grads[k], copy=True) for k in params}
    if dx is not None:
        analytic["x"] = np.array(dx, copy=True)

    def loss():
        return float(np.sum(layer.forward(x.copy()) * R))

    errors = {}
    for key, value in analytic.items():
        target = x if key == "x" else params[key]
        errors[key] = rel_error(value, numerical_grad(loss, target, eps))
    if not errors:
        raise ValueError(f"check_layer expected something to check, but {layer!r} has no "
                         f"parameters and its backward returned None")
    return errors if return_all else max(errors.values())


def check_loss(loss_fn, pred, target, *, eps: float = 1e-6) -> float:
    """Check ``loss_fn(pred, target) -> (loss, grad)``: rel_error of grad vs finite differences.

    Needs float64 ``pred``. Returns a float.
    """
    pred = float_array(pred, "check_loss", "pred")
    if pred.dtype != np.float64:
        raise ValueError(f"check_loss expected pred of dtype float64, got {pred.dtype}")
    if not callable(loss_fn):
        raise ValueError(f"check_loss expected a callable loss_fn, got {loss_fn!r}")
    pred = pred.copy()
    result = loss_fn(pred, target)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(f"check_loss expected loss_fn to return (loss, grad), got {result!r}")
    grad = np.asarray(result[1], dtype=np.float64)
    if grad.shape != pred.shape:
        raise ValueError(f"check_loss expected a gradient of shape {pred.shape}, got {grad.shape}")
    numeric = numerical_grad(lambda: loss_fn(pred, target)[0], pred, eps)
    return rel_error(grad, numeric)
