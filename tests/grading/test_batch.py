"""Batch grading in sandboxed child processes: solutions 100 %, exercises 0 %, planted mistakes
named, hostile submissions scored 0 without crashing or hanging the grader."""

import csv
import json
import os
import shutil
import sys
import time

import pytest

import dlbook_utils
from dlbook_utils.grading.batch import grade_all

from .helpers import CHAPTERS, EXERCISES, SOLUTIONS, edited

CH05 = SOLUTIONS / "ch05_optimizers.ipynb"
EX05 = EXERCISES / "ch05_optimizers.ipynb"


def _grade(root, out, **kw):
    kw.setdefault("timeout", 20)
    reports = grade_all(root, out, seed=kw.pop("seed", 1234), log=lambda *a: None, **kw)
    return {r["submission"]: r for r in reports}


def test_solutions_score_full_and_exercises_zero(tmp_path):
    for name in CHAPTERS:
        edited(SOLUTIONS / name, tmp_path / "subs" / "sol" / name)
        edited(EXERCISES / name, tmp_path / "subs" / "ex" / name)
    reps = _grade(tmp_path / "subs", tmp_path / "out")
    assert len(reps) == 2 * len(CHAPTERS)
    for sid, r in reps.items():
        statuses = {q["status"] for q in r["questions"].values()}
        # written answers are "submitted": their points wait for the instructor's merge
        written = sum(q["points"] for q in r["questions"].values() if q["status"] == "submitted")
        if sid.startswith("sol/"):
            # every automatically graded point is earned: 100 % of what is not pending
            assert r["total"] == r["max"] - r["pending"] >= 4 and r["pending"] == written, sid
            assert statuses <= {"passed", "submitted"} and "passed" in statuses, sid
        else:
            assert r["total"] == 0 and statuses == {"not attempted"}, sid
        assert not r["run"]["timed_out"] and r["run"]["cell_errors"] == []
    with open(tmp_path / "out" / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(reps) and {"5.3", "total", "max"} <= set(rows[0])
    assert json.loads((tmp_path / "out" / "sol__ch05_optimizers.json").read_text())["total"] == 6
    with open(tmp_path / "out" / "free_response.csv") as f:  # for the instructor, with rubrics
        written = [(r["submission"].split("/")[0], r["qid"], bool(r["rubric"]))
                   for r in csv.DictReader(f)]
    assert sorted(written) == [("sol", q, True) for q in ("3.6", "4.12", "5.7", "6.9")]


PLANTED = [  # (notebook, old, new, question, mistake id)
    ("ch04_backprop", "X.T @ delta, delta.sum", "delta.T @ X, delta.sum", "4.1", "transposed-gradient"),
    ("ch02_core_concepts", "2 * diff / diff.size", "2 * diff", "2.4", "missing-1-over-n"),
    ("ch03_forward_pass", "return -np.mean(log_p", "return -np.sum(log_p", "3.4",
     "sum-instead-of-mean"),
    ("ch05_optimizers", "v = momentum * v - lr * g", "v = momentum * v + lr * g", "5.1",
     "wrong-sign"),
    ("ch02_core_concepts", "return s * (1 - s)", "return s", "2.2", "sigmoid-grad-as-sigmoid"),
    ("ch04_backprop", "return 1 - a**2", "return 1 - a", "4.3", "tanh-grad-one-minus-a"),
    ("ch05_optimizers", "m_hat = m / (1 - beta1**t)\n    v_hat = v / (1 - beta2**t)",
     "m_hat = m\n    v_hat = v", "5.3", "adam-no-bias-correction"),
    ("ch05_optimizers", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)", "5.3",
     "eps-inside-sqrt"),
    ("ch05_optimizers", "(1 - rho) * g**2", "(1 - rho) * g", "5.2", "rmsprop-first-moment"),
    ("ch03_forward_pass", "return X @ W + b", "return X * W + b", "3.1",
     "elementwise-instead-of-matmul"),
    ("ch03_forward_pass", "e = np.exp(z - z.max(axis=-1, keepdims=True))", "e = np.exp(z)",
     "3.2", "unstable-softmax"),
]


def test_planted_mistakes_fail_exactly_their_question(tmp_path):
    for i, (nb, old, new, _, mistake) in enumerate(PLANTED):
        edited(SOLUTIONS / f"{nb}.ipynb", tmp_path / "subs" / f"{i:02d}_{mistake}" / f"{nb}.ipynb",
               replace=[(old, new)])
    reps = _grade(tmp_path / "subs", tmp_path / "out")
    for i, (nb, _, _, qid, mistake) in enumerate(PLANTED):
        r = reps[f"{i:02d}_{mistake}/{nb}"]
        failed = {k for k, q in r["questions"].items()
                  if q["score"] == 0 and q["status"] != "submitted"}
        assert failed == {qid}, (mistake, failed)
        q = r["questions"][qid]
        assert q["mistake"] == mistake and q["hint"] and q["hint"] in q["feedback"], q


ADAM = "def adam_step(w, g, m, v, t, lr, beta1, beta2, eps):"


def _hostile(tmp_path, name, cells, *, src=CH05, after="from dlbook_utils.grading import check",
             replace=(), more=()):
    """A submission with ``cells`` inserted after the cell containing ``after``; ``more`` adds
    (anchor, cell) pairs, e.g. a cell right after a question's stub (before its check)."""
    dst = edited(src, tmp_path / "subs" / name / src.name, replace=replace,
                 insert_after=after, new_cells=cells)
    for anchor, cell in more:
        edited(dst, dst, insert_after=anchor, new_cells=[cell])
    return dst


def test_hostile_submissions(tmp_path):
    sentinel_dir = tmp_path / "victim"
    sentinel_dir.mkdir()
    sentinel = sentinel_dir / "keep.txt"
    sentinel.write_text("original")
    for p in (tmp_path, sentinel_dir):
        os.chmod(p, 0o755)  # readable by anyone: only write permission protects it
    os.chmod(sentinel, 0o644)
    stubborn = ("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                "    except BaseException:\n        pass")
    _hostile(tmp_path, "loop_in_function", [], replace=[("def adam_step(w, g, m, v, t, lr, "
             "beta1, beta2, eps):", "def adam_step(w, g, m, v, t, lr, beta1, beta2, eps):\n"
             "    while True:\n        pass")])
    _hostile(tmp_path, "loop_uncatchable", [stubborn], after='check("5.1"')
    _hostile(tmp_path, "sys_exit", ["import sys\nsys.exit(0)"])
    _hostile(tmp_path, "os_exit", ["import os\nos._exit(0)"], after='check("5.2"')
    _hostile(tmp_path, "check_redefined", ["def check(*a, **k):\n    return '✓ passed'"],
             src=EX05)
    _hostile(tmp_path, "numpy_patched", [
        "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
        "np.array_equal = lambda *a, **k: True"], src=EX05, more=[(ADAM,
        "def adam_step(w, *a):\n    return np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)")])
    _hostile(tmp_path, "fake_print", ["print('✓ 5.3 Adam step: passed (6/6 cases)')\n"
                                      "print('total 6/6, score 100%')"], src=EX05)
    _hostile(tmp_path, "always_equal", [
        "class Yes:\n    def __eq__(self, other):\n        return True\n"
        "    __array_priority__ = 1000"], src=EX05, more=[
        (ADAM, "def adam_step(*a):\n    return Yes(), Yes(), Yes()"),
        ("lr_epoch_25 = None", "lr_epoch_25 = Yes()"), ("answer_5_5 = None", "answer_5_5 = Yes()")])
    _hostile(tmp_path, "lying_subclass", [
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n"
        "        return np.ones(np.shape(other), bool)\n"
        "    def tolist(self):\n        return [0.025]"], src=EX05, more=[
        (ADAM, "def adam_step(w, *a):\n    x = np.zeros_like(w).view(Liar)\n    return x, x, x"),
        ("lr_epoch_25 = None", "lr_epoch_25 = np.zeros(1).view(Liar)")])
    _hostile(tmp_path, "stack_and_gc", ["import gc, inspect"], src=EX05, more=[(ADAM,
        "import gc, inspect\n"
        "def adam_step(w, g, m, v, *a):\n"
        "    for fr in inspect.stack():\n"
        "        for k, val in fr.frame.f_locals.items():\n"
        "            if 'expect' in k or 'ref' in k:\n"
        "                return val\n"
        "    for obj in gc.get_objects():\n"
        "        if isinstance(obj, tuple) and len(obj) == 3 and all(\n"
        "                isinstance(o, np.ndarray) and o.shape == w.shape for o in obj)\\\n"
        "                and obj[1] is not m:\n"
        "            return obj\n"
        "    return None")])
    _hostile(tmp_path, "huge_memory", ["big = np.ones(10**11)"])
    _hostile(tmp_path, "file_vandal", [
        "import os, shutil\nerrors = []\n"
        f"for act in (lambda: open({str(sentinel)!r}, 'w').write('hacked'),\n"
        f"            lambda: os.remove({str(sentinel)!r}),\n"
        f"            lambda: shutil.rmtree({str(tmp_path / 'subs')!r})):\n"
        "    try:\n        act()\n    except OSError as e:\n        errors.append(type(e).__name__)\n"
        "raise RuntimeError(f'uid={os.getuid()} errors={errors}')"])
    start = time.monotonic()
    reps = _grade(tmp_path / "subs", tmp_path / "out", timeout=4, memory_mb=768)
    assert time.monotonic() - start < 60
    assert len(reps) == 12

    def scores(name):
        return {k: q["score"] for k, q in reps[f"{name}/ch05_optimizers"]["questions"].items()}

    def q(name, qid):
        return reps[f"{name}/ch05_optimizers"]["questions"][qid]

    # a loop inside one function costs that question only (soft per-call limit)
    assert scores("loop_in_function")["5.3"] == 0 and sum(scores("loop_in_function").values()) == 5
    assert "too long" in q("loop_in_function", "5.3")["feedback"]
    # a loop that swallows the soft limit: hard kill; questions checked before it still count
    r = reps["loop_uncatchable/ch05_optimizers"]
    assert r["run"]["timed_out"] and scores("loop_uncatchable")["5.1"] == 1
    assert {scores("loop_uncatchable")[k] for k in ("5.2", "5.3", "5.4", "5.5", "5.6")} == {0}
    assert "time limit" in q("loop_uncatchable", "5.3")["feedback"]
    # sys.exit in a cell is caught; os._exit ends the process: later questions are lost, not faked
    assert sum(scores("sys_exit").values()) == 6
    assert "SystemExit" in json.dumps(reps["sys_exit/ch05_optimizers"]["run"]["cell_errors"])
    assert scores("os_exit")["5.1"] == 1 and scores("os_exit")["5.2"] == 1
    assert scores("os_exit")["5.3"] == 0 and "process ended" in q("os_exit", "5.3")["feedback"]
    for name in ("check_redefined", "numpy_patched", "fake_print", "always_equal",
                 "lying_subclass", "stack_and_gc"):
        assert sum(scores(name).values()) == 0, (name, scores(name))
        assert reps[f"{name}/ch05_optimizers"]["total"] == 0
    assert "AlwaysEqual" not in q("always_equal", "5.3")["feedback"]
    assert "Yes" in q("always_equal", "5.3")["feedback"]
    assert "subclass" in q("lying_subclass", "5.3")["feedback"]
    assert "subclass" in q("lying_subclass", "5.6")["feedback"]
    assert "redefines check" in reps["check_redefined/ch05_optimizers"]["flags"]
    # huge allocation: MemoryError in that cell, the rest of the notebook still graded
    assert sum(scores("huge_memory").values()) == 6
    assert "MemoryError" in json.dumps(reps["huge_memory/ch05_optimizers"]["run"]["cell_errors"])
    # files outside the private working dir are untouched
    assert sentinel.read_text() == "original"
    assert (tmp_path / "subs" / "file_vandal" / "ch05_optimizers.ipynb").exists()
    assert sum(scores("file_vandal").values()) == 6


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop only happens when run as root")
@pytest.mark.parametrize("sandbox", [True, False])
def test_child_runs_unprivileged(tmp_path, sandbox):
    """No root and, in the sandbox, none of the capabilities bwrap left the runner for its drop
    (they must not survive it), and no way to gain any (no_new_privs)."""
    _hostile(tmp_path, "whoami", [
        "import os\nstatus = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "raise RuntimeError(f'uid={os.getuid()} caps={status[\"CapEff\"].strip()} '\n"
        "                   f'{status[\"CapPrm\"].strip()} {status[\"CapAmb\"].strip()} '\n"
        "                   f'nnp={status[\"NoNewPrivs\"].strip()}')"])
    reps = _grade(tmp_path / "subs", tmp_path / "out", timeout=10, sandbox=sandbox)
    errors = json.dumps(reps["whoami/ch05_optimizers"]["run"]["cell_errors"])
    assert "uid=" in errors and "uid=0 " not in errors
    assert f"caps={' '.join(['0' * 16] * 3)}" in errors, errors
    if sandbox:
        assert "nnp=1" in errors


def test_private_cases_and_fresh_seeds(tmp_path):
    cases = tmp_path / "private.json"
    cases.write_text(json.dumps({"5.4": [[[0, 5, 10], 10, 1.0, 0.0]]}))
    sub = edited(CH05, tmp_path / "subs" / "a" / CH05.name, replace=[(
        "return lr_min + 0.5 * (lr_max - lr_min) * cosine",
        "if np.size(step) == 3 and total == 10:\n        return cosine * 0.0\n"
        "    return lr_min + 0.5 * (lr_max - lr_min) * cosine")])
    assert sub.exists()
    plain = _grade(tmp_path / "subs", tmp_path / "o1")["a/ch05_optimizers"]
    private = _grade(tmp_path / "subs", tmp_path / "o2", cases_path=cases)["a/ch05_optimizers"]
    assert plain["questions"]["5.4"]["score"] == 1 and private["questions"]["5.4"]["score"] == 0
    a = grade_all(tmp_path / "subs", tmp_path / "o3", log=lambda *x: None)[0]["seed"]
    b = grade_all(tmp_path / "subs", tmp_path / "o4", log=lambda *x: None)[0]["seed"]
    assert a != b


def _private_package(tmp_path, patch=None):
    """A copy of dlbook_utils in a directory only root can enter, and a python that grades from
    it: what a checkout in a private (0700) directory looks like to the child once it has dropped
    to ``nobody``."""
    private = tmp_path / "private" / "checkout"
    private.mkdir(parents=True)
    os.chmod(private.parent, 0o700)
    shutil.copytree(os.path.dirname(dlbook_utils.__file__), private / "dlbook_utils")
    if patch:
        runner = private / "dlbook_utils" / "grading" / "runner.py"
        text = runner.read_text()
        assert patch[0] in text
        runner.write_text(text.replace(*patch))
    python = tmp_path / "private" / "python"
    # run_child calls `python -I -B -m ...`; -I would ignore PYTHONPATH, so the wrapper drops it.
    python.write_text(f'#!/bin/sh\nshift\nPYTHONPATH="{private}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o700)
    return python


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop only happens when run as root")
@pytest.mark.parametrize("planted", [False, True])
def test_grading_from_a_private_checkout(tmp_path, monkeypatch, planted):
    """Everything check() imports must be loaded before the drop to nobody; the planted variant
    leaves out the lazily loaded modules (the bug a 0700 checkout once showed) and must fail.
    Without the sandbox: it would mount the package, not the wrapper's private copy (and the
    directories it creates for its mounts are readable)."""
    lazy = '"dlbook_utils.grading.feedback", "dlbook_utils.grading.plain",'
    patch = (lazy, "") if planted else None
    monkeypatch.setattr(sys, "executable", str(_private_package(tmp_path, patch)))
    edited(CH05, tmp_path / "subs" / "sol" / CH05.name)
    rep = _grade(tmp_path / "subs", tmp_path / "out", sandbox=False)["sol/ch05_optimizers"]
    if planted:
        assert rep["total"] == 0
        assert "No module named 'dlbook_utils.grading.feedback'" in json.dumps(rep)
    else:
        assert rep["total"] == 6 and rep["max"] == 8, json.dumps(rep)[:2000]  # 5.7: written
        assert rep["questions"]["5.7"]["status"] == "submitted"
