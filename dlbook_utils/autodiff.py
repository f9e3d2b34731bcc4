"""Scalar reverse-mode automatic differentiation: a ``Value`` remembers how it was computed.

Chapter 4 (04_backprop) builds this engine. The idea is micrograd's (Karpathy, 2020), written
anew. Each operation makes a new node ``out`` and records two things:

- its inputs, the *children* of ``out`` in the computational graph;
- the *local derivatives* d out / d child, plain numbers known as soon as ``out`` is computed
  (for ``out = a * b`` they are ``b.data`` and ``a.data``).

``out.backward()`` then applies the chain rule, Eq. (eq-chain-rule) in 04_backprop, in one place:

    child.grad += (d out / d child) * out.grad

visiting the nodes in reverse topological order, so a node's ``grad`` is complete before it is
passed on to its children. It is ``+=``: a node used twice (``a * a``, ``a + a``) gets one
contribution from each use. Afterwards every node's ``grad`` is d(root) / d(node).

Errors. An operand of the wrong type raises ``TypeError``; a number outside an operation's domain,
or a result that is not finite, raises ``ValueError`` naming the operation and its input. So
``Value(0).log()`` raises rather than returning -inf: -inf would silently turn every gradient
downstream into nan or inf, far from the line that caused it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import gradcheck

__all__ = ["Value", "topological_order", "check_value_gradients"]


def _as_number(x, where: str) -> float:
    """A real Python or NumPy number as a float; anything else (str, bool, Value) is refused."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{where} expected a real number (int or float), got "
                        f"{type(x).__name__} {x!r}")
    try:
        return float(x)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        raise ValueError(f"{where} expected a number within float range (|x| < 1.8e308), "
                         f"got one beyond it") from None


class Value:
    """One scalar in a computational graph: ``data`` (the number) and ``grad`` (d root / d self).

    ``Value(2.0, label="w")`` makes an input (a leaf); the operators ``+ - * / **`` and the methods
    ``tanh relu exp log sigmoid`` make new nodes. Python numbers work on either side (``2 * v``,
    ``1 - v``); they become leaves of the graph. ``label`` names the node in ``draw_graph``.
    """

    # Fixed attributes: a typo such as ``v.gard = 0`` raises instead of creating a new field.
    __slots__ = ("data", "grad", "label", "_op", "_children", "_local_grads")
    # NumPy defers to our operators: np.float64(2) * v gives a Value, not an object array.
    __array_ufunc__ = None

    def __init__(self, data, *, label: str = ""):
        self.data = _as_number(data, "Value")
        if not math.isfinite(self.data):
            raise ValueError(f"Value expected a finite number, got {self.data}")
        self.grad = 0.0
        self.label = label
        self._op = ""             # the operation that made this node; "" for an input
        self._children = ()       # the nodes it was computed from
        self._local_grads = ()    # d self / d child, one number per child

    @staticmethod
    def _make(data: float, op: str, children, local_grads) -> Value:
        """The node ``op(children)`` with its local derivatives; refuses an overflow."""
        if not all(math.isfinite(x) for x in (data, *local_grads)):
            args = ", ".join(f"{c.data:.6g}" for c in children)
            raise ValueError(f"{op} expected a finite result, got value {data} and local "
                             f"derivatives {tuple(local_grads)} at input(s) {args} (overflow)")
        out = Value(data)
        out._op, out._children, out._local_grads = op, tuple(children), tuple(local_grads)
        return out

    @staticmethod
    def _lift(other, op: str) -> Value:
        """A Value as it is; a number becomes a leaf. Anything else is a TypeError."""
        return other if isinstance(other, Value) else Value(_as_number(other, f"Value {op}"))

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other) -> Value:
        other = self._lift(other, "+")
        return self._make(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __sub__(self, other) -> Value:
        other = self._lift(other, "-")
        return self._make(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __mul__(self, other) -> Value:
        other = self._lift(other, "*")
        return self._make(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __truediv__(self, other) -> Value:
        other = self._lift(other, "/")
        if other.data == 0:
            raise ValueError(f"/ expected a non-zero divisor, got {self.data:.6g} / 0")
        out = self.data / other.data
        # d(a/b)/db = -a/b^2, written -(a/b)/b so that b^2 cannot underflow to 0 for tiny b
        return self._make(out, "/", (self, other), (1.0 / other.data, -out / other.data))

    def __pow__(self, exponent) -> Value:
        if isinstance(exponent, Value):
            raise TypeError("** expected a number exponent (int or float), got a Value; "
                            "for b ** x with x a Value write (x * math.log(b)).exp()")
        p = _as_number(exponent, "** exponent")
        x = self.data
        if x < 0 and not p.is_integer():
            raise ValueError(f"** expected a non-negative base for the non-integer exponent {p}, "
                             f"got {x:.6g} (the result would be complex)")
        if x == 0 and (p < 0 or 0 < p < 1):
            raise ValueError(f"** expected a non-zero base for the exponent {p}, got 0 "
                             f"(the {'value' if p < 0 else 'derivative'} would be infinite)")
        try:
            data = x ** p
            local = p * x ** (p - 1) if p != 0 else 0.0  # d x^p / dx
        except OverflowError:
            raise ValueError(f"** expected a result within float range, got {x:.6g} ** {p} "
                             f"(overflow)") from None
        return self._make(data, f"**{p:g}", (self,), (local,))

    def __neg__(self) -> Value:
        return self._make(-self.data, "neg", (self,), (-1.0,))

    # number <op> Value: Python calls these when the left operand is a plain number.
    def __radd__(self, other) -> Value:
        return self._lift(other, "+") + self

    def __rsub__(self, other) -> Value:
        return self._lift(other, "-") - self

    def __rmul__(self, other) -> Value:
        return self._lift(other, "*") * self

    def __rtruediv__(self, other) -> Value:
        return self._lift(other, "/") / self

    def __rpow__(self, base):
        raise TypeError("** expected a number exponent, got a Value: for b ** x with x a Value "
                        "write (x * math.log(b)).exp()")

    # ------------------------------------------------------------------ functions
    def tanh(self) -> Value:
        """tanh(x); local derivative 1 - tanh(x)^2, Eq. (eq-tanh-grad) in 02_core_concepts."""
        t = math.tanh(self.data)  # saturates to +-1 for large |x|: no overflow
        return self._make(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-x)); local derivative s (1 - s), Eq. (eq-sigmoid-grad)."""
        e = math.exp(-abs(self.data))  # in (0, 1]: exp never sees a positive number
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return self._make(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """max(x, 0); local derivative 1 for x > 0 and 0 otherwise (0 at the kink, as in TF)."""
        positive = self.data > 0
        return self._make(self.data if positive else 0.0, "relu", (self,),
                          (1.0 if positive else 0.0,))

    def exp(self) -> Value:
        """e^x; local derivative e^x. Refuses x > 709.78, where e^x overflows float64."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise ValueError(f"exp expected an input <= 709.78 (float64 overflows above), "
                             f"got {self.data:.6g}") from None
        return self._make(e, "exp", (self,), (e,))

    def log(self) -> Value:
        """Natural log; local derivative 1/x. Refuses x <= 0 (see the module docstring)."""
        if self.data <= 0:
            raise ValueError(f"log expected a positive input, got {self.data:.6g}; "
                             f"log(0) = -inf would make every gradient below it inf or nan")
        return self._make(math.log(self.data), "log", (self,), (1.0 / self.data,))

    # ------------------------------------------------------------------ backward
    def backward(self) -> None:
        """Set every node's ``grad`` to d self / d node: the chain rule in reverse topological order.

        The gradients of the whole graph are first reset to 0, so calling ``backward`` twice
        gives the same result. (PyTorch instead adds into the leaves' gradients, which is why
        its training loops call ``zero_grad()``.)
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0  # d self / d self
        for node in reversed(order):  # every node after all the nodes that use it
            for child, local in zip(node._children, node._local_grads, strict=True):
                child.grad += local * node.grad  # += : a child used twice gets both shares

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, each after all of its children; ``root`` comes last.

    Depth-first search with an explicit stack instead of recursion, so a graph 100,000 nodes
    deep works (a recursive search stops at Python's recursion limit, ~1,000 calls). The order is
    deterministic: children are visited in the order the operation lists them.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order expected a Value, got {type(root).__name__}")
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:  # second visit: everything below it is already in ``order``
            order.append(node)
            continue
        if node in visited:  # reached again through another parent
            continue
        visited.add(node)
        stack.append((node, True))  # come back to it once its children are done
        for child in reversed(node._children):  # reversed: the first child is handled first
            if child not in visited:
                stack.append((child, False))
    return order


def check_value_gradients(f, inputs, *, eps: float = 1e-6) -> float:
    """Compare ``backward`` with centred finite differences on a scalar function of Values.

    ``f(*values) -> Value``; ``inputs`` is a sequence of k numbers. Returns the relative error
    (``gradcheck.rel_error``) between the k gradients from ``backward`` and the k centred
    differences, Eq. (eq-centred-difference) in 04_backprop: ~1e-10 when the engine is right.
    """
    x = [_as_number(v, "check_value_gradients inputs") for v in inputs]
    leaves = [Value(v) for v in x]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"check_value_gradients expected f to return a Value, "
                        f"got {type(out).__name__}")
    out.backward()
    analytic = [leaf.grad for leaf in leaves]
    point = np.array(x)  # perturbed in place by numerical_grad
    numeric = gradcheck.numerical_grad(lambda: f(*(Value(v) for v in point)).data, point, eps)
    return gradcheck.rel_error(analytic, numeric)
