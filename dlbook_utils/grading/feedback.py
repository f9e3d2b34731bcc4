"""Compare a learner's outputs with the reference and name the mistake.

The same function, :func:`grade`, serves the learner's ``check`` (in-process) and the batch grader
(in the trusted parent, on plain data written by the sandboxed child). Inputs:

* ``cases``: the argument tuples (trusted, produced by the grader);
* ``outcomes``: one dict per case, ``{"kind": "value", "value": <plain.encode(...)>}`` (with
  ``"warning"``: the first NumPy warning the answer raised, if any), or ``{"kind": "none"}``
  (returned None), ``{"kind": "notimpl"}`` (NotImplementedError), ``{"kind": "error", "error":
  "TypeError: ..."}``, ``{"kind": "timeout"}``, or ``{"kind": "invalid", "error": ...}``;
* ``source``: the text that defines the answer (its function, or the whole notebook), for the
  statements that forbid loops; None when unknown.

A failure names the smallest failing input, the first mismatch (index, got, expected) and the
section to reread. A value question never says how far off a wrong value is.
"""

from __future__ import annotations

import copy
import inspect
import warnings

import numpy as np

from . import detectors
from .plain import PlainError, decode_choice, decode_output, encode
from .result import Result

DETECTORS = detectors.DETECTORS  # name -> (test, generic hint)
__all__ = ["DETECTORS", "call_quietly", "call_recording", "expected_outputs", "grade"]


def fresh_copies(args) -> tuple:
    """Each argument copied on its own: two arguments never share memory (no aliasing)."""
    return tuple(copy.deepcopy(a) for a in args)


def call_quietly(fn, args):
    """Call ``fn`` on fresh copies of ``args`` with NumPy warnings silenced (overflow -> inf)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*fresh_copies(args))


def call_recording(fn, args) -> tuple:
    """``(fn(*copies), first NumPy warning text or "")``: warnings are recorded, never shown."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        value = fn(*fresh_copies(args))
    texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return value, (texts[0][:200] if texts else "")


def expected_outputs(q, args) -> list[np.ndarray]:
    """The reference's outputs on ``args`` as a list of float64 arrays."""
    ref = q.reference if q.kind == "value" else call_quietly(q.reference, args)
    return decode_output(encode(ref), len(q.outputs))


def _variant_outcome(q, m, args):
    """("value", outputs) or ("error", text) of a mistake on one case; None if unusable."""
    try:
        out = m.value if m.variant is None else call_quietly(m.variant, args)
        return "value", decode_output(encode(out), len(q.outputs))
    except PlainError:
        return None
    except Exception as exc:  # a variant that raises names an answer raising the same error
        return "error", f"{type(exc).__name__}: {exc}"[:300]


def _find_mistake(q, detector: str, output: str | None):
    for m in q.mistakes:
        if m.detector == detector and m.output in (None, output):
            return m
    return None


def _result(q, status, message="", hint="", mistake=None, n_cases=0, n_passed=0) -> Result:
    shown = q.section if status in ("failed", "error") else ""
    return Result(q.qid, q.title, status, message, hint, mistake, n_cases, n_passed, q.points,
                  shown)


def _grade_choice(q, outcome) -> Result:
    if outcome.get("kind") in ("none", "notimpl"):
        return _result(q, "not attempted", "Set your answer to one option letter, e.g. 'B'.")
    if outcome.get("kind") == "invalid":
        return _result(q, "failed", str(outcome.get("error")), n_cases=1)
    if outcome.get("kind") != "value":
        return _result(q, "error", str(outcome.get("error", "no answer")), n_cases=1)
    try:
        letter = decode_choice(outcome.get("value"))
    except PlainError as exc:
        return _result(q, "failed", str(exc), n_cases=1)
    if letter == q.reference:
        return _result(q, "passed", n_cases=1, n_passed=1)
    if letter not in q.options:
        return _result(q, "failed", f"{letter!r} is not one of the options "
                       f"{', '.join(sorted(q.options))}.", "Generic hint: answer with one option "
                       "letter, e.g. 'B' (or 'B)', 'Option B').", n_cases=1)
    for m in q.mistakes:
        if m.value == letter:
            return _result(q, "failed", f"{letter} is not correct.", m.hint, m.id, n_cases=1)
    return _result(q, "failed", f"{letter} is not correct.", detectors.VALUE_FALLBACK_HINT,
                   n_cases=1)


def _close(a, b, q) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=max(q.rtol, 1e-12), atol=q.atol,
                                                  equal_nan=True))


def _same_shape(q, s, e):
    """A one-element answer may be a scalar; a value question's answer any shape of its size."""
    if s.size == 1 and e.ndim == 0 or q.kind == "value" and s.size == e.size and \
            s.squeeze().shape == e.squeeze().shape:
        return s.reshape(e.shape)
    return s


def _fmt(x) -> str:
    """One line: a number as 6 significant digits, an array summarised, a list item by item."""
    if isinstance(x, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    x = np.asarray(x)
    if x.ndim == 0:
        return f"{x.item():.6g}" if x.dtype.kind in "fiu" else str(x.item())
    return np.array2string(x, precision=6, threshold=30, separator=", ",
                           max_line_width=10_000).replace("\n", "")


def _mismatch(q, label, s, e) -> str:
    """Where the first wrong entry is, with the answer's value (and the expected one)."""
    bad = ~np.isclose(s, e, rtol=max(q.rtol, 1e-12), atol=q.atol, equal_nan=True)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if s.ndim else ()
    label = label or ("your value" if q.kind == "value" else "output")
    where = f"{label}[{', '.join(map(str, idx))}]" if idx else label
    if q.kind == "value":  # never tell how far off a wrong value is
        return f"{where} = {_fmt(s[idx])} is not correct"
    return f"first mismatch at {where}: got {_fmt(s[idx])}, expected {_fmt(e[idx])}"


def _first_difference(q, student, expected):
    """None if equal, else (message, detector-or-None, output name, s, e) for the first bad one."""
    for name, s, e in zip(q.outputs, student, expected, strict=True):
        s = _same_shape(q, s, e)
        if _close(s, e, q):
            continue
        label = "" if name in ("output", "value") else name
        if s.shape != e.shape:
            det = "transposed" if DETECTORS["transposed"][0](s, e, None) else None
            what = f"{label}: " if label else ""
            return (f"{what}expected shape {e.shape}, got {s.shape}", det, name, s, e)
        return _mismatch(q, label, s, e), None, name, s, e
    return None


def _size(args) -> int:
    return sum(_size(a) if isinstance(a, list | tuple) else int(np.size(a)) for a in args)


def _input_text(q, args) -> str:
    try:
        names = list(inspect.signature(q.reference).parameters)
    except (TypeError, ValueError):
        names = []
    names += [f"arg{i + 1}" for i in range(len(names), len(args))]
    text = ", ".join(f"{n}={_fmt(a)}" for n, a in zip(names, args, strict=False))
    return text if len(text) <= 400 else text[:400] + " ..."


def _outcome_text(o) -> tuple[str, bool]:
    """(text, is an error raised by the answer) for an outcome that is not a value."""
    kind = o.get("kind")
    text = {"none": "returned None", "notimpl": "raised NotImplementedError",
            "timeout": "took too long (time limit)"}.get(kind)
    if kind == "invalid":
        return str(o.get("error", "invalid answer")), False
    if text is None:
        return f"raised {str(o.get('error', 'an error')).strip()}", True
    return text, False


def _matches(q, m, students, outcomes, cases) -> bool:
    """The learner's answer does what mistake ``m`` does on every case."""
    for s, o, args in zip(students, outcomes, cases, strict=True):
        got = _variant_outcome(q, m, args)
        if got is None:
            return False
        if s is None:
            if o.get("kind") != "error" or got != ("error", str(o.get("error", ""))):
                return False
        elif got[0] != "value" or not all(_close(_same_shape(q, si, vi), vi, q)
                                          for si, vi in zip(s, got[1], strict=True)):
            return False
    return True


def grade(q, cases, outcomes, source=None) -> Result:
    """Grade one question from per-case outcomes (see the module docstring)."""
    if q.kind in ("choice", "text", "judged"):
        from .free_response import grade_text  # imported here: they import this module
        from .judged import grade_judged

        if q.kind == "judged":
            return grade_judged(q, cases, outcomes)
        grade_one = _grade_choice if q.kind == "choice" else grade_text
        return grade_one(q, outcomes[0] if outcomes else {"kind": "none"})
    n = len(cases)
    if len(outcomes) != n:
        return _result(q, "error", f"got results for {len(outcomes)} of {n} cases", n_cases=n)
    if all(o.get("kind") in ("none", "notimpl") for o in outcomes):
        what = "returned None" if q.kind == "function" else "is None"
        return _result(q, "not attempted", f"`{q.name}` {what}: write your solution, then "
                       "run this cell again.", n_cases=n)
    if q.no_loops and detectors.loops_in(source, q.name):
        m = _find_mistake(q, "loop", None)
        return _result(q, "failed", f"`{q.name}` contains a Python loop or comprehension; the "
                       "statement asks for a vectorised answer.",
                       m.hint if m else detectors.LOOP_HINT, m.id if m else None, n, 0)
    students, fails, errors = [], [], []
    for i, (args, o) in enumerate(zip(cases, outcomes, strict=True)):
        s = None
        if o.get("kind") == "value":
            try:
                s = decode_output(o.get("value"), len(q.outputs))
            except PlainError as exc:
                fails.append({"i": i, "text": str(exc), "args": args, "det": None})
        else:
            text, raised = _outcome_text(o)
            errors += [text] if raised else []
            fails.append({"i": i, "text": text, "args": args, "det": None})
        students.append(s)
        if s is None:
            continue
        diff = _first_difference(q, s, expected_outputs(q, args))
        if diff is not None:
            fails.append({"i": i, "text": diff[0], "args": args, "det": diff[1],
                          "name": diff[2], "s": diff[3], "e": diff[4]})
        elif q.forbid_warnings and o.get("warning"):
            fails.append({"i": i, "text": f"NumPy warned '{o['warning']}'; the statement asks "
                          "for no warnings", "args": args, "det": "warning"})
    n_passed = n - len(fails)
    if not fails:
        return _result(q, "passed", n_cases=n, n_passed=n)
    status = "error" if errors else "failed"
    shown = min(fails, key=lambda f: (_size(f["args"]), f["i"]))
    message = f"case {shown['i'] + 1} of {n}: {shown['text']}"
    if q.kind == "function":
        message += f". Smallest failing input: {_input_text(q, shown['args'])}"
    hint, mistake = _name_mistake(q, cases, outcomes, students, fails, errors)
    return _result(q, status, message, hint, mistake, n, n_passed)


def _name_mistake(q, cases, outcomes, students, fails, errors):
    """(hint, mistake id or None): declared mistakes first, then the generic detectors."""
    for m in q.mistakes:  # 1) a declared wrong answer that does what the learner's does
        if m.detector is None and _matches(q, m, students, outcomes, cases):
            return m.hint, m.id
    if any(f["det"] == "warning" for f in fails):  # 2) a forbidden warning
        m = _find_mistake(q, "warning", None)
        return (m.hint, m.id) if m else (detectors.WARNING_HINT, None)
    if any(detectors.is_broadcast_error(e) for e in errors):  # 3) shapes do not fit: why?
        return detectors.BROADCAST_HINT, None
    for f in fails:  # 4) a generic detector on the first output that differs
        if "s" not in f:
            continue
        det = f["det"]
        if det is None:
            n = q.batch_size_of(f["args"])
            hits = [k for k in detectors.VALUE_DETECTORS if DETECTORS[k][0](f["s"], f["e"], n)]
            declared = [k for k in hits if _find_mistake(q, k, f["name"])]  # its own wording first
            det = (declared or hits or [None])[0]
        if det is not None:
            m = _find_mistake(q, det, f["name"])
            if m is not None:
                return m.hint, m.id
            hint = DETECTORS[det][1]  # a generic hint names no mistake
            return hint, None if hint.startswith("Generic hint") else det.replace("_", "-")
        break
    generic = detectors.FALLBACK_HINT if q.kind == "function" else detectors.VALUE_FALLBACK_HINT
    return generic, None
