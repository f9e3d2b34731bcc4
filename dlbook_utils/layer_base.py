"""The layer contract (CS231n style) that every layer of :mod:`dlbook_utils.layers` follows.

``forward(x)`` computes the output and keeps what the backward pass needs;
``backward(delta)`` takes delta = dL/d(output), stores dL/d(param) in ``self.grads`` and
returns dL/dx. A layer of your own subclasses :class:`Layer` and defines both methods.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array

__all__ = ["Layer", "check_delta"]


class Layer:
    """Base class: ``params`` and ``grads`` are dicts of arrays with matching keys and shapes.

    ``training`` switches train-time behaviour (Dropout); ``train()`` and ``eval()`` set it.
    ``buffers`` is a dict of the arrays that are state but not parameters: no optimizer updates
    them, yet they belong to the trained model (BatchNorm's moving statistics; Keras calls them
    non-trainable weights, PyTorch buffers). Whoever saves and restores a model, such as
    ``fit``'s ``restore_best``, must copy them along with ``params``. Most layers have none.

    One rule for NaN: a NaN passes through (NaN in, NaN out) until a check refuses it -- where data
    enters training (``fit``/``predict`` check X, a loss its inputs, an optimizer its gradients) --
    except where a step would turn it into a number and hide it: ReLU's slope (x > 0 is False
    for a NaN, which would get slope 0) comes from ``activations.relu_grad``, which refuses NaN/inf.
    A layer itself checks the type and shape of what it gets.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x){_hint(self)}")

    def backward(self, delta):
        raise NotImplementedError(f"{type(self).__name__} must define backward(delta)"
                                  f"{_hint(self)}")

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


def _hint(layer) -> str:
    # Earlier versions of this package had layers define _forward/_backward.
    if hasattr(layer, "_forward") or hasattr(layer, "_backward"):
        return "; rename _forward/_backward to forward/backward"
    return ""


def check_delta(layer, delta, out_shape):
    """The check at the top of a backward pass: forward has run (``out_shape``, the shape of its
    output, is None before) and delta = dL/d(output) is a float array of that shape."""
    if out_shape is None:
        raise RuntimeError(f"{layer!r}.backward called before forward")
    if not (isinstance(delta, np.ndarray) and delta.dtype.kind == "f"):  # else: a clear error
        delta = float_array(delta, f"{layer!r}.backward", "delta", finite=False)
    if delta.shape != out_shape:
        raise ValueError(f"{layer!r}.backward expected delta of shape {out_shape} "
                         f"(the forward output), got {delta.shape}")
    return delta
