"""The non-value rules: loops in the answer's source, NumPy warnings, aliasing-free copies."""

import numpy as np
import pytest

from dlbook_utils.grading.detectors import DETECTORS, loops_in
from dlbook_utils.grading.feedback import call_quietly, call_recording

VECTORISED = "def f(X, w):\n    return X @ w\n"


@pytest.mark.parametrize("body", [
    "    for x in X:\n        pass\n    return 0",
    "    i = 0\n    while i < 3:\n        i += 1\n    return i",
    "    return [x for x in X]",
    "    return sum(x for x in X)",
    "    def inner(v):\n        return {k: k for k in v}\n    return inner(X)",
])
def test_loops_and_comprehensions_are_found(body):
    assert loops_in(f"def f(X, w):\n{body}\n", "f") is True


def test_the_last_definition_counts_and_magics_do_not_break_parsing():
    source = "%timeit 1\n!ls\ndef f(X, w):\n    for x in X:\n        pass\n" + VECTORISED
    assert loops_in(source, "f") is False
    assert loops_in(VECTORISED + "def g():\n    for i in range(2):\n        pass\n", "f") is False


@pytest.mark.parametrize("source", [None, "", "def f(:\n", "def other(X):\n    for x in X: pass\n"])
def test_unknown_source_changes_nothing(source):
    assert loops_in(source, "f") is None


def test_warnings_are_recorded_not_raised():
    value, warning = call_recording(lambda z: 1 / (1 + np.exp(-z)), (np.array([-800.0, 0.0]),))
    assert "overflow" in warning and value[0] == 0.0
    value, warning = call_recording(lambda z: np.exp(-np.abs(z)), (np.array([-800.0]),))
    assert warning == ""  # underflow to 0 is not a warning


def test_each_argument_is_copied_on_its_own():
    z = np.zeros(3)

    def in_place(m, v):
        m += 1.0
        v += 2.0
        return m, v

    m, v = call_quietly(in_place, (z, z))
    assert m.tolist() == [1.0] * 3 and v.tolist() == [2.0] * 3 and z.tolist() == [0.0] * 3


@pytest.mark.parametrize("student,diverged", [
    ([-4.5e177, -9.5e177], True),  # 8.2's summed-gradient run after 100 steps: finite, huge
    ([np.nan, 1.0], True),
    ([np.inf, 2.0], True),
    ([4.0e6, 2.0], True),  # over a million times the largest true value (3)
    ([3.0e5, 2.0], False),  # wrong, but not blown up: another detector or the generic hint
    ([3.0, 2.0], False),
    ([-3.0, -2.0], False),  # the wrong sign of a value is not divergence
])
def test_diverged_means_nonfinite_or_orders_of_magnitude_too_large(student, diverged):
    test = DETECTORS["diverged"][0]
    assert test(np.array(student), np.array([3.0, 2.0]), None) is diverged
