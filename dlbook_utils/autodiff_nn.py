"""Neural networks made of :class:`~dlbook_utils.autodiff.Value` scalars.

- :class:`Neuron`: one unit act(w . x + b) with Value weights, which chapter 4 trains with the
  scalar engine.
- :func:`value_mlp_gradients`: the gradients of an MLP computed by the scalar engine, one
  multiply-add at a time. They equal those of the matrix backward pass of
  :mod:`dlbook_utils.layers` (the δ-recursion, Eq. (eq-delta-recursion) in 04_backprop) to
  rounding: the δ-recursion is the same chain rule, batched into matrix products.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import float_array
from .autodiff import Value

__all__ = ["ACTIVATIONS", "Neuron", "to_values", "grads_of", "value_mlp_gradients"]

ACTIVATIONS = ("tanh", "sigmoid", "relu")


def _activation(name):
    if name is not None and name not in ACTIVATIONS:
        raise ValueError(f"expected an activation in {ACTIVATIONS} or None, got {name!r}")
    return name


class Neuron:
    """y = act(w_0 x_0 + ... + w_{k-1} x_{k-1} + b), Eq. (eq-neuron) in 02_core_concepts.

    ``w`` are k Values drawn from N(0, 1/k) (so w . x has unit variance for unit inputs), ``b``
    starts at 0. ``activation``: "tanh", "sigmoid", "relu", or None for a linear unit.
    Shapes: x, a sequence of k numbers or Values -> one Value.
    """

    def __init__(self, n_in: int, *, rng: np.random.Generator, activation: str | None = "tanh"):
        if isinstance(n_in, bool) or not isinstance(n_in, (int, np.integer)) or n_in < 1:
            raise ValueError(f"Neuron expected n_in to be a positive integer, got {n_in!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"Neuron expected rng: np.random.Generator, got {type(rng).__name__}")
        self.activation = _activation(activation)
        weights = rng.standard_normal(int(n_in)) / math.sqrt(n_in)
        self.w = [Value(w, label=f"w{i}") for i, w in enumerate(weights)]
        self.b = Value(0.0, label="b")

    def __call__(self, x) -> Value:
        x = list(x)
        if len(x) != len(self.w):
            raise ValueError(f"{self!r} expected {len(self.w)} inputs, got {len(x)}")
        z = self.w[0] * x[0]
        for w, xi in zip(self.w[1:], x[1:], strict=True):
            z = z + w * xi
        z = z + self.b
        return z if self.activation is None else getattr(z, self.activation)()

    def parameters(self) -> list[Value]:
        """The k weights, then the bias: what gradient descent updates."""
        return [*self.w, self.b]

    def __repr__(self):
        return f"Neuron(n_in={len(self.w)}, activation={self.activation!r})"


def to_values(array) -> np.ndarray:
    """A float array as a NumPy object array of leaf Values. Shapes: (...) -> (...).

    NumPy arithmetic works on object arrays entry by entry with Python's operators, so
    ``x @ W + b`` on such arrays runs the scalar engine on every multiply and add.
    """
    array = float_array(array, "to_values", "array")
    values = np.empty(array.shape, dtype=object)
    for index, number in np.ndenumerate(array):
        values[index] = Value(number)
    return values


def grads_of(values) -> np.ndarray:
    """The ``grad`` of each Value of an object array, as a float64 array. Shapes: (...) -> (...)."""
    values = np.asarray(values, dtype=object)
    grads = np.empty(values.shape, dtype=np.float64)
    for index, value in np.ndenumerate(values):
        if not isinstance(value, Value):
            raise TypeError(f"grads_of expected an array of Values, got {type(value).__name__} "
                            f"at index {index}")
        grads[index] = value.grad
    return grads


def _apply(method: str, values: np.ndarray) -> np.ndarray:
    """``value.<method>()`` for every entry of an object array (e.g. "tanh")."""
    out = np.empty(values.shape, dtype=object)
    for index, value in np.ndenumerate(values):
        out[index] = getattr(value, method)()
    return out


def value_mlp_gradients(x, y, params, *, activation: str = "tanh", deltas: bool = False):
    """MSE loss of an MLP and its gradients, computed by the scalar engine, entry by entry.

    The network is that of ``layers.mlp``: h_0 = x, z_l = h_{l-1} W_l + b_l, h_l = act(z_l)
    for every layer but the last, whose z_L is the output; the loss is ``losses.mse``, the mean
    of (z_L - y)^2 over all entries. Every entry is a Value, so the graph has one node per scalar
    multiply, add and activation, and ``backward`` walks it one scalar at a time.

    Shapes: x (n, d_0), y (n, d_L), params [(W_1 (d_0, d_1), b_1 (d_1,)), ..., (W_L, b_L)]
    -> (loss: float, [(dW_1, db_1), ..., (dW_L, db_L)] float64 arrays shaped like the params).
    With ``deltas=True`` a third item follows: [dz_1 (n, d_1), ..., dz_L (n, d_L)], the grads
    the engine left on the pre-activation nodes, to compare with the matrix delta recursion.
    """
    x = float_array(x, "value_mlp_gradients", "x", ndim=2)
    y = float_array(y, "value_mlp_gradients", "y", ndim=2)
    _activation(activation)
    params = list(params)
    width = x.shape[1]
    for layer, pair in enumerate(params, start=1):
        W, b = (float_array(a, "value_mlp_gradients", f"W/b of layer {layer}") for a in pair)
        if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
            raise ValueError(f"value_mlp_gradients expected W_{layer} of shape ({width}, d) and "
                             f"b_{layer} of shape (d,), got {W.shape} and {b.shape}")
        width = W.shape[1]
    if not params or y.shape != (x.shape[0], width):
        raise ValueError(f"value_mlp_gradients expected at least one layer and y of shape "
                         f"{(x.shape[0], width)} (the output), got {len(params)} layers and "
                         f"y of shape {y.shape}")

    weights = [(to_values(W), to_values(b)) for W, b in params]
    h, zs = x, []  # plain floats: float * Value is a Value
    for layer, (W, b) in enumerate(weights, start=1):
        h = h @ W + b  # every entry: a Value sum of Value products
        zs.append(h)  # kept: their grads are dL/dz, the deltas
        if layer < len(weights):
            h = _apply(activation, h)
    diff = h - y
    loss = (diff * diff).sum() / diff.size  # losses.mse, on Values
    loss.backward()
    grads = [(grads_of(W), grads_of(b)) for W, b in weights]
    if deltas:
        return loss.data, grads, [grads_of(z) for z in zs]
    return loss.data, grads
