"""The data of exercise 5.7 (train an MLP to a target accuracy on the 8x8 digits).

sklearn's 1797 digits are split once, stratified, with a fixed seed: the learner's part (1437
images) is what a notebook trains and validates on, and what the grader passes to the learner's
``train_mlp``; the held-out part (360 images) is used only by the grader, in its own process,
to judge the returned weights. The learner's code never receives it. (The digits are public:
for graded work, an instructor can judge on data kept in a course directory instead.)
"""

from __future__ import annotations

from functools import cache

import numpy as np

HELDOUT_FRACTION = 0.2
SPLIT_SEED = 2026


@cache
def _split():
    from dlbook_utils.data import load_digits_split

    X_a, X_h, y_a, y_h = load_digits_split(HELDOUT_FRACTION, seed=SPLIT_SEED, dtype=np.float64)
    for a in (X_a, X_h, y_a, y_h):
        a.setflags(write=False)  # shared by every caller: nobody may edit it in place
    return X_a, y_a, X_h, y_h


def learner_digits() -> tuple[np.ndarray, np.ndarray]:
    """The learner's part: ``X`` (1437, 64) pixels in [0, 1], ``y`` (1437,) labels 0-9."""
    X_a, y_a, _, _ = _split()
    return X_a.copy(), y_a.copy()


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The grader's held-out part: ``X`` (360, 64), ``y`` (360,)."""
    _, _, X_h, y_h = _split()
    return X_h, y_h
