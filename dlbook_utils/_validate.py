"""Input checks shared by the numerical core.

Every public function of the core calls these helpers, so a wrong input always produces the same
kind of message: ``ValueError: <where> expected <what>, got <what it got>``. A wrong answer is
never silent: an integer array passed where floats are needed, a label vector of the wrong length
or a NaN in the input each stop the computation with a message naming the fix.
"""

from __future__ import annotations

import numpy as np


def _type_and_shape(x) -> str:
    if isinstance(x, np.ndarray):
        return f"array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__}"


def float_array(x, where, name: str = "x", *, ndim: int | None = None,
                finite: bool = True) -> np.ndarray:
    """Return ``x`` as a floating-point ndarray (no copy when it already is one).

    ``where`` names the caller in messages: a string, or an object (a layer) whose ``str`` is
    only computed when there is an error to report.

    Raises ValueError for non-numeric, complex, boolean or integer input (an integer array would
    silently truncate gradients written back into it), for the wrong number of dimensions, and,
    when ``finite`` is true, for NaN or infinity.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and ndim is None:
        if not finite or np.isfinite(x).all():  # the common case, checked first
            return x
    if isinstance(x, (list, tuple, float, int)) and not isinstance(x, bool):
        x = np.asarray(x, dtype=np.float64)
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{where} expected {name} to be a NumPy float array, got {_type_and_shape(x)}")
    if x.dtype.kind != "f":
        raise ValueError(
            f"{where} expected {name} with a floating-point dtype (float32 or float64), "
            f"got dtype {x.dtype}; convert with {name}.astype(np.float64)"
        )
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{where} expected {name} with {ndim} dimension(s), got shape {x.shape}")
    if finite and not np.isfinite(x).all():
        n_bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{where} expected finite {name}, got {n_bad} NaN/inf value(s)")
    return x


def same_shape(a: np.ndarray, b: np.ndarray, where: str, names=("y_pred", "y")) -> None:
    """Refuse broadcasting between two arrays that must match elementwise.

    ``(n,)`` against ``(n, 1)`` broadcasts to ``(n, n)`` in NumPy: a classic silent bug.
    """
    if a.shape != b.shape:
        raise ValueError(
            f"{where} expected {names[1]} of shape {a.shape} (same as {names[0]}), got {b.shape}"
        )


def target_array(y, like: np.ndarray, where: str, name: str = "y") -> np.ndarray:
    """Real-valued targets (floats, or integers such as 0/1 labels), cast to ``like.dtype``."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":
        raise ValueError(f"{where} expected real-valued {name}, got dtype {y.dtype}")
    y = y.astype(like.dtype, copy=False)
    if not np.isfinite(y).all():
        raise ValueError(f"{where} expected finite {name}, got NaN/inf value(s)")
    same_shape(like, y, where, names=("the prediction", name))
    return y


def int_labels(labels, n: int, n_classes: int, where: str) -> np.ndarray:
    """Integer class labels of shape ``(n,)`` with values in ``[0, n_classes)``.

    Floats holding whole numbers (e.g. ``2.0``) are accepted; ``1.5`` is not.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        if not np.isfinite(labels).all() or np.any(labels != np.round(labels)):
            raise ValueError(f"{where} expected integer class labels, got non-integer values")
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise ValueError(f"{where} expected integer class labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(
            f"{where} expected labels of shape ({n},) (one integer per row), got {labels.shape}"
        )
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{where} expected labels in [0, {n_classes}), "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    return labels


def positive(value, where: str, name: str, *, allow_zero: bool = False) -> float:
    """A finite real scalar > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value) or np.iscomplexobj(value):
        raise ValueError(f"{where} expected {name} to be a real number, got {value!r}")
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (np.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{where} expected {name} {bound}, got {value!r}")
    return value


def in_unit_interval(value, where: str, name: str) -> float:
    """A real scalar in ``[0, 1)`` (decay rates, dropout probability)."""
    value = positive(value, where, name, allow_zero=True)
    if not value < 1:
        raise ValueError(f"{where} expected {name} in [0, 1), got {value!r}")
    return value


def positive_int(value, where: str, name: str) -> int:
    """An integer >= 1 (``True`` is refused: it is a bool, not a size)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where} expected {name} to be a positive integer, got {value!r}")
    return int(value)


def generator(rng, where: str) -> np.random.Generator:
    """A ``np.random.Generator`` (e.g. ``np.random.default_rng(0)``): randomness is always seeded."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{where} expected rng: np.random.Generator, got {type(rng).__name__}")
    return rng


def checked_grads(params, grads, where: str) -> dict:
    """The grads as finite arrays of their parameter's shape and dtype. Everything is checked
    before anything is updated, so a NaN gradient leaves the model as it was."""
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise ValueError(f"{where} expected two dicts (params, grads), "
                         f"got {type(params).__name__}, {type(grads).__name__}")
    if set(params) != set(grads):
        raise ValueError(f"{where} expected grads with the keys of params {sorted(params)}, "
                         f"got {sorted(grads)}")
    checked = {}
    for key, w in params.items():
        if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
            got = type(w).__name__ + (f" {w.dtype}" if isinstance(w, np.ndarray) else "")
            raise ValueError(f"{where} expected params[{key!r}] to be a float ndarray "
                             f"(updated in place), got {got}")
        g = grads[key]
        if not (isinstance(g, np.ndarray) and g.dtype == w.dtype):  # else convert, or explain
            g = float_array(g, where, f"grads[{key!r}]", finite=False)
            # Cast first: a float64 gradient too large for float32 parameters becomes inf.
            g = g.astype(w.dtype, copy=False)
        if g.shape != w.shape:
            raise ValueError(f"{where} expected grads[{key!r}] of shape {w.shape}, got {g.shape}")
        if not np.isfinite(g).all():
            float_array(g, where, f"grads[{key!r}]")  # raises, counting the NaN/inf values
        checked[key] = g
    return checked


def logits_array(z, axis, where: str) -> np.ndarray:
    """A finite float array of at least one dimension and a valid ``axis`` into it."""
    z = float_array(z, where, "z")
    if z.ndim == 0:
        raise ValueError(f"{where} expected z with at least 1 dimension, got a scalar")
    if not isinstance(axis, (int, np.integer)) or not -z.ndim <= axis < z.ndim:
        raise ValueError(f"{where} expected axis in [{-z.ndim}, {z.ndim}), got {axis!r}")
    return z


def rows(x, width: int, where, name: str = "x", *, finite: bool = False) -> np.ndarray:
    """A float array of shape (n, width): a batch of examples, one per row."""
    x = float_array(x, where, name, finite=finite)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{where} expected {name} of shape (n, {width}), got {x.shape}")
    return x


def one_of(value, choices: tuple, where, name: str):
    if value not in choices:
        raise ValueError(f"{where} expected {name} in {choices}, got {value!r}")
    return value


def float_dtype(dtype, where) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"{where} expected a floating-point dtype, got {dtype}")
    return dtype


def check_delta(layer, delta, out_shape):
    """Forward has run, and delta is a float array shaped ``out_shape``."""
    if out_shape is None:
        raise RuntimeError(f"{layer!r}.backward called before forward")
    if not (isinstance(delta, np.ndarray) and delta.dtype.kind == "f"):
        delta = float_array(delta, f"{layer!r}.backward", "delta",
                            finite=False)  # else a clear error
    if delta.shape != out_shape:
        raise ValueError(f"{layer!r}.backward expected delta of shape "
                         f"{out_shape} (the forward output), "
                         f"got {delta.shape}")
    return delta


def missing(layer, method: str) -> NotImplementedError:
    """The error for a Layer subclass that lacks forward or backward; our layers once had
    ``_forward``/``_backward``, so a learner's copy of that style gets told to rename them."""
    old = hasattr(layer, "_forward") or hasattr(layer, "_backward")
    hint = "; rename _forward/_backward to forward/backward" if old else ""
    return NotImplementedError(f"{type(layer).__name__} must define {method}{hint}")
