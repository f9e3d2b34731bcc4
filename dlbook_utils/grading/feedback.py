"""Compare a learner's outputs with the reference and name the mistake.

The same function, :func:`grade`, serves the learner's ``check`` (in-process) and the batch grader
(in the trusted parent, on plain data written by the sandboxed child). Inputs:

* ``cases``: the argument tuples (trusted, produced by the grader);
* ``outcomes``: one dict per case, ``{"kind": "value", "value": <plain.encode(...)>}``, or
  ``{"kind": "none"}`` (returned None), ``{"kind": "notimpl"}`` (NotImplementedError),
  ``{"kind": "error", "error": "TypeError: ..."}``, ``{"kind": "timeout"}``, or
  ``{"kind": "invalid", "error": ...}`` (the answer is not plain numeric data).

Generic detectors live here, once, and are reused by every question; a question's declared
``Mistake(detector=...)`` only overrides the hint text.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from .plain import PlainError, decode_choice, decode_output, encode
from .result import Result


def _close(a, b, q) -> bool:
    if b.ndim == 0 and a.size == 1:
        a = a.reshape(())
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=max(q.rtol, 1e-12), atol=q.atol,
                                                  equal_nan=True))


def _loose(a, b) -> bool:  # detectors use a looser tolerance than grading
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-9))


def _nontrivial(e) -> bool:
    return bool(np.any(np.abs(e) > 1e-12))


def _det_transposed(s, e, n, q):
    return s.ndim == 2 and s.shape == e.T.shape and s.shape != e.shape and _loose(s, e.T)


def _det_nonfinite(s, e, n, q):
    return s.shape == e.shape and bool(np.all(np.isfinite(e))) and not np.all(np.isfinite(s))


def _det_sign(s, e, n, q):
    return _nontrivial(e) and _loose(s, -e)


def _det_ratio_n(s, e, n, q):
    return bool(n and n > 1 and _nontrivial(e) and _loose(s, n * e))


def _det_ratio_inv_n(s, e, n, q):
    return bool(n and n > 1 and _nontrivial(e) and _loose(s, e / n))


# name -> (test(student, expected, n, question), generic hint)
DETECTORS = {
    "transposed": (_det_transposed, "Your result is the transpose of the expected one: check the "
                   "order of the factors (e.g. X.T @ dZ, not dZ.T @ X)."),
    "nonfinite": (_det_nonfinite, "Your result contains nan or inf where the true value is finite: "
                  "exp() overflowed at large inputs. Use the stable form (subtract the max, or "
                  "log-sum-exp)."),
    "sign": (_det_sign, "Your result has the wrong sign: check the direction (gradient descent "
             "subtracts the gradient; d/dz of (a - y) vs (y - a))."),
    "ratio_n": (_det_ratio_n, "Your result is exactly n (the batch size) times the expected one: "
                "the loss is a mean over the batch, so divide by n."),
    "ratio_inv_n": (_det_ratio_inv_n, "Your result is exactly 1/n times the expected one: you "
                    "divided by the batch size twice."),
}
BROADCAST_HINT = ("The shapes do not broadcast: did you use element-wise * where a matrix "
                  "product @ is needed?")


def shape_message(name: str, expected, got) -> str:
    label = "" if name in ("output", "value") else f"{name}: "
    return f"{label}expected shape {tuple(expected)}, got {tuple(got)}"


def call_quietly(fn, args):
    """Call ``fn`` on copies of ``args`` with NumPy warnings silenced (overflow -> inf/nan)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*copy.deepcopy(args))


def expected_outputs(q, args) -> list[np.ndarray]:
    """The reference's outputs on ``args`` as a list of float64 arrays."""
    ref = q.reference if q.kind == "value" else call_quietly(q.reference, args)
    return decode_output(encode(ref), len(q.outputs))


def _variant_outputs(q, m, args):
    try:
        out = m.value if m.variant is None else call_quietly(m.variant, args)
        return decode_output(encode(out), len(q.outputs))
    except Exception:  # a variant may be undefined on some inputs; then it cannot match
        return None


def _find_mistake(q, detector: str, output: str):
    for m in q.mistakes:
        if m.detector == detector and m.output in (None, output):
            return m
    return None


def _result(q, status, message="", hint="", mistake=None, n_cases=0, n_passed=0) -> Result:
    return Result(q.qid, q.title, status, message, hint, mistake, n_cases, n_passed, q.points)


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
                       f"{', '.join(sorted(q.options))}.", n_cases=1)
    for m in q.mistakes:
        if m.value == letter:
            return _result(q, "failed", f"{letter} is not correct.", m.hint, m.id, n_cases=1)
    return _result(q, "failed", f"{letter} is not correct.", n_cases=1)


def _first_difference(q, student, expected):
    """None if equal, else (message, detector-or-None, output name) for the first bad output."""
    for name, s, e in zip(q.outputs, student, expected, strict=True):
        if e.ndim == 0 and s.size == 1:
            s = s.reshape(())
        if _close(s, e, q):
            continue
        if s.shape != e.shape:
            det = "transposed" if _det_transposed(s, e, None, q) else None
            return shape_message(name, e.shape, s.shape), det, name, s, e
        label = "" if name in ("output", "value") else f"{name}: "
        if np.all(np.isfinite(s)):
            msg = f"{label}values differ (max abs error {float(np.max(np.abs(s - e))):.3g})"
        else:
            msg = f"{label}values differ (your result contains nan or inf)"
        return msg, None, name, s, e
    return None


def _fail(msg, det=None, name=None, s=None, e=None, args=None) -> dict:
    return {"msg": msg, "det": det, "name": name, "s": s, "e": e, "args": args}


def grade(q, cases, outcomes) -> Result:
    """Grade one question from per-case outcomes (see the module docstring)."""
    if q.kind == "choice":
        return _grade_choice(q, outcomes[0] if outcomes else {"kind": "none"})
    n_cases = len(cases)
    kinds = [o.get("kind") for o in outcomes]
    if len(outcomes) != n_cases:
        return _result(q, "error", f"got results for {len(outcomes)} of {n_cases} cases",
                       n_cases=n_cases)
    if all(k in ("none", "notimpl") for k in kinds):
        what = "returned None" if q.kind == "function" else "is None"
        return _result(q, "not attempted", f"`{q.name}` {what}: write your solution, then "
                       "run this cell again.", n_cases=n_cases)
    students, first_fail, first_diff, n_passed, errors = [], None, None, 0, []
    for i, (args, o) in enumerate(zip(cases, outcomes, strict=True)):
        where = f"case {i + 1} of {n_cases}"
        if o.get("kind") != "value":
            students.append(None)
            text = {"none": "returned None", "notimpl": "raised NotImplementedError",
                    "timeout": "took too long (time limit)"}.get(o.get("kind"))
            if o.get("kind") == "invalid":
                text = str(o.get("error", "invalid answer"))
            if text is None:
                text = f"raised {o.get('error', 'an error')}"
                errors.append(str(o.get("error", "")))
            first_fail = first_fail or _fail(f"{where}: {text}")
            continue
        try:
            s = decode_output(o.get("value"), len(q.outputs))
        except PlainError as exc:
            students.append(None)
            first_fail = first_fail or _fail(f"{where}: {exc}")
            continue
        students.append(s)
        diff = _first_difference(q, s, expected_outputs(q, args))
        if diff is None:
            n_passed += 1
        elif first_diff is None:
            first_diff = _fail(f"{where}: {diff[0]}", *diff[1:], args=args)
            first_fail = first_fail or first_diff
    if n_passed == n_cases:
        return _result(q, "passed", n_cases=n_cases, n_passed=n_passed)
    status = "error" if errors else "failed"
    message = first_fail["msg"]
    # 1) declared wrong variants: the learner's outputs equal the variant's on every case
    if all(s is not None for s in students):
        for m in q.mistakes:
            if m.variant is None and m.value is None:
                continue
            outs = [_variant_outputs(q, m, a) for a in cases]
            if all(v is not None and all(_close(si, vi, q) for si, vi in zip(s, v, strict=True))
                   for s, v in zip(students, outs, strict=True)):
                return _result(q, status, message, m.hint, m.id, n_cases, n_passed)
    # 2) errors that name a mistake
    if any("broadcast" in e or "matmul" in e for e in errors):
        m = _find_mistake(q, "broadcast_error", None)
        return _result(q, status, message, m.hint if m else BROADCAST_HINT,
                       m.id if m else "broadcast-error", n_cases, n_passed)
    # 3) generic detectors on the first failing output
    if first_diff is None:
        return _result(q, status, message, "", None, n_cases, n_passed)
    det, name = first_diff["det"], first_diff["name"]
    if det is None:
        s, e = first_diff["s"], first_diff["e"]
        n = q.batch_size_of(first_diff["args"])
        for key in ("nonfinite", "sign", "ratio_n", "ratio_inv_n"):
            if DETECTORS[key][0](s, e, n, q):
                det = key
                break
    if det is not None:
        m = _find_mistake(q, det, name)
        return _result(q, status, message, m.hint if m else DETECTORS[det][1],
                       m.id if m else det.replace("_", "-"), n_cases, n_passed)
    return _result(q, status, message, "", None, n_cases, n_passed)
