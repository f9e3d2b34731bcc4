"""Batch normalization (Ioffe & Szegedy, 2015) with the semantics of Keras's BatchNormalization.

Each feature (the LAST axis: a Dense unit, or a channel of a Conv1D output) is normalized over
every other axis, i.e. over the batch and, for (n, length, c) inputs, over positions too:

    training:  mu, var = mean and BIASED variance (divide by N) of x over those axes
               y = gamma * (x - mu) / sqrt(var + eps) + beta
               moving_mean <- m * moving_mean + (1 - m) * mu      (m = momentum, e.g. 0.99)
               moving_var  <- m * moving_var  + (1 - m) * var     (Keras: the biased var too)
    eval:      the same formula with moving_mean and moving_var in place of mu and var

so a trained network's output for an example does not depend on the other examples of its batch.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array, in_unit_interval, positive
from .layers import Layer

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization over every axis but the last (Keras ``BatchNormalization(axis=-1)``).

    x (n, ..., n_features) -> y of the same shape. Params "gamma" (n_features,), starting at 1,
    and "beta" (n_features,), starting at 0. ``moving_mean`` (zeros) and ``moving_var`` (ones)
    are not parameters: the forward pass in training mode updates them, no optimizer does.

    Backward in training mode, with N entries per feature, xhat = (x - mu) / sqrt(var + eps)
    and all sums over the N entries of each feature (every axis but the last):
    dbeta = sum delta,  dgamma = sum delta * xhat  (n_features,),
    dx = gamma / sqrt(var + eps) * (delta - mean(delta) - xhat * mean(delta * xhat)),
    the two mean terms being the paths through mu and var (each depends on every entry).
    In eval mode mu and var are constants, so dx = gamma / sqrt(moving_var + eps) * delta.
    """

    def __init__(self, n_features: int, *, momentum: float = 0.99, eps: float = 1e-3,
                 dtype=np.float64):
        super().__init__()
        if (isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer))
                or n_features < 1):
            raise ValueError(f"BatchNorm expected n_features to be a positive integer, "
                             f"got {n_features!r}")
        self.momentum = in_unit_interval(momentum, "BatchNorm", "momentum")
        self.eps = positive(eps, "BatchNorm", "eps")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"BatchNorm expected a floating-point dtype, got {self.dtype}")
        self.n_features = int(n_features)
        self.params = {"gamma": np.ones(self.n_features, dtype=self.dtype),
                       "beta": np.zeros(self.n_features, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.moving_mean = np.zeros(self.n_features, dtype=self.dtype)
        self.moving_var = np.ones(self.n_features, dtype=self.dtype)
        self.need_input_grad = True  # Sequential turns it off for its first layer
        self._cache = None

    @property
    def buffers(self):
        """The moving statistics, (n_features,) each: state that ``restore_best`` copies too."""
        return {"moving_mean": self.moving_mean, "moving_var": self.moving_var}

    def forward(self, x):
        """x (n, ..., n_features) -> y (n, ..., n_features)."""
        # Type and shape are checked here; NaN/inf where data enters training and in the loss.
        x = float_array(x, self, "x", finite=False)
        if x.ndim < 2 or x.shape[-1] != self.n_features:
            raise ValueError(f"{self!r} expected x of shape (n, ..., {self.n_features}) "
                             f"(features last), got {x.shape}")
        x = x.astype(self.dtype, copy=False)
        axes = tuple(range(x.ndim - 1))  # every axis but the features
        if self.training:
            # One entry per feature gives var = 0 and y = beta; Keras allows it, and so do we.
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)  # biased (ddof=0), as Keras: the batch's own spread
            m = self.momentum
            # In place, so references to the moving statistics stay valid.
            self.moving_mean *= m
            self.moving_mean += (1 - m) * mean
            self.moving_var *= m
            self.moving_var += (1 - m) * var
        else:
            mean, var = self.moving_mean, self.moving_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        self._cache = (xhat, inv_std, self.training, axes)
        return self.params["gamma"] * xhat + self.params["beta"]

    def backward(self, delta):
        """delta (n, ..., n_features) -> dx of the same shape; fills grads "gamma" and "beta"."""
        if self._cache is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        xhat, inv_std, training, axes = self._cache
        delta = float_array(delta, f"{self!r}.backward", "delta", finite=False)
        if delta.shape != xhat.shape:
            raise ValueError(f"{self!r}.backward expected delta of shape {xhat.shape} (the forward "
                             f"output), got {delta.shape}")
        delta = delta.astype(self.dtype, copy=False)
        # Sums over examples AND positions: gamma and beta serve every one of them.
        self.grads["gamma"][...] = (delta * xhat).sum(axis=axes)
        self.grads["beta"][...] = delta.sum(axis=axes)
        if not self.need_input_grad:
            return None
        scale = self.params["gamma"] * inv_std
        if not training:  # moving statistics are constants: a per-feature affine map
            return scale * delta
        return scale * (delta - delta.mean(axis=axes) - xhat * (delta * xhat).mean(axis=axes))

    def __repr__(self):
        return f"BatchNorm({self.n_features}, momentum={self.momentum}, eps={self.eps})"
