"""Free-response questions: check() shows the rubric; the batch grader exports the answers and
merges the instructor's scores back into the totals."""

import csv
import json

import pytest

from dlbook_utils.grading import check, registry
from dlbook_utils.grading.__main__ import main
from dlbook_utils.grading.batch import grade_all
from dlbook_utils.grading.free_response import merge, text_question

from .helpers import SOLUTIONS, edited

RUBRIC = "Full marks: names the bias, and says that the kink moves."


@pytest.fixture
def essay():
    text_question("3.97", "Why the kink moves", name="answer_3_97", rubric=RUBRIC, points=3,
                  min_words=5)
    yield registry.get("3.97")
    registry.forget(["3.97"])


def test_check_records_and_shows_the_rubric(essay):
    res = check("3.97", "The bias is not scaled, so the kink moves.")
    assert res.status == "submitted" and not res.passed and res.score == 0
    assert f"Rubric: {RUBRIC}" in str(res) and "Rubric:</i>" in res._repr_html_()
    short = check("3.97", "It moves.")
    assert short.status == "failed" and "2 word(s); write at least 5" in str(short)
    assert RUBRIC not in str(short)  # the rubric comes after a real attempt, not before
    assert check("3.97", None).status == "not attempted"
    assert "must be a string" in str(check("3.97", 42))


def test_a_question_without_rubric_is_refused():
    with pytest.raises(ValueError, match="needs a rubric"):
        text_question("3.98", "t", name="a", rubric="  ")


def test_export_then_merge_updates_the_totals(essay, tmp_path, capsys):
    nb = SOLUTIONS / "ch03_forward_pass.ipynb"
    for who, text in [("ann", "The bias is not scaled, so every kink moves."),
                      ("bob", "Scaling only stretches the output up.")]:
        edited(nb, tmp_path / "subs" / who / nb.name, new_cells=[f"answer_3_97 = {text!r}\n"],
               replace=[('check("3.6", answer_3_6)', 'check("3.6", None)')])
    out = tmp_path / "out"
    reps = {r["submission"]: r for r in grade_all(tmp_path / "subs", out, seed=3, timeout=30,
                                                  log=lambda *a: None)}
    # the most ann can reach: 3.6, the book's own written question, is left unanswered here
    full = reps["ann/ch03_forward_pass"]["max"] - registry.get("3.6").points
    assert reps["ann/ch03_forward_pass"]["questions"]["3.6"]["status"] == "not attempted"
    assert reps["ann/ch03_forward_pass"]["total"] == full - 3
    assert reps["ann/ch03_forward_pass"]["pending"] == 3  # 3.97 waits for the instructor
    with open(out / "free_response.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == ["ann/ch03_forward_pass", "bob/ch03_forward_pass"]
    assert rows[0]["rubric"] == RUBRIC and rows[0]["score"] == ""

    def write(scores):
        path = tmp_path / "graded.csv"
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(dict(r, score=s) for r, s in zip(rows, scores, strict=True))
        return path

    before = (out / "scores.csv").read_text()
    for bad, message in [(["3", ""], "expected a score from 0 to 3"),
                         (["3", "4"], "got '4'"), (["3", "x"], "got 'x'")]:
        with pytest.raises(ValueError, match=message):
            merge(out, write(bad))
        assert (out / "scores.csv").read_text() == before  # nothing written on a refusal
    assert main(["merge", str(out), "--scores", str(write(["3", "1.5"]))]) == 0
    assert "merged scores into 2 submission(s)" in capsys.readouterr().out
    with open(out / "scores.csv") as f:
        rows_after = list(csv.DictReader(f))
    totals = {r["submission"]: (float(r["3.97"]), float(r["total"])) for r in rows_after}
    assert {float(r["pending"]) for r in rows_after} == {0.0}  # every written answer scored
    assert totals == {"ann/ch03_forward_pass": (3.0, full), "bob/ch03_forward_pass":
                      (1.5, full - 1.5)}
    ann = json.loads((out / "ann__ch03_forward_pass.json").read_text())
    assert ann["questions"]["3.97"]["status"] == "graded" and ann["total"] == full
    stranger = dict(rows[0], submission="carl/ch03_forward_pass", score="1")
    with open(tmp_path / "stranger.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(stranger)
    with pytest.raises(ValueError, match="no written answer to '3.97' from 'carl"):
        merge(out, tmp_path / "stranger.csv")
    with pytest.raises(SystemExit) as exc:
        main(["merge", str(tmp_path / "nowhere")])
    assert exc.value.code == 2 and "free_response.csv" in capsys.readouterr().err
