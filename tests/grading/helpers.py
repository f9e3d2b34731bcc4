"""Shared helpers for the grading tests: build submissions by editing solution notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
CHAPTERS = sorted(p.name for p in SOLUTIONS.glob("ch[0-9][0-9]_*.ipynb"))


def edited(src: Path, dst: Path, *, replace=(), insert_after: str | None = None,
           new_cells=()) -> Path:
    """Copy notebook ``src`` to ``dst``, replacing code text and/or inserting code cells.

    ``replace``: (old, new) pairs, each old string must occur in some code cell (else the test
    itself is wrong); ``new_cells`` are inserted after the first code cell containing
    ``insert_after`` (or at the end).
    """
    nb = nbformat.read(src, as_version=4)
    for old, new in replace:
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert hits, f"planted edit not found in {src.name}: {old!r}"
        for c in hits:
            c.source = c.source.replace(old, new)
    if new_cells:
        idx = len(nb.cells)
        if insert_after is not None:
            idx = next(i for i, c in enumerate(nb.cells)
                       if c.cell_type == "code" and insert_after in c.source) + 1
        nb.cells[idx:idx] = [nbformat.v4.new_code_cell(s) for s in new_cells]
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return dst


def check_in_reference_form(qid, fn):
    """``check(qid, fn)`` for ``fn`` written like the question's reference (``fn(*case)``
    returns what is graded). Layer, network and grad_check questions call a learner's answer
    otherwise (``calls.py``); their references and mistake variants are graded here on the
    same cases, through the same ``feedback.grade``."""
    import types

    import numpy as np

    from dlbook_utils.grading import check, feedback, registry
    from dlbook_utils.grading.learner import case_seed, run_answer

    q = registry.get(qid)
    if q.call == "function":
        return check(qid, fn)
    cases = q.make_cases(np.random.default_rng(case_seed(qid)))
    direct = types.SimpleNamespace(kind="function", call="function")
    return feedback.grade(q, cases, run_answer(direct, fn, cases))
