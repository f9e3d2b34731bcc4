"""Instructor batch grading: one fresh, limited process per submission; scores computed here.

    python -m dlbook_utils.grading grade SUBMISSIONS --out OUTDIR [--cases PATH] [-j N]
                                   [--course DIR] [--timeout S] [--memory-mb M] [--seed N]
                                   [--no-sandbox]

For each ``*.ipynb`` under SUBMISSIONS (chapter from the notebook's ``dlbook`` metadata or a
``chNN`` file name), N at a time (default: one per core), this module

1. draws the random case inputs from a seed chosen now (``--seed`` only to reproduce a run),
   adds private cases from ``--cases``, and writes them as plain JSON into a private temp dir
   together with a copy of the notebook (nothing else of the file system is given to the child);
2. runs ``python -I -m dlbook_utils.grading.runner`` on them in a bubblewrap sandbox
   (:mod:`.child`, :mod:`.sandbox`) with memory, file-size, core and process-count limits; as
   root, the child drops to a user of its own before running student code. The sandbox is
   killed at the wall-time limit;
3. reads the child's plain-data results, validates them, and grades them with the reference
   solutions in THIS process (:func:`feedback.grade`).

``--course DIR`` (instructor mode, :mod:`.course`) adds a course's hidden cases, its own
questions, and its points and partial credit.

Outputs: ``OUTDIR/scores.csv`` (a row per submission, a column per question, total, whether it
ran in the sandbox) and ``OUTDIR/<submission>.json`` (per question: score, status, feedback,
hint, mistake; run info: seconds, timed_out, exit_code, cell_errors, stderr_tail and, in the
sandbox, its pid_namespace, sandbox_uid and processes_left, which is 0 unless some process of
the sandbox could not be ended).
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from . import feedback, free_response, registry
from .cases import load_private_cases
from .child import run_child
from .course import activated
from .plain import decode_input, encode
from .result import Result
from .sandbox import check_available

_OUTCOME_KINDS = {"value", "none", "notimpl", "error", "timeout", "invalid"}
NO_SANDBOX_WARNING = ("WARNING: graded WITHOUT the sandbox (--no-sandbox): submissions could "
                      "leave processes running, use the network and read other files")
# Modules of the package that hold reference implementations of the exercises (every module
# but the grader, data loading and plotting; a test keeps this list complete).
REFERENCE_MODULES = ("_validate", "_worker", "activations", "attacks", "augment", "augment1d",
                     "autodiff", "autodiff_nn", "batchnorm", "cluster", "cnn", "conv",
                     "data_parallel", "distributed", "experiment", "fast", "gradcheck",
                     "intervals", "layers", "losses", "mixed_precision", "optim",
                     "parallel_checks", "regularizers", "schedules", "seed_examples", "splits",
                     "tfcompare", "tfcompare_layers", "train")
_REF = "|".join(REFERENCE_MODULES)
# Static red flags shown to the instructor (informational; scores never depend on them).
FLAG_PATTERNS = {
    "imports grader internals": r"dlbook_utils\.grading\.(questions|registry|feedback|batch|runner"
                                r"|learner|plain|child|sandbox|course|free_response)|_RECORDER",
    "imports the library's reference code": rf"dlbook_utils\.({_REF})\b|from\s+dlbook_utils\s+"
                                            rf"import\s+(\([^)]*|[^\n(]*)\b({_REF})\b",
    "touches the import system": r"meta_path|sys\.modules|importlib",
    "inspects the interpreter": r"inspect\.(stack|currentframe)|sys\._getframe|gc\.get_objects",
    "exits the process": r"os\._exit|sys\.exit|os\.kill|signal\.",
    "redefines check": r"(^|\n)\s*(def\s+check\b|check\s*=)",
}


def chapter_of(path: Path, nb: dict) -> str | None:
    meta = nb.get("metadata", {}).get("dlbook", {})
    if isinstance(meta, dict) and re.fullmatch(r"\d\d", str(meta.get("chapter", ""))):
        return str(meta["chapter"])
    m = re.search(r"ch(\d\d)", path.name)
    return m.group(1) if m else None


def build_cases(questions, seed: int, private: dict) -> dict:
    """qid -> list of encoded argument tuples (fixed + random from ``seed`` + private)."""
    out = {}
    for q in questions:
        rng = np.random.default_rng([seed, zlib.crc32(q.qid.encode())])
        cases = q.make_cases(rng) + [tuple(c) for c in private.get(q.qid, [])]
        out[q.qid] = [[encode(a) for a in args] for args in cases]
    return out


def parse_records(raw: bytes) -> tuple[dict, list]:
    """First valid record per question id, and the cell log (malformed lines are ignored)."""
    questions, cells = {}, []
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if type(rec) is not dict:
            continue
        if rec.get("event") == "cell" and type(rec.get("index")) is int:
            cells.append({"cell": rec["index"], "status": str(rec.get("status"))[:10],
                          "error": str(rec.get("error", ""))[:300]})
        elif rec.get("event") == "question" and type(rec.get("qid")) is str:
            questions.setdefault(rec["qid"], rec)
    return questions, cells


def _valid_outcomes(rec: dict, n_cases: int):
    outs = rec.get("cases")
    if type(outs) is not list or len(outs) != n_cases:
        return None
    clean = []
    for o in outs:
        if type(o) is not dict or o.get("kind") not in _OUTCOME_KINDS:
            return None
        clean.append({"kind": o["kind"], "value": o.get("value"),
                      "error": str(o.get("error", ""))[:300],
                      "warning": str(o.get("warning") or "")[:200]})
    return clean


def grade_submission(nb_path: Path, *, timeout: float, memory_mb: int, seed: int | None = None,
                     private: dict | None = None, sandbox: bool = True, course=None) -> dict:
    """Grade one notebook; returns the JSON-able report. ``course``: an activated
    :class:`.course.Course` (its points and partial credit), or None."""
    seed = secrets.randbits(32) if seed is None else int(seed)
    report = {"notebook": str(nb_path), "seed": seed, "questions": {}, "flags": [],
              "sandbox": "bubblewrap" if sandbox else None}
    if not sandbox:
        report["warning"] = NO_SANDBOX_WARNING
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        chapter = chapter_of(nb_path, nb)
        questions = registry.load_chapter(chapter) if chapter else []
    except (ValueError, OSError, ImportError) as exc:
        report.update(chapter=None, total=0.0, max=0.0, error=f"unreadable notebook: {exc}")
        return report
    report["chapter"] = chapter
    if not questions:
        report.update(total=0.0, max=0.0, error="no questions found for this notebook")
        return report
    code = "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list)
                     else str(c.get("source", "")) for c in nb.get("cells", [])
                     if c.get("cell_type") == "code")
    report["flags"] = [k for k, pat in FLAG_PATTERNS.items() if re.search(pat, code)]
    encoded = build_cases(questions, seed, private or {})
    spec = {"soft_timeout": max(1.0, timeout / 4), "questions": [
        {"qid": q.qid, "name": q.name, "kind": q.kind, "call": q.call, "cases": encoded[q.qid]}
        for q in questions]}
    run = run_child(nb_path, spec, timeout=timeout, memory_mb=memory_mb, use_sandbox=sandbox)
    records, cells = parse_records(run.pop("raw"))
    report["run"] = dict(run, cell_errors=[c for c in cells if c["status"] != "ok"])
    for q in questions:
        cases = [tuple(decode_input(a) for a in args) for args in encoded[q.qid]]
        rec = records.get(q.qid)
        if rec is None:
            why = (f"the time limit of {timeout:g} s was reached" if run["timed_out"] else
                   f"the notebook process ended (exit code {run['exit_code']})")
            res = Result(q.qid, q.title, "error", f"not graded: {why} before this question "
                         "was evaluated", points=q.points)
        elif rec.get("found") is False:
            res = Result(q.qid, q.title, "not attempted", f"`{q.name}` is not defined",
                         points=q.points)
        else:
            outcomes = _valid_outcomes(rec, len(cases))
            res = (Result(q.qid, q.title, "error", "malformed result record", points=q.points)
                   if outcomes is None else feedback.grade(q, cases, outcomes, source=code))
        entry = dict(res.to_dict(), feedback=str(res))
        if course is not None:
            entry.update(points=course.points(q), score=course.credit(q, entry))
        report["questions"][q.qid] = entry
    report["total"] = sum(r["score"] * r["points"] for r in report["questions"].values())
    report["max"] = sum(r["points"] for r in report["questions"].values())
    report["pending"] = pending_points(report)
    return report


def find_submissions(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def pending_points(report: dict) -> float:
    """Points of written answers still waiting for the instructor's score (free_response)."""
    return sum(q["points"] for q in report["questions"].values() if q["status"] == "submitted")


def write_scores(out: Path, reports: list[dict]) -> None:
    """``out/scores.csv``: a row per submission, a column per question (points earned)."""
    qids = sorted({q for r in reports for q in r["questions"]}, key=registry.id_key)
    with open(out / "scores.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "chapter", *qids, "total", "max", "pending", "sandbox"])
        for r in sorted(reports, key=lambda r: r["submission"]):
            row = [r["questions"][q]["score"] * r["questions"][q]["points"]
                   if q in r["questions"] else "" for q in qids]
            w.writerow([r["submission"], r.get("chapter") or "", *row, r["total"], r["max"],
                        r.get("pending", 0),
                        r["sandbox"] or "OFF: " + NO_SANDBOX_WARNING])


def default_jobs() -> int:
    """One submission per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def grade_all(root: Path, out: Path, *, course_dir=None, **kw) -> list[dict]:
    """Grade every submission under ``root``, ``jobs`` at a time (default: one per core); write
    scores.csv and one JSON per submission. Raises :class:`.sandbox.SandboxUnavailable` if the
    sandbox cannot run here (``sandbox=False`` grades without it, and says so everywhere).
    ``course_dir``: a course directory (:mod:`.course`) for hidden cases, new questions, points
    and partial credit."""
    if course_dir is None:
        return _grade_all(root, out, **kw)
    with activated(course_dir) as course:
        return _grade_all(root, out, course=course, **kw)


def _grade_all(root: Path, out: Path, *, timeout=60.0, memory_mb=1024, cases_path=None,
               seed=None, log=print, sandbox=True, jobs=None, course=None) -> list[dict]:
    if sandbox:
        check_available()
    else:
        log(NO_SANDBOX_WARNING)
    out.mkdir(parents=True, exist_ok=True)
    private = load_private_cases(cases_path) if cases_path else {}
    for qid, cases in (course.hidden if course else {}).items():
        private[qid] = private.get(qid, []) + cases
    paths = find_submissions(root)

    def grade_one(nb_path: Path) -> dict:
        sid = nb_path.relative_to(root).with_suffix("").as_posix() if root.is_dir() else nb_path.stem
        rep = grade_submission(nb_path, timeout=timeout, memory_mb=memory_mb, seed=seed,
                               private=private, sandbox=sandbox, course=course)
        if course is not None:
            rep["course"] = course.title or course.root.name
        rep["submission"] = sid
        (out / (sid.replace("/", "__") + ".json")).write_text(json.dumps(rep, indent=1))
        return rep

    # threads suffice: each one mostly waits for its child process
    with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
        futures = {pool.submit(grade_one, p): i for i, p in enumerate(paths)}
        reports = [None] * len(paths)
        try:
            for fut in as_completed(futures):
                rep = reports[futures[fut]] = fut.result()
                pending = rep.get("pending") or 0
                log(f"{rep['submission']}: {rep['total']:g}/{rep['max']:g}"
                    + (f" ({pending:g} awaiting hand grading)" if pending else ""))
                if rep.get("run", {}).get("processes_left"):
                    log(f"WARNING: {rep['run']['processes_left']} process(es) of "
                        f"{rep['submission']}'s sandbox could not be ended")
        finally:  # on an error or Ctrl-C, do not start the submissions still queued
            for fut in futures:
                fut.cancel()
    write_scores(out, reports)
    if free_response.export(out, reports):
        log(f"written answers to grade by hand: {out / free_response.EXPORT} "
            "(then: python -m dlbook_utils.grading merge OUTDIR)")
    if not sandbox:
        log(NO_SANDBOX_WARNING)
    return reports
