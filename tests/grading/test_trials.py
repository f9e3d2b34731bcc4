"""Learner trials: labelled submissions to every question, graded by check() AND the batch grader.

``trials/chNN.yml`` holds what learners write: right answers in every valid form (in place,
float32, lists, scalars or 0-d arrays, other formulas) and the classic mistakes, each labelled
``pass`` or ``fail`` with the mistake id the grader must name (``null``: no known mistake; then
the hint must say it is generic). One function, :func:`prepare`, turns a trial into the cell
source both graders run; the batch grader gets many trials per notebook (the k-th trial of every
question of a chapter in notebook k), so the whole suite costs about one child per slot.

The suite asserts 0 false passes, 0 false fails, 0 misattributed hints, the same verdict from
both graders, a named hint for >= 80 % of the wrong answers, and failure messages that show the
smallest failing input, the first mismatch and the section; a planted lenient tolerance fails it.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from dlbook_utils.grading import check, registry
from dlbook_utils.grading.batch import grade_all

TRIALS = Path(__file__).parent / "trials"
CHAPTERS = [f"{c:02d}" for c in range(1, 11)]
PRELUDE = "import numpy as np\n"
NAMED_RATE = 0.8
N_QUESTIONS = 74  # the book's questions, chapters 1-10


@dataclass(frozen=True)
class Trial:
    qid: str
    expect: str  # "pass" or "fail"
    mistake: str | None  # the id the grader must name for a failing trial
    code: str
    why: str
    tid: str  # "ch05#12": file and position, to find it again

    @property
    def chapter(self) -> str:
        return f"{int(self.qid.split('.')[0]):02d}"


def load_trials() -> list[Trial]:
    trials = []
    for path in sorted(TRIALS.glob("ch*.yml")):
        for i, t in enumerate(yaml.safe_load(path.read_text(encoding="utf-8"))):
            unknown = set(t) - {"q", "expect", "mistake", "code", "why"}
            assert not unknown and t["expect"] in ("pass", "fail"), (path.name, i, t)
            assert t["expect"] == "fail" or t.get("mistake") is None, (path.name, i)
            trials.append(Trial(str(t["q"]), t["expect"], t.get("mistake"), t["code"],
                                t.get("why", ""), f"{path.stem}#{i + 1}"))
    return trials


ALL = load_trials()
N_QUESTIONS += 3  # chapter 10's function questions 10.7-10.9


def prepare(trial: Trial) -> str:
    """The one code path for both graders: the cell source that defines the answer."""
    return PRELUDE + trial.code


def answer_of(trial: Trial):
    """Run the trial's cell as a notebook would (its source stays readable, as in IPython)."""
    source = prepare(trial)
    filename = f"<trial {trial.tid}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the suite's own data
    return namespace[registry.get(trial.qid).name]


def verdict_problems(trial: Trial, result) -> list[str]:
    """What is wrong with a grader's verdict on a trial ([] when it is right)."""
    # a written answer is right when it is recorded for the instructor ("submitted")
    passed, mistake = result["status"] in ("passed", "submitted"), result["mistake"]
    if trial.expect == "pass":
        return [] if passed else [f"false fail: {result['feedback']}"]
    if passed:
        return ["false pass"]
    problems = [] if mistake == trial.mistake else [
        f"names {mistake!r}, expected {trial.mistake!r}: {result['feedback']}"]
    if mistake is None and not result["hint"].startswith("Generic hint"):
        problems.append(f"an unnamed hint not worded as generic: {result['hint']!r}")
    return problems


def _as_dict(r) -> dict:
    return dict(r.to_dict(), feedback=str(r))


def check_all(trials) -> dict[str, dict]:
    return {t.tid: _as_dict(check(t.qid, answer_of(t))) for t in trials}


def test_the_suite_covers_every_question():
    qids = {q.qid for ch in CHAPTERS for q in registry.load_chapter(ch)}
    assert len(qids) == N_QUESTIONS and len(ALL) >= 250, (len(qids), len(ALL))
    for expect in ("pass", "fail"):
        missing = qids - {t.qid for t in ALL if t.expect == expect}
        assert not missing, f"questions without a '{expect}' trial: {sorted(missing)}"
    declared = {(t.qid, t.mistake) for t in ALL if t.mistake}
    for qid, mistake in declared:  # a label names a mistake the question really declares
        q = registry.get(qid)
        assert mistake in {m.id for m in q.mistakes} | {"sign", "ratio-n", "ratio-inv-n",
                                                         "transposed", "nonfinite"}, (qid, mistake)


@pytest.fixture(scope="module")
def checked():
    return check_all(ALL)


def test_check_gives_every_trial_its_verdict_and_mistake(checked):
    problems = {t.tid: (t.qid, t.why, p) for t in ALL for p in verdict_problems(t, checked[t.tid])}
    assert problems == {}


def test_named_hints_for_most_wrong_answers(checked):
    wrong = [t for t in ALL if t.expect == "fail"]
    named = [t for t in wrong if checked[t.tid]["mistake"] is not None]
    rate = len(named) / len(wrong)
    print(f"\n{len(ALL)} trials, {len(wrong)} wrong; named hints {len(named)}/{len(wrong)} "
          f"= {rate:.0%}")
    assert rate >= NAMED_RATE


def test_every_failure_shows_input_mismatch_and_section(checked):
    for t in ALL:
        r, q = checked[t.tid], registry.get(t.qid)
        if r["status"] in ("passed", "submitted"):
            continue
        assert r["hint"] and q.section and f"See: {q.section}" in r["feedback"], t.tid
        if q.kind == "function" and r["status"] == "failed" and "shape" not in r["message"] \
                and "loop" not in r["message"]:
            assert "Smallest failing input:" in r["message"], (t.tid, r["message"])
            assert "first mismatch at" in r["message"] or "warned" in r["message"], t.tid


def test_a_wrong_value_is_never_told_how_far_off_it_is(checked):
    for t in ALL:
        q, r = registry.get(t.qid), checked[t.tid]
        if q.kind != "value" or r["status"] == "passed":
            continue
        # the message quotes the learner's own value only (a hint may quote the statement)
        assert re.fullmatch(r"case 1 of 1: your value(\[\d+\])? = \S+ is not correct",
                            r["message"]), (t.tid, r["message"])


@pytest.mark.parametrize("rtol,atol,at_least", [(1e-3, 1e-6, 1), (0.05, 1e-3, 8)])
def test_a_planted_lenient_tolerance_makes_the_suite_fail(monkeypatch, rtol, atol, at_least):
    """A checker with a lenient tolerance lets almost-right answers through: the suite sees it."""
    for ch in CHAPTERS:
        for q in registry.load_chapter(ch):
            if q.kind != "choice":
                monkeypatch.setattr(q, "rtol", max(q.rtol, rtol))
                monkeypatch.setattr(q, "atol", max(q.atol, atol))
    results = check_all(ALL)
    false_passes = [t.tid for t in ALL if verdict_problems(t, results[t.tid]) == ["false pass"]]
    assert len(false_passes) >= at_least, false_passes


@pytest.mark.parametrize("module,qid,name,lenient", [("ch06_train", "6.8", "TARGET", 0.5),
                                                      ("ch04_init", "4.10", "TOLERANCE", 0.5)])
def test_a_planted_lenient_judge_makes_the_suite_fail(monkeypatch, module, qid, name, lenient):
    """A judged question is only as good as its judge: one that asks for too little (50 %
    held-out accuracy, a std within 50 %) lets wrong trials through, and the suite sees it."""
    monkeypatch.setattr(importlib.import_module(f"dlbook_utils.grading.questions.{module}"),
                        name, lenient)
    trials = [t for t in ALL if t.qid == qid]
    results = check_all(trials)
    assert [t.tid for t in trials if verdict_problems(t, results[t.tid]) == ["false pass"]]


def _slot_notebooks(trials, root: Path) -> dict[tuple[str, str], Trial]:
    """Notebook k of a chapter holds the k-th trial of each of its questions."""
    by_slot: dict[tuple[str, int], list[Trial]] = {}
    seen: dict[str, int] = {}
    for t in trials:
        k = seen[t.qid] = seen.get(t.qid, -1) + 1
        by_slot.setdefault((t.chapter, k), []).append(t)
    where = {}
    for (chapter, k), group in sorted(by_slot.items()):
        nb = nbformat.v4.new_notebook(metadata={"dlbook": {"chapter": chapter}})
        nb.cells.append(nbformat.v4.new_code_cell("from dlbook_utils.grading import check"))
        for t in group:
            name = registry.get(t.qid).name
            nb.cells.append(nbformat.v4.new_code_cell(prepare(t)))
            nb.cells.append(nbformat.v4.new_code_cell(f'check("{t.qid}", {name})'))
            where[(f"ch{chapter}_slot{k:02d}", t.qid)] = t
        nbformat.write(nb, root / f"ch{chapter}_slot{k:02d}.ipynb")
    return where


def _fast_options() -> dict:
    """The suite's own trusted code needs no sandbox: skip it where the grader allows that."""
    return {"sandbox": False} if "sandbox" in inspect.signature(grade_all).parameters else {}


def test_the_batch_grader_agrees_on_every_trial(tmp_path, checked):
    subs = tmp_path / "subs"
    subs.mkdir()
    where = _slot_notebooks(ALL, subs)
    reports = grade_all(subs, tmp_path / "out", timeout=60, seed=20, log=lambda *a: None,
                        **_fast_options())
    graded = {}
    for rep in reports:
        assert not rep["run"]["timed_out"] and rep["run"]["cell_errors"] == [], rep["submission"]
        for qid, res in rep["questions"].items():
            if (rep["submission"], qid) in where:
                graded[where[(rep["submission"], qid)].tid] = res
    assert len(graded) == len(ALL)
    problems = {t.tid: (t.qid, t.why, p) for t in ALL for p in verdict_problems(t, graded[t.tid])}
    assert problems == {}
    differ = {tid: (checked[tid]["mistake"], r["mistake"]) for tid, r in graded.items()
              if (r["status"], r["mistake"]) != (checked[tid]["status"], checked[tid]["mistake"])}
    assert differ == {}
