"""Judged questions: the verdict is a criterion on the answer, not equality with a reference.

Some answers have no single right value: a training loop that must reach 93 % accuracy, weights
drawn at random with the right spread. A judged question calls the learner's function on each
case (in the sandboxed child, as any function question) and hands what it returned, as plain
data, to a **judge** that runs only in the grader::

    def _judge(params, args):              # what the answer returned, the case's arguments
        acc = accuracy(params, *heldout())  # data that never crosses to the learner's code
        if acc >= 0.93:
            return True, f"held-out accuracy {acc:.1%}", None
        return False, f"held-out accuracy {acc:.1%} < 93 %", "no-learning"

    judged_question("6.8", "Train an MLP", name="train_mlp", judge=_judge,
                    cases=[(X, y, 0)], random_cases=lambda rng: [(X, y, int(rng.integers(99)))],
                    mistakes=[Mistake("no-learning", "...", detector="judge")])

* ``judge(answer, args) -> (ok, message, mistake_id_or_None)``. ``answer`` is the decoded
  plain data (arrays keep their shape, a tuple or list becomes a list), never the learner's
  object. The message says what was measured; a mistake id names a declared ``Mistake``
  (``detector="judge"``), whose hint is shown.
* A judge is a test like any other: keep one that is too lenient failing in the tests (a
  judged question's trials must include answers it has to reject).
* ``call=`` as for function questions (:mod:`calls`).
"""

from __future__ import annotations

from . import registry
from .plain import PlainError, decode_input
from .result import Result

GENERIC_HINT = "Generic hint: reread the statement; the message says what was measured."


def judged_question(qid, title, *, name, judge, cases, random_cases=None, mistakes=(),
                    points=1.0, section="", call="function") -> registry.Question:
    """Register a question whose answer is judged by ``judge`` (see the module docstring)."""
    if not cases:
        raise ValueError(f"question {qid}: at least one fixed case is required")
    if not callable(judge):
        raise ValueError(f"question {qid}: judge must be a function (answer, args) -> "
                         f"(ok, message, mistake), got {type(judge).__name__}")
    for m in mistakes:
        if m.detector != "judge":
            raise ValueError(f"question {qid}: a judged question's mistakes are named by its "
                             f"judge: use Mistake(..., detector='judge'), got {m.id!r}")
    return registry._register(registry.Question(
        qid, title, "judged", name, judge, list(cases), random_cases, list(mistakes),
        ("answer",), 0.0, 0.0, points, section, batch_size_of=lambda args: None, call=call))


def _verdict(q, args, outcome) -> tuple[bool, str, str | None]:
    kind = outcome.get("kind")
    if kind == "value":
        try:
            answer = decode_input(outcome.get("value"))
        except PlainError as exc:
            return False, f"the answer is not plain numeric data: {exc}", None
        ok, message, mistake = q.reference(answer, args)
        return bool(ok), str(message), mistake
    if kind == "none":
        return False, "returned None", None
    if kind == "timeout":
        return False, "took too long (time limit)", None
    return False, str(outcome.get("error", "invalid answer")), None


def grade_judged(q, cases, outcomes) -> Result:
    """Judge every case; the first failing one is shown, with its mistake's hint."""
    n = len(cases)

    def result(status, message="", hint="", mistake=None, n_passed=0):
        return Result(q.qid, q.title, status, message, hint, mistake, n, n_passed, q.points,
                      q.section if status in ("failed", "error") else "")

    if len(outcomes) != n:
        return result("error", f"got results for {len(outcomes)} of {n} cases")
    if all(o.get("kind") in ("none", "notimpl") for o in outcomes):
        return result("not attempted", f"`{q.name}` returned None: write your solution, "
                      "then run this cell again.")
    verdicts = [_verdict(q, args, o) for args, o in zip(cases, outcomes, strict=True)]
    failed = [i for i, (ok, _, _) in enumerate(verdicts) if not ok]
    if not failed:
        return result("passed", "; ".join(dict.fromkeys(v[1] for v in verdicts)), n_passed=n)
    i = failed[0]
    _, message, mistake_id = verdicts[i]
    declared = {m.id: m for m in q.mistakes}
    m = declared.get(mistake_id)
    status = "error" if outcomes[i].get("kind") == "error" else "failed"
    return result(status, f"case {i + 1} of {n}: {message}", m.hint if m else GENERIC_HINT,
                  m.id if m else None, n - len(failed))
