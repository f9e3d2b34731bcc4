"""Claims of chapter 5 that the prose states as formulas, checked exactly.

- RMSprop's uncorrected average inflates its steps: with a constant gradient, step t is
  lr / sqrt(1 - rho^t) (first step ~3.16 lr at rho = 0.9), while Adam's is lr.
- The variance of a mini-batch mean is sigma^2 / B with replacement, and smaller by
  (n - B) / (n - 1) without replacement (an epoch's shuffle).
"""

import itertools
import math

import numpy as np
import pytest

from dlbook_utils import optim


def step_sizes(opt, steps: int, g: float = 1.0) -> np.ndarray:
    """|w_t - w_{t-1}| / lr for t = 1..steps under a constant gradient g."""
    params, sizes = {"w": np.zeros(1)}, []
    for _ in range(steps):
        before = params["w"][0]
        opt.step(params, {"w": np.array([g])})
        sizes.append(abs(params["w"][0] - before) / opt.lr)
    return np.array(sizes)


def rmsprop_startup_matches(opt, rho: float = 0.9, steps: int = 30) -> bool:
    t = np.arange(1, steps + 1)
    # eps = 1e-7 inside the root shifts the ratio by ~1e-7 relative: tolerance 1e-6
    return np.allclose(step_sizes(opt, steps), 1 / np.sqrt(1 - rho**t), rtol=1e-6, atol=0)


def test_rmsprop_first_step_is_sqrt10_times_lr():
    sizes = step_sizes(optim.RMSprop(1e-3, rho=0.9), 1)
    assert sizes[0] == pytest.approx(math.sqrt(10), rel=1e-6)
    assert rmsprop_startup_matches(optim.RMSprop(1e-3, rho=0.9))


def test_adam_steps_are_lr_from_the_start():
    assert np.allclose(step_sizes(optim.Adam(1e-3), 30), 1.0, rtol=1e-6, atol=0)


class BiasCorrectedRMSprop(optim.RMSprop):
    """Planted: RMSprop with Adam's correction of s; its steps are lr from the start."""

    def _update(self, w, g, state, lr):
        s = self._slot(state, "v", w)
        s[...] = self.rho * s + (1 - self.rho) * g**2
        w -= lr * g / np.sqrt(s / (1 - self.rho**self.t) + self.eps)


def test_startup_check_catches_a_bias_corrected_rmsprop():
    assert not rmsprop_startup_matches(BiasCorrectedRMSprop(1e-3, rho=0.9))


def batch_mean_variance(x: np.ndarray, batch: int, replace: bool) -> float:
    """Exact variance of the mean of a batch drawn uniformly from x (n,)."""
    n = len(x)
    draws = (itertools.product(range(n), repeat=batch) if replace
             else itertools.combinations(range(n), batch))
    means = np.array([x[list(d)].mean() for d in draws])
    return float(means.var())


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_batch_variance_with_and_without_replacement(batch):
    x = np.random.default_rng(0).standard_normal(6)
    n, sigma2 = len(x), float(x.var())  # population variance of the per-example values
    with_repl = batch_mean_variance(x, batch, replace=True)
    without = batch_mean_variance(x, batch, replace=False)
    assert with_repl == pytest.approx(sigma2 / batch, rel=1e-12)
    assert without == pytest.approx(sigma2 / batch * (n - batch) / (n - 1), rel=1e-12,
                                    abs=1e-15)
    if 1 < batch:  # the plain 1/B law is wrong without replacement
        assert without < 0.9 * sigma2 / batch
