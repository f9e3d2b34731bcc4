"""The sealed test split: fixed train / validation / test data, and the one look at test.

``Splits`` holds the three parts of the data. ``splits.train`` and ``splits.val`` are open;
``splits.test`` raises :class:`SealedTestSetError`. Only :func:`final_test` reads the test part,
and it keeps a ledger: each configuration is scored on test once, never while a selection is
running, and never when it lost a selection on validation. A careless loop that picks the best
configuration by its test score therefore fails loudly instead of reporting an optimistic number.

Used through :mod:`dlbook_utils.experiment`, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from .intervals import Interval, t_interval

__all__ = ["SealedTestSetError", "Splits", "FinalTestReport", "final_test", "output_accuracy"]


class SealedTestSetError(RuntimeError):
    """Raised when code reaches for the test split outside :func:`final_test`."""


class Splits:
    """Fixed train / validation / test data: each a tuple ``(X (n, ...), y (n, ...))``.

    The arrays are read-only copies (an in-place change would leak into every later run).
    ``train`` and ``val`` are open; ``test`` is sealed: reading it raises, and
    :func:`final_test` keeps a ledger, ``tested``, of each configuration scored on it.
    """

    def __init__(self, train, val, test):
        self.train = _frozen(train, "train")
        self.val = _frozen(val, "val")
        self._test = _frozen(test, "test")
        if _same_data(self.val, self._test) or _same_data(self.train, self._test):
            raise ValueError("Splits got the same data for test as for train or validation: a "
                             "score on data used for training or selection is not a test score")
        self.tested = {}          # label -> FinalTestReport: what was reported on test
        self.lost_selection = {}  # label -> label of the configuration that beat it
        self._busy = None         # what is running (a selection, a training run), if anything

    @classmethod
    def from_arrays(cls, X, y, *, val_size: float, test_size: float | None = None,
                    test=None, seed: int = 0, stratify: bool = True) -> Splits:
        """Split ``X, y`` once, with a fixed ``seed``; stratified by the labels ``y``
        (each split keeps the class proportions) unless ``stratify=False`` (regression).

        Either ``test_size`` (a fraction of ``X`` becomes test) or ``test=(X_test, y_test)``
        (a given test set, e.g. a data set's official one); ``val_size`` is a fraction of what
        remains for training.
        """
        if (test_size is None) == (test is None):
            raise ValueError("Splits.from_arrays expected exactly one of test_size= and test=, "
                             f"got test_size={test_size!r} and test={'given' if test else None}")
        X, y = np.asarray(X), np.asarray(y)
        if test is None:
            X, X_te, y, y_te = train_test_split(X, y, test_size=test_size, random_state=seed,
                                                stratify=y if stratify else None)
            test = (X_te, y_te)
        X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=val_size, random_state=seed,
                                                  stratify=y if stratify else None)
        return cls((X_tr, y_tr), (X_va, y_va), test)

    @property
    def test(self):
        raise SealedTestSetError(
            "the test split is sealed: choose configurations and epochs on splits.val, then "
            "call experiment.final_test(results) once for each configuration you report")

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v[0])}" for k, v in
                          (("train", self.train), ("val", self.val), ("test", self._test)))
        return f"Splits({sizes}; test sealed, opened for {len(self.tested)} configuration(s))"


def _frozen(pair, name: str) -> tuple:
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise ValueError(f"Splits expected {name}=(X, y), got {type(pair).__name__}")
    X, y = (np.array(a) for a in pair)  # copies: the caller's arrays stay writable
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"Splits expected {name} X and y with the same, non-zero number of "
                         f"rows, got {len(X)} and {len(y)}")
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _same_data(a: tuple, b: tuple) -> bool:
    return a[0].shape == b[0].shape and np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@dataclass(eq=False)
class FinalTestReport:
    """Test scores (n_seeds,) of one configuration: the only look at the test split.

    ``metric`` names what was measured, e.g. "test accuracy"; ``seeds`` pair it for
    :func:`dlbook_utils.intervals.compare` with another configuration's report. ``order``
    counts the configurations scored on this test split so far, this one included: the
    printed report says how many looks at test there have been.
    """

    label: str
    seeds: tuple
    metric: str
    scores: np.ndarray
    order: int

    @property
    def interval(self) -> Interval:
        return t_interval(self.scores)

    def __str__(self) -> str:
        return (f"{self.label}: {self.metric} {self.interval.describe()}; "
                f"configuration {self.order} scored on this test split, each once")


def output_accuracy(outputs, y) -> float:
    """Accuracy from model outputs: arg-max of (m, k) scores, or the sign of (m,)/(m, 1) logits."""
    outputs, y = np.asarray(outputs), np.asarray(y)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
    else:
        predicted = (outputs.reshape(len(outputs)) > 0).astype(int)
    if predicted.shape != y.shape:
        raise ValueError(f"output_accuracy expected labels of shape {predicted.shape}, "
                         f"got {y.shape}")
    return float(np.mean(predicted == y))


def final_test(results, *, score=output_accuracy,
               metric: str = "accuracy") -> FinalTestReport:
    """Score each seed's predictor in ``results`` (``experiment.SeedResults``) on test, once.

    ``score(outputs, y_test) -> float``. Refuses: a second call for the same configuration, a
    call while a selection or a training run is going on, and a configuration that lost a
    selection (reporting it would be choosing on test).
    """
    if not all(hasattr(results, a) for a in ("splits", "runs", "label", "seeds")):
        raise ValueError(f"final_test expected the SeedResults of run_seeds or select, got "
                         f"{type(results).__name__}")
    splits, label = results.splits, results.label
    if splits._busy:
        raise SealedTestSetError(f"final_test was called while {splits._busy}: a test score "
                                 "seen during selection steers the choice. Call it after.")
    if label in splits.tested:
        raise SealedTestSetError(f"{label!r} was already evaluated on test "
                                 f"({splits.tested[label]}); a second look turns the test set "
                                 "into a validation set. Report the first result (running "
                                 "a notebook again from the top builds new Splits).")
    if label in splits.lost_selection:
        raise SealedTestSetError(f"{label!r} lost the validation selection to "
                                 f"{splits.lost_selection[label]!r}; only the chosen "
                                 "configuration is reported on test")
    X, y = splits._test
    scores = np.array([score(run.predictor(X), y) for run in results.runs], dtype=np.float64)
    report = FinalTestReport(label, results.seeds, f"test {metric}", scores,
                             order=len(splits.tested) + 1)
    splits.tested[label] = report
    return report
