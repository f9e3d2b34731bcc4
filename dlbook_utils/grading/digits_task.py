"""The data of exercise 6.8 (train an MLP to a target accuracy on the 8x8 digits).

sklearn's 1797 digits are split once, stratified, with a fixed seed: the learner's part (1437
images) is what a notebook trains and validates on, and what the grader passes to the learner's
``train_mlp``; the held-out part (360 images) is used only by the grader, in its own process,
to judge the returned weights. The learner's code never receives it. (The digits are public:
for graded work, an instructor can judge on data kept in a course directory instead.)

The file is read with NumPy, without importing scikit-learn: the grader's child runs each
notebook cell under a time limit, and importing scikit-learn alone can take seconds.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

HELDOUT_PER_CLASS = 36  # 10 classes -> 360 held-out images, 20 % of each class
SPLIT_SEED = 2026


def _all_digits() -> tuple[np.ndarray, np.ndarray]:
    """X (1797, 64) pixels scaled to [0, 1] (raw values are 0..16), y (1797,) labels."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        data = np.loadtxt(path, delimiter=",")
        return data[:, :-1] / 16.0, data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # another scikit-learn layout: the slow way

    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(np.int64)


@cache
def _split():
    X, y = _all_digits()
    rng = np.random.default_rng(SPLIT_SEED)
    held = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:HELDOUT_PER_CLASS]
                           for c in range(10)])
    # the learner's part, shuffled: any slice of it is a fair validation set
    mine = rng.permutation(np.setdiff1d(np.arange(len(y)), held))
    parts = (X[mine], y[mine], X[np.sort(held)], y[np.sort(held)])
    for a in parts:
        a.setflags(write=False)  # shared by every caller: nobody may edit it in place
    return parts


def learner_digits() -> tuple[np.ndarray, np.ndarray]:
    """The learner's part: ``X`` (1437, 64) pixels in [0, 1], ``y`` (1437,) labels 0-9."""
    X, y, _, _ = _split()
    return X.copy(), y.copy()


def heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The grader's held-out part: ``X`` (360, 64), ``y`` (360,)."""
    _, _, X, y = _split()
    return X, y
