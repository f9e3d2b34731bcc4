"""Chapter 1 (01_background): the XOR claims, and every number of its prose printed by a cell.

The chapter proves with two inequalities that no threshold unit computes XOR. Here the same
claim is checked independently, as linear-programming feasibility: a unit that classifies points
``x_i`` with labels ``t_i = ±1`` exists iff some (w, b) has ``t_i (w·x_i + b) >= 1`` for all i.

The book's rule "every number in the prose is printed by a cell of the same chapter" is checked
on the chapter's markdown: each number outside maths, citations and names must appear among the
numbers its stored outputs print.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.optimize import linprog

from tests.book.bookscan import chapter_page

X_BOOL = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)  # (4, 2)
XOR = np.array([0, 1, 1, 0])


def linearly_separable(X: np.ndarray, y: np.ndarray) -> bool:
    """Is there (w, b) with t_i (w·x_i + b) >= 1, t = 2y - 1? X (n, d), y (n,) in {0, 1}."""
    t = 2 * np.asarray(y) - 1
    A = -t[:, None] * np.hstack([X, np.ones((len(X), 1))])   # -t_i (x_i, 1), (n, d + 1)
    res = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)),
                  bounds=[(None, None)] * (X.shape[1] + 1), method="highs")
    return res.status == 0  # 0: a feasible point found; 2: infeasible


@pytest.mark.checks("eq-xor-identity", kind="property", tol="atol 0")
def test_no_threshold_unit_computes_xor_but_any_three_points_are_separable():
    assert not linearly_separable(X_BOOL, XOR)
    for drop in range(4):  # "at most three of the four, and three is reached"
        keep = np.arange(4) != drop
        assert linearly_separable(X_BOOL[keep], XOR[keep]), drop


def test_separability_check_accepts_and_or_nand():
    # planted contrast: the checker must not call everything inseparable
    for y in ([0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]):
        assert linearly_separable(X_BOOL, np.array(y)), y


# ------------------------------------------------------------ numbers in the prose
SKIP = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$"                      # maths: symbols, not claims
    r"|\{(?:cite|doc|eq|ref)(?::\w+)?\}`[^`]*`"   # roles: keys, labels
    r"|\]\([^)]*\)|^\([\w.:-]+\)=$"               # link targets, MyST labels
    r"|\b[A-Za-z]+(?:-[A-Za-z]+)*-\d+\b"          # names: GPT-3, ILSVRC-2012, LeNet-5
    r"|\d+\s*→[\s\d→]*"                           # layer sizes 2 → 2 → 1
    r"|\b\d{3,4}s\b"                              # decades: the 1960s
    r"|\b\d+[- ]?[DdXx]\b|\d+x\d+",               # 2-D, 4x, 16x16
    re.DOTALL | re.MULTILINE)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:\s*(?:million|billion))?")
SCALE = {"million": 1e6, "billion": 1e9}


def to_float(token: str) -> float:
    parts = token.split()
    value = float(parts[0].replace(",", ""))
    return value * SCALE[parts[1]] if len(parts) > 1 else value


def numbers_in(text: str) -> set[float]:
    return {to_float(m) for m in NUMBER.findall(text)}


def unprinted_numbers(prose: list[str], printed: list[str]) -> list[str]:
    """Numbers of the prose (as written) that no output prints."""
    shown = set().union(*(numbers_in(t) for t in printed)) if printed else set()
    missing = []
    for text in prose:
        for token in NUMBER.findall(SKIP.sub(" ", text)):
            if to_float(token) not in shown:
                missing.append(token)
    return missing


def test_every_number_in_chapter_1_prose_is_printed_by_a_cell():
    nb = json.loads(chapter_page("01").read_text(encoding="utf-8"))
    prose = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    printed = []
    for c in nb["cells"]:
        for out in c.get("outputs", []):
            printed.append("".join(out.get("text", "")))
            printed.append("".join(out.get("data", {}).get("text/markdown", "")))
    assert unprinted_numbers(prose, printed) == []


def test_number_check_catches_a_planted_unprinted_number():
    prose = ["The winner had 15.3 % top-5 error, trained on 1.2 million images; "
             "GPT-3 has $10^{11}$ parameters {cite:p}`brown2020language`. It took 6 days."]
    printed = ["7 CNNs (winner)   15.4%  15.3%", "training images: 1,200,000"]
    assert unprinted_numbers(prose, printed) == ["6"]
