"""Generic detectors: recognise a kind of mistake from the answer alone, for every question.

A detector looks at one failing output (``student`` and ``expected`` float64 arrays, ``n`` the batch
size or None) and says whether the answer has that shape of error. Each comes with a hint; a
question that declares ``Mistake(detector=...)`` replaces the hint with its own wording.

Two detectors work on something other than values:

* ``"warning"``: the answer made NumPy warn (overflow, divide by zero) on a question whose
  statement forbids it (``function_question(..., forbid_warnings=True)``);
* ``"loop"``: the answer's source loops where the statement asks for a vectorised answer
  (``function_question(..., no_loops=True)``); see :func:`loops_in`.

Hints of the detectors that cannot be sure of the cause say so: they start with "Generic hint".
"""

from __future__ import annotations

import ast

import numpy as np


def loose_close(a, b) -> bool:
    """Detectors use a looser tolerance than grading: they recognise, they do not grade."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-9))


def _nontrivial(e) -> bool:
    return bool(np.any(np.abs(e) > 1e-12))


def _transposed(s, e, n):
    return s.ndim == 2 and s.shape == e.T.shape and s.shape != e.shape and loose_close(s, e.T)


def _nonfinite(s, e, n):
    return s.shape == e.shape and bool(np.all(np.isfinite(e))) and not np.all(np.isfinite(s))


def _diverged(s, e, n):
    """inf/nan, or finite but a million times larger than the true value: a run that blew up
    (a diverging run reaches 1e177 long before it reaches inf)."""
    if s.shape != e.shape or not np.all(np.isfinite(e)):
        return False
    with np.errstate(invalid="ignore"):  # nan compares False; it is caught by isfinite
        too_big = bool(np.max(np.abs(s), initial=0.0) > 1e6 * max(1.0, float(np.max(np.abs(e)))))
    return too_big or not bool(np.all(np.isfinite(s)))


def _sign(s, e, n):
    return _nontrivial(e) and loose_close(s, -e)


def _ratio_n(s, e, n):
    return bool(n and n > 1 and _nontrivial(e) and loose_close(s, n * e))


def _ratio_inv_n(s, e, n):
    return bool(n and n > 1 and _nontrivial(e) and loose_close(s, e / n))


# name -> (test(student, expected, n), hint used when the question declares no Mistake for it)
DETECTORS = {
    "transposed": (_transposed, "Your result is the transpose of the expected one: check the "
                   "order of the factors (e.g. X.T @ delta, not delta.T @ X)."),
    "nonfinite": (_nonfinite, "Generic hint: your result contains nan or inf where the true "
                  "value is finite. Something overflowed or divided by zero; at large inputs "
                  "that is usually exp or log (use the stable form: subtract the max, "
                  "log-sum-exp)."),
    "diverged": (_diverged, "Generic hint: your result is inf/nan or a million times larger "
                 "than the true value: something grew without bound (an iteration that "
                 "diverged, a step or a sum n times too large)."),
    "sign": (_sign, "Your result has the wrong sign: check the direction (gradient descent "
             "subtracts the gradient; d/dz of (a - y) vs (y - a))."),
    "ratio_n": (_ratio_n, "Your result is exactly n (the batch size) times the expected one: "
                "the loss is a mean over the batch, so divide by n."),
    "ratio_inv_n": (_ratio_inv_n, "Your result is exactly 1/n times the expected one: you "
                    "divided by the batch size twice."),
}
VALUE_DETECTORS = ("nonfinite", "diverged", "sign", "ratio_n", "ratio_inv_n")  # tried in this order

WARNING_HINT = ("Generic hint: NumPy warned while running your code (overflow, divide by zero or "
                "an invalid value) and the statement asks for none. Rewrite the formula so that "
                "no intermediate result overflows.")
LOOP_HINT = ("The statement asks for a vectorised answer: replace the Python loop with array "
             "operations (a matrix product, a sum over an axis).")
BROADCAST_HINT = ("Generic hint: two arrays in one of your operations have shapes that do not "
                  "fit together. Print the shapes of the operands: common causes are * where a "
                  "matrix product @ is needed, a missing keepdims=True, or a bias of the wrong "
                  "shape.")
FALLBACK_HINT = ("Generic hint: no known mistake matches your answer. Recompute the first "
                 "mismatching entry by hand on the smallest failing input shown above.")
VALUE_FALLBACK_HINT = ("Generic hint: no known mistake matches your answer. Rework it step by "
                       "step with the section below.")


def is_broadcast_error(text: str) -> bool:
    return "broadcast" in text or "matmul" in text or "not aligned" in text


def _python_only(source: str) -> str:
    """Notebook text as Python: IPython magics and shell escapes become ``pass``."""
    lines = source.split("\n")
    return "\n".join(ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip()[:1] in "%!"
                     else ln for ln in lines)


_LOOPS = (ast.For, ast.While, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.DictComp,
          ast.GeneratorExp)


def loops_in(source: str | None, name: str) -> bool | None:
    """Does the last ``def name`` in ``source`` contain a loop or a comprehension?

    None when it cannot tell (no source, unparsable, or no such function), so that a missing
    source never changes a verdict.
    """
    if not source:
        return None
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return None
    defs = [node for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name]
    if not defs:
        return None
    return any(isinstance(node, _LOOPS) for node in ast.walk(defs[-1]))
