"""Compare a data-parallel run with the one-process run: weights, gradients, step times.

Each function takes result dicts of :func:`dlbook_utils.data_parallel.train` (``weights``,
``first_gradient``, ``losses``, ``step_seconds``, ``allreduce_seconds``, ``conditions``).
NumPy only: the comparisons run in the caller, which never needs to import TensorFlow.
"""

from __future__ import annotations

import numpy as np

__all__ = ["WARMUP_STEPS", "max_weight_difference", "gradient_ratio", "float32_bound",
           "ms_per_step", "step_times", "round_ms", "fastest_ms", "verdict"]

WARMUP_STEPS = 2  # the first steps trace the tf.function and warm the caches: not timed


def max_weight_difference(a: dict, b: dict) -> float:
    """Largest |Δ| over every weight of two ``train`` results."""
    return max(float(np.max(np.abs(wa.astype(np.float64) - wb)))
               for wa, wb in zip(a["weights"], b["weights"], strict=True))


def gradient_ratio(a: dict, b: dict) -> float:
    """The factor s that best fits a's first gradient as s × b's (least squares, all weights).

    1 when both runs apply the same gradient; r (the number of workers) for the planted bug
    against the reference.
    """
    ga = np.concatenate([g.ravel() for g in a["first_gradient"]]).astype(np.float64)
    gb = np.concatenate([g.ravel() for g in b["first_gradient"]]).astype(np.float64)
    return float(ga @ gb / (gb @ gb))


def ms_per_step(result: dict, *, best: bool = False) -> float:
    """Wall time of a step in milliseconds, the first WARMUP_STEPS left out: the median, or
    with ``best=True`` the fastest step (the least disturbed by other programs on the machine).
    """
    times = result["step_seconds"][WARMUP_STEPS:]
    if times.size == 0:
        raise ValueError(f"ms_per_step expected more than {WARMUP_STEPS} steps, "
                         f"got {result['step_seconds'].size}")
    return 1e3 * float(np.min(times) if best else np.median(times))


def float32_bound(result: dict) -> float:
    """How far two float32 runs of ``result``'s length may drift apart by rounding alone.

    One float32 rounding (eps = 2**-23 relative) of the largest weight per step: the r workers
    sum the same products in another order, which changes each step's update by about that much.
    A bound stated and tested, not proved: at the defaults (20 steps) it is 1.0e-6, and 2 workers
    differ from one process by 4.5e-8; the planted bug by 0.11.
    """
    largest = max(float(np.max(np.abs(w))) for w in result["weights"])
    return len(result["losses"]) * float(np.finfo(np.float32).eps) * largest


def step_times(single: dict, workers: list[dict]) -> dict:
    """Milliseconds per step of one process and of r workers, and what the difference means.

    A synchronous step ends when the slowest worker's does, so the workers' time is the largest
    over the workers. ``*_ms`` are medians, ``*_best_ms`` fastest steps (on a busy machine the
    median also measures the other programs); ``speedup`` > 1 means the r workers finish a step
    sooner. ``allreduce_ms`` is one all-reduce of a gradient's worth of zeros: the
    communication alone, which one process does not pay.
    """
    times = {}
    for best, suffix in [(False, "ms"), (True, "best_ms")]:
        times[f"single_{suffix}"] = ms_per_step(single, best=best)
        times[f"workers_{suffix}"] = max(ms_per_step(w, best=best) for w in workers)
    times["speedup"] = times["single_ms"] / times["workers_ms"]
    times["best_speedup"] = times["single_best_ms"] / times["workers_best_ms"]
    times["allreduce_ms"] = 1e3 * max(w["allreduce_seconds"] for w in workers)
    times["workers"] = len(workers)
    times["conditions"] = {key: value for key, value in workers[0]["conditions"].items()
                           if key not in ("task", "workers")}
    return times


def _as_workers(results) -> list[dict]:
    return results if isinstance(results, list) else [results]


def round_ms(results) -> np.ndarray:
    """Milliseconds per step of a run timed in rounds (``round_seconds``), one per round
    (rounds,): the median step of the round. For r workers (a list of results) the slowest
    worker's, since a synchronous step ends when the slowest worker's does.
    """
    return 1e3 * np.max([np.median(r["round_seconds"], axis=1)
                         for r in _as_workers(results)], axis=0)


def fastest_ms(results, *, allreduce: bool = False) -> float:
    """The fastest step (or, with ``allreduce=True``, all-reduce alone) of every round, in ms:
    the least disturbed by other programs. For r workers, the slowest worker's fastest."""
    key = "round_allreduce_seconds" if allreduce else "round_seconds"
    return 1e3 * max(float(np.min(r[key])) for r in _as_workers(results))


def verdict(ratios) -> str:
    """What per-round ratios a/b (a ratio > 1: b is faster) allow one to say: a side is
    faster only if it is faster in every round; otherwise nothing."""
    ratios = np.asarray(ratios)
    if np.all(ratios > 1):
        return "faster in every round"
    if np.all(ratios < 1):
        return "slower in every round"
    return "no clear winner"
