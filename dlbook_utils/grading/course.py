"""Instructor mode: a course directory, kept outside the package, that brings hidden cases, new
questions, points and partial credit to batch grading.

    python -m dlbook_utils.grading grade SUBMISSIONS --course COURSE_DIR --out OUTDIR

``COURSE_DIR/course.yml`` (every key is optional)::

    title: Deep learning 101, assignment 3
    questions: [questions.py]          # Python files declaring new questions
    hidden_cases: [hidden_cases.py]    # .py or .json files, in the --cases format (cases.py)
    default: {points: 1, partial: false}
    grade:                             # per question id: points and partial credit
      "3.2": {points: 2, partial: true}
      "3.91": {points: 3}

* **New questions** are declared in Python with the constructors the book's own questions use,
  ``function_question``, ``value_question`` and ``choice_question`` from
  :mod:`dlbook_utils.grading.registry` (its docstring is the reference), ``text_question``
  (:mod:`.free_response`) and ``judged_question`` (:mod:`.judged`). An id is ``"N.M"``: N is
  the chapter whose notebooks answer it, M a number the book does not use (the book's questions
  are numbered from 1; start a course's at 91, say). Learners never see the reference answer:
  it lives only in the course directory.
* **Hidden cases** are extra inputs for function questions, the book's or the course's; the
  grader runs them after the fixed and random cases. A value or choice question has no inputs:
  to keep one hidden, declare the question itself in the course directory.
* **Points and partial credit.** A question is worth ``points``. With ``partial: true`` an answer
  earns ``points * passed_cases / cases`` (cases where it raised or ran out of time count as
  failed); otherwise all or nothing. A missing answer earns nothing.

For graded work, keep the course directory off the published book and out of the learners'
hands: ``check()`` in a notebook knows only the book's questions and cases.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import registry
from .cases import load_private_cases


class CourseError(ValueError):
    """A course directory that does not hold together (the message says what and where)."""


_KEYS = {"title", "questions", "hidden_cases", "default", "grade"}
_RULE_KEYS = {"points", "partial"}


@dataclass
class Course:
    """What a course directory adds to batch grading (build it with :func:`load_course`)."""

    root: Path
    title: str = ""
    question_files: list = field(default_factory=list)
    hidden_files: list = field(default_factory=list)
    new_questions: list = field(default_factory=list)  # ids the course adds, once activated
    hidden: dict = field(default_factory=dict)  # qid -> list of argument tuples
    default: dict = field(default_factory=lambda: {"points": None, "partial": False})
    rules: dict = field(default_factory=dict)  # qid -> {"points": .., "partial": ..}

    def points(self, q) -> float:
        """What question ``q`` is worth in this course."""
        rule = self.rules.get(q.qid, {})
        pts = rule.get("points", self.default.get("points"))
        return float(q.points if pts is None else pts)

    def partial(self, qid: str) -> bool:
        return bool(self.rules.get(qid, {}).get("partial", self.default.get("partial", False)))

    def credit(self, q, result: dict) -> float:
        """The fraction of ``q``'s points that a graded answer (``Result.to_dict()``) earns."""
        if result["status"] == "passed":
            return 1.0
        if result["status"] in ("failed", "error") and self.partial(q.qid) and result["n_cases"]:
            return result["n_passed"] / result["n_cases"]
        return 0.0


def _rule(where: str, rule) -> dict:
    if not isinstance(rule, dict) or not set(rule) <= _RULE_KEYS:
        raise ValueError(f"course.yml: {where} must be a mapping with keys from "
                         f"{sorted(_RULE_KEYS)}, got {rule!r}")
    pts = rule.get("points")
    if pts is not None and (isinstance(pts, bool) or not isinstance(pts, (int, float))
                            or pts < 0):
        raise ValueError(f"course.yml: {where}: points must be a number >= 0, got {pts!r}")
    if not isinstance(rule.get("partial", False), bool):
        raise ValueError(f"course.yml: {where}: partial must be true or false, "
                         f"got {rule['partial']!r}")
    return dict(rule)


def _files(root: Path, spec, key: str) -> list[Path]:
    names = [spec] if isinstance(spec, str) else (spec or [])
    if not isinstance(names, list):
        raise ValueError(f"course.yml: {key} must be a file name or a list of them, got {spec!r}")
    paths = [root / n for n in names]
    for p in paths:
        if not p.is_file():
            raise ValueError(f"course.yml: {key} names {p.name}, which is not a file in {root}")
    return paths


def load_course(root) -> Course:
    """Read ``root/course.yml``; raises ValueError naming what is wrong and what was expected."""
    import yaml

    root = Path(root)
    cfg_path = root / "course.yml"
    if not cfg_path.is_file():
        raise ValueError(f"a course directory holds course.yml; none in {root}")
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    if not isinstance(cfg, dict) or not set(cfg) <= _KEYS:
        raise ValueError(f"course.yml: expected a mapping with keys from {sorted(_KEYS)}, "
                         f"got {sorted(cfg) if isinstance(cfg, dict) else type(cfg).__name__}")
    grade = cfg.get("grade") or {}
    if not isinstance(grade, dict):
        raise ValueError(f"course.yml: grade maps question ids to rules, got {grade!r}")
    default = _rule("default", cfg.get("default") or {})
    return Course(root, str(cfg.get("title", "")),
                  question_files=_files(root, cfg.get("questions"), "questions"),
                  hidden_files=_files(root, cfg.get("hidden_cases"), "hidden_cases"),
                  default={"points": None, "partial": False, **default},
                  rules={str(qid): _rule(f"grade[{qid}]", r) for qid, r in grade.items()})


@contextmanager
def activated(root) -> Iterator[Course]:
    """Load a course: its questions are registered while the block runs, then removed again,
    so the book's own question set is unchanged afterwards."""
    registry.load_book()  # the book's questions first, so an id clash is reported as the course's
    before = set(registry.all_ids())
    try:
        try:
            course = load_course(root)
            for path in course.question_files:
                runpy.run_path(str(path), run_name=f"course_questions_{path.stem}")
            course.new_questions = sorted(set(registry.all_ids()) - before, key=registry.id_key)
            for qid in course.rules:
                registry.get(qid)  # KeyError names the known ids
            for path in course.hidden_files:
                for qid, cases in load_private_cases(path).items():
                    course.hidden.setdefault(qid, []).extend(cases)
        except (KeyError, ValueError) as exc:
            raise CourseError(f"course directory {root}: {exc.args[0] if exc.args else exc}") \
                from exc
        yield course
    finally:
        registry.forget(set(registry.all_ids()) - before)
