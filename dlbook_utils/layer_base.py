"""The layer contract (CS231n style) that every layer of :mod:`dlbook_utils.layers` follows.

``forward(x)`` computes the output and caches what the backward pass needs;
``backward(dy)`` takes dL/d(output), stores dL/d(param) in ``self.grads`` and returns dL/dx.
"""

from __future__ import annotations

import numpy as np

from ._validate import float_array

__all__ = ["Layer"]


class Layer:
    """Base class: ``params`` and ``grads`` are dicts of arrays with matching keys and shapes.

    ``forward`` / ``backward`` check their argument (a finite float array; dy shaped like the
    last output) and call ``_forward`` / ``_backward``, which subclasses implement. Inside a
    ``Sequential`` only the first and last layers check: the arrays passed between layers are
    the layers' own results (a NaN born inside is still caught by the loss and the optimizer).
    ``training`` switches train-time behaviour (Dropout). ``need_input_grad = False`` lets the
    first layer of a network skip computing dL/dx, which nothing uses.
    """

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self.need_input_grad = True
        self._out_shape = None  # shape of the last forward output: what backward expects

    def forward(self, x):
        return self._forward(float_array(x, self, "x"))

    def backward(self, dy):
        if self._out_shape is None:
            raise RuntimeError(f"{self!r}.backward called before forward")
        dy = float_array(dy, f"{self!r}.backward", "dy")
        if dy.shape != self._out_shape:
            raise ValueError(f"{self!r}.backward expected dy of shape {self._out_shape} "
                             f"(the forward output), got {dy.shape}")
        return self._backward(dy)

    def _forward(self, x):
        raise NotImplementedError

    def _backward(self, dy):
        raise NotImplementedError

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


def _unchecked(layer, name: str):
    """``layer._forward`` (or ``_backward``); but a class that overrides the public method itself
    (a learner's own layer, say) is called through that method."""
    if getattr(type(layer), name) is getattr(Layer, name):
        return getattr(layer, "_" + name)
    return getattr(layer, name)
