"""Submissions that try to get out of the grader's bubblewrap sandbox: processes that outlive the
run, the network, other submissions' files, the output directory, writes outside the work dir.

Each attack scores 0 and leaves nothing behind. The same attacks graded with ``--no-sandbox``
do get out (the orphan, network, file-reading and file-writing tests detect it): that is what
shows those tests can fail. The submissions and the output directory live in a world-readable
directory, as a course's shared folder would, so only the sandbox stands in the way."""

import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from dlbook_utils.grading import child, sandbox
from dlbook_utils.grading.__main__ import main as cli
from dlbook_utils.grading.batch import NO_SANDBOX_WARNING, grade_all

from .helpers import EXERCISES, SOLUTIONS, edited

CH05, EX05 = SOLUTIONS / "ch05_optimizers.ipynb", EXERCISES / "ch05_optimizers.ipynb"
TOKEN = f"{os.getpid()}{secrets.randbelow(10**8):08d}"  # marks this test run's processes
SLEEP = f"3600.{TOKEN}"  # `sleep 3600.<token>`: an orphan that ps can find by its token
IMPORT_CHECK = "from dlbook_utils.grading import check"
SECRET = "a report of a previous run"


def _solution_code() -> str:
    """What a copying submission wants: the solution's definitions, without its checks."""
    nb = nbformat.read(CH05, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code"
                     and "check(" not in c.source and "%pip" not in c.source)


def _stealing(root: Path, name: str, attack: str) -> None:
    """The exercise notebook (0 points as it stands) with ``attack`` run after the imports. The
    attack stores what it obtained in STOLEN, which every check cell runs first: any escape that
    yields the solution earns its points."""
    edited(EX05, root / "subs" / name / EX05.name, insert_after=IMPORT_CHECK,
           new_cells=[f"STOLEN = ''\n{attack}"],
           replace=[('check("5.', 'exec(STOLEN)\ncheck("5.')])


ORPHANS = {
    "new_session": f"import subprocess\nsubprocess.Popen(['sleep', '{SLEEP}'], "
                   "start_new_session=True)",
    "double_fork": "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                   f"        os.execvp('sleep', ['sleep', '{SLEEP}'])\n    os._exit(0)\n"
                   "os.wait()",
    "setsid_nohup": f"import subprocess\nsubprocess.run('setsid nohup sleep {SLEEP} "
                    ">/dev/null 2>&1 &', shell=True)",
}
FORK_BOMB = ("import os, time\nfirst = os.getpid()\n"
             "while True:  # every copy forks until the process limit stops it, then waits\n"
             "    try:\n        os.fork()\n    except OSError as e:\n"
             "        if os.getpid() == first:  # the runner itself: report it\n"
             "            raise RuntimeError(f'process limit reached: {e}') from None\n"
             "        time.sleep(3600)")


def _copy_from(notebook: Path) -> str:
    """An attack that takes the definitions of someone else's notebook."""
    return (f"import json\nnb = json.load(open({str(notebook)!r}))\n"
            "cells = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']\n"
            "STOLEN = '\\n'.join(c for c in cells if 'check(' not in c and '%pip' not in c)")


def _attacks(root: Path, port: int) -> dict:
    """name -> attack cell; ``root/subs/aaa_honest`` is the solution the copying ones want."""
    victim = root / "subs" / "aaa_honest" / CH05.name
    return dict(ORPHANS, network=(
        "import socket\nwith socket.socket() as s:\n    s.settimeout(5)\n"
        f"    s.connect(('127.0.0.1', {port}))\n"
        "    STOLEN = b''.join(iter(lambda: s.recv(65536), b'')).decode()"),
        read_other=_copy_from(victim),
        read_checkout=_copy_from(CH05),  # the solutions next to the package the sandbox mounts
        write_outside=(
        "import os\nwrote, errors = [], []\n"
        f"for path in ('/tmp/dlbook-{TOKEN}', {str(root / 'shared' / TOKEN)!r},\n"
        f"             '/dlbook-{TOKEN}', '/dev/shm/dlbook-{TOKEN}', {str(victim)!r}):\n"
        "    try:\n        with open(path, 'a') as f:\n            f.write('x')\n"
        "        wrote.append(path)\n    except OSError as e:\n"
        "        errors.append(type(e).__name__)\n"
        "raise RuntimeError(f'wrote={wrote} errors={errors}')"),
        read_output_dir=(  # the file first: the cell's error message keeps 300 characters
        f"import os\nseen = {{}}\ntry:\n"
        f"    seen['secret'] = open({str(root / 'out' / 'secret.txt')!r}).read()\n"
        "except OSError as e:\n    seen['secret'] = type(e).__name__\n"
        f"for d in ('/home', {str(root / 'out')!r}):\n"
        "    try:\n        seen[d] = sorted(os.listdir(d))\n    except OSError as e:\n"
        "        seen[d] = type(e).__name__\n"
        "raise RuntimeError(f'seen={seen}')"))


class Server:
    """A TCP server on 127.0.0.1 that hands the solution's code to whoever connects, and counts
    the connections."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.payload = _solution_code().encode()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:  # timeout: look at the stop flag again
                continue
            self.connections += 1
            with conn:
                conn.sendall(self.payload)

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _marked_processes(program: str = "") -> list[int]:
    """Processes whose command line carries this test run's token (and starts with
    ``program``, if given)."""
    found = []
    for entry in os.scandir("/proc"):
        try:
            cmdline = Path(entry.path, "cmdline").read_text("latin-1") if entry.name.isdigit() else ""
        except OSError:
            continue
        if TOKEN in cmdline and cmdline.startswith(program):
            found.append(int(entry.name))
    return found


@pytest.fixture
def shared_root():
    """A world-readable directory (a course's shared folder), with a world-writable ``shared``
    subdirectory; removed afterwards with everything in it, and with any marked process."""
    root = Path(tempfile.mkdtemp(prefix="dlbook-shared-"))
    (root / "shared").mkdir()
    os.chmod(root, 0o755)
    os.chmod(root / "shared", 0o777)
    (root / "out").mkdir(mode=0o755)
    (root / "out" / "secret.txt").write_text(SECRET)
    server = Server()
    try:
        yield root, server
    finally:
        server.close()
        for pid in _marked_processes():  # only after a failure (or without the sandbox)
            os.kill(pid, signal.SIGKILL)
        Path(f"/tmp/dlbook-{TOKEN}").unlink(missing_ok=True)
        shutil.rmtree(root)


def _build(root: Path, server: Server, names) -> None:
    edited(CH05, root / "subs" / "aaa_honest" / CH05.name)
    attacks = _attacks(root, server.port)
    for name in names:
        cell = attacks.get(name, FORK_BOMB)
        _stealing(root, name, cell)
    for path in (root / "subs").rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _cell_errors(report) -> str:
    return json.dumps(report["run"]["cell_errors"])


@pytest.mark.skipif(os.geteuid() != 0, reason="as root the sandbox runs under a user of its own")
def test_attacks_score_zero_and_leave_nothing_behind(shared_root, monkeypatch):
    root, server = shared_root
    checked, real_reap = {}, sandbox.reap

    def reap_then_look(namespace, uid=None, timeout=10.0):
        """Look into the namespace after the grader's reap, while the grader still holds it
        (later its number may name another sandbox)."""
        left = real_reap(namespace, uid, timeout)
        checked[namespace] = sandbox.members(namespace)
        return left

    monkeypatch.setattr(sandbox, "reap", reap_then_look)
    names = [*ORPHANS, "fork_bomb", "network", "read_other", "read_checkout", "write_outside",
             "read_output_dir"]
    _build(root, server, names)
    victim = (root / "subs" / "aaa_honest" / CH05.name).read_bytes()
    # 30 s: forking 255 copies of a Python process takes seconds on a loaded machine
    reports = grade_all(root / "subs", root / "out", timeout=30, memory_mb=768, seed=7,
                        log=lambda *a: None)
    reps = {r["submission"].split("/")[0]: r for r in reports}
    assert reps["aaa_honest"]["total"] == 6  # graded alongside (5.7, written, awaits a score)
    for name in names:
        assert reps[name]["total"] == 0, (name, reps[name]["questions"])
        assert reps[name]["sandbox"] == "bubblewrap" and reps[name]["run"]["processes_left"] == 0
    # nothing outlives the run: no process of a sandbox's user or PID namespace, none marked
    runs = [r["run"] for r in reports]
    assert all(run["sandbox_uid"] and run["pid_namespace"] for run in runs)
    assert len({run["sandbox_uid"] for run in runs}) == len(runs)
    assert checked == {run["pid_namespace"]: [] for run in runs}
    for run in runs:
        assert sandbox.members(None, run["sandbox_uid"]) == []
    assert _marked_processes() == []
    # the fork bomb met the process limit (or, if forking was that slow, the soft time limit)
    bomb = _cell_errors(reps["fork_bomb"])
    assert "process limit reached" in bomb or "TimeLimit" in bomb, reps["fork_bomb"]["run"]
    assert not reps["fork_bomb"]["run"]["timed_out"]
    # the network: the server saw no connection; the submission found nobody listening
    assert server.connections == 0
    assert "ConnectionRefusedError" in _cell_errors(reps["network"])
    # files: no other submission, output dir, home directory or /tmp; nothing written outside
    for name in ("read_other", "read_checkout"):
        assert "FileNotFoundError" in _cell_errors(reps[name]), name
    seen = _cell_errors(reps["read_output_dir"])
    assert SECRET not in seen and "secret.txt" not in seen
    assert seen.count("FileNotFoundError") == 2  # the output dir and the file in it
    assert "'/home': ['grader']" in seen  # its own home (the work dir), no one else's
    assert "wrote=[]" in _cell_errors(reps["write_outside"])
    assert not Path(f"/tmp/dlbook-{TOKEN}").exists() and list((root / "shared").iterdir()) == []
    assert (root / "subs" / "aaa_honest" / CH05.name).read_bytes() == victim
    assert sorted(p.name for p in (root / "out").iterdir()) == sorted(
        ["secret.txt", "scores.csv", "free_response.csv",  # the honest one's written 5.7
         *(f"{r['submission'].replace('/', '__')}.json" for r in reports)])


def _closed_to_others(path: Path) -> bool:
    """Whether a user other than the owner (``nobody``) cannot read ``path``."""
    path = path.resolve()
    folders = [*reversed(path.parents), path]
    return any(not f.stat().st_mode & stat.S_IXOTH for f in folders) or \
        not path.stat().st_mode & stat.S_IROTH


@pytest.mark.skipif(os.geteuid() != 0, reason="without the sandbox the child runs as nobody")
def test_without_the_sandbox_the_same_attacks_get_out(shared_root, monkeypatch):
    """The detectors above work: graded with ``sandbox=False``, the orphans survive (found by
    their token), the server is reached and its code scores, another submission is copied, and
    a file appears outside the work dir."""
    root, server = shared_root
    names = [*ORPHANS, "network", "read_other", "write_outside", "read_output_dir"]
    _build(root, server, names)
    lines = []
    # Without the sandbox the child drops to nobody once started. A Python that nobody cannot
    # read (pyenv's, under a closed /root) then fails at the first import not yet loaded: with
    # Python 3.12's libraries that is `subprocess` ("No module named 'subprocess'"), and the
    # orphans never start. Here the child then stays root: the attacks, not the user, are tested.
    if _closed_to_others(Path(sysconfig.get_paths()["stdlib"])):
        monkeypatch.setattr(child, "_nobody", lambda: None)
    # A generous timeout: on a loaded machine a kernel can take 20 s to start, and a timed-out
    # submission never launches its orphans (seen once: 1 of 3 found).
    reports = grade_all(root / "subs", root / "out", timeout=90, seed=7, sandbox=False,
                        log=lines.append)
    reps = {r["submission"].split("/")[0]: r for r in reports}
    # A double-forked grandchild may not have exec'd `sleep` (which carries the token) yet.
    deadline = time.monotonic() + 10
    while len(survivors := _marked_processes()) < len(ORPHANS) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(survivors) == len(ORPHANS), survivors
    assert server.connections == 1 and reps["network"]["total"] == 6
    assert reps["read_other"]["total"] == 6
    assert f"/tmp/dlbook-{TOKEN}" in _cell_errors(reps["write_outside"])
    assert Path(f"/tmp/dlbook-{TOKEN}").exists() and (root / "shared" / TOKEN).exists()
    assert SECRET in _cell_errors(reps["read_output_dir"])
    # and the run says it was not isolated: in the log, each report and scores.csv
    assert lines[0] == lines[-1] == NO_SANDBOX_WARNING
    assert all(r["sandbox"] is None and r["warning"] == NO_SANDBOX_WARNING for r in reports)
    csv_text = (root / "out" / "scores.csv").read_text()
    assert csv_text.count(NO_SANDBOX_WARNING) == len(reports)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _marked_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _marked_processes() == []


def test_reap_kills_what_is_left_of_a_sandbox(tmp_path):
    """Whatever the kernel does when bwrap exits, the grader empties the namespace itself: here
    a sandbox whose processes are all still running (bwrap included) when reap is called."""
    for name in ("submission.ipynb", "inputs.json", "results.jsonl"):
        (tmp_path / name).write_text("{}")
    sandbox.prepare(tmp_path, *sandbox.new_user())
    info_read, info_write = os.pipe()
    argv = sandbox.command(["sh", "-c", f"sleep {SLEEP} & setsid sleep {SLEEP} & sleep {SLEEP}"],
                           tmp_path, info_fd=info_write)
    proc = subprocess.Popen(argv, pass_fds=(info_write,), start_new_session=True)
    os.close(info_write)
    try:
        info = sandbox.read_info(info_read, time.monotonic() + 30)
        deadline = time.monotonic() + 30
        while len(_marked_processes("sleep")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        namespace = info["pid-namespace"]
        assert len(sandbox.members(namespace)) >= 4  # bwrap's init and the three sleeps
        assert sandbox.reap(namespace, timeout=10) == 0
        assert sandbox.members(namespace) == [] and _marked_processes() == []
        assert proc.wait(timeout=30) != 0  # bwrap saw its sandbox killed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_refuses_when_bwrap_is_missing_or_cannot_run(tmp_path, monkeypatch, capsys):
    edited(CH05, tmp_path / "subs" / CH05.name)
    monkeypatch.setattr(sandbox, "BWRAP", "bwrap-not-installed-here")
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap .* not installed"):
        grade_all(tmp_path / "subs", tmp_path / "out", log=lambda *a: None)
    assert not (tmp_path / "out").exists()  # refused before grading anything
    with pytest.raises(SystemExit) as stop:
        cli(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "not installed" in err and "--no-sandbox" in err
    # installed but unable to create the namespaces: a stand-in that fails the way bwrap does
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "BWRAP", str(fake))
    with pytest.raises(sandbox.SandboxUnavailable, match="No permissions to create new namespace"):
        grade_all(tmp_path / "subs", tmp_path / "out", log=lambda *a: None)
    fake.write_text("#!/bin/sh\necho 'bubblewrap 0.6.1'\n")  # Ubuntu 22.04's: no --size
    with pytest.raises(sandbox.SandboxUnavailable, match=r"0\.6\.1 is too old.*0\.8\.0 or newer"):
        grade_all(tmp_path / "subs", tmp_path / "out", log=lambda *a: None)
    # --no-sandbox grades anyway, and says so
    assert cli(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                "--no-sandbox", "-j", "1"]) == 0
    out = capsys.readouterr().out
    assert NO_SANDBOX_WARNING in out and "ch05_optimizers: 6/8" in out  # 5.7 is written


def test_submissions_are_graded_in_parallel(tmp_path):
    """Two submissions that each wait 4 s inside a cell: about 4 s with -j 2, 8 with -j 1."""
    for name in ("a", "b"):
        edited(CH05, tmp_path / "subs" / name / CH05.name, insert_after=IMPORT_CHECK,
               new_cells=["import time\ntime.sleep(4)"])
    elapsed = {}
    for jobs in (1, 2):
        start = time.monotonic()
        reps = grade_all(tmp_path / "subs", tmp_path / f"out{jobs}", timeout=40, seed=3,
                         jobs=jobs, log=lambda *a: None)
        elapsed[jobs] = time.monotonic() - start
        assert [r["total"] for r in reps] == [6, 6]
    assert elapsed[1] > 8 and elapsed[2] < elapsed[1] - 2.5, elapsed


def test_sandbox_mounts_the_package_not_the_checkout_around_it():
    """The Python installation and the package, read-only, each once (parents first); never the
    checkout around the package (it holds the solutions) nor a whole home directory."""
    paths = sandbox.python_paths()
    package = Path(sandbox.__file__).resolve().parents[1]
    assert str(package) in paths and str(package.parent) not in paths
    assert not any(p in ("/", "/usr", "/home", str(Path.home())) for p in paths)
    assert not any(q.startswith(p + "/") for p in paths for q in paths)
    argv = sandbox.command(["true"], Path("/nonexistent"))
    mounted = [argv[i + 2] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert mounted.count(str(package)) == 1 and "--unshare-net" in argv
    assert [argv[i + 2] for i, a in enumerate(argv) if a == "--bind"] == [
        f"{sandbox.WORK}/results.jsonl"]  # the only writable host file


def test_processes_that_could_not_be_ended_are_reported(tmp_path, monkeypatch):
    edited(CH05, tmp_path / "subs" / CH05.name)
    monkeypatch.setattr(sandbox, "reap", lambda *a, **k: 3)  # as if 3 survived every SIGKILL
    lines = []
    rep = grade_all(tmp_path / "subs", tmp_path / "out", seed=1, log=lines.append)[0]
    assert rep["run"]["processes_left"] == 3 and rep["total"] == 6
    assert lines[:2] == ["ch05_optimizers: 6/8 (2 awaiting hand grading)",  # written 5.7
                         "WARNING: 3 process(es) of ch05_optimizers's sandbox could not be ended"]
    assert lines[2:] and lines[2].startswith("written answers to grade by hand")


def test_killing_the_grader_ends_its_sandboxes(tmp_path):
    """--die-with-parent: a grader killed mid-run (no chance to clean up) takes the sandbox and
    the orphan a submission started in it along."""
    edited(EX05, tmp_path / "subs" / "a" / EX05.name, insert_after=IMPORT_CHECK,
           new_cells=[ORPHANS["new_session"] + "\nimport time\ntime.sleep(3600)"])
    code = ("import sys; from pathlib import Path; from dlbook_utils.grading.batch import grade_all;"
            " grade_all(Path(sys.argv[1]), Path(sys.argv[2]), timeout=600)")
    (tmp_path / "tmp").mkdir()  # the killed grader cannot remove its temp dirs: keep them here
    grader = subprocess.Popen([sys.executable, "-c", code, tmp_path / "subs", tmp_path / "out"],
                              env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")),
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _marked_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _marked_processes(), "the submission's orphan never started"
        grader.kill()
        grader.wait()
        deadline = time.monotonic() + 10
        while _marked_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _marked_processes() == []
        assert [p.name[:13] for p in (tmp_path / "tmp").iterdir()] == ["dlbook-grade-"]
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
        for pid in _marked_processes():
            os.kill(pid, signal.SIGKILL)
