"""Batch-grading throughput, with the bubblewrap sandbox and without, measured in one run.

Run from the repository root:  ``python benchmarks/grading_throughput.py [-n 100] [-j N]``
(``make bench-grading``).

Grades ``-n`` copies of one solution notebook (default ``solutions/ch05_optimizers.ipynb``),
``-j`` at a time (default: one per core), once with the sandbox and once without (``--no-sandbox``),
and prints seconds per submission (wall time / n) and submissions per minute for each, with the
load average before and after each pass: on a shared machine the load moves the figures more than
the sandbox does. With ``--rounds R`` the two take turns R times (on/off, then off/on, ...) and
the best pass of each is reported as well (the one least disturbed by other work). Every copy
must score full marks, else the figures would time a broken grader and the script stops.
Timings are not tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # works without `pip install -e .`

from dlbook_utils.grading.batch import default_jobs, grade_all  # noqa: E402


def one_pass(subs: Path, out: Path, *, sandbox: bool, jobs: int, n: int) -> dict:
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    reports = grade_all(subs, out, jobs=jobs, sandbox=sandbox, seed=1, log=lambda *a: None)
    wall = time.perf_counter() - start
    wrong = [r["submission"] for r in reports if r["total"] != r["max"]]
    if len(reports) != n or wrong:
        sys.exit(f"grading is broken ({'sandbox' if sandbox else 'no sandbox'}): "
                 f"{len(reports)} reports, not full marks: {wrong[:5]}")
    child = sorted(r["run"]["seconds"] for r in reports)
    return {"sandbox": sandbox, "wall": wall, "per_sub": wall / n, "per_min": 60 * n / wall,
            "child_median": child[len(child) // 2], "load": (load_before, os.getloadavg()[0])}


def show(p: dict, label: str = "") -> None:
    mode = "sandbox on " if p["sandbox"] else "sandbox off"
    print(f"  {mode}{label}: {p['wall']:7.1f} s wall   {p['per_sub']:.3f} s/submission   "
          f"{p['per_min']:6.1f} submissions/min   (median child {p['child_median']:.2f} s; "
          f"load {p['load'][0]:.1f} -> {p['load'][1]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100, help="copies of the notebook to grade")
    ap.add_argument("-j", "--jobs", type=int, default=default_jobs())
    ap.add_argument("--rounds", type=int, default=1, help="on/off passes taking turns")
    ap.add_argument("--notebook", type=Path, default=ROOT / "solutions" / "ch05_optimizers.ipynb")
    a = ap.parse_args()
    bwrap = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{a.n} copies of {a.notebook.name}, -j {a.jobs}, {os.cpu_count()} CPUs, {bwrap}, "
          f"Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="dlbook-throughput-"))
    try:
        for i in range(a.n):
            (tmp / "subs" / f"s{i:03d}").mkdir(parents=True)
            shutil.copyfile(a.notebook, tmp / "subs" / f"s{i:03d}" / a.notebook.name)
        passes = []
        for r in range(a.rounds):
            for sandbox in ((True, False) if r % 2 == 0 else (False, True)):
                p = one_pass(tmp / "subs", tmp / f"out{len(passes)}", sandbox=sandbox,
                             jobs=a.jobs, n=a.n)
                passes.append(p)
                show(p, f" (round {r + 1})")
        if a.rounds > 1:
            print("best pass of each:")
            for sandbox in (True, False):
                show(min((p for p in passes if p["sandbox"] == sandbox), key=lambda p: p["wall"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
