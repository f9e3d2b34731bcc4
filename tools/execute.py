"""Execute notebooks top to bottom, as "Run all" does, and print how long each took.

    python tools/execute.py book/04_backprop.ipynb            # re-execute in place (new outputs)
    python tools/execute.py --timings-only book/*.ipynb       # time them, leave the files alone

Run it through ``make execute NB=...`` or ``make timings``: the Makefile sets the reproducible
numerics (AVX2-level kernels) under which the stored outputs are made and checked by nbval.
Wall time depends on the machine's load; CPU time (the kernel process and its children) is the
steadier figure to hold against the 90 s budget per notebook. On Linux it is read from /proc
while the kernel runs (the kernel is not a child this process waits for, so getrusage would
miss it); elsewhere only waited-for children are counted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET_S = 90  # per notebook, on 2 cores (CHAPTER_GUIDE: Colab's free tier)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float | None:
    """CPU seconds of one process, from /proc (None if gone). Its reaped children's time is
    left out: they are sampled themselves, and counting both would count them twice."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    utime, stime = (int(x) for x in fields[11:13])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``. /proc lists children per thread that forked them (the
    kernel may be started from a helper thread), so every thread's list is read."""
    kids, todo = [], [pid]
    while todo:
        p = todo.pop()
        found = []
        try:
            threads = os.listdir(f"/proc/{p}/task")
        except OSError:
            threads = []
        for tid in threads:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    found += [int(c) for c in f.read().split()]
            except OSError:
                pass
        kids += found
        todo += found
    return kids


class _KernelCPU(threading.Thread):
    """Samples the CPU time of every process started under this one after it is created (the
    kernel, and the workers it starts) while a notebook runs; the last sample of each is kept."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen: dict[int, float] = {}
        self.done = threading.Event()
        # processes already running (a browser, a worker pool) are not this notebook's
        self.before = set(_descendants(os.getpid()))

    def run(self):
        while not self.done.wait(0.1):
            for pid in set(_descendants(os.getpid())) - self.before:
                cpu = _proc_cpu(pid)
                if cpu is not None:
                    self.seen[pid] = cpu

    def total(self) -> float:
        self.done.set()
        self.join()
        return sum(self.seen.values())


def execute(path: Path, *, write: bool) -> tuple[float, float]:
    """Run ``path`` in a fresh kernel from its own folder; return (wall s, CPU s)."""
    nb = nbformat.read(path, as_version=4)
    on_linux = os.path.isdir(f"/proc/{os.getpid()}/task")
    sampler = _KernelCPU() if on_linux else None
    if sampler:
        sampler.start()
    cpu0, t0 = _children_cpu(), time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - t0
    cpu = sampler.total() if sampler else _children_cpu() - cpu0
    if write:
        nbformat.write(nb, path)
    return wall, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timings-only", action="store_true",
                        help="do not write the new outputs back")
    args = parser.parse_args(argv)
    print(f"{'notebook':44s} {'wall s':>8s} {'CPU s':>8s}")
    over = []
    for path in args.notebooks:
        wall, cpu = execute(path, write=not args.timings_only)
        print(f"{str(path):44s} {wall:8.1f} {cpu:8.1f}", flush=True)
        if cpu > BUDGET_S:
            over.append(str(path))
    if over:
        print(f"over the {BUDGET_S} s CPU budget: {', '.join(over)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
