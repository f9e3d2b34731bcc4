"""Tests for dlbook_utils.augment1d: the chapter's eq-shift-1d, eq-stretch-1d, eq-noise on
signals, each against an independent computation, with planted bugs that the checks catch."""

import numpy as np
import pytest

from dlbook_utils import augment1d as S


def signals(n=3, length=11, c=None):
    """Signals with all-distinct values: no symmetry can hide a wrong index."""
    shape = (n, length) if c is None else (n, length, c)
    return np.arange(np.prod(shape), dtype=np.float64).reshape(shape) ** 1.5


# ----------------------------------------------------------------------------- shifts
def shift_error(shift_fn) -> float:
    """Max |shift_fn - np.roll| over every k of -L..L, with and without a channel axis."""
    worst = 0.0
    for x in (signals(), signals(c=2)):
        for k in range(-x.shape[1], x.shape[1] + 1):
            worst = max(worst, float(np.max(np.abs(shift_fn(x, k) - np.roll(x, k, axis=1)))))
    return worst


@pytest.mark.checks("eq-shift-1d", kind="closed form", tol="exact")
def test_shift_is_a_circular_roll():
    assert shift_error(S.shift) == 0.0
    x = signals()
    np.testing.assert_array_equal(S.shift(x, [1, 0, -2])[0], np.roll(x[0], 1))
    np.testing.assert_array_equal(S.shift(x, [1, 0, -2])[2], np.roll(x[2], -2))


def test_shift_check_catches_planted_bugs():
    def wrong_direction(x, k):
        return S.shift(x, -np.asarray(k))

    def zero_filled(x, k):  # a translation that drops what leaves, as for images
        out = np.roll(x, k, axis=1)
        if k > 0:
            out[:, :k] = 0
        elif k < 0:
            out[:, k:] = 0
        return out

    for bug in (wrong_direction, zero_filled):
        assert shift_error(bug) > 1.0, bug.__name__


def test_random_shift_reaches_every_offset_and_only_those():
    x = np.zeros((2000, 9))
    x[:, 4] = 1.0
    out = S.random_shift(x, 3, rng=np.random.default_rng(0))
    moved = out.argmax(axis=1) - 4
    assert set(moved) == set(range(-3, 4))
    with pytest.raises(ValueError, match="max_shift"):
        S.random_shift(x, -1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="integer shifts"):
        S.shift(x, 1.5)


# ----------------------------------------------------------------------------- stretches
def stretch_error(stretch_fn) -> float:
    """Max |stretch_fn - eq-stretch-1d| with x~ computed by np.interp(..., period=L)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 40))
    s = np.array([0.7, 0.9, 1.0, 1.1, 1.3, 1.6])
    length, o = 40, 19.5
    expected = np.stack([
        np.interp((o + (np.arange(length) - o) / si) % length, np.arange(length), xi,
                  period=length)
        for xi, si in zip(x, s, strict=True)])
    return float(np.max(np.abs(stretch_fn(x, s) - expected)))


@pytest.mark.checks("eq-stretch-1d", kind="closed form", tol="atol 1e-12")
def test_stretch_is_circular_linear_interpolation():
    assert stretch_error(S.stretch) < 1e-12
    x = signals(c=3)
    np.testing.assert_array_equal(S.stretch(x, 1.0), x)  # s = 1: identity
    np.testing.assert_allclose(S.stretch(x, 1.25)[..., 1], S.stretch(x[..., 1], 1.25))


def test_stretch_widens_a_bump_for_s_above_one():
    t = np.arange(40)
    bump = np.exp(-0.5 * ((t - 19.5) / 3.0) ** 2)[None]
    width = [float(np.sum(S.stretch(bump, s) > 0.5)) for s in (0.7, 1.0, 1.4)]
    assert width[0] < width[1] < width[2]


def test_stretch_check_catches_planted_bugs():
    def times_s(x, s):  # reads at o + (t - o) * s: stretches the wrong way
        return S.stretch(x, 1 / np.asarray(s))

    def nearest(x, s):  # rounds instead of interpolating
        length, o = x.shape[1], (x.shape[1] - 1) / 2
        u = (o + (np.arange(length)[None] - o) / np.asarray(s)[:, None]) % length
        return np.take_along_axis(x, np.round(u).astype(int) % length, axis=1)

    def about_zero(x, s):  # stretches about t = 0 instead of the centre
        length = x.shape[1]
        return np.stack([np.interp((np.arange(length) / si) % length, np.arange(length), xi,
                                   period=length) for xi, si in zip(x, s, strict=True)])

    for bug in (times_s, nearest, about_zero):
        assert stretch_error(bug) > 0.1, bug.__name__


def test_random_stretch_range_and_errors():
    x = np.random.default_rng(0).standard_normal((5, 40)).astype(np.float32)
    out = S.random_stretch(x, 1.5, rng=np.random.default_rng(1))
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(S.random_stretch(x, 1.0, rng=np.random.default_rng(1)), x)
    with pytest.raises(ValueError, match="max_factor"):
        S.random_stretch(x, 0.5, rng=np.random.default_rng(1))
    with pytest.raises(ValueError, match="s > 0"):
        S.stretch(x, 0.0)
    with pytest.raises(ValueError, match="shape"):
        S.stretch(x, np.ones(3))


def drawn_log_factors(random_stretch_fn, n=4000, max_factor=1.5) -> np.ndarray:
    """The log s that random_stretch_fn drew, read back from a stretched ramp.

    For x[t] = t - o, eq-stretch-1d gives x'[t] = (t - o) / s wherever u does not wrap, which
    holds at the two centre samples for any s in the range: s = 1 / (x'[20] - x'[19])."""
    length = 40
    ramp = np.tile(np.arange(length) - (length - 1) / 2, (n, 1))  # (n, 40)
    out = random_stretch_fn(ramp, max_factor, rng=np.random.default_rng(5))
    return -np.log(out[:, 20] - out[:, 19])


def log_uniform_distance(random_stretch_fn, max_factor=1.5) -> float:
    """Kolmogorov-Smirnov distance of the drawn log s from uniform on [-log m, log m]."""
    log_s = np.sort(drawn_log_factors(random_stretch_fn, max_factor=max_factor))
    edge = np.log(max_factor)
    cdf = (log_s + edge) / (2 * edge)  # the uniform CDF at the sorted draws
    n = len(log_s)
    return float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))


def test_random_stretch_draws_log_s_uniformly_and_symmetrically():
    log_s = drawn_log_factors(S.random_stretch)
    assert np.all(np.abs(log_s) <= np.log(1.5) + 1e-9)  # inside [1/1.5, 1.5]
    # 4000 draws: the KS distance of a correct sampler exceeds 0.031 with probability < 0.001
    assert log_uniform_distance(S.random_stretch) < 0.031
    assert abs(np.mean(log_s > 0) - 0.5) < 0.03  # narrowing and widening equally likely


def test_log_uniform_check_catches_planted_bugs():
    def widen_only(x, max_factor, *, rng):  # draws only s >= 1
        return S.stretch(x, np.exp(rng.uniform(0, np.log(max_factor), size=len(x))))

    def uniform_in_s(x, max_factor, *, rng):  # uniform in s: widening more likely
        return S.stretch(x, rng.uniform(1 / max_factor, max_factor, size=len(x)))

    for bug in (widen_only, uniform_in_s):
        assert log_uniform_distance(bug) > 0.05, bug.__name__


# ----------------------------------------------------------------------------- noise, inputs
@pytest.mark.checks("eq-noise", kind="closed form", tol="atol 1e-6")
def test_signal_noise_is_the_equation_without_a_range():
    x = np.random.default_rng(2).standard_normal((50, 40, 1)).astype(np.float32)
    eps = np.random.default_rng(7).standard_normal(x.shape).astype(np.float32)
    got = S.gaussian_noise(x, 0.3, rng=np.random.default_rng(7))
    assert np.max(np.abs(got - (x + 0.3 * eps))) < 1e-6
    clipped = S.gaussian_noise(x, 0.3, rng=np.random.default_rng(7), clip=(-1, 1))
    assert np.max(np.abs(clipped - np.clip(x + 0.3 * eps, -1, 1))) < 1e-6
    # a planted bug that clips standardised signals to [0, 1] is far off
    assert np.max(np.abs(np.clip(x + 0.3 * eps, 0, 1) - (x + 0.3 * eps))) > 0.5


def test_inputs_are_checked_and_left_untouched():
    x = signals()
    keep = x.copy()
    for op in (lambda: S.shift(x, 2), lambda: S.stretch(x, 1.3),
               lambda: S.gaussian_noise(x, 0.1, rng=np.random.default_rng(0))):
        op()
    np.testing.assert_array_equal(x, keep)
    with pytest.raises(ValueError, match=r"\(n, length\)"):
        S.shift(np.zeros(5), 1)
    with pytest.raises(ValueError, match="floating-point"):
        S.shift(np.zeros((2, 5), int), 1)
    with pytest.raises(ValueError, match="Generator"):
        S.random_shift(x, 1, rng=0)
