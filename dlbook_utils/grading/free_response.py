"""Free-response ("inline") questions: the learner writes an answer in words; the instructor
grades it by a rubric.

The round trip, for an instructor:

1. ``python -m dlbook_utils.grading grade SUBMISSIONS --out OUT`` scores every other question and
   writes ``OUT/free_response.csv``: one row per written answer, with the question, its rubric,
   its points, the answer, and an empty ``score`` column.
2. Fill in ``score`` (0 to the question's points) in a spreadsheet.
3. ``python -m dlbook_utils.grading merge OUT`` reads the file back, adds the scores to every
   submission's JSON report and rewrites ``OUT/scores.csv`` with the new totals.

A learner's ``check("4.9", answer)`` records nothing; it counts the words and shows the rubric,
so the learner can compare the answer with what the instructor will look for.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from . import registry
from .result import Result

EXPORT = "free_response.csv"
COLUMNS = ["submission", "qid", "title", "points", "rubric", "answer", "score"]


TEXT_MISTAKES = (  # what a written answer can get wrong before the instructor reads it
    registry.Mistake("text-not-a-string", "Assign your answer as text in quotes; a multi-line "
                     'answer goes in triple quotes: """...""".', detector="text"),
    registry.Mistake("text-too-short", "Answer in full sentences: give the reason, not only "
                     "the conclusion. The rubric appears once your answer is long enough.",
                     detector="text"))


def text_question(qid, title, *, name, rubric, points=1.0, min_words=15, section=""):
    """Register a free-response question: the answer is a string assigned to ``name``."""
    if not rubric.strip():
        raise ValueError(f"question {qid}: a free-response question needs a rubric")
    return registry._register(registry.Question(
        qid, title, "text", name, None, [()], None, list(TEXT_MISTAKES), ("answer",), 0.0, 0.0,
        points, section,
        batch_size_of=lambda args: None, rubric=rubric.strip(), min_words=int(min_words)))


def grade_text(q, outcome: dict) -> Result:
    """A written answer is recorded, not judged: say so, and show the rubric."""
    def result(status, message, n_cases=1, mistake=None):
        m = next((m for m in q.mistakes if m.id == mistake), None)
        return Result(q.qid, q.title, status, message, m.hint if m else "", mistake,
                      n_cases=n_cases, points=q.points,
                      section=q.section if status == "failed" else "")

    value = outcome.get("value") if outcome.get("kind") == "value" else None
    if outcome.get("kind") in ("none", "notimpl"):
        return result("not attempted", f'Write your answer as a string: {q.name} = "..."', 0)
    if type(value) is not dict or set(value) != {"str"} or type(value["str"]) is not str:
        return result("failed", f'`{q.name}` must be a string of text, e.g. {q.name} = "..."',
                      mistake="text-not-a-string")
    words = len(value["str"].split())
    if words < q.min_words:
        return result("failed", f"Your answer has {words} word(s); write at least "
                      f"{q.min_words}, in full sentences.", mistake="text-too-short")
    return Result(q.qid, q.title, "submitted", f"Recorded ({words} words) for your instructor, "
                  "who grades it by this rubric; compare your answer with it.", points=q.points,
                  rubric=q.rubric, answer=value["str"])


def export(out: Path, reports: list[dict]) -> int:
    """Write ``out/free_response.csv`` (every submitted answer, score left empty); return the
    number of rows. No file is written when the notebooks have no free-response question."""
    rows = [[r["submission"], qid, q["title"], q["points"], q["rubric"], q["answer"], ""]
            for r in reports for qid, q in r.get("questions", {}).items()
            if q["status"] == "submitted"]
    if rows:
        with open(out / EXPORT, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([COLUMNS, *rows])
    return len(rows)


def _report_path(out: Path, submission: str) -> Path:
    return out / (submission.replace("/", "__") + ".json")


def merge(out: Path, scores_csv: Path | None = None) -> list[dict]:
    """Add the instructor's scores from ``scores_csv`` (default ``out/free_response.csv``) to the
    JSON reports in ``out``, and rewrite ``out/scores.csv``. Raises ValueError naming every row
    that is unscored, out of range, or matches no submitted answer; nothing is written then."""
    from .batch import pending_points, write_scores

    scores_csv = Path(scores_csv or out / EXPORT)
    with open(scores_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    reports, problems = {}, []
    for n, row in enumerate(rows, start=2):  # line 1 is the header
        sid, qid = row.get("submission", ""), row.get("qid", "")
        path = _report_path(out, sid)
        if sid not in reports and path.is_file():
            reports[sid] = json.loads(path.read_text())
        entry = reports.get(sid, {}).get("questions", {}).get(qid)
        if entry is None or entry["status"] not in ("submitted", "graded"):
            problems.append(f"line {n}: no written answer to {qid!r} from {sid!r}")
            continue
        try:
            score = float(row.get("score") or "nan")
        except ValueError:
            score = float("nan")
        if not 0 <= score <= entry["points"]:
            problems.append(f"line {n} ({sid}, {qid}): expected a score from 0 to "
                            f"{entry['points']:g}, got {row.get('score')!r}")
            continue
        entry.update(status="graded", score=score / entry["points"] if entry["points"] else 0.0)
    if problems:
        raise ValueError(f"{scores_csv.name}: " + "; ".join(problems))
    for sid, rep in reports.items():
        rep["total"] = sum(q["score"] * q["points"] for q in rep["questions"].values())
        rep["pending"] = pending_points(rep)
        _report_path(out, sid).write_text(json.dumps(rep, indent=1))
    every = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    write_scores(out, [r for r in every if "submission" in r])
    return list(reports.values())
