"""Processes that take turns at a timed block, so that their timings do not share the cores.

Timing one process and then another on a shared machine compares two moments of the machine's
load, not two programs. Here each process first does its untimed work (start-up, training),
then says it is ready; when every process is, they run their timed blocks one at a time, in a
fixed order of turns, several rounds each, so that a burst of load hits every process alike::

    order = turn_order([(["1 process", "2 workers"], 5)])  # 1 process, 2 workers, 1 process, ...

A process (or a group of workers, whose worker 0 leads) waits for turn ``j`` by polling for a
file ``go-j`` in a shared folder and, after its block, the leader creates ``go-{j+1}``. Waiting
sleeps; it takes no measurable CPU. Files only: any process on this machine can take part.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .distributed import WorkerGroup

__all__ = ["Turns", "turn_order", "run_in_turns"]

POLL_SECONDS = 0.002


def turn_order(phases: list[tuple[list[str], int]]) -> list[str]:
    """Whose turn each block is: for every phase ``(names, rounds)``, ``rounds`` rounds of
    one block per name, in the given order. A list of len sum(len(names) * rounds)."""
    order = []
    for names, rounds in phases:
        if len(set(names)) != len(names) or rounds < 1:
            raise ValueError(f"turn_order expected distinct names and rounds >= 1, "
                             f"got {names} and {rounds}")
        order += list(names) * rounds
    return order


class Turns:
    """This process's place in an order of turns; ``with turns.turn(): ...`` times one block.

    ``folder``: a folder every process can write; ``order``: the names, one per block (see
    ``turn_order``); ``name``: this process's (or worker group's) name; ``lead``: whether this
    process signals the end of its blocks (one per name: worker 0 of a group).
    """

    def __init__(self, folder: str, order: list[str], name: str, *, lead: bool = True,
                 timeout: float = 300.0):
        if name not in order:
            raise ValueError(f"Turns expected a name in the order {sorted(set(order))}, "
                             f"got {name!r}")
        self.folder, self.order, self.name = Path(folder), list(order), name
        self.lead, self.timeout = lead, timeout
        self._mine = [j for j, who in enumerate(order) if who == name]  # my turns, in order

    def ready(self) -> None:
        """Say that this process's untimed work is over; turn 0 starts when all have said it."""
        if self.lead:
            (self.folder / f"ready-{self.name}").touch()

    def _wait_for(self, paths: list[Path]) -> None:
        end = time.monotonic() + self.timeout
        while not all(p.exists() for p in paths):
            if time.monotonic() > end:
                missing = [p.name for p in paths if not p.exists()]
                raise TimeoutError(f"{self.name} waited {self.timeout:.0f} s for {missing}: "
                                   f"another process stopped taking its turns")
            time.sleep(POLL_SECONDS)

    @contextmanager
    def turn(self):
        """Wait for this process's next turn, run the block, hand the turn on."""
        if not self._mine:
            raise RuntimeError(f"{self.name} has taken all its {self.order.count(self.name)} "
                               f"turns")
        j = self._mine.pop(0)
        if j == 0:
            self._wait_for([self.folder / f"ready-{who}" for who in set(self.order)])
        else:
            self._wait_for([self.folder / f"go-{j}"])
        yield
        if self.lead:
            (self.folder / f"go-{j + 1}").touch()

    def run(self, block, *args):
        """``block(*args)`` at this process's next turn; what it returns."""
        with self.turn():
            return block(*args)


def run_in_turns(groups: dict[str, dict], timeout: float = 300.0,
                 target: str = "dlbook_utils.data_parallel:train") -> dict[str, list]:
    """Several process groups of ``data_parallel.train`` started together, their timed blocks
    taken in turns.

    ``groups[name]``: keyword arguments ``runs``, and optionally ``n_workers`` (1: a plain
    process, no TF_CONFIG), ``threads``, ``env``. The runs with ``rounds`` > 0 must line up:
    the i-th timed run of every group that has one has the same ``rounds``; each round, the
    groups take one turn each, in the order of ``groups``. Returns ``{name: results}``:
    ``results[run]`` for 1 worker, ``results[run][worker]`` (as ``run_data_parallel``) for more.
    """
    timed = {name: [r.get("rounds", 0) for r in g["runs"] if r.get("rounds", 0)]
             for name, g in groups.items()}
    phases = []
    for i in range(max(len(t) for t in timed.values())):
        names = [name for name, t in timed.items() if len(t) > i]
        rounds = {timed[name][i] for name in names}
        if len(rounds) != 1:
            raise ValueError(f"run_in_turns expected the same rounds for timed run {i} of "
                             f"{names}, got {sorted(rounds)}")
        phases.append((names, rounds.pop()))
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="dlbook-turns-"))
        started = {}
        for name, g in groups.items():
            n = g.get("n_workers", 1)
            turns = {"folder": folder, "order": turn_order(phases), "name": name}
            kwargs = {"runs": g["runs"], "threads": g.get("threads", 1), "turns": turns}
            started[name] = stack.enter_context(WorkerGroup(
                target, n, kwargs=kwargs, timeout=timeout, env=g.get("env"),
                use_tf_config=n > 1))
        done = {name: group.wait() for name, group in started.items()}
    return {name: (res[0] if groups[name].get("n_workers", 1) == 1
                   else [list(r) for r in zip(*res, strict=True)])
            for name, res in done.items()}
