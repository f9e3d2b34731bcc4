"""Start the child process that runs one submission, end it, and collect what it wrote.

The child is ``python -I -B -m dlbook_utils.grading.runner WORKDIR``. It runs either

- in a bubblewrap sandbox (:mod:`.sandbox`, the default): the sandbox's PID namespace ends with
  the run, taking every process the submission started with it; or
- with ``sandbox=False``, as a plain process in a new session, as the user ``nobody`` when the
  grader is root. Then only its process group is killed at the end: a child that starts its own
  session or group survives, and the submission can use the network and read whatever
  ``nobody`` may read.

Either way the limits stay: wall time (here), memory, file size, core dumps and, as root, the
number of processes (set by the runner itself, see ``LIMITS``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import sandbox

MAX_RESULTS_BYTES = 20_000_000
LIMITS = {"file_bytes": 64 << 20, "core_bytes": 0, "processes": 256}  # plus memory_bytes


def _nobody():
    try:
        import pwd

        pw = pwd.getpwnam("nobody")
        return pw.pw_uid, pw.pw_gid
    except (ImportError, KeyError):
        return None


def _environment(work: str) -> dict:
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "USER": "grader",
            "LOGNAME": "grader", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": work,
            "LANG": "C.UTF-8"}


def run_child(nb_path: Path, spec: dict, *, timeout: float, memory_mb: int,
              use_sandbox: bool = True) -> dict:
    """Run one submission in a fresh child; return its raw records and run information."""
    base = Path(tempfile.mkdtemp(prefix="dlbook-grade-"))  # 0700: only the grader enters it
    try:
        if use_sandbox:  # these files are mounted into the sandbox's work dir; ``base`` is not
            files, user = base, sandbox.new_user()
            drop = user if os.geteuid() == 0 else None
            sandbox.prepare(base, *user)
        else:  # the child's own directory, which it must be able to write
            files, drop = base / "work", (_nobody() if os.geteuid() == 0 else None)
            files.mkdir(mode=0o700)
        shutil.copyfile(nb_path, files / "submission.ipynb")
        limits = dict(LIMITS, memory_bytes=memory_mb << 20)
        (files / "inputs.json").write_text(json.dumps(
            dict(spec, drop_to=list(drop) if drop else None, limits=limits)))
        (files / "results.jsonl").touch(mode=0o600)
        if drop and not use_sandbox:
            for p in (files, files / "submission.ipynb", files / "inputs.json"):
                os.chown(p, *drop)
        start = time.monotonic()
        with open(base / "stdout.txt", "wb") as so, open(base / "stderr.txt", "wb") as se:
            popen = dict(stdin=subprocess.DEVNULL, stdout=so, stderr=se, start_new_session=True)
            if use_sandbox:
                run = _in_sandbox(base, timeout, drop[0] if drop else None, **popen)
            else:
                run = _in_session(base, timeout, **popen)
        run["seconds"] = round(time.monotonic() - start, 2)
        raw = _read_results(files / "results.jsonl")
        stderr = (base / "stderr.txt").read_bytes()[-2000:].decode("utf-8", "replace")
        return dict(run, raw=raw, stderr_tail=stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _runner(workdir: str) -> list[str]:
    return [sys.executable, "-I", "-B", "-m", "dlbook_utils.grading.runner", workdir]


def _in_session(base: Path, timeout: float, **popen) -> dict:
    work = str(base / "work")
    proc = subprocess.Popen(_runner(work), cwd=work, env=_environment(work), **popen)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    try:  # kill the whole group: also anything the submission started in it
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    return {"timed_out": timed_out, "exit_code": proc.returncode}


def _in_sandbox(base: Path, timeout: float, uid: int | None, **popen) -> dict:
    """Run in a sandbox; ``uid``: the sandbox's own user, if the grader is root."""
    deadline = time.monotonic() + timeout
    info_read, info_write = os.pipe()
    try:
        proc = subprocess.Popen(sandbox.command(_runner(sandbox.WORK), base, info_fd=info_write),
                                cwd=base, env=_environment(sandbox.WORK),
                                pass_fds=(info_write,), **popen)
    finally:
        os.close(info_write)
    info = sandbox.read_info(info_read, deadline)
    first, namespace = info.get("child-pid"), info.get("pid-namespace")
    pidfd = sandbox.open_process(first) if first else None
    held = sandbox.hold_namespace(first, namespace) if first and namespace else None
    timed_out = False
    try:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            if first:
                sandbox.kill_namespace(pidfd, first)
            try:  # bwrap exits once the namespace is empty
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        left = sandbox.reap(namespace if held is not None else None, uid)
    finally:
        for fd in (pidfd, held):
            if fd is not None:
                os.close(fd)
    return {"timed_out": timed_out, "exit_code": proc.returncode, "pid_namespace": namespace,
            "sandbox_uid": uid, "processes_left": left}


def _read_results(path: Path) -> bytes:
    """The child's results file, refusing symlinks, FIFOs and other non-regular files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return b""
        return f.read(MAX_RESULTS_BYTES)
