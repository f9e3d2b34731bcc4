"""1-D convolution (channels last, as in Keras) and the Flatten that leads to a Dense head.

Conv1D slides a kernel W (kernel_size, c_in, c_out) along the length axis of x (n, length, c_in):

    y[i, t, o] = b[o] + sum_{j, c} x_pad[i, t * stride + j, c] * W[j, c, o]

It is computed as one matrix product ("im2col", CS231n): every window of x becomes a row of
``cols`` (n * out_length, kernel_size * c_in), so y = cols @ W.reshape(kernel_size * c_in, c_out).
The backward pass is the same product transposed; dL/dx adds each window's gradient back where
the window came from (windows overlap, so the contributions are summed, never overwritten).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import float_array
from .layers import Layer

__all__ = ["Conv1D", "Flatten", "conv1d_padding"]


def _positive_int(value, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where} expected {name} to be a positive integer, got {value!r}")
    return int(value)


def conv1d_padding(length: int, kernel_size: int, stride: int, padding: str):
    """``(out_length, pad_left, pad_right)`` for a 1-D convolution, exactly as Keras/TF do it.

    "valid": no padding, out_length = floor((length - kernel_size) / stride) + 1.
    "same":  out_length = ceil(length / stride); the zeros needed to reach it are split with the
             odd one on the RIGHT (TF's rule), e.g. kernel 4, stride 1: 1 left, 2 right.
    """
    if padding == "valid":
        return (length - kernel_size) // stride + 1, 0, 0
    out_length = -(-length // stride)  # ceil division
    total = max((out_length - 1) * stride + kernel_size - length, 0)
    return out_length, total // 2, total - total // 2


class Conv1D(Layer):
    """1-D convolution, Keras's ``Conv1D`` with channels last.

    x (n, length, c_in) -> y (n, out_length, c_out); params "W" (kernel_size, c_in, c_out) and
    "b" (c_out,). ``padding`` is "valid" or "same" (see :func:`conv1d_padding`).

    Backward, with delta (n, out_length, c_out) and g = delta.reshape(-1, c_out):
    dW = cols^T g  (summed over every example AND every position: one W serves them all),
    db = sum of delta over examples and positions  (c_out,),
    dx = each row of g W^T scattered back onto its window, overlaps summed  (n, length, c_in).

    init="he" draws W ~ N(0, 2 / fan_in) and "glorot" W ~ U(-a, a), a = sqrt(6 / (fan_in +
    fan_out)), with fan_in = kernel_size * c_in and fan_out = kernel_size * c_out (as Keras).
    b starts at zero.
    """

    INITS = ("he", "glorot")
    PADDINGS = ("valid", "same")

    def __init__(self, c_in: int, c_out: int, kernel_size: int, *, rng: np.random.Generator,
                 stride: int = 1, padding: str = "valid", init: str = "he", dtype=np.float64):
        super().__init__()
        self.c_in = _positive_int(c_in, "Conv1D", "c_in")
        self.c_out = _positive_int(c_out, "Conv1D", "c_out")
        self.kernel_size = _positive_int(kernel_size, "Conv1D", "kernel_size")
        self.stride = _positive_int(stride, "Conv1D", "stride")
        if padding not in self.PADDINGS:
            raise ValueError(f"Conv1D expected padding in {self.PADDINGS}, got {padding!r}")
        if init not in self.INITS:
            raise ValueError(f"Conv1D expected init in {self.INITS}, got {init!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"Conv1D expected rng: np.random.Generator, got {type(rng).__name__}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Conv1D expected a floating-point dtype, got {self.dtype}")
        self.padding, self.init = padding, init
        shape = (self.kernel_size, self.c_in, self.c_out)
        fan_in, fan_out = self.kernel_size * self.c_in, self.kernel_size * self.c_out
        if init == "he":
            W = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        else:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=shape)
        self.params = {"W": W.astype(self.dtype), "b": np.zeros(self.c_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.need_input_grad = True  # Sequential turns it off for its first layer
        self._cache = None

    def forward(self, x):
        """x (n, length, c_in) -> y (n, out_length, c_out)."""
        # Type and shape are checked here; NaN/inf where data enters training and in the loss.
        x = float_array(x, self, "x", finite=False)
        if x.ndim != 3 or x.shape[2] != self.c_in:
            raise ValueError(f"{self!r} expected x of shape (n, length, {self.c_in}) (channels "
                             f"last), got {x.shape}")
        n, length, _ = x.shape
        out_length, left, right = conv1d_padding(length, self.kernel_size, self.stride,
                                                 self.padding)
        if out_length < 1:
            raise ValueError(f"{self!r} expected length >= kernel_size = {self.kernel_size} "
                             f"with padding='valid', got length {length}")
        x = x.astype(self.dtype, copy=False)
        x_pad = np.pad(x, ((0, 0), (left, right), (0, 0)))
        # windows[i, t, c, j] = x_pad[i, t * stride + j, c]: a view, no copy yet.
        windows = sliding_window_view(x_pad, self.kernel_size, axis=1)[:, ::self.stride]
        # Order each row as (j, c), the order of W's first two axes; reshape copies (im2col).
        cols = windows.transpose(0, 1, 3, 2).reshape(n * out_length, self.kernel_size * self.c_in)
        y = cols @ self.params["W"].reshape(-1, self.c_out) + self.params["b"]
        self._cache = (cols, x_pad.shape, left, length, out_length)
        return y.reshape(n, out_length, self.c_out)

    def backward(self, delta):
        """delta (n, out_length, c_out) -> dx (n, length, c_in); fills grads "W" and "b"."""
        if self._cache is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        cols, pad_shape, left, length, out_length = self._cache
        n = pad_shape[0]
        delta = float_array(delta, f"{self!r}.backward", "delta", finite=False)
        if delta.shape != (n, out_length, self.c_out):
            raise ValueError(f"{self!r}.backward expected delta of shape "
                             f"{(n, out_length, self.c_out)} (the forward output), "
                             f"got {delta.shape}")
        g = delta.astype(self.dtype, copy=False).reshape(-1, self.c_out)
        # Written into the existing arrays, so whoever holds them (an optimizer) sees the update.
        self.grads["W"][...] = (cols.T @ g).reshape(self.params["W"].shape)
        self.grads["b"][...] = g.sum(axis=0)
        if not self.need_input_grad:  # the first layer of a network: dL/dx of data is unused
            return None
        dcols = (g @ self.params["W"].reshape(-1, self.c_out).T)
        dcols = dcols.reshape(n, out_length, self.kernel_size, self.c_in)
        dx_pad = np.zeros(pad_shape, dtype=self.dtype)
        last = (out_length - 1) * self.stride + 1  # span of the window starts
        for j in range(self.kernel_size):  # a loop over kernel taps, not over positions
            # Tap j of window t read x_pad[t * stride + j]: add its gradient back there (+=,
            # because with overlapping windows another window's tap reads the same entry).
            dx_pad[:, j:j + last:self.stride] += dcols[:, :, j]
        return dx_pad[:, left:left + length]

    def __repr__(self):
        return (f"Conv1D(c_in={self.c_in}, c_out={self.c_out}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r})")


class Flatten(Layer):
    """x (n, d1, d2, ...) -> y (n, d1 * d2 * ...): the bridge from feature maps to Dense.

    No parameters; backward reshapes delta back to the input's shape. Like Keras's Flatten
    with channels last, the order is C order (all channels of position 0, then position 1, ...).
    """

    def __init__(self):
        super().__init__()
        self.need_input_grad = True  # always computed here: a reshape costs nothing
        self._in_shape = None

    def forward(self, x):
        """x (n, ...) -> y (n, prod(...))."""
        x = float_array(x, self, "x", finite=False)
        if x.ndim < 2:
            raise ValueError(f"{self!r} expected x with a batch axis and at least one more, "
                             f"got shape {x.shape}")
        self._in_shape = x.shape
        return x.reshape(len(x), math.prod(x.shape[1:]))

    def backward(self, delta):
        """delta (n, prod(...)) -> dx (n, ...)."""
        if self._in_shape is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        delta = float_array(delta, f"{self!r}.backward", "delta", finite=False)
        expected = (self._in_shape[0], math.prod(self._in_shape[1:]))
        if delta.shape != expected:
            raise ValueError(f"{self!r}.backward expected delta of shape {expected} (the forward "
                             f"output), got {delta.shape}")
        return delta.reshape(self._in_shape)
