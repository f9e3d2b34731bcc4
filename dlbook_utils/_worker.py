"""The program each worker process runs; started by :mod:`dlbook_utils.distributed`, not by hand.

``python -m dlbook_utils._worker <job folder> <index> <parent pid>`` reads ``job.pkl`` (the
target and its keyword arguments), calls the target, and writes what it returns to
``result-<index>.pkl``. A worker never outlives the process that started it:

- on Linux the kernel kills it when the parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``;
  strictly, when the parent's *thread* that started it ends: start and stop a group in one
  thread, as a ``with`` block does);
- everywhere, a watchdog thread reads stdin, a pipe from the parent: end-of-file means that the
  parent closed it (the run is over) or died, and the worker exits on the spot.

After writing its result the worker does not exit by itself: it waits for the parent to close
the pipe. A worker that exited at once could leave its peer waiting for the last message of a
collective operation, or hang in TensorFlow's gRPC shutdown; the parent stops them all together.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import pickle
import runpy
import signal
import sys
import threading
import traceback
from pathlib import Path

EXIT_PARENT_GONE = 3  # also the code of a worker whose parent closed the pipe before its result


def _die_with_parent(parent_pid: int) -> None:
    """Arrange for this process to end when the parent does, however the parent ends."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl: nobody would signal us
        os._exit(EXIT_PARENT_GONE)

    def watch_stdin():
        try:
            sys.stdin.buffer.read()  # returns at end-of-file only
        except (OSError, ValueError):  # stdin closed under us: the link to the parent is gone
            pass
        os._exit(0 if _done.is_set() else EXIT_PARENT_GONE)

    threading.Thread(target=watch_stdin, name="parent-watchdog", daemon=True).start()


_done = threading.Event()


def resolve(target: str):
    """``"package.module:function"`` or ``"path/to/file.py:function"`` -> the function."""
    where, _, name = target.rpartition(":")
    if where.endswith(".py"):
        namespace = runpy.run_path(where, run_name="__dlbook_worker__")
    else:
        namespace = vars(importlib.import_module(where))
    if not callable(namespace.get(name)):
        raise ValueError(f"worker expected a function {name!r} in {where}, found none")
    return namespace[name]


def main(folder: str, index: int, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    folder = Path(folder)
    job = pickle.loads((folder / "job.pkl").read_bytes())
    try:
        result = resolve(job["target"])(**job["kwargs"])
    except BaseException:
        traceback.print_exc()  # into this worker's log, which the parent quotes
        sys.stderr.flush()
        os._exit(1)
    partial = folder / f"result-{index}.tmp"
    partial.write_bytes(pickle.dumps(result))
    os.replace(partial, folder / f"result-{index}.pkl")  # atomic: never half a result
    sys.stdout.flush()
    sys.stderr.flush()
    _done.set()
    threading.Event().wait()  # until the watchdog sees the pipe close


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
