"""Stored outputs print bounds, never rounding-level digits.

"max |diff| = 2.7e-15" changes with the CPU, the BLAS kernel and the NumPy release, so a stored
output that shows it fails nbval elsewhere; "max |diff| < 1e-12" (with an assert) says the same
and holds everywhere. A float printed after ``<``, ``≤`` or a tolerance word is a bound and is fine.
"""

import json
import re

import pytest

from tests.platform.test_notebook_coverage import REPO, tracked_notebooks
from tests.platform.test_repo_hygiene import outputs, text_of

SMALLEST_PRINTED = 1e-10
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)(?![\w.])"
                   r"|(?<![\w.])[-+]?0\.0{9,}\d+")
BOUND_BEFORE = re.compile(r"(?:<|≤|<=|rtol|atol|tol(?:erance)?|eps(?:ilon)?)\s*=?\s*$", re.I)


def tiny_printed_floats(text: str) -> list[str]:
    """The lines of ``text`` that print a non-zero float below 1e-10 that is not a bound."""
    found = []
    for m in FLOAT.finditer(text):
        value = abs(float(m.group()))
        if 0 < value < SMALLEST_PRINTED and not BOUND_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            found.append(text[start:end if end >= 0 else None].strip())
    return found


@pytest.mark.parametrize("path", sorted(tracked_notebooks()))
def test_no_rounding_level_floats_in_stored_outputs(path):
    nb = json.loads((REPO / path).read_text(encoding="utf-8"))
    tiny = [f"cell {i}: {line}" for i, _, out in outputs(nb) for line in tiny_printed_floats(text_of(out))]
    assert not tiny, f"{path}: print a bound (e.g. 'max |diff| < 1e-12') instead of {tiny}"


@pytest.mark.parametrize("text", [
    "batch vs one example at a time: max |diff| = 3.6e-15",
    "final mean loss 2.2e-18",
    "rel. error vs finite differences: 7.3e-11",
    "x = -4.0E-13 and more",
    "residual 0.000000000003",
])
def test_catches_planted_rounding_level_floats(text):
    assert tiny_printed_floats("first line\n" + text + "\nlast line") == [text]


@pytest.mark.parametrize("text", [
    "max |Δ| < 1e-12", "max |Δ| ≤ 1e-12", "(float64, rtol 1e-14)", "tolerance 1e-11",
    "max |ours - package| = 0.0e+00", "rel. error 1.2e-07", "learning rate 1e-3", "lr=3e-4",
])
def test_bounds_zeros_and_large_floats_are_fine(text):
    assert tiny_printed_floats(text) == []
