"""Layers with the CS231n forward/backward contract.

``forward(x)`` computes the output and caches what the backward pass needs;
``backward(dy)`` takes dL/d(output), stores dL/d(param) in ``self.grads`` and returns dL/dx.
Rows are examples (batch-first, like Keras): x (n, d_in) @ W (d_in, d_out) + b (d_out,).
"""

from __future__ import annotations

import numpy as np

from . import _flat
from .batchnorm import BatchNorm
from .conv import Conv1D, Flatten
from .elementwise import Dropout, ReLU, Sigmoid, Tanh
from .layer_base import Layer, _unchecked

__all__ = ["Layer", "Dense", "ReLU", "Sigmoid", "Tanh", "Dropout", "Sequential", "mlp",
           "BatchNorm", "Conv1D", "Flatten"]


class Dense(Layer):
    """Fully connected layer z = x W + b, Eq. (eq-dense-forward) in 03_forward_pass.

    Backward, Eq. (eq-dense-backward) in 04_backprop:
    dW = x^T dy  (d_in, d_out),  db = sum_rows dy  (d_out,),  dx = dy W^T  (n, d_in).

    init="he":     W ~ N(0, 2 / n_in)                          (He et al., 2015; for ReLU)
    init="glorot": W ~ U(-a, a), a = sqrt(6 / (n_in + n_out))  (Glorot & Bengio, 2010)
    b starts at zero. All arrays have ``dtype``; inputs are cast to it, so a float32 layer stays
    float32 end to end.
    """

    INITS = ("he", "glorot")

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator, init: str = "he",
                 dtype=np.float64, need_input_grad: bool = True):
        super().__init__()
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense expected {name} to be a positive integer, got {value!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"Dense expected rng: np.random.Generator, got {type(rng).__name__}")
        if init not in self.INITS:
            raise ValueError(f"Dense expected init in {self.INITS}, got {init!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"Dense expected a floating-point dtype, got {self.dtype}")
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        if init == "he":
            W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        else:
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
        self.params = {"W": W.astype(self.dtype), "b": np.zeros(n_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.need_input_grad = need_input_grad

    def _forward(self, x):
        """x (n, n_in) -> z (n, n_out)."""
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"{self!r} expected x of shape (n, {self.n_in}), got {x.shape}")
        x = x.astype(self.dtype, copy=False)
        self._x, self._out_shape = x, (x.shape[0], self.n_out)
        z = x @ self.params["W"]
        z += self.params["b"]  # in place: one (n, n_out) array per call, not two
        return z

    def _backward(self, dy):
        """dy (n, n_out) -> dx (n, n_in), or None when ``need_input_grad`` is False."""
        dy = dy.astype(self.dtype, copy=False)
        # Written into the existing arrays: no allocation, and references stay valid.
        np.matmul(self._x.T, dy, out=self.grads["W"])
        np.add.reduce(dy, axis=0, out=self.grads["b"])  # np.sum, minus its Python wrapper
        return dy @ self.params["W"].T if self.need_input_grad else None

    def __repr__(self):
        return f"Dense(in={self.n_in}, out={self.n_out})"


class Sequential(Layer):
    """A chain of layers; backward runs them in reverse (the chain rule, Eq. (eq-chain-rule)).

    ``params()`` / ``grads()`` return dicts keyed ``"<layer index>.<name>"`` ("0.W", "0.b",
    "2.W", ...) holding the layers' own arrays, so an optimizer updating them in place updates
    the model. With ``need_input_grad=False`` the first layer skips dL/dx and ``backward``
    returns None (faster training; dL/dx of the data is never used).

    Building a Sequential moves its layers' parameters (and gradients) into one flat buffer each
    (see ``_flat``): same values, new arrays. Take references such as ``layer.params["W"]``
    after building it, not before.
    """

    def __init__(self, layers, *, need_input_grad: bool = True):
        # No super().__init__(): params/grads are methods here, not dicts.
        self.training = True
        self.layers = list(layers)
        if not self.layers or not all(isinstance(lay, Layer) for lay in self.layers):
            raise ValueError(f"Sequential expected a non-empty list of Layer objects, got {layers!r}")
        self.need_input_grad = need_input_grad
        self.layers[0].need_input_grad = need_input_grad
        _flat.share_buffer(self.layers, "params")  # one flat array each: see _flat
        _flat.share_buffer(self.layers, "grads")

    def forward(self, x):
        x = self.layers[0].forward(x)  # checks the input; the other layers need not (see Layer)
        for layer in self.layers[1:]:
            x = _unchecked(layer, "forward")(x)
        return x

    def backward(self, dy):
        dy = self.layers[-1].backward(dy)
        for layer in reversed(self.layers[:-1]):
            dy = _unchecked(layer, "backward")(dy)
        return dy

    def params(self):
        return _keyed(self.layers, "params")

    def grads(self):
        return _keyed(self.layers, "grads")

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


def _keyed(layers, attr: str) -> dict:
    """``{"<index>.<name>": array}`` over the layers; a nested Sequential adds its own keys."""
    out = {}
    for i, lay in enumerate(layers):
        arrays = getattr(lay, attr)
        for k, v in (arrays() if callable(arrays) else arrays).items():
            out[f"{i}.{k}"] = v
    return out


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def mlp(sizes, *, activation: str = "relu", rng: np.random.Generator, dtype=np.float64,
        init: str | None = None, need_input_grad: bool = False) -> Sequential:
    """Dense -> activation -> ... -> Dense (the last layer outputs logits, no activation).

    ``sizes = [d_in, h1, ..., d_out]``. ``init`` defaults to "he" for ReLU and "glorot" for
    sigmoid/tanh. The first layer skips dL/dx unless ``need_input_grad=True``; ReLU layers work
    in place (``ReLU(inplace=True)``).
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp expected sizes [d_in, ..., d_out] with >= 2 entries, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp expected activation in {tuple(ACTIVATIONS)}, got {activation!r}")
    init = init or ("he" if activation == "relu" else "glorot")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Dense(n_in, n_out, rng=rng, init=init, dtype=dtype))
        if i < len(sizes) - 2:  # a ReLU may overwrite the Dense output: nothing else holds it
            layers.append(ReLU(inplace=True) if activation == "relu" else ACTIVATIONS[activation]())
    return Sequential(layers, need_input_grad=need_input_grad)
