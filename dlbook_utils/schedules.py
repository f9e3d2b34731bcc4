"""Learning-rate schedules: callables ``t -> lr`` with t = 0, 1, 2, ... (epoch or step).

Pass one as an optimizer's ``lr`` (it is then evaluated at the 0-based step count, like a
Keras ``LearningRateSchedule``), or call it once per epoch in a training loop and assign
``optimizer.lr``. Formulas: Eq. (eq-lr-schedules) in 05_optimizers.
"""

from __future__ import annotations

import math

from ._validate import positive

__all__ = ["Schedule", "constant", "step_decay", "exponential", "cosine", "linear_warmup"]


class Schedule:
    """A named callable ``t -> lr``; ``repr`` shows its formula's parameters."""

    def __init__(self, fn, description: str):
        self._fn, self.description = fn, description

    def __call__(self, t) -> float:
        if isinstance(t, bool) or not float(t) == int(t) or t < 0:
            raise ValueError(f"{self.description} expected a step t = 0, 1, 2, ..., got {t!r}")
        return float(self._fn(int(t)))

    def __repr__(self):
        return self.description


def constant(lr) -> Schedule:
    """lr_t = lr."""
    lr = positive(lr, "constant", "lr")
    return Schedule(lambda t: lr, f"constant(lr={lr})")


def step_decay(lr, drop: float = 0.5, every: int = 10) -> Schedule:
    """lr_t = lr * drop^floor(t / every): multiply by ``drop`` every ``every`` steps."""
    lr = positive(lr, "step_decay", "lr")
    drop = positive(drop, "step_decay", "drop")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"step_decay expected every to be a positive integer, got {every!r}")
    return Schedule(lambda t: lr * drop ** (t // every),
                    f"step_decay(lr={lr}, drop={drop}, every={every})")


def exponential(lr, rate: float = 0.96, decay_steps: int = 1) -> Schedule:
    """lr_t = lr * rate^(t / decay_steps) (= keras ExponentialDecay, staircase=False)."""
    lr = positive(lr, "exponential", "lr")
    rate = positive(rate, "exponential", "rate")
    decay_steps = positive(decay_steps, "exponential", "decay_steps")
    return Schedule(lambda t: lr * rate ** (t / decay_steps),
                    f"exponential(lr={lr}, rate={rate}, decay_steps={decay_steps:g})")


def cosine(lr, total: int, min_lr: float = 0.0) -> Schedule:
    """lr_t = min_lr + (lr - min_lr) (1 + cos(pi t / total)) / 2 for t <= total, then min_lr.

    Loshchilov & Hutter (2017), without restarts.
    """
    lr = positive(lr, "cosine", "lr")
    total = positive(total, "cosine", "total")
    min_lr = positive(min_lr, "cosine", "min_lr", allow_zero=True)
    if min_lr > lr:
        raise ValueError(f"cosine expected min_lr <= lr = {lr}, got {min_lr}")

    def fn(t):
        frac = min(t / total, 1.0)
        return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * frac))

    return Schedule(fn, f"cosine(lr={lr}, total={total:g}, min_lr={min_lr})")


def linear_warmup(after, warmup: int) -> Schedule:
    """Ramp linearly to ``after(0)`` over ``warmup`` steps, then follow ``after(t - warmup)``.

    lr_t = after(0) * (t + 1) / warmup for t < warmup. ``after`` is a schedule or a number.
    """
    if not callable(after):
        after = constant(after)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 1:
        raise ValueError(f"linear_warmup expected warmup to be a positive integer, got {warmup!r}")

    def fn(t):
        if t < warmup:
            return after(0) * (t + 1) / warmup
        return after(t - warmup)

    return Schedule(fn, f"linear_warmup({after!r}, warmup={warmup})")
