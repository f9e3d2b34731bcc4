"""Start worker processes on this machine, collect what they return, and always clean up.

Multi-worker training runs one process per worker. TensorFlow's ``MultiWorkerMirroredStrategy``
learns its place in the cluster from the environment variable ``TF_CONFIG``::

    {"cluster": {"worker": ["127.0.0.1:40001", "127.0.0.1:40002"]},
     "task": {"type": "worker", "index": 0}}

Every worker gets the same cluster (one free port each, every address 127.0.0.1: see
:mod:`dlbook_utils.cluster`) and its own index. ``run_workers`` starts them, calls the same function in each
and returns the results in index order::

    results = run_workers("dlbook_utils.data_parallel:train", 2, kwargs={"runs": [{}]})

No worker outlives the call, whatever happens:

- each worker leads its own process group, so stopping a group also stops what the worker
  started; stopping is polite first (stdin closed, then SIGTERM) and forceful after a grace
  period (SIGKILL);
- a worker that crashes or is killed fails the whole run at once (its peers would otherwise
  wait for it forever inside an all-reduce), with the end of its log in the message;
- a run that takes longer than ``timeout`` seconds raises :class:`WorkerTimeout`;
- an exception in the caller (a failing notebook cell, Ctrl-C) leaves ``WorkerGroup``'s
  ``with`` block through its clean-up;
- if the calling process itself dies, the workers die with it (see :mod:`dlbook_utils._worker`).

The target is named, not passed: ``"package.module:function"`` or ``"path/to/file.py:function"``
(a function defined in a notebook cell cannot be imported by another process; write it to a file
first). Its keyword arguments and its result travel as pickles, so both must be picklable.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .cluster import HOST, free_local_ports, surviving_processes, tf_config

__all__ = ["HOST", "WorkerError", "WorkerTimeout", "WorkerGroup", "run_workers",
           "free_local_ports", "tf_config", "surviving_processes"]

GRACE_SECONDS = 3.0  # between SIGTERM and SIGKILL
POLL_SECONDS = 0.05
PORT_TAKEN = "Could not start gRPC server"  # what TF says when its port is no longer free


class WorkerError(RuntimeError):
    """A worker exited, crashed or was killed before returning its result."""


class WorkerTimeout(TimeoutError):
    """The workers did not all return within the timeout."""


def _target_name(target) -> str:
    """Accept ``"module:function"``, ``"file.py:function"`` or an importable function."""
    if callable(target):
        module, name = getattr(target, "__module__", None), getattr(target, "__qualname__", "?")
        if module in (None, "__main__") or "<" in name:
            raise ValueError(
                f"run_workers expected a function that another process can import, got {name!r} "
                f"defined in {module or 'no module'}; save it to a file and pass "
                f"'file.py:{name.split('.')[-1]}'")
        return f"{module}:{name}"
    if not isinstance(target, str) or ":" not in target:
        raise ValueError(f"run_workers expected target 'module:function' or 'file.py:function', "
                         f"got {target!r}")
    where, _, name = target.rpartition(":")
    if where.endswith(".py"):
        if not Path(where).is_file():
            raise ValueError(f"run_workers expected an existing file for target, got {where!r}")
        return f"{Path(where).resolve()}:{name}"  # workers may start in another folder
    return target


def _exit_description(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").rstrip()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (empty log)"


class WorkerGroup:
    """``n_workers`` processes running ``target(**kwargs)``; a context manager.

    ``with WorkerGroup(target, 2, timeout=60) as group: results = group.wait()``. Leaving the
    ``with`` block, by any route, stops every worker and its process group. ``pids`` lists the
    workers (each also the id of its process group); ``seconds`` is the wall time from start to
    the last result. ``use_tf_config=False`` starts plain processes (a single-process baseline
    under the same conditions). The workers inherit the caller's environment, with TF's C++
    logs and oneDNN off unless it says otherwise; ``env`` adds or overrides variables.
    """

    def __init__(self, target, n_workers: int = 2, *, kwargs: dict | None = None,
                 timeout: float = 120.0, env: dict | None = None, use_tf_config: bool = True):
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"WorkerGroup expected n_workers to be an integer >= 1, "
                             f"got {n_workers!r}")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"WorkerGroup expected timeout > 0 seconds, got {timeout!r}")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise ValueError(f"WorkerGroup expected kwargs as a dict, got {type(kwargs).__name__}")
        self.target, self.n_workers = _target_name(target), n_workers
        self.kwargs, self.timeout = dict(kwargs or {}), float(timeout)
        self.env, self.use_tf_config = dict(env or {}), use_tf_config
        self.processes: list[subprocess.Popen] = []
        self.seconds: float | None = None
        self._closed = False

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def __enter__(self) -> WorkerGroup:
        self._folder = tempfile.TemporaryDirectory(prefix="dlbook-workers-")
        self.folder = Path(self._folder.name)
        (self.folder / "job.pkl").write_bytes(
            pickle.dumps({"target": self.target, "kwargs": self.kwargs}))
        ports = free_local_ports(self.n_workers)
        self._start = time.monotonic()
        try:
            for i in range(self.n_workers):
                self.processes.append(self._spawn(i, ports))
        except BaseException:
            self.close()
            raise
        return self

    def _spawn(self, index: int, ports: list[int]) -> subprocess.Popen:
        env = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",  # unless set
               **os.environ, **self.env}
        env.pop("TF_CONFIG", None)
        if self.use_tf_config:
            env["TF_CONFIG"] = tf_config(ports, index)
        with open(self.folder / f"worker-{index}.log", "wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "dlbook_utils._worker", str(self.folder), str(index),
                 str(os.getpid())],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)  # its own session and process group: killpg reaches all

    def log(self, index: int) -> str:
        """Everything worker ``index`` has printed so far (stdout and stderr)."""
        return (self.folder / f"worker-{index}.log").read_text(errors="replace")

    def wait_for_log(self, index: int, text: str, timeout: float = 60.0) -> None:
        """Block until worker ``index`` prints ``text`` (e.g. a progress mark)."""
        end = time.monotonic() + timeout
        while text not in self.log(index):
            if self.processes[index].poll() is not None or time.monotonic() > end:
                raise WorkerError(f"worker {index} did not print {text!r}; its log ends "
                                  f"with:\n{_tail(self.folder / f'worker-{index}.log')}")
            time.sleep(POLL_SECONDS)

    def kill(self, index: int) -> None:
        """SIGKILL worker ``index`` alone, as a crash would: to show what the others do."""
        os.kill(self.processes[index].pid, signal.SIGKILL)

    def wait(self) -> list:
        """The workers' results in index order; raises WorkerError or WorkerTimeout."""
        deadline = self._start + self.timeout
        results = [self.folder / f"result-{i}.pkl" for i in range(self.n_workers)]
        while not all(r.exists() for r in results):
            ended = [(i, proc, proc.poll()) for i, (proc, result)
                     in enumerate(zip(self.processes, results, strict=True))
                     if proc.poll() is not None and not result.exists()]
            if ended:
                # a worker killed by a signal is the cause; its peers then fail on the
                # broken connection, so name it first if both ended before this poll
                i, proc, code = min(ended, key=lambda e: (e[2] >= 0, e[0]))
                error = WorkerError(
                    f"worker {i} of {self.n_workers} (pid {proc.pid}) {_exit_description(code)} "
                    f"before returning a result; all workers stopped. Its log ends with:\n"
                    f"{_tail(self.folder / f'worker-{i}.log')}")
                self.close()  # now: its peers would wait for it forever
                raise error
            if time.monotonic() > deadline:
                late = [i for i, r in enumerate(results) if not r.exists()]
                logs = "\n".join(f"  worker {i}:\n{_tail(self.folder / f'worker-{i}.log', 6)}"
                                 for i in late)
                error = WorkerTimeout(f"worker(s) {late} of {self.n_workers} returned nothing "
                                      f"within the timeout of {self.timeout:g} s; all workers "
                                      f"stopped. The end of their logs:\n{logs}")
                self.close()
                raise error
            time.sleep(POLL_SECONDS)
        self.seconds = time.monotonic() - self._start
        return [pickle.loads(r.read_bytes()) for r in results]

    def close(self) -> None:
        """Stop every worker and its process group: stdin closed, SIGTERM, then SIGKILL."""
        if self._closed:  # once only: a group id must not be signalled after it may be reused
            return
        for proc in self.processes:
            if proc.stdin and not proc.stdin.closed:
                try:
                    proc.stdin.close()  # the worker's watchdog exits on end-of-file
                except OSError:  # the pipe is already broken: the worker is gone
                    pass
        if not self._all_exited(0.5):
            self._signal_groups(signal.SIGTERM)
            self._all_exited(GRACE_SECONDS)
        self._signal_groups(signal.SIGKILL)  # also whatever a worker started and left behind
        for proc in self.processes:
            proc.wait()  # reap: no zombie is left either
        end = time.monotonic() + GRACE_SECONDS  # a signal is delivered a moment after kill()
        while surviving_processes(self.pids) and time.monotonic() < end:
            time.sleep(POLL_SECONDS)
        if getattr(self, "_folder", None) is not None:
            self._folder.cleanup()
            self._folder = None
        self._closed = True

    def _all_exited(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while any(p.poll() is None for p in self.processes):
            if time.monotonic() > end:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def _signal_groups(self, sig: signal.Signals) -> None:
        for proc in self.processes:
            try:
                os.killpg(proc.pid, sig)  # the group id is the worker's pid (start_new_session)
            except (ProcessLookupError, PermissionError):
                pass  # the group is empty: everyone in it has exited

    def __exit__(self, *exc_info) -> None:
        self.close()


def run_workers(target, n_workers: int = 2, *, kwargs: dict | None = None,
                timeout: float = 120.0, env: dict | None = None,
                use_tf_config: bool = True) -> list:
    """Run ``target(**kwargs)`` in ``n_workers`` fresh processes; return their results.

    See :class:`WorkerGroup` for the arguments. Raises WorkerError when a worker fails and
    WorkerTimeout after ``timeout`` seconds; in every case no worker is left running. A run
    whose gRPC server could not start (another program took its port between our check and
    the worker's bind) is started once more, on new ports.
    """
    for attempt in (1, 2):
        try:
            with WorkerGroup(target, n_workers, kwargs=kwargs, timeout=timeout, env=env,
                             use_tf_config=use_tf_config) as group:
                return group.wait()
        except WorkerError as error:
            if attempt == 2 or PORT_TAKEN not in str(error):
                raise
