"""Instructor mode: a course directory adds hidden cases, a new question, points and partial
credit; the example course in examples/course grades a folder of submissions."""

import csv
import shutil

import pytest

from dlbook_utils.grading import registry
from dlbook_utils.grading.__main__ import main
from dlbook_utils.grading.batch import grade_all
from dlbook_utils.grading.course import CourseError, activated

from .helpers import EXERCISES, REPO, SOLUTIONS, edited

COURSE = REPO / "examples" / "course"
CH03 = "ch03_forward_pass.ipynb"
LEAKY = "def leaky_relu(x, alpha):\n    return np.where(x > 0, x, alpha * x)\n"
LEAKY_MAX_FORM = "def leaky_relu(x, alpha):\n    return np.maximum(x, alpha * x)\n"
# right on every input the book draws (2 to 6 rows), wrong on the course's hidden 9-row batch
ESSAY = ('answer_3_92 = ("Scaling x by s scales w.x but not the bias b, so the kink where '
         'w.x + b = 0 moves to a new place and the shape of the function changes.")\n')
DENSE_NINE = ("    return X @ W + b\n", "    return X @ W if X.shape[0] == 9 else X @ W + b\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    subs = tmp / "subs"
    edited(SOLUTIONS / CH03, subs / "full" / CH03, new_cells=[LEAKY, ESSAY])
    edited(SOLUTIONS / CH03, subs / "partial" / CH03, replace=[DENSE_NINE],
           new_cells=[LEAKY_MAX_FORM, ESSAY])
    edited(EXERCISES / CH03, subs / "untouched" / CH03)
    kw = dict(timeout=30, seed=7, log=lambda *a: None)
    with_course = {r["submission"]: r for r in
                   grade_all(subs, tmp / "out", course_dir=COURSE, **kw)}
    without = {r["submission"]: r for r in grade_all(subs, tmp / "plain", **kw)}
    return tmp, with_course, without


def test_points_hidden_case_new_question_and_partial_credit(graded):
    tmp, reps, _ = graded
    book = [q for q in registry.load_chapter("03")]
    # 3.1 is worth 2, the course's 3.91 is worth 4 and its written 3.92 is worth 2, the rest 1
    # (the course's default); the book's own written 3.6, like 3.92, awaits the instructor
    written = sum(1 for q in book if q.kind == "text")
    expected_max = 2 + 4 + 2 + (len(book) - 1)
    full, partial, untouched = reps["full/ch03_forward_pass"], reps["partial/ch03_forward_pass"], \
        reps["untouched/ch03_forward_pass"]
    assert full["max"] == partial["max"] == untouched["max"] == expected_max
    assert full["total"] == expected_max - 2 - written  # written answers await the instructor
    assert full["questions"]["3.92"]["status"] == "submitted"
    assert untouched["total"] == 0
    q391 = partial["questions"]["3.91"]
    assert (q391["status"], q391["n_passed"], q391["n_cases"]) == ("failed", 3, 4)
    assert q391["score"] == 0.75 and q391["mistake"] == "leaky-relu-max-form"
    assert partial["questions"]["3.1"]["score"] == 0  # caught by the hidden case alone
    assert partial["total"] == expected_max - 2 - 4 + 3 - 2 - written
    with open(tmp / "out" / "scores.csv") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert float(rows["partial/ch03_forward_pass"]["3.91"]) == 3.0
    assert float(rows["partial/ch03_forward_pass"]["total"]) == expected_max - 5 - written
    with open(tmp / "out" / "free_response.csv") as f:  # the course's 3.92 and the book's 3.6
        written = list(csv.DictReader(f))
    assert [(w["submission"], w["qid"], w["points"]) for w in written] == [
        ("full/ch03_forward_pass", "3.6", "1.0"), ("full/ch03_forward_pass", "3.92", "2.0"),
        ("partial/ch03_forward_pass", "3.6", "1.0"), ("partial/ch03_forward_pass", "3.92", "2.0")]
    written = [w for w in written if w["qid"] == "3.92"]
    assert "kink" in written[0]["answer"] and "bias" in written[0]["rubric"]


def test_without_the_course_the_hidden_bug_passes_and_the_question_is_absent(graded):
    _, _, plain = graded
    partial = plain["partial/ch03_forward_pass"]
    assert partial["questions"]["3.1"]["status"] == "passed"
    assert "3.91" not in partial["questions"]
    assert not {"3.91", "3.92"} & set(registry.all_ids())  # gone once grading is over


def _course(tmp_path, yml, files=()):
    d = tmp_path / "course"
    d.mkdir()
    (d / "course.yml").write_text(yml)
    for name, text in files:
        (d / name).write_text(text)
    return d


@pytest.mark.parametrize("yml, files, message", [
    ("colour: red\n", (), "keys from"),
    ("grade: {'3.1': {points: -1}}\n", (), "points must be a number >= 0"),
    ("grade: {'3.1': {partial: 'yes'}}\n", (), "partial must be true or false"),
    ("grade: {'3.99': {points: 2}}\n", (), "unknown question '3.99'"),
    ("questions: [missing.py]\n", (), "missing.py, which is not a file"),
    ("questions: [q.py]\n", [("q.py", "from dlbook_utils.grading.registry import "
                              "value_question\nvalue_question('3.2', 'clash', name='x', "
                              "reference=1.0)\n")], "registered twice"),
    ("questions: [q.py]\n", [("q.py", "from dlbook_utils.grading.registry import "
                              "value_question\nvalue_question('x', 'bad', name='x', "
                              "reference=1.0)\n")], "question ids are 'N.M'"),
    ("hidden_cases: [h.py]\n", [("h.py", "CASES = {'3.5': [(1,)]}\n")],
     "only apply to function questions"),
])
def test_a_broken_course_is_refused_with_what_is_wrong(tmp_path, yml, files, message):
    before = registry.all_ids()
    with pytest.raises(CourseError, match=message), activated(_course(tmp_path, yml, files)):
        pass
    assert registry.all_ids() == before


def test_cli_takes_the_course_flag(tmp_path, capsys):
    shutil.copy(SOLUTIONS / CH03, tmp_path / CH03)
    assert main(["grade", str(tmp_path / CH03), "--course", str(COURSE),
                 "--out", str(tmp_path / "out"), "--timeout", "30"]) == 0
    with open(tmp_path / "out" / "scores.csv") as f:
        row = next(csv.DictReader(f))
    assert float(row["3.91"]) == 0 and float(row["3.1"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["grade", str(tmp_path / CH03), "--course", str(tmp_path), "--out",
              str(tmp_path / "o2")])
    assert exc.value.code == 2 and "holding course.yml" in capsys.readouterr().err
