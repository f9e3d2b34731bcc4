"""A fair experiment: fixed splits, several seeds, choices made on validation, test looked at once.

The protocol every comparison in the book follows:

1. ``Splits`` fixes train / validation / test data once. Its test part is *sealed*:
   ``splits.test`` raises, and only :func:`final_test` opens it (both live in
   :mod:`dlbook_utils.splits` and are re-exported here).
2. ``run_seeds(train_fn, config, splits)`` trains one configuration once per seed (≥ 5) and
   scores each run on **validation**; ``select(train_fn, configs, splits)`` does that for each
   candidate and keeps the best mean. Early-stopping epochs come from validation curves too.
3. ``final_test(results)`` scores the chosen configuration's models on test: once per
   configuration, never inside a selection, never for a configuration that lost a selection.
4. :func:`dlbook_utils.intervals.compare` words the conclusion as the intervals allow.

``train_fn(config, seed, splits)`` is yours: it trains with anything (the NumPy core, Keras)
and returns a :class:`Run` with per-epoch validation curves and a predictor. Example, on the
8×8 digits (two hidden-layer widths; a few seconds)::

    import numpy as np

    from dlbook_utils import data, experiment, layers, losses, optim, train
    from dlbook_utils.intervals import compare

    X_tr, X_te, y_tr, y_te = data.load_digits_split(seed=0)
    splits = experiment.Splits.from_arrays(X_tr, y_tr, val_size=0.25, test=(X_te, y_te))

    def train_fn(config, seed, splits):
        rng = np.random.default_rng(seed)
        model = layers.mlp([64, config["hidden"], 10], rng=rng, dtype=np.float32)
        hist = train.fit(model, losses.softmax_cross_entropy, optim.Adam(lr=1e-2),
                         *splits.train, val=splits.val, epochs=10, batch_size=64, rng=rng,
                         progress=False)
        return experiment.Run(hist, lambda X: train.predict(model, X))

    narrow = experiment.run_seeds(train_fn, {"hidden": 2}, splits)
    wide = experiment.run_seeds(train_fn, {"hidden": 32}, splits)
    print(compare(wide, narrow, names=("32 units", "2 units"), metric="validation accuracy"))
    print(experiment.final_test(wide))       # once; a second call raises
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .intervals import Interval, is_higher_better, t_interval
from .splits import FinalTestReport, SealedTestSetError, Splits, final_test, output_accuracy

__all__ = ["MIN_SEEDS", "GridEdgeWarning", "SealedTestSetError", "Splits", "Run",
           "SeedResults", "FinalTestReport", "run_seeds", "select", "final_test",
           "output_accuracy"]

MIN_SEEDS = 5  # one seed is an anecdote; 5 give a usable t interval (t_{0.975,4} = 2.78)


class GridEdgeWarning(UserWarning):
    """The best value of a grid is its smallest or largest: the optimum may lie beyond it."""


@dataclass
class Run:
    """What ``train_fn`` returns for one seed.

    ``curves``: per-epoch metrics, e.g. a ``dlbook_utils.train.History`` or what Keras'
    ``model.fit`` returns (its ``.history`` dict ``{"val_accuracy": [...], ...}`` is used).
    ``predictor``: ``X (m, ...) -> outputs (m, ...)``, e.g. ``lambda X: train.predict(model, X)``
    or ``lambda X: model.predict(X, verbose=0)``.
    ``epoch``: 0-based epoch whose weights the predictor holds; default the last one, or the
    best one when a ``History`` says early stopping restored the best weights.
    """

    curves: dict
    predictor: object
    epoch: int | None = None

    def __post_init__(self):
        if not isinstance(self.curves, dict) and isinstance(getattr(self.curves, "history",
                                                                    None), dict):
            self.curves = self.curves.history  # a Keras History callback
        if not isinstance(self.curves, dict):
            raise ValueError(f"Run expected curves as a dict of per-epoch lists, got "
                             f"{type(self.curves).__name__}")
        if self.epoch is None:
            restored = getattr(self.curves, "restored_best", False)
            self.epoch = self.curves.best_epoch if restored else -1


@dataclass(eq=False)
class SeedResults:
    """One configuration over several seeds; ``scores`` (n_seeds,) are validation scores."""

    label: str
    config: dict
    seeds: tuple
    metric: str
    runs: list
    scores: np.ndarray
    splits: Splits = field(repr=False)

    @property
    def interval(self) -> Interval:
        return t_interval(self.scores)

    def curves(self, key: str) -> np.ndarray:
        """(n_seeds, n_epochs) curve of ``key``, NaN after a run that stopped early."""
        lists = [list(run.curves.get(key, [])) for run in self.runs]
        if not all(lists):
            raise ValueError(f"{self.label}: a run has no {key!r} curve; it has "
                             f"{sorted(k for k, v in self.runs[0].curves.items() if len(v))}")
        out = np.full((len(lists), max(map(len, lists))), np.nan)
        for row, values in zip(out, lists, strict=True):
            row[:len(values)] = values
        return out

    def best_epoch(self, key: str | None = None) -> int:
        """0-based epoch where the mean validation curve is best: a stopping epoch chosen on
        validation, to retrain with ``epochs = best_epoch + 1``."""
        key = key or self.metric
        mean = np.nanmean(self.curves(key), axis=0)
        return int(np.nanargmax(mean) if is_higher_better(key) else np.nanargmin(mean))

    def __str__(self) -> str:
        return f"{self.label}: {self.metric} {self.interval.describe()}"


def _label(config) -> str:
    if isinstance(config, dict):
        return ", ".join(f"{k}={v!r}" for k, v in config.items()) or "default"
    return repr(config)


def _check_seeds(seeds) -> tuple:
    seeds = tuple(int(s) for s in seeds)
    if len(seeds) < MIN_SEEDS or len(set(seeds)) != len(seeds):
        raise ValueError(f"the protocol runs each configuration with at least {MIN_SEEDS} "
                         f"distinct seeds, got {seeds}")
    return seeds


def _seed_frameworks(seed: int) -> bool:
    """Seed Keras (and with it TF, NumPy's global and Python's generators) when it is in use,
    without importing it: a NumPy train_fn seeds its own Generator. True if Keras was seeded."""
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
        return True
    return False


def run_seeds(train_fn, config, splits: Splits, *, seeds=range(MIN_SEEDS),
              metric: str = "val_acc", label: str | None = None,
              progress: bool = True) -> SeedResults:
    """Train ``config`` once per seed with ``train_fn(config, seed, splits) -> Run``.

    Each run is scored by ``metric``, a validation curve, at the run's epoch (see ``Run``):
    scores (n_seeds,). Same seeds, same code -> same scores: a NumPy train_fn seeds its own
    Generator from ``seed``; Keras (imported before this call) is seeded here before each run
    with ``keras.utils.set_random_seed(seed)``. The progress bar (one step per
    seed) disappears from a live notebook when done (``leave=False``), but a notebook executed
    for the site keeps its first frame as text: chapters pass ``progress=False``, as with
    ``train.fit``.
    """
    if not isinstance(splits, Splits):
        raise ValueError(f"run_seeds expected splits: experiment.Splits, got "
                         f"{type(splits).__name__}")
    if not metric.startswith("val"):
        raise ValueError(f"run_seeds scores runs on a validation metric (a name starting with "
                         f"'val'), got {metric!r}: choices made on any other data are not fair")
    seeds, label = _check_seeds(seeds), label or _label(config)
    runs, scores = [], []
    outer = splits._busy
    splits._busy = outer or f"training {label!r}"  # inside select, say "selecting"
    try:
        for seed in tqdm(seeds, desc=label, leave=False, disable=not progress):
            keras_seeded = _seed_frameworks(seed)
            run = train_fn(config, seed, splits)
            if not keras_seeded and "keras" in sys.modules:
                raise RuntimeError("train_fn imported Keras, so this run was not seeded and "
                                   "would differ next time: import keras before run_seeds")
            if not isinstance(run, Run):
                raise ValueError(f"train_fn must return experiment.Run(curves, predictor), "
                                 f"got {type(run).__name__}")
            curve = list(run.curves.get(metric, []))
            if not curve:
                raise ValueError(f"train_fn's curves have no {metric!r} values; keys with "
                                 f"values: {sorted(k for k, v in run.curves.items() if len(v))}")
            if not -len(curve) <= run.epoch < len(curve):
                raise ValueError(f"Run.epoch={run.epoch} is outside the {len(curve)} epochs of "
                                 f"its {metric!r} curve")
            runs.append(run)
            scores.append(float(curve[run.epoch]))
    finally:
        splits._busy = outer
    return SeedResults(label, config, seeds, metric, runs, np.array(scores), splits)


def select(train_fn, configs, splits: Splits, *, seeds=range(MIN_SEEDS),
           metric: str = "val_acc", progress: bool = True, reuse=()):
    """Run every candidate config over the seeds; return ``(best, all_results)``.

    ``best`` has the best mean validation ``metric``. The others are recorded in ``splits`` as
    having lost to it, so :func:`final_test` refuses them: the test set reports the winner.
    Candidates already scored on test are refused: choosing among them would choose on test.
    The losers keep their curves but drop their predictors (models), which nothing may test.
    The winner's validation score is optimistic (it is the best of several noisy means):
    claims about it rest on its :func:`final_test` report.

    When the configs vary one number over at least three values and the best is the smallest
    or largest, a :class:`GridEdgeWarning` says so: the optimum may lie beyond the grid, and
    that is visible on validation. Extend the grid and select again *before* ``final_test``;
    ``reuse=`` earlier results (same splits, seeds and metric) so that they are not retrained.
    """
    configs = list(configs)
    if not configs:
        raise ValueError("select expected at least one configuration, got none")
    labels = [_label(c) for c in configs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"select expected distinct configurations, got labels {labels}")
    seen_on_test = [label for label in labels if label in splits.tested]
    if seen_on_test:
        raise SealedTestSetError(f"{seen_on_test} already evaluated on test: selecting among "
                                 "them would choose on test. Select first, then final_test.")
    seeds = _check_seeds(seeds)
    known = {r.label: r for r in reuse
             if r.splits is splits and r.seeds == seeds and r.metric == metric}

    def scored(config, label):
        return known.get(label) or run_seeds(train_fn, config, splits, seeds=seeds,
                                             metric=metric, progress=progress)

    outer, splits._busy = splits._busy, "selecting a configuration"
    try:
        results = [scored(c, label) for c, label in
                   tqdm(list(zip(configs, labels, strict=True)), desc="configs", leave=False,
                        disable=not progress)]
        means = np.array([r.scores.mean() for r in results])
        i_best = int(np.argmax(means) if is_higher_better(metric) else np.argmin(means))
        if any(run.predictor is None for run in results[i_best].runs):
            # an earlier loser, reused, won: its models were freed, so train it again
            results[i_best] = run_seeds(train_fn, configs[i_best], splits, seeds=seeds,
                                        metric=metric, progress=progress)
    finally:
        splits._busy = outer
    best = results[i_best]
    splits.lost_selection.pop(best.label, None)  # it may have lost an earlier selection
    for r in results:
        if r is not best:
            splits.lost_selection[r.label] = best.label
            for run in r.runs:  # never tested: free the models, keep the curves
                run.predictor = None
    edge = _grid_edge(configs, configs[i_best])
    if edge:
        warnings.warn(edge, GridEdgeWarning, stacklevel=2)
    return best, results


def _grid_edge(configs, best) -> str | None:
    """A message when the configs vary one number (>= 3 values) and ``best`` sits at an end."""
    if not all(isinstance(c, dict) for c in configs):
        return None
    keys = {k for c in configs for k in c}
    varying = [k for k in keys if len({repr(c.get(k)) for c in configs}) > 1]
    values = [c.get(varying[0]) for c in configs] if len(varying) == 1 else []
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric or len(set(values)) < 3 or best.get(varying[0]) not in (min(values),
                                                                           max(values)):
        return None
    side = "largest" if best[varying[0]] == max(values) else "smallest"
    return (f"the best {varying[0]}={best[varying[0]]!r} is the {side} value of the grid "
            f"{sorted(set(values))}: the optimum may lie beyond it. Extend the grid and "
            f"select again on validation (reuse= the results so far) before final_test.")
