"""Data augmentation for 1-D signals such as MNIST-1D: circular shifts, time stretches, noise.

Every function takes a batch ``x`` of shape ``(n, length)`` or ``(n, length, c)`` (channels
last, as ``Conv1D``) and returns a new float array of the same shape and dtype; the input is
never modified. Random variants take ``rng: np.random.Generator`` and draw one transformation
*per signal*.

The signals are treated as circular, index ``t`` and ``t + length`` being the same point, so
that no position ever has to be filled in. That is a convenience, not a property of MNIST-1D:
its generator moves a zero-padded template without wrapping it around and adds a linear trend
(shear), so the last and first samples of a signal are not neighbours. A circular shift moves
that seam into the signal: the label is kept, but the result is not exactly a signal the
generator would make. The chapter's equations (book chapter 7):

* shift by ``k`` positions:      ``x'[t] = x[(t - k) mod L]``                 (eq-shift-1d)
* stretch by ``s`` about ``o``:  ``x'[t] = x~((o + (t - o) / s) mod L)``       (eq-stretch-1d)
  with ``o = (L - 1) / 2`` and ``x~`` the circular piecewise-linear interpolation of ``x``;
  ``s > 1`` widens the pattern, ``s < 1`` narrows it (and reads past the ends, which wrap
  around: keep ``s`` near 1, e.g. within [0.8, 1.25]).
* noise:                         ``x' = x + sigma * eps``, ``eps ~ N(0, 1)`` i.i.d. (eq-noise
  without a range: MNIST-1D is standardised and has no bounds to clip to).
"""

from __future__ import annotations

import numpy as np

from .augment import add_noise

__all__ = ["shift", "random_shift", "stretch", "random_stretch", "gaussian_noise"]


def _signals(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected a batch of signals of shape (n, length) or "
                         f"(n, length, c), got {x.shape} (add a batch axis with x[None])")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"expected a floating-point batch, got dtype {x.dtype}")
    return x


def _per_signal(value, n: int, name: str) -> np.ndarray:
    """A scalar or one value per signal -> shape (n,)."""
    value = np.asarray(value)
    if value.ndim == 0:
        return np.full(n, value)
    if value.shape != (n,):
        raise ValueError(f"expected {name} to be a scalar or of shape ({n},), "
                         f"got {value.shape}")
    return value


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


def _gather(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """out[i, t] = x[i, idx[i, t]] for x (n, L) or (n, L, c) and integer idx (n, L)."""
    if x.ndim == 3:
        idx = idx[:, :, None]
    return np.take_along_axis(x, idx, axis=1)


# ----------------------------------------------------------------------------- shifts
def shift(x, k) -> np.ndarray:
    """Move every signal ``k`` positions to the right, circularly (eq-shift-1d).

    x (n, L[, c]); k an int or (n,) ints, one per signal. Equals ``np.roll(x[i], k[i], 0)``.
    """
    x = _signals(x)
    k = _per_signal(k, len(x), "k")
    if not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"expected integer shifts k, got dtype {k.dtype}")
    length = x.shape[1]
    idx = (np.arange(length)[None, :] - k[:, None]) % length  # (n, L): where t reads from
    return _gather(x, idx)


def random_shift(x, max_shift: int, *, rng: np.random.Generator) -> np.ndarray:
    """Shift each signal by its own k, uniform in ``-max_shift .. max_shift`` (both ends)."""
    x = _signals(x)
    _check_rng(rng)
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
        raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
    return shift(x, rng.integers(-max_shift, max_shift + 1, size=len(x)))


# ----------------------------------------------------------------------------- stretches
def stretch(x, s) -> np.ndarray:
    """Stretch every signal in time by the factor ``s`` about its centre (eq-stretch-1d).

    x (n, L[, c]); s > 0, a scalar or (n,). Output position t reads the input at
    u = o + (t - o) / s (mod L), o = (L - 1) / 2, by linear interpolation between the two
    neighbouring samples (circularly: after the last sample comes the first). s = 1 returns x.
    """
    x = _signals(x)
    s = _per_signal(s, len(x), "s").astype(np.float64)
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError(f"expected stretch factors s > 0, got {s[~(s > 0)][:3]}")
    length = x.shape[1]
    o = (length - 1) / 2
    u = (o + (np.arange(length)[None, :] - o) / s[:, None]) % length  # (n, L) positions read
    left = np.floor(u).astype(np.int64)
    frac = u - left  # in [0, 1): weight of the right neighbour
    right = (left + 1) % length
    if x.ndim == 3:
        frac = frac[:, :, None]
    out = (1 - frac) * _gather(x, left % length) + frac * _gather(x, right)
    return out.astype(x.dtype, copy=False)


def random_stretch(x, max_factor: float, *, rng: np.random.Generator) -> np.ndarray:
    """Stretch each signal by its own s, log-uniform in ``[1 / max_factor, max_factor]``:
    narrowing by a factor and widening by the same factor are equally likely."""
    x = _signals(x)
    _check_rng(rng)
    if not max_factor >= 1:
        raise ValueError(f"max_factor must be >= 1, got {max_factor!r}")
    log_max = np.log(max_factor)
    return stretch(x, np.exp(rng.uniform(-log_max, log_max, size=len(x))))


# ----------------------------------------------------------------------------- noise
def gaussian_noise(x, sigma: float, *, rng: np.random.Generator, clip=None) -> np.ndarray:
    """``x + sigma * eps``, eps ~ N(0, 1) i.i.d. per sample (eq-noise); ``clip=(lo, hi)``
    clips the result for data with a valid range. Standardised signals have none: default
    no clipping (the image version, ``augment.gaussian_noise``, clips to [0, 1])."""
    return add_noise(_signals(x), sigma, rng, clip)
