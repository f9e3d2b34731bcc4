"""The bubblewrap sandbox that one submission is graded in: what it can see, and how it ends.

bubblewrap (``bwrap``, the tool Flatpak uses) starts a process in fresh Linux namespaces, without
a daemon. Each submission gets

- its own PID, network, IPC and UTS namespaces: it sees only its own processes and a loopback
  interface on which nothing listens. When the namespace's first process ends, the kernel kills
  every process left in it, so nothing a submission forks, double-forks or ``setsid``-s outlives
  its run. ``--die-with-parent`` ends the sandbox if the grader itself dies;
- a file system built from nothing: read-only views of ``/usr``, the Python installation and this
  package (not the checkout around it, which holds the solutions), a fresh ``/proc`` and ``/dev``,
  and ``/home/grader``, a small private tmpfs holding only the submission and its inputs, the only
  place it can write. No other submission, no output directory, no home directory, no ``/tmp``;
- when the grader is root, a user id of its own, drawn per run, to which the runner drops before
  any student code runs: the process-count limit then counts this submission's processes only
  (it is per user), and its processes are easy to find. The runner keeps just the capabilities
  it needs for that drop (``CAP_SETUID``, ``CAP_SETGID``, ``CAP_CHOWN``); as another user,
  bwrap puts the sandbox in a user namespace instead and forbids nested ones.

:func:`check_available` refuses early, with a clear message, where bwrap cannot run;
:func:`command` builds the ``bwrap`` argument list; :func:`read_info`, :func:`hold_namespace`,
:func:`kill_namespace` and :func:`reap` find and end one running sandbox and everything in it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BWRAP = "bwrap"
MIN_VERSION = (0, 8, 0)  # --size (the work dir's tmpfs) and --disable-userns came in 0.8.0
WORK = "/home/grader"  # the submission's working directory (and home), inside the sandbox
WORK_BYTES = 64 << 20  # size of its tmpfs: tmpfs pages are memory that RLIMIT_AS does not count
# Per-run user ids come from a range no distribution or container runtime allocates (Debian's
# dynamic users end at 65533, systemd-nspawn's container ranges at 1879048191).
SANDBOX_UIDS = range(1_900_000_000, 1_901_000_000)
_WORK_FILES = ("submission.ipynb", "inputs.json")  # read-only inside; results.jsonl is writable
_NO_SANDBOX_HINT = ("or pass --no-sandbox to grade without isolation (a submission can then "
                    "leave processes running, use the network and read other files)")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the namespaces on this machine."""


def new_user() -> tuple[int, int]:
    """A fresh (uid, gid) for one sandbox when the grader is root; the grader's own otherwise."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    uid = SANDBOX_UIDS[secrets.randbelow(len(SANDBOX_UIDS))]
    return uid, uid


def prepare(base: Path, uid: int, gid: int) -> None:
    """Write ``base/etc/{passwd,group}``: the sandbox user needs a name (``getpass``, ``pwd``)."""
    etc = base / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                                f"grader:x:{uid}:{gid}:grader:{WORK}:/usr/sbin/nologin\n")
    (etc / "group").write_text(f"root:x:0:\ngrader:x:{gid}:\n")


def python_paths() -> list[str]:
    """Host directories the child's Python needs, shortest first (a parent before its children):
    the interpreter's installation, the virtual environment and this package."""
    import dlbook_utils

    found = {sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.realpath(dlbook_utils.__file__))}
    keep: list[str] = []
    for path in sorted({os.path.realpath(p) for p in found if p and os.path.isdir(p)}, key=len):
        if path != "/" and not any(path == k or path.startswith(k + "/") for k in ["/usr", *keep]):
            keep.append(path)
    return keep


def command(argv: list[str], base: Path, *, info_fd: int | None = None) -> list[str]:
    """The ``bwrap`` command running ``argv`` in :data:`WORK`, which holds ``base``'s submission and
    inputs (read-only) and its ``results.jsonl`` (the only host file the sandbox may write)."""
    args = [shutil.which(BWRAP) or BWRAP, "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--hostname", "grader", "--die-with-parent", "--new-session"]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    if os.geteuid() == 0:  # no user namespace: the runner drops to the sandbox user itself
        args += ["--cap-drop", "ALL"]
        for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"):
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user", "--disable-userns"]
    made: set[str] = set()

    def parents(path: str) -> list[str]:
        """Create ``path``'s parents readable by all: bwrap would make them 0700, and the
        sandbox user could then not reach the Python it runs."""
        out = []
        for parent in reversed(Path(path).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += parents("/etc/passwd")
    for name in ("ld.so.cache", "localtime", "alternatives"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--ro-bind", str(base / "etc" / "passwd"), "/etc/passwd",
             "--ro-bind", str(base / "etc" / "group"), "/etc/group"]
    for path in python_paths():
        if (path + "/").startswith(WORK + "/") or (WORK + "/").startswith(path + "/"):
            raise SandboxUnavailable(f"Python lives at {path}, which would hide (or contain) "
                                     f"the sandbox's work directory {WORK}")
        args += [*parents(path), "--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", *parents(WORK),
             "--perms", "0700", "--size", str(WORK_BYTES), "--tmpfs", WORK]
    for name in _WORK_FILES:
        args += ["--ro-bind", str(base / name), f"{WORK}/{name}"]
    # the only writable places: the work dir's tmpfs, of a fixed size, and results.jsonl (in a
    # user namespace bwrap's own tmpfs for / and /dev would belong to the sandbox user, unbounded)
    args += ["--bind", str(base / "results.jsonl"), f"{WORK}/results.jsonl",
             "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORK, "--", *argv]
    return args


def read_info(fd: int, deadline: float) -> dict:
    """bwrap's ``--info-fd`` report (``child-pid``: the namespace's first process, as the host
    numbers it; ``pid-namespace``); ``{}`` if bwrap ended, or the deadline passed, before it.
    Closes ``fd``."""
    data = b""
    with os.fdopen(fd, "rb", buffering=0) as f:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([f], [], [], max(0.0, deadline - time.monotonic()))
            chunk = f.read(65536) if ready else b""
            if not chunk:
                break
            data += chunk
    try:
        return json.loads(data)
    except ValueError:
        return {}


def open_process(pid: int) -> int | None:
    """A pidfd for ``pid`` (it keeps naming that process even after the pid is reused)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def hold_namespace(pid: int, pid_namespace: int) -> int | None:
    """An open fd on ``pid``'s PID namespace, if it is ``pid_namespace``. Close it only after
    :func:`reap`: a namespace's number is reused once the namespace is gone, and while the fd is
    open it cannot be gone, so the number names this sandbox only (and no other running one)."""
    try:
        fd = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if os.fstat(fd).st_ino != pid_namespace:
        os.close(fd)
        return None
    return fd


def kill_namespace(pidfd: int | None, pid: int) -> None:
    """SIGKILL the namespace's first process: the kernel then kills every process in the
    namespace, and bwrap exits once they are all gone."""
    try:
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        else:  # kernels before 5.3: bwrap has not reaped it yet, so the pid is still its own
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _belongs(pid: str, pid_namespace: int | None, uid: int | None) -> bool:
    """Is process ``pid`` alive (not a zombie) and in the namespace, or run by ``uid``?"""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        if status.get("State", "Z").split()[0] in ("Z", "X"):
            return False  # already dead: only its exit status waits for its parent
        if uid is not None and uid in map(int, status.get("Uid", "").split()):
            return True
        return (pid_namespace is not None
                and os.stat(f"/proc/{pid}/ns/pid").st_ino == pid_namespace)
    except (OSError, ValueError):
        return False  # it ended while we looked


def members(pid_namespace: int | None, uid: int | None = None) -> list[int]:
    """Live processes in the sandbox's PID namespace, or run as its own user."""
    return [int(e.name) for e in os.scandir("/proc")
            if e.name.isdigit() and _belongs(e.name, pid_namespace, uid)]


def reap(pid_namespace: int | None, uid: int | None = None, timeout: float = 10.0) -> int:
    """After bwrap has exited: kill whatever is left of the sandbox, wait until nothing is, and
    return how many processes are still alive at ``timeout`` (0 unless the kernel misbehaves).

    On Linux, bwrap cannot exit before every process in its PID namespace is gone; some kernels
    (gVisor) tear the namespace down after it, so the grader makes sure itself. The caller holds
    the namespace (:func:`hold_namespace`), so that its number names no other sandbox; ``uid``
    must be a user of the sandbox's own (never the grader's)."""
    deadline = time.monotonic() + timeout
    while True:
        left = members(pid_namespace, uid)
        if not left or time.monotonic() > deadline:
            return len(left)
        for pid in left:
            pidfd = open_process(pid)
            # re-check through the pidfd's process: the pid may have been reused meanwhile
            if pidfd is not None and _belongs(str(pid), pid_namespace, uid):
                kill_namespace(pidfd, pid)
            if pidfd is not None:
                os.close(pidfd)
        time.sleep(0.02)


def _version() -> tuple[int, ...] | None:
    """``bwrap --version`` as numbers (``bubblewrap 0.8.0`` -> (0, 8, 0)); None if unclear."""
    try:
        out = subprocess.run([shutil.which(BWRAP) or BWRAP, "--version"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(map(int, found.groups())) if found else None


def check_available() -> None:
    """Start a real sandbox that imports the grader's runner; raise :class:`SandboxUnavailable`
    with what went wrong and what to do if that fails."""
    if shutil.which(BWRAP) is None:
        raise SandboxUnavailable(
            f"bubblewrap (`{BWRAP}`) is not installed, and batch grading runs each submission "
            "in a bubblewrap sandbox. Install it (`make install` does, or `apt-get install "
            f"bubblewrap`), {_NO_SANDBOX_HINT}.")
    version = _version()
    if version is not None and version < MIN_VERSION:
        raise SandboxUnavailable(
            f"bubblewrap {'.'.join(map(str, version))} is too old: the sandbox needs "
            f"{'.'.join(map(str, MIN_VERSION))} or newer (--size, --disable-userns). Install a "
            f"newer one, {_NO_SANDBOX_HINT}.")
    with tempfile.TemporaryDirectory(prefix="dlbook-probe-") as tmp:
        base = Path(tmp)
        for name in (*_WORK_FILES, "results.jsonl"):
            (base / name).write_text("{}")
        prepare(base, *new_user())
        probe = [sys.executable, "-I", "-B", "-c", "import numpy, dlbook_utils.grading.runner"]
        try:
            done = subprocess.run(command(probe, base), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"bubblewrap could not be started: {exc}; "
                                     f"{_NO_SANDBOX_HINT}.") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[-600:] or "(no message)"
        raise SandboxUnavailable(
            f"bubblewrap cannot start a sandbox on this machine (exit code {done.returncode}): "
            f"{err}\nIt needs PID, network, IPC and UTS namespaces (and, when not run as root, "
            f"user namespaces). Allow them, {_NO_SANDBOX_HINT}.")
