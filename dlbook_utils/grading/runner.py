"""Child side of the batch grader: run ONE submission in a sandboxed process.

    python -I -m dlbook_utils.grading.runner WORKDIR

``WORKDIR`` (private to this run) holds ``submission.ipynb`` and ``inputs.json`` (question ids,
the names to evaluate, encoded case inputs, limits). The runner executes the notebook's code cells
one by one (each wrapped: exceptions, ``SystemExit`` and a soft per-cell time limit are caught and
logged), evaluates each question's answer on the case inputs right after the cell that checks it,
and appends ONE JSON line per question to ``results.jsonl``, flushed to disk immediately. Its first
act is to set the limits ``inputs.json`` names (memory, file size, core dumps, process count), so
the parent needs no ``preexec_fn`` (unsafe in a grader that starts children from several threads).

Nothing here decides a score: this process only reports plain data (numbers, lists, strings). The
parent validates it and compares with reference values that never exist in this process, so a
submission that patches ``check``, NumPy, ``print`` or this module can at worst report wrong
numbers. Before running student code the runner blocks imports of the question modules and of
TensorFlow, and (when started as root) drops to an unprivileged user.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
import types

BLOCKED = ("dlbook_utils.grading.questions", "dlbook_utils.grading.batch", "tensorflow", "keras",
           "torch", "jax")
PREIMPORT = ("math", "random", "itertools", "functools", "collections", "copy", "time", "re",
             "inspect", "gc", "typing", "dataclasses", "statistics", "warnings", "string",
             "numpy", "numpy.linalg", "numpy.random", "numpy.testing", "dlbook_utils.grading",
             # what check() imports when first called: after the drop to an unprivileged user
             # the source tree may not be readable (a checkout in a private directory)
             "dlbook_utils.grading.feedback", "dlbook_utils.grading.plain",
             "dlbook_utils.grading.calls")


class SoftTimeout(BaseException):
    """Raised by SIGALRM when one cell or one question takes too long."""


class _Blocker:
    """A meta-path finder that refuses the blocked packages."""

    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} is not available while grading")
        return None


def _on_alarm(signum, frame):
    raise SoftTimeout("time limit")


def _cell_sources(nb: dict) -> list[str]:
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        # IPython magics / shell escapes are not Python: keep the block structure with `pass`
        lines = [(ln[: len(ln) - len(ln.lstrip())] + "pass") if ln.lstrip()[:1] in "%!" and
                 ln.strip() else ln for ln in src.split("\n")]
        out.append("\n".join(lines))
    return out


def _preimport(sources: list[str]) -> None:
    import importlib

    wanted = list(PREIMPORT)
    text = "\n".join(sources)
    if "matplotlib" in text:
        os.environ.setdefault("MPLBACKEND", "Agg")
        wanted += ["matplotlib", "matplotlib.pyplot"]
    # dotted: a notebook that imports dlbook_utils.grading.digits_task needs it loaded too
    named = set(re.findall(r"dlbook_utils(?:\.[a-z_]+)+", text))
    wanted += sorted(named - {"dlbook_utils.grading"})
    for name in wanted:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: S110 - a missing optional module only matters if used
            pass


def _set_limits(limits: dict, dropping_root: bool) -> None:
    """Hard limits, which student code cannot raise again."""
    for name, key in (("RLIMIT_AS", "memory_bytes"), ("RLIMIT_FSIZE", "file_bytes"),
                      ("RLIMIT_CORE", "core_bytes")):
        if key in limits:
            resource.setrlimit(getattr(resource, name), (limits[key], limits[key]))
    # per user: only meaningful for a user of the grader's own (for anyone else it would count
    # the processes of their whole session)
    if dropping_root and "processes" in limits:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def _drop_privileges(uid: int, gid: int) -> None:
    os.chown(".", uid, gid)  # the work dir (in the sandbox, a fresh tmpfs owned by root)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise RuntimeError("could not drop root privileges")


def _timed(seconds: float, fn, *args):
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeout):
        return "TimeLimit: cell exceeded its time limit"
    return f"{type(exc).__name__}: {exc}"[:300]


def main(workdir: str) -> None:
    os.chdir(workdir)
    with open("inputs.json") as f:
        spec = json.load(f)
    _set_limits(spec.get("limits", {}), bool(spec.get("drop_to")))
    with open("submission.ipynb", encoding="utf-8") as f:
        sources = _cell_sources(json.load(f))
    out = open("results.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - kept open to the end

    def emit(record: dict) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()
        os.fsync(out.fileno())

    sys.meta_path.insert(0, _Blocker())
    _preimport(sources)
    from dlbook_utils.grading import learner
    from dlbook_utils.grading.plain import decode_input

    if spec.get("drop_to"):
        _drop_privileges(*spec["drop_to"])
    signal.signal(signal.SIGALRM, _on_alarm)
    soft = float(spec.get("soft_timeout", 5.0))
    recorder: dict = {}
    learner._RECORDER = recorder
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    questions = spec["questions"]
    done: set[str] = set()

    def evaluate(q: dict) -> None:
        done.add(q["qid"])
        answer = recorder.get(q["qid"], namespace.get(q["name"], _MISSING))
        record = {"event": "question", "qid": q["qid"], "found": answer is not _MISSING}
        outcomes = []
        kind = types.SimpleNamespace(kind=q["kind"], call=q.get("call", "function"))
        for enc in q["cases"]:
            if outcomes and outcomes[-1]["kind"] == "timeout":  # one slow case is enough
                outcomes.append({"kind": "timeout"})
                continue
            try:
                args = tuple(decode_input(a) for a in enc)
                if answer is _MISSING:
                    outcomes.append({"kind": "none"})
                else:
                    outcomes.append(_timed(soft, learner.run_answer, kind, answer, [args])[0])
            except SoftTimeout:
                outcomes.append({"kind": "timeout"})
            except BaseException as exc:  # SystemExit, KeyboardInterrupt, ... inside the call
                outcomes.append({"kind": "error", "error": _describe(exc)})
        record["cases"] = outcomes
        emit(record)

    check_cell = {}
    for q in questions:
        pat = re.compile(r"check\(\s*[\"']" + re.escape(q["qid"]) + r"[\"']")
        check_cell[q["qid"]] = next((i for i, s in enumerate(sources) if pat.search(s)), None)
    for i, src in enumerate(sources):
        try:
            code = compile(src, f"<cell {i + 1}>", "exec")
            _timed(soft, exec, code, namespace)
            emit({"event": "cell", "index": i + 1, "status": "ok"})
        except BaseException as exc:  # includes SystemExit and the soft time limit
            emit({"event": "cell", "index": i + 1, "status": "error", "error": _describe(exc)})
        for q in questions:
            if check_cell[q["qid"]] == i and q["qid"] not in done:
                evaluate(q)
    for q in questions:
        if q["qid"] not in done:
            evaluate(q)
    emit({"event": "done"})
    os._exit(0)  # skip atexit hooks a submission may have registered


_MISSING = object()

if __name__ == "__main__":
    main(sys.argv[1])
