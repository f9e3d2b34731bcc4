"""Plain data: the only thing that crosses from student code to the grader.

``encode`` turns an answer into JSON-able plain data, accepting only exact built-in numbers,
strings, ``None``, lists/tuples and exact ``np.ndarray`` of a numeric dtype (never a subclass, never
an object array): a value that lies about equality or overrides ``__array__`` is refused, not
trusted. ``decode_output`` is the grader's side: it validates untrusted JSON (types, rectangular
shapes, size) and returns float64 arrays. ``decode_input`` restores case inputs (with dtype).

Encoded forms: number -> JSON number; ``None`` -> null; str -> {"str": s};
ndarray -> {"nd": shape, "dtype": "float64"|"int64"|"bool", "data": flat list};
list/tuple -> {"seq": [...]}.
"""

from __future__ import annotations

import re

import numpy as np

MAX_ELEMENTS = 200_000  # per answer; the exercises' cases are tiny
MAX_TEXT = 6_000  # characters of a string answer (a free-response answer of ~800 words)


class PlainError(ValueError):
    """An answer that is not plain numeric data."""


def encode(obj, _depth: int = 0):
    """Plain, JSON-able data for ``obj``; raises PlainError for anything else."""
    if _depth > 8:
        raise PlainError("answer is nested too deeply")
    if obj is None:
        return None
    t = type(obj)
    if t in (bool, int, float) or t in (np.float64, np.float32, np.float16, np.int64, np.int32,
                                       np.int16, np.int8, np.uint8, np.bool_):
        if t in (bool, np.bool_):
            # kept a bool so `if training is True` behaves the same in check() and the grader
            return {"bool": bool(obj)}
        return int(obj) if t in (int, np.int64, np.int32, np.int16, np.int8, np.uint8) else float(obj)
    if t is str:
        return {"str": obj[:MAX_TEXT]}
    if t is np.ndarray:
        if obj.dtype.kind not in "biuf":
            raise PlainError(f"returned an array of dtype {obj.dtype}; expected numbers")
        if obj.size > MAX_ELEMENTS:
            raise PlainError(f"returned an array with {obj.size} elements (too large)")
        if obj.dtype.kind == "f":
            dtype, data = "float64", obj.astype(np.float64).ravel().tolist()
        elif obj.dtype.kind == "b":
            dtype, data = "bool", obj.astype(bool).ravel().tolist()
        else:
            dtype, data = "int64", obj.astype(np.int64).ravel().tolist()
        return {"nd": list(obj.shape), "dtype": dtype, "data": data}
    if t in (list, tuple):
        return {"seq": [encode(x, _depth + 1) for x in obj]}
    if isinstance(obj, np.ndarray):
        raise PlainError(f"returned a {t.__name__} (a subclass of np.ndarray); "
                         "return a plain np.ndarray")
    raise PlainError(f"returned a {t.__name__}; expected a NumPy array, a number, or a tuple")


def _check_number(x) -> float:
    if type(x) not in (int, float) or isinstance(x, bool):
        raise PlainError(f"non-numeric value {type(x).__name__}")
    return x


def _nd(obj: dict) -> np.ndarray:
    if set(obj) != {"nd", "dtype", "data"}:
        raise PlainError("malformed array record")
    shape, dtype, data = obj["nd"], obj["dtype"], obj["data"]
    if (type(shape) is not list or not all(type(s) is int and 0 <= s for s in shape)
            or len(shape) > 8 or dtype not in ("float64", "int64", "bool") or type(data) is not list):
        raise PlainError("malformed array record")
    if len(data) > MAX_ELEMENTS or int(np.prod(shape, dtype=np.int64)) != len(data):
        raise PlainError("array record: data does not match its shape")
    if dtype == "bool":
        if not all(type(x) is bool for x in data):
            raise PlainError("bool array with non-bool data")
        return np.array(data, dtype=bool).reshape(shape)
    for x in data:
        _check_number(x)
    return np.array(data, dtype=np.float64 if dtype == "float64" else np.int64).reshape(shape)


def decode_input(obj):
    """Case inputs back to NumPy/Python objects (arrays keep their dtype)."""
    if obj is None or type(obj) in (int, float):
        return obj
    if type(obj) is dict and "nd" in obj:
        return _nd(obj)
    if type(obj) is dict and set(obj) == {"seq"}:
        return [decode_input(x) for x in obj["seq"]]
    if type(obj) is dict and set(obj) == {"str"}:
        return obj["str"]
    if type(obj) is dict and set(obj) == {"bool"} and type(obj["bool"]) is bool:
        return obj["bool"]
    raise PlainError("malformed input record")


def _to_float_array(obj) -> np.ndarray:
    """One output as a float64 array: a number, an array record or a rectangular nested seq."""
    if type(obj) in (int, float):
        return np.asarray(float(obj))
    if type(obj) is dict and set(obj) == {"bool"} and type(obj["bool"]) is bool:
        return np.asarray(float(obj["bool"]))
    if type(obj) is dict and "nd" in obj:
        return _nd(obj).astype(np.float64)
    if type(obj) is dict and set(obj) == {"seq"}:
        parts = [_to_float_array(x) for x in obj["seq"]]
        if parts and len({p.shape for p in parts}) != 1:
            raise PlainError("a nested list is not rectangular")
        return np.stack(parts) if parts else np.zeros((0,))
    if type(obj) is dict and set(obj) == {"str"}:
        raise PlainError(f"returned the text {obj['str'][:40]!r}; expected numbers")
    if obj is None:
        raise PlainError("returned None inside the answer")
    raise PlainError("malformed answer record")


def decode_output(obj, arity: int) -> list[np.ndarray]:
    """Untrusted encoded answer -> list of ``arity`` float64 arrays (raises PlainError)."""
    if arity == 1:
        return [_to_float_array(obj)]
    if type(obj) is not dict or set(obj) != {"seq"}:
        raise PlainError(f"expected a tuple of {arity} arrays, got a single value")
    if len(obj["seq"]) != arity:
        raise PlainError(f"expected a tuple of {arity} arrays, got {len(obj['seq'])}")
    return [_to_float_array(x) for x in obj["seq"]]


_CHOICE = re.compile(r"(?:OPTION|ANSWER)?\s*:?\s*\(?\s*([A-Z])\s*[).:]?")


def decode_choice(obj) -> str:
    """Untrusted encoded multiple-choice answer -> normalised letter(s).

    "B", " b ", "B)", "(B)", "B.", "Option B" and "answer: b" all give "B".
    """
    if type(obj) is dict and set(obj) == {"str"} and type(obj["str"]) is str:
        text = obj["str"].strip().upper()[:40]
        m = _CHOICE.fullmatch(text)
        return m.group(1) if m else text[:10]
    if type(obj) in (int, float):
        raise PlainError("expected an option letter such as 'B', got a number")
    raise PlainError("expected an option letter such as 'B'")
