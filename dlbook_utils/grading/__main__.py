"""Instructor CLI: ``python -m dlbook_utils.grading grade SUBMISSIONS --out OUTDIR`` and
``python -m dlbook_utils.grading merge OUTDIR`` (hand-graded free-response scores)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import free_response
from .batch import default_jobs, grade_all
from .course import CourseError
from .sandbox import SandboxUnavailable


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dlbook_utils.grading", description=(
        "Grade exercise notebooks, each in a bubblewrap sandbox."))
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade every *.ipynb under SUBMISSIONS")
    g.add_argument("submissions", type=Path, help="a directory of notebooks (or one notebook)")
    g.add_argument("--out", type=Path, default=Path("grading_out"), help="output directory")
    g.add_argument("--cases", type=Path, default=None, help="private cases (.py or .json)")
    g.add_argument("--course", type=Path, default=None, metavar="DIR",
                   help="instructor mode: a course directory (course.yml) with hidden cases, "
                        "new questions, points and partial credit")
    g.add_argument("--timeout", type=float, default=60.0, help="wall time per submission (s)")
    g.add_argument("--memory-mb", type=int, default=1024, help="address-space limit per child")
    g.add_argument("--seed", type=int, default=None, help="reproduce a run's random cases")
    g.add_argument("-j", "--jobs", type=int, default=default_jobs(),
                   help="submissions graded at once (default: the number of cores)")
    g.add_argument("--no-sandbox", action="store_true",
                   help="grade without the bubblewrap sandbox: not isolated (the results say so)")
    m = sub.add_parser("merge", help="add the hand-graded free-response scores to OUTDIR")
    m.add_argument("out", type=Path, metavar="OUTDIR", help="a grade run's output directory")
    m.add_argument("--scores", type=Path, default=None,
                   help="the filled-in file (default: OUTDIR/free_response.csv)")
    a = p.parse_args(argv)
    if a.command == "merge":
        try:
            reports = free_response.merge(a.out, a.scores)
        except (OSError, ValueError) as exc:
            p.exit(2, f"{p.prog}: error: {exc}\n")
        print(f"merged scores into {len(reports)} submission(s); wrote {a.out / 'scores.csv'}")
        return 0
    if not a.submissions.exists():
        p.error(f"{a.submissions} does not exist")
    if a.course is not None and not (a.course / "course.yml").is_file():
        p.error(f"--course expects a directory holding course.yml, got {a.course}")
    if a.jobs < 1:
        p.error(f"--jobs must be at least 1, got {a.jobs}")
    try:
        reports = grade_all(a.submissions, a.out, timeout=a.timeout, memory_mb=a.memory_mb,
                            cases_path=a.cases, seed=a.seed, sandbox=not a.no_sandbox,
                            jobs=a.jobs, course_dir=a.course)
    except CourseError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    except SandboxUnavailable as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    print(f"graded {len(reports)} submission(s); wrote {a.out / 'scores.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
