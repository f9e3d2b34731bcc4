"""Elementwise layers: the activations y = f(z) and (inverted) dropout.

Each follows the layer contract of :mod:`dlbook_utils.layer_base`; all are re-exported by
:mod:`dlbook_utils.layers`, where the book imports them from. Shapes: (...) -> (...).
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from ._validate import in_unit_interval
from .layer_base import Layer

__all__ = ["ReLU", "Sigmoid", "Tanh", "Dropout"]


class _Elementwise(Layer):
    """An activation layer: y = f(z), dz = dy * f'(z) (Eq. (eq-activation-backward)).

    A subclass names ``f`` (from :mod:`dlbook_utils.activations`) and says how to get f'(z)
    from what ``_remember`` kept of the forward pass (by default the output y itself).
    """

    activation = None

    def __init__(self):
        super().__init__()
        self._cache = None

    def _forward(self, x):
        y = self._apply(x)
        self._cache, self._out_shape = self._remember(y), y.shape
        return y

    def _apply(self, x):
        # The input was checked by forward or by Sequential; a function of one's own (without
        # an ``unchecked`` variant, see activations.checks_input) is called as it is.
        return getattr(self.activation, "unchecked", self.activation)(x)

    def _remember(self, y):
        return y

    def _backward(self, dy):
        return dy * self._local_grad()


class ReLU(_Elementwise):
    """y = max(z, 0); backward passes dy where z > 0. Shapes: (...) -> (...).

    ``inplace=True`` (as in PyTorch) writes y over z: one array fewer per step, ~5 % of an
    MNIST-size training step here. Only for a z nothing else needs, e.g. a Dense output (``mlp``).
    """

    activation = staticmethod(act.relu)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)
        self._zeros = np.zeros(0)

    def _apply(self, x):
        if not self.inplace:
            return super()._apply(x)
        # max(z, 0) against an array of zeros, not the scalar 0: NumPy's SIMD loop for
        # maximum takes two arrays, and is ~3x faster than the one for an array and a scalar
        # (21 vs 59 us at 512 x 256 here). Same values, signs of zeros included.
        if x.ndim == 0:
            return np.maximum(x, 0, out=x)
        zeros = self._zeros
        if zeros.dtype != x.dtype or zeros.shape[1:] != x.shape[1:] or len(zeros) < len(x):
            zeros = self._zeros = np.zeros_like(x)
        return np.maximum(x, zeros[:len(x)], out=x)

    def __repr__(self):
        return "ReLU(inplace=True)" if self.inplace else "ReLU()"

    def _remember(self, y):
        return y > 0

    def _local_grad(self):
        return self._cache


class Sigmoid(_Elementwise):
    """y = sigmoid(z); local gradient y (1 - y), reusing the cached output."""

    activation = staticmethod(act.sigmoid)

    def _local_grad(self):
        return self._cache * (1 - self._cache)


class Tanh(_Elementwise):
    """y = tanh(z); local gradient 1 - y^2, reusing the cached output."""

    activation = staticmethod(act.tanh)

    def _local_grad(self):
        return 1 - self._cache * self._cache


class Dropout(_Elementwise):
    """Inverted dropout, Eq. (eq-inverted-dropout) in 06_regularization.

    Training: each unit is kept with probability 1 - p and scaled by 1/(1 - p), so the expected
    activation equals the eval-time activation; eval: identity. ``set_mask(m)`` fixes the keep
    mask (0/1 array) for gradient checks and figures; ``set_mask(None)`` draws fresh masks again.
    """

    def __init__(self, p: float, *, rng: np.random.Generator):
        super().__init__()
        self.p = in_unit_interval(p, "Dropout", "p")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"Dropout expected rng: np.random.Generator, got {type(rng).__name__}")
        self.rng = rng
        self._fixed_mask = None

    def set_mask(self, mask):
        self._fixed_mask = None if mask is None else np.asarray(mask, dtype=bool)

    def _forward(self, x):
        self._out_shape = x.shape
        if not self.training or self.p == 0:
            self._cache = None
            return x
        if self._fixed_mask is not None:
            if self._fixed_mask.shape != x.shape:
                raise ValueError(f"{self!r} expected a mask of shape {x.shape}, "
                                 f"got {self._fixed_mask.shape}")
            keep = self._fixed_mask
        else:
            keep = self.rng.random(x.shape) >= self.p
        self._cache = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))
        return x * self._cache

    def _local_grad(self):
        return 1 if self._cache is None else self._cache

    def __repr__(self):
        return f"Dropout(p={self.p})"
