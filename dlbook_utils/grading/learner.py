"""``check(qid, answer)``: instant feedback for learners, in notebooks and terminals.

It never raises: whatever the answer does (returns None, raises, returns the wrong type or shape,
loops over a broken import), the learner gets a :class:`Result` whose text names the problem.
Random cases use a fixed seed per question, so a notebook's stored output is stable.

Inside the batch grader's sandbox, ``_RECORDER`` is set to a dict and ``check`` only records the
submitted object (the grader evaluates it itself); nothing is graded in that process.
"""

from __future__ import annotations

import zlib

import numpy as np

from .result import Result

_RECORDER: dict | None = None  # set by the sandboxed runner only


class _Recorded:
    """What ``check`` returns inside the grader: no claim about correctness."""

    def __repr__(self) -> str:
        return "(recorded for grading)"


def case_seed(qid: str) -> int:
    """Fixed per-question seed of the learner's random cases (stable notebook outputs)."""
    return zlib.crc32(f"dlbook-check-{qid}".encode())


def run_answer(q, answer, cases) -> list[dict]:
    """Evaluate ``answer`` on every case and return plain outcomes (see feedback.grade)."""
    from .calls import call_answer
    from .feedback import call_recording
    from .plain import PlainError, encode

    if answer is None:
        return [{"kind": "none"} for _ in cases]
    call = getattr(q, "call", "function")  # how the answer is called (calls.CALLS)

    def called(*args):
        return call_answer(call, answer, args)

    outcomes = []
    for args in cases:
        try:
            warning = ""
            if q.kind in ("function", "judged"):
                if call == "function" and not callable(answer):
                    raise TypeError(f"expected a function, got {type(answer).__name__}")
                value, warning = call_recording(called, args)
            else:
                value = answer
            if value is None:
                outcomes.append({"kind": "none"})
            else:
                outcomes.append({"kind": "value", "value": encode(value), "warning": warning})
        except NotImplementedError:
            outcomes.append({"kind": "notimpl"})
        except PlainError as exc:
            outcomes.append({"kind": "invalid", "error": f"{exc}"})
        except Exception as exc:  # the learner's bug becomes feedback, never a crash
            outcomes.append({"kind": "error", "error": f"{type(exc).__name__}: {exc}"[:300]})
    return outcomes


def _source_of(answer) -> str | None:
    """The source of a learner's function (notebook cells keep theirs), else None."""
    import inspect

    try:
        return inspect.getsource(answer) if callable(answer) else None
    except (OSError, TypeError):
        return None


def check(qid, answer):
    """Check ``answer`` (a function, value or option letter) for exercise ``qid`` (e.g. "5.3").

    Returns a :class:`Result` (``.passed``, ``.score``, ``.status``, ``.hint``); never raises.
    """
    if _RECORDER is not None:
        _RECORDER[str(qid)] = answer
        return _Recorded()
    qid = str(qid)
    try:
        from . import feedback, registry

        q = registry.get(qid)
    except Exception as exc:
        return Result(qid, "unknown question", "error", f"{type(exc).__name__}: {exc}")
    try:
        cases = q.make_cases(np.random.default_rng(case_seed(qid)))
        return feedback.grade(q, cases, run_answer(q, answer, cases), source=_source_of(answer))
    except Exception as exc:  # a bug in the checker itself must still not break the notebook
        return Result(qid, q.title, "error", f"checker error: {type(exc).__name__}: {exc}")
