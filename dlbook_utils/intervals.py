"""How sure are we? Confidence intervals over seeds, and claims worded as the data allow.

A training run is random: the initial weights and the order of the batches come from a seed.
Run a configuration with several seeds (the book uses at least 5) and each seed gives one score
``x_1 .. x_n``. Their mean estimates what this configuration gives on average over seeds, and a
95 % interval says how far that estimate may be off:

    Student-t interval:  mean ± t_{0.975, n-1} · s / √n,   s = sample std (ddof=1)

With n = 5, t_{0.975, 4} = 2.776, not the 1.96 of the normal distribution: s is itself
estimated from 5 numbers, and the t quantile pays for that. It assumes the scores are roughly
normal over seeds; the coverage test in the book's test suite checks 95 % on simulated runs.

The interval covers the seed-to-seed variation on *fixed* data splits, not the sampling error of
the test set itself (a different test set would move every configuration's score).

:func:`compare` turns two sets of scores into a sentence a chapter can print: "better" only when
the two intervals separate, or when a paired t-test over the same seeds gives p < 0.05;
otherwise "no measurable difference".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

__all__ = ["Interval", "t_interval", "bootstrap_interval", "mean_and_half_width",
           "Comparison", "compare", "is_higher_better", "T_METHOD"]

T_METHOD = "Student-t over seeds"


@dataclass(frozen=True)
class Interval:
    """A mean with a confidence interval ``[low, high]`` from ``n`` values."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95
    method: str = T_METHOD

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}]"

    def describe(self) -> str:
        """E.g. ``0.912 [0.905, 0.919] (95 % CI, Student-t over seeds, n = 5)``."""
        return f"{self} ({self.confidence * 100:g} % CI, {self.method}, n = {self.n})"


def _scores(values, where: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{where} expected one score per seed, shape (n,), got {values.shape}")
    if len(values) < 2:
        raise ValueError(f"{where} needs at least 2 scores for an interval, got {len(values)}")
    if not np.isfinite(values).all():
        raise ValueError(f"{where} expected finite scores, got {values}")
    return values


def _check_confidence(confidence, where: str) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"{where} expected confidence in (0, 1), got {confidence!r}")
    return float(confidence)


@lru_cache(maxsize=256)
def _t_quantile(n: int, confidence: float) -> float:
    """t_{(1 + confidence) / 2, n - 1}: cached, the simulations call it thousands of times."""
    return float(stats.t.ppf((1 + confidence) / 2, df=n - 1))


def mean_and_half_width(values, axis: int = 0, confidence: float = 0.95):
    """Mean and Student-t half width along ``axis``, ignoring NaN (a run that stopped early).

    values (n_seeds, ...) -> mean (...), half (...). Where fewer than 2 values are finite the
    half width is NaN: one run gives no spread. Used per epoch for the bands of curves.
    """
    values = np.asarray(values, dtype=np.float64)
    _check_confidence(confidence, "mean_and_half_width")
    finite = np.isfinite(values)
    n = finite.sum(axis=axis)
    safe = np.where(finite, values, 0.0)
    # Work in units of the largest |value|: squares of values near 1e200 would overflow.
    scale = np.abs(safe).max(axis=axis, keepdims=True)
    safe = safe / np.where(scale > 0, scale, 1.0)
    mean = np.divide(safe.sum(axis=axis), n, out=np.full(n.shape, np.nan), where=n > 0)
    dev = np.where(finite, safe - np.expand_dims(mean, axis), 0.0)
    var = np.divide((dev * dev).sum(axis=axis), n - 1, out=np.full(n.shape, np.nan),
                    where=n > 1)
    t = np.array([_t_quantile(int(k), confidence) if k > 1 else np.nan for k in n.ravel()])
    half = t.reshape(n.shape) * np.sqrt(var) / np.sqrt(np.maximum(n, 1))
    scale = np.squeeze(np.where(scale > 0, scale, 1.0), axis=axis)
    return mean * scale, half * scale


def t_interval(values, confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean of ``values`` (n,): mean ± t_{(1+c)/2, n-1} s / √n."""
    values = _scores(values, "t_interval")
    confidence = _check_confidence(confidence, "t_interval")
    n = len(values)
    scale = float(np.abs(values).max()) or 1.0  # in units of the largest: no overflow at 1e200
    mean = scale * float((values / scale).mean())
    half = _t_quantile(n, confidence) * scale * float((values / scale).std(ddof=1)) / np.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, confidence)


def bootstrap_interval(values, confidence: float = 0.95, *, n_resamples: int = 10_000,
                       seed: int = 0) -> Interval:
    """Percentile bootstrap interval of the mean of ``values`` (n,).

    Resample the n scores with replacement ``n_resamples`` times, take the mean of each resample,
    and report the central ``confidence`` range of those means. It makes no normality
    assumption, but with 5 seeds it is too narrow (coverage well below 95 %: a resample of 5
    values rarely reaches the tails). Prefer :func:`t_interval` for few seeds.
    """
    values = _scores(values, "bootstrap_interval")
    confidence = _check_confidence(confidence, "bootstrap_interval")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(values.mean()), float(low), float(high), len(values), confidence,
                    "percentile bootstrap over seeds")


def _paired_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired t-test (scipy.stats.ttest_rel) of a - b over the same seeds.

    When every difference is the same (up to rounding: a spread below 1e-9 of their size) the
    test is degenerate, t = mean / 0: p = 1 if they are all zero, else 0 (a difference with no
    noise at all). scipy would warn of catastrophic cancellation there.
    """
    d = a - b
    if np.ptp(d) <= 1e-9 * np.abs(d).max():
        return 1.0 if not d.any() else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare`: the sentence to print and the numbers behind it."""

    sentence: str
    headline: str            # short, for a figure title
    verdict: str             # "better", "worse" (a against b) or "no measurable difference"
    a: Interval
    b: Interval
    difference: Interval     # of the paired differences a - b
    p_value: float           # paired t-test over the same seeds
    intervals_separate: bool

    def __str__(self) -> str:
        return self.sentence


def is_higher_better(metric: str) -> bool:
    """Accuracy-like names: higher is better; names with "loss" or "error": lower is."""
    return not any(word in metric for word in ("loss", "error"))


def _scores_and_seeds(x, name: str):
    """Scores and seeds from a result object (``.scores``, ``.seeds``) or a plain array."""
    if hasattr(x, "scores"):
        return _scores(x.scores, f"compare({name})"), tuple(getattr(x, "seeds", ()))
    return _scores(x, f"compare({name})"), ()


def compare(a, b, *, names=None, metric: str | None = None,
            higher_is_better: bool | None = None, confidence: float = 0.95,
            alpha: float = 0.05) -> Comparison:
    """Compare two configurations run over the *same* seeds; say "better" only if justified.

    ``a``, ``b``: per-seed scores (n,), or results with ``.scores`` and ``.seeds`` (e.g. from
    :func:`dlbook_utils.experiment.run_seeds` or ``final_test``). The verdict is "better" when
    the two Student-t intervals do not overlap, or when the paired t-test over the seeds
    (scipy.stats.ttest_rel: seed i of A against seed i of B, which removes what the seed does
    to both) gives p < ``alpha``; otherwise "no measurable difference". The p-value is always
    printed. ``names`` default to the results' labels (else "A", "B"), ``metric`` to
    ``a.metric`` (else "score"), ``higher_is_better`` to what the metric's name says (see
    :func:`is_higher_better`). Claims about configurations chosen on validation compare their
    test reports: the validation score of a winner is optimistic.
    """
    names = names or (getattr(a, "label", "A"), getattr(b, "label", "B"))
    metric = metric or getattr(a, "metric", "score")
    if higher_is_better is None:
        higher_is_better = is_higher_better(metric)
    (sa, seeds_a), (sb, seeds_b) = _scores_and_seeds(a, names[0]), _scores_and_seeds(b, names[1])
    if len(sa) != len(sb):
        raise ValueError(f"compare expected the same number of seeds for {names[0]} and "
                         f"{names[1]}, got {len(sa)} and {len(sb)}")
    if seeds_a and seeds_b and seeds_a != seeds_b:
        raise ValueError(f"compare pairs runs seed by seed, so both need the same seeds in the "
                         f"same order; got {seeds_a} for {names[0]} and {seeds_b} for {names[1]}")
    if not 0 < alpha < 1:
        raise ValueError(f"compare expected alpha in (0, 1), got {alpha!r}")
    ia, ib = t_interval(sa, confidence), t_interval(sb, confidence)
    diff = sa - sb
    # The interval of the differences: t_interval needs spread; identical differences have none.
    d_mean = float(diff.mean())
    d_int = (t_interval(diff, confidence) if np.ptp(diff) > 0
             else Interval(d_mean, d_mean, d_mean, len(diff), confidence))
    p = _paired_p_value(sa, sb)
    separate = not ia.overlaps(ib)
    a_ahead = (ia.mean > ib.mean) == higher_is_better
    if (separate or p < alpha) and ia.mean != ib.mean:
        verdict = "better" if a_ahead else "worse"
        winner, loser = (names[0], names[1]) if a_ahead else (names[1], names[0])
        why = ("the intervals do not overlap" if separate
               else f"the intervals overlap, but the paired t-test gives p < {alpha:g}")
        headline = f"{winner} beats {loser} on {metric}"
        lead = f"{winner} is better than {loser} on {metric} ({why})"
    else:
        verdict = "no measurable difference"
        headline = f"{names[0]} vs {names[1]}: no measurable difference in {metric}"
        lead = f"No measurable difference between {names[0]} and {names[1]} on {metric}"
    sentence = (f"{lead}: {names[0]} {ia}, {names[1]} {ib}, difference {d_int} "
                f"({confidence * 100:g} % Student-t intervals over {len(sa)} seeds; paired t-test "
                f"p = {p:.2g}).")
    return Comparison(sentence, headline, verdict, ia, ib, d_int, p, separate)
