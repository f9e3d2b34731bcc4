"""Instructor CLI: ``python -m dlbook_utils.grading grade SUBMISSIONS --out OUTDIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .batch import grade_all


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dlbook_utils.grading",
                                description="Grade exercise notebooks in sandboxed processes.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade every *.ipynb under SUBMISSIONS")
    g.add_argument("submissions", type=Path, help="a directory of notebooks (or one notebook)")
    g.add_argument("--out", type=Path, default=Path("grading_out"), help="output directory")
    g.add_argument("--cases", type=Path, default=None, help="private cases (.py or .json)")
    g.add_argument("--timeout", type=float, default=60.0, help="wall time per submission (s)")
    g.add_argument("--memory-mb", type=int, default=1024, help="address-space limit per child")
    g.add_argument("--seed", type=int, default=None, help="reproduce a run's random cases")
    a = p.parse_args(argv)
    if not a.submissions.exists():
        p.error(f"{a.submissions} does not exist")
    reports = grade_all(a.submissions, a.out, timeout=a.timeout, memory_mb=a.memory_mb,
                        cases_path=a.cases, seed=a.seed)
    print(f"graded {len(reports)} submission(s); wrote {a.out / 'scores.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
