"""How an answer is called on one case: the part of grading that runs next to the learner's code.

A function question names how its answer is called (``function_question(..., call=...)``):

* ``"function"`` (default): ``answer(*args)``.
* ``"layer"``: the answer is a pair ``(forward, backward)``, CS231n style; the case is
  ``(*forward_args, upstream)``::

      out, cache = forward(*forward_args)     # the cache is the learner's own business
      grads = backward(upstream, cache)       # one array or a tuple of them
      graded: (out, *grads)

  So the backward pass is graded on the cache the learner's OWN forward pass made.
* ``"network"``: as ``"layer"``, but ``backward`` returns a list of per-layer ``(dW, db)``
  pairs; they are graded as ONE flat vector ``[dW1.ravel(), db1, dW2.ravel(), ...]``, so the
  number of layers may differ from case to case. Graded: ``(out, grads_flat)``.
* ``"grad_check"``: the first argument names a function of :data:`KNOWN_FUNCTIONS`; the answer
  is called with that function itself: ``answer(f, x)`` (a function cannot cross to the
  sandboxed child as plain data, its name can).

The same code serves ``check()`` and the sandboxed batch grader's child (:mod:`.runner`), so
both graders call an answer the same way.
"""

from __future__ import annotations

import numpy as np

CALLS = ("function", "layer", "network", "grad_check")


def _cubic(x):
    return float(np.sum(x**3 - 2 * x))


def _sin_product(x):
    return float(np.sum(np.sin(x) * x))


def _logsumexp(x):
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def _coupled(x):  # entries interact: each partial derivative needs the others
    v = x.ravel()
    return float(np.sum(v[:-1] * v[1:]) + 0.5 * np.sum(v**2))


# scalar functions of an array, by name (their exact gradients live with the question)
KNOWN_FUNCTIONS = {"cubic": _cubic, "sin_product": _sin_product, "logsumexp": _logsumexp,
                   "coupled": _coupled}


def _flat(grads) -> np.ndarray:
    """Per-layer ``[(dW, db), ...]`` -> one float vector (raises TypeError if malformed)."""
    if not isinstance(grads, list | tuple):
        raise TypeError(f"backward must return a list of (dW, db) pairs, got "
                        f"{type(grads).__name__}")
    parts = []
    for pair in grads:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise TypeError("backward must return a list of (dW, db) pairs, one per layer")
        parts += [np.asarray(p, dtype=np.float64).ravel() for p in pair]
    return np.concatenate(parts) if parts else np.zeros(0)


def _pair(answer):
    if not (isinstance(answer, tuple | list) and len(answer) == 2
            and all(callable(f) for f in answer)):
        raise TypeError(f"expected a pair (forward, backward) of functions, got "
                        f"{type(answer).__name__}")
    return answer


def call_answer(call: str, answer, args: tuple):
    """The value the grader compares, for an answer called the ``call`` way on ``args``.

    Returns None when the answer (or one of its parts) returned None: not attempted.
    """
    if call == "function":
        return answer(*args)
    if call == "grad_check":
        if not callable(answer):
            raise TypeError(f"expected a function, got {type(answer).__name__}")
        return answer(KNOWN_FUNCTIONS[args[0]], *args[1:])
    if call not in ("layer", "network"):
        raise ValueError(f"call must be one of {CALLS}, got {call!r}")
    forward, backward = _pair(answer)
    res = forward(*args[:-1])
    if res is None:
        return None
    if not isinstance(res, tuple | list) or len(res) != 2:
        raise TypeError("forward must return a pair (out, cache)")
    out, cache = res
    grads = backward(args[-1], cache)
    if grads is None:
        return None
    if call == "network":
        return out, _flat(grads)
    return (out, *grads) if isinstance(grads, tuple | list) else (out, grads)
