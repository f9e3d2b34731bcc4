"""Layers, forward and backward side by side (CS231n, micrograd). Rows are
examples. Notation: x is X or A, Dense's output Z, an activation's A.
"""

from __future__ import annotations

import numpy as np

from . import _validate as check
from . import activations as act
from ._validate import check_delta, float_array, rows

__all__ = ["Layer", "Dense", "ReLU", "Sigmoid", "Tanh", "Dropout",
           "Sequential", "mlp"]  # BatchNorm, Conv1D, Flatten: __getattr__


class Layer:
    """``forward(x)`` returns the output, keeping what backward needs;
    ``backward(delta)``, delta = dL/d(output), puts dL/d(param) in the
    dict ``grads`` (shaped like the dict ``params``) and returns dL/dx.
    (Sequential's params(), grads() are methods gathering its layers'.)
    ``buffers``: state no optimizer updates (BatchNorm's moving stats).
    A layer checks the type and shape of x and delta; a NaN passes on,
    refused where data enters: fit (X), the loss, the optimizer."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self.out_shape = None  # the forward output's shape; None: not run

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x):
        raise check.missing(self, "forward(x)")

    def backward(self, delta):
        raise check.missing(self, "backward(delta)")

    def __call__(self, x):
        return self.forward(x)

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    """z = x W + b, Eq. (eq-dense-forward). Backward (eq-dense-backward):
    dW = x^T delta, db = column sums of delta, dx = delta W^T.
    Shapes: x (n, n_in) -> z (n, n_out); W (n_in, n_out), b (n_out,);
    delta (n, n_out) -> dx (n, n_in); grads shaped like params.
    init "he": W ~ N(0, 2/n_in) (He et al., 2015; for ReLU); "glorot":
    W ~ U(-a, a), a = sqrt(6/(n_in + n_out)) (Glorot & Bengio, 2010).
    """

    def __init__(self, n_in: int, n_out: int, *, rng: np.random.Generator,
                 init="he", dtype=np.float64, need_input_grad=True):
        super().__init__()
        self.n_in = check.positive_int(n_in, "Dense", "n_in")
        self.n_out = check.positive_int(n_out, "Dense", "n_out")
        self.init = check.one_of(init, ("he", "glorot"), "Dense", "init")
        self.dtype = check.float_dtype(dtype, "Dense")
        rng, a = check.generator(rng, "Dense"), np.sqrt(6 / (n_in + n_out))
        W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
             if init == "he" else rng.uniform(-a, a, size=(n_in, n_out)))
        self.params = {"W": W.astype(self.dtype),
                       "b": np.zeros(n_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.need_input_grad = need_input_grad  # first layer: dx unused

    def forward(self, x):
        x = rows(x, self.n_in, self)  # float (n, n_in), or a clear error
        self.x = x.astype(self.dtype, copy=False)
        self.out_shape = (len(x), self.n_out)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, delta):
        # forward ran and delta is shaped like z, or a clear error
        delta = check_delta(self, delta, self.out_shape).astype(
            self.dtype, copy=False)  # grads and dx keep the layer's dtype
        self.grads["W"][...] = self.x.T @ delta  # in place: fast/ holds it
        self.grads["b"][...] = delta.sum(axis=0)  # b was added to each row
        return delta @ self.params["W"].T if self.need_input_grad else None

    def __repr__(self):
        return f"Dense(in={self.n_in}, out={self.n_out})"


class ReLU(Layer):
    """A = max(Z, 0), Eq. (eq-relu) of chapter 2, Z the input x. Backward:
    dx = delta * relu_grad(x), relu_grad = 1 where x > 0, else 0 (0 at the
    kink), Eq. (eq-relu-grad), ch. 2; a NaN x is refused (slope 0 hides
    it). Shapes: x (n, d) or any -> A like x; delta like A -> dx like x."""

    def forward(self, x):
        self.x = float_array(x, self, "x", finite=False)
        self.out_shape = self.x.shape
        return act.relu(self.x)

    def backward(self, delta):
        # forward ran and delta is shaped like A, or a clear error
        delta = check_delta(self, delta, self.out_shape)
        x = float_array(self.x, f"{self!r}.backward", "x")  # NaN: refused
        return delta * act.relu_grad(x)


class Sigmoid(Layer):
    """y = sigmoid(x) (eq-sigmoid), dx = delta * y (1 - y). Any shape."""

    def forward(self, x):
        self.y = act.sigmoid(x)  # the slope needs only the output
        self.out_shape = self.y.shape
        return self.y

    def backward(self, delta):
        delta = check_delta(self, delta, self.out_shape)
        return delta * (self.y * (1 - self.y))


class Tanh(Layer):
    """y = tanh(x), Eq. (eq-tanh); dx = delta * (1 - y^2). Any shape."""

    def forward(self, x):
        self.y = act.tanh(x)
        self.out_shape = self.y.shape
        return self.y

    def backward(self, delta):
        delta = check_delta(self, delta, self.out_shape)
        return delta * (1 - self.y * self.y)


class Dropout(Layer):
    """Inverted dropout, Eq. (eq-inverted-dropout). Shapes: any -> same.
    Training: a unit is kept with probability 1 - p, scaled by 1/(1 - p);
    eval: identity. ``set_mask(m)`` fixes the 0/1 mask; None: random."""

    def __init__(self, p: float, *, rng: np.random.Generator):
        super().__init__()
        self.p = check.in_unit_interval(p, "Dropout", "p")
        self.rng, self.fixed_mask = check.generator(rng, "Dropout"), None
        self.scale = 1  # d(output)/dx: 1/(1 - p) or 0; 1 at eval

    def set_mask(self, mask):
        self.fixed_mask = None if mask is None else np.asarray(mask, bool)

    def forward(self, x):
        x = float_array(x, self, "x", finite=False)
        self.out_shape, self.scale = x.shape, 1
        if not self.training or self.p == 0:
            return x
        keep = (self.rng.random(x.shape) >= self.p
                if self.fixed_mask is None else self.fixed_mask)
        if keep.shape != x.shape:
            raise ValueError(f"{self!r} expected a mask of shape "
                             f"{x.shape}, got {keep.shape}")
        self.scale = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))
        return x * self.scale

    def backward(self, delta):
        return check_delta(self, delta, self.out_shape) * self.scale

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Sequential(Layer):
    """A chain of layers; backward runs it in reverse, Eq. (eq-chain-rule).
    ``params()``/``grads()``: the layers' own arrays keyed "<index>.<name>"
    ("0.W", "2.W"). ``need_input_grad=False``: the first layer skips dL/dx
    (unused when x is the data) and backward returns None."""

    def __init__(self, layers, *, need_input_grad: bool = True):
        self.training = True  # no Layer.__init__: params() is a method
        self.layers = list(layers)
        if not self.layers or not all(isinstance(la, Layer)
                                      for la in self.layers):
            raise ValueError("Sequential expected a non-empty list of "
                             f"Layers, got {layers!r}")
        self.need_input_grad = need_input_grad
        self.layers[0].need_input_grad = need_input_grad

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

    def buffers(self):
        return _keyed(self.layers, "buffers")

    def train(self):
        self.training = True
        for layer in self.layers:
            layer.train()  # a method: a nested Sequential passes it on
        return self

    def eval(self):
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def __repr__(self):
        return f"Sequential([{', '.join(map(repr, self.layers))}])"


def _keyed(layers, attr: str) -> dict:  # {"<index>.<name>": array}
    out = {}
    for i, layer in enumerate(layers):
        arrays = getattr(layer, attr)  # a nested Sequential's is a method
        arrays = arrays() if callable(arrays) else arrays
        for key, value in arrays.items():
            out[f"{i}.{key}"] = value
    return out


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def mlp(sizes, *, activation="relu", rng: np.random.Generator,
        dtype=np.float64, init=None, need_input_grad=False) -> Sequential:
    """Dense -> activation -> ... -> Dense (logits). sizes: [d_in, ..., k].
    ``init``: "he" for ReLU, "glorot" for sigmoid/tanh unless given."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError("mlp expected sizes [d_in, ..., d_out] with >= 2 "
                         f"entries, got {sizes}")
    check.one_of(activation, tuple(ACTIVATIONS), "mlp", "activation")
    init = init or ("he" if activation == "relu" else "glorot")
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Dense(n_in, n_out, rng=rng, init=init, dtype=dtype),
                   ACTIVATIONS[activation]()]
    return Sequential(layers[:-1], need_input_grad=need_input_grad)


def __getattr__(name):  # BatchNorm, Conv1D, Flatten: own modules, which
    from . import batchnorm, conv  # import Layer from here: a late import
    if name in ("BatchNorm", "Conv1D", "Flatten"):
        return getattr(batchnorm if name == "BatchNorm" else conv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
