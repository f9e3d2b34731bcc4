"""Layers with forward and backward next to each other (the CS231n and micrograd pattern).

``forward(x)`` computes the output and keeps what backward needs; ``backward(delta)`` takes
delta = dL/d(output), stores dL/d(param) in ``self.grads``, returns dL/dx; ``Layer`` states
the contract, the NaN rule and what a layer checks. Rows are examples (batch-first): x (n, n_in)
@ W (n_in, n_out) + b (n_out,). Names vs book/notation.md: input ``x`` is X (or the previous
A), Dense's output ``z`` is Z, an activation layer's output ``y`` is A = phi(Z).
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from ._validate import (
    float_array,
    float_dtype,
    generator,
    in_unit_interval,
    one_of,
    positive_int,
    rows,
)
from .batchnorm import BatchNorm
from .conv import Conv1D, Flatten
from .layer_base import Layer, check_delta

__all__ = ["Layer", "Dense", "ReLU", "Sigmoid", "Tanh", "Dropout", "Sequential", "mlp",
           "BatchNorm", "Conv1D", "Flatten"]


class Dense(Layer):
    """Fully connected layer z = x W + b (Z = XW + b), Eq. (eq-dense-forward) in 03_forward_pass.

    Shapes: x (n, n_in) -> z (n, n_out), W (n_in, n_out), b (n_out,). Backward with delta = dL/dz
    (n, n_out), Eq. (eq-dense-backward) in 04_backprop: dW = x^T delta, db = column sums of
    delta, dx = delta W^T. init="he": W ~ N(0, 2/n_in) (He et al., 2015; for ReLU); "glorot":
    W ~ U(-a, a), a = sqrt(6/(n_in + n_out)) (Glorot & Bengio, 2010); b = 0. Inputs are cast to
    ``dtype``. backward writes into the arrays of ``grads``, so a dict taken earlier stays valid.
    """

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator, init: str = "he",
                 dtype=np.float64, need_input_grad: bool = True):
        super().__init__()
        self.n_in = positive_int(n_in, "Dense", "n_in")
        self.n_out = positive_int(n_out, "Dense", "n_out")
        self.init = one_of(init, ("he", "glorot"), "Dense", "init")
        self.dtype = float_dtype(dtype, "Dense")
        rng, a = generator(rng, "Dense"), np.sqrt(6.0 / (n_in + n_out))  # a: Glorot's bound
        W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in) if init == "he"
             else rng.uniform(-a, a, size=(n_in, n_out)))
        self.params = {"W": W.astype(self.dtype), "b": np.zeros(n_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.need_input_grad = need_input_grad  # the first layer of a net may skip dL/dx
        self.x = self.out_shape = None

    def forward(self, x):
        self.x = rows(x, self.n_in, self).astype(self.dtype, copy=False)  # float, (n, n_in)
        self.out_shape = (len(self.x), self.n_out)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, delta):
        delta = check_delta(self, delta, self.out_shape).astype(self.dtype, copy=False)
        self.grads["W"][...] = self.x.T @ delta  # [...]: into the same array, not a new one
        self.grads["b"][...] = delta.sum(axis=0)  # b was added to every row: sum the rows
        return delta @ self.params["W"].T if self.need_input_grad else None

    def __repr__(self):
        return f"Dense(in={self.n_in}, out={self.n_out})"


class ReLU(Layer):
    """y = relu(x) = max(x, 0) (A = max(Z, 0)), Eq. (eq-relu). Shapes: (...) -> (...).

    backward: delta * relu_grad(x), Eq. (eq-relu-grad); relu_grad refuses a NaN in x rather
    than give it slope 0 (see ``Layer``).
    """

    def __init__(self):
        super().__init__()
        self.x = self.out_shape = None

    def forward(self, x):
        self.x = float_array(x, self, "x", finite=False)
        self.out_shape = self.x.shape
        return act.relu(self.x)

    def backward(self, delta):
        return check_delta(self, delta, self.out_shape) * act.relu_grad(self.x)


class Sigmoid(Layer):
    """y = sigmoid(x), Eq. (eq-sigmoid); dx = delta * y (1 - y). Shapes: (...) -> (...)."""

    def __init__(self):
        super().__init__()
        self.y = self.out_shape = None

    def forward(self, x):
        self.y = act.sigmoid(x)  # the slope is computed from the output: nothing else to keep
        self.out_shape = self.y.shape
        return self.y

    def backward(self, delta):
        return check_delta(self, delta, self.out_shape) * (self.y * (1 - self.y))


class Tanh(Layer):
    """y = tanh(x), Eq. (eq-tanh); dx = delta * (1 - y^2). Shapes: (...) -> (...)."""

    def __init__(self):
        super().__init__()
        self.y = self.out_shape = None

    def forward(self, x):
        self.y = act.tanh(x)
        self.out_shape = self.y.shape
        return self.y

    def backward(self, delta):
        return check_delta(self, delta, self.out_shape) * (1 - self.y * self.y)


class Dropout(Layer):
    """Inverted dropout, Eq. (eq-inverted-dropout) in 06_regularization. Shapes: (...) -> (...).

    Training: each unit is kept with probability 1 - p and scaled by 1/(1 - p), so the expected
    activation equals the eval-time one; eval: identity. ``set_mask(m)`` fixes the keep mask
    (0/1 array) for gradient checks and figures; ``set_mask(None)`` draws fresh masks again.
    """

    def __init__(self, p: float, *, rng: np.random.Generator):
        super().__init__()
        self.p, self.rng = in_unit_interval(p, "Dropout", "p"), generator(rng, "Dropout")
        self.fixed_mask = self.out_shape = None
        self.scale = 1  # d(output)/dx: 1 / (1 - p) where kept, 0 where dropped; 1 at eval

    def set_mask(self, mask):
        self.fixed_mask = None if mask is None else np.asarray(mask, dtype=bool)

    def forward(self, x):
        x = float_array(x, self, "x", finite=False)
        self.out_shape, self.scale = x.shape, 1
        if not self.training or self.p == 0:
            return x
        keep = self.rng.random(x.shape) >= self.p if self.fixed_mask is None else self.fixed_mask
        if keep.shape != x.shape:
            raise ValueError(f"{self!r} expected a mask of shape {x.shape}, got {keep.shape}")
        self.scale = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))
        return x * self.scale

    def backward(self, delta):
        return check_delta(self, delta, self.out_shape) * self.scale

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Sequential(Layer):
    """A chain of layers; backward runs them in reverse (the chain rule, Eq. (eq-chain-rule)).

    ``params()`` / ``grads()`` return dicts keyed ``"<layer index>.<name>"`` ("0.W", "0.b",
    "2.W", ...) holding the layers' own arrays, so an optimizer updating them in place updates
    the model. ``need_input_grad=False`` tells the first layer to skip dL/dx, which nothing
    uses when x is the data; ``backward`` then returns None.
    """

    def __init__(self, layers, *, need_input_grad: bool = True):
        self.training = True  # no super().__init__(): params and grads are methods here
        self.layers = list(layers)
        if not self.layers or not all(isinstance(lay, Layer) for lay in self.layers):
            raise ValueError(f"Sequential expected a non-empty list of Layers, got {layers!r}")
        self.need_input_grad = self.layers[0].need_input_grad = need_input_grad

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, delta):
        for layer in reversed(self.layers):
            delta = layer.backward(delta)
        return delta

    def params(self):
        return _keyed(self.layers, "params")

    def grads(self):
        return _keyed(self.layers, "grads")

    def buffers(self):  # state that is not a parameter (BatchNorm's moving statistics)
        return _keyed(self.layers, "buffers")

    def train(self):
        self.training = True
        for layer in self.layers:
            layer.train()  # through the method, so a nested Sequential passes it on
        return self

    def eval(self):
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def __repr__(self):
        return "Sequential([" + ", ".join(repr(lay) for lay in self.layers) + "])"


def _keyed(layers, attr: str) -> dict:  # {"<index>.<name>": array}; nested ones add their keys
    out = {}
    for i, layer in enumerate(layers):
        arrays = getattr(layer, attr)
        for key, value in (arrays() if callable(arrays) else arrays).items():
            out[f"{i}.{key}"] = value
    return out


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def mlp(sizes, *, activation: str = "relu", rng: np.random.Generator, dtype=np.float64,
        init: str | None = None, need_input_grad: bool = False) -> Sequential:
    """Dense -> activation -> ... -> Dense; the last layer outputs logits (no activation).

    ``sizes = [d_in, h1, ..., d_out]``. ``init`` defaults to "he" for ReLU and "glorot" for
    sigmoid/tanh. The first layer skips dL/dx unless ``need_input_grad=True``.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp expected sizes [d_in, ..., d_out] with >= 2 entries, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp expected activation in {tuple(ACTIVATIONS)}, got {activation!r}")
    init = init or ("he" if activation == "relu" else "glorot")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Dense(n_in, n_out, rng=rng, init=init, dtype=dtype), ACTIVATIONS[activation]()]
    return Sequential(layers[:-1], need_input_grad=need_input_grad)  # no activation on logits
