"""Data augmentation on image batches: flips, crops, rotations, translations, noise.

Every function takes a batch ``x`` of shape ``(n, h, w)`` (grey) or ``(n, h, w, c)`` (channels
last, as Keras) and returns a new array of the same dtype; the input is never modified.  Random
variants take ``rng: np.random.Generator`` and draw one transformation *per image*.

Geometry conventions (the same as the pictures ``plt.imshow`` draws, row 0 at the top):

* ``hflip`` mirrors left-right (a reflection, not a 180-degree rotation), ``vflip`` top-bottom.
* ``rotate(x, a)`` turns the picture counter-clockwise by ``a`` degrees about its centre, the
  same direction as ``keras.layers.RandomRotation`` with a positive factor.
* ``translate(x, dx, dy)`` moves the content ``dx`` pixels right and ``dy`` pixels down.
* Pixels that come from outside the image are set to ``fill`` (default 0), like Keras'
  ``fill_mode="constant"``.  Interpolation treats every pixel outside the grid as ``fill``
  (scipy's ``mode="grid-constant"``), so edges blend smoothly into the fill, exactly as Keras'
  ``RandomRotation`` / ``RandomTranslation`` do (scipy's plain ``"constant"`` would not).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "hflip",
    "vflip",
    "random_flip",
    "crop",
    "random_crop",
    "rotate",
    "random_rotate",
    "translate",
    "random_translate",
    "gaussian_noise",
]


def _batch(x, *, need_float: bool = False) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected a batch of shape (n, h, w) or (n, h, w, c), got {x.shape}"
                         " (add a batch axis with x[None] for a single image)")
    if need_float and not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"expected a floating-point batch (interpolation), got dtype {x.dtype}; "
                         "convert with x.astype(np.float32) / 255")
    return x


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


# ----------------------------------------------------------------------------- flips
def hflip(x) -> np.ndarray:
    """Mirror every image left-right: ``out[i, r, c] = x[i, r, w-1-c]``."""
    return _batch(x)[:, :, ::-1].copy()


def vflip(x) -> np.ndarray:
    """Mirror every image top-bottom: ``out[i, r, c] = x[i, h-1-r, c]``."""
    return _batch(x)[:, ::-1].copy()


def random_flip(x, *, rng: np.random.Generator, p: float = 0.5,
                mode: str = "horizontal") -> np.ndarray:
    """Flip each image independently with probability ``p``.

    ``mode`` is ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (each axis
    decided independently), as in ``keras.layers.RandomFlip``.
    """
    x = _batch(x)
    _check_rng(rng)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    modes = {"horizontal": (2,), "vertical": (1,), "horizontal_and_vertical": (2, 1)}
    if mode not in modes:
        raise ValueError(f"mode must be one of {sorted(modes)}, got {mode!r}")
    out = x.copy()
    for axis in modes[mode]:
        chosen = rng.random(len(x)) < p
        out[chosen] = np.flip(out[chosen], axis=axis)
    return out


# ----------------------------------------------------------------------------- crops
def _pad(x: np.ndarray, padding: int, fill: float) -> np.ndarray:
    widths = [(0, 0), (padding, padding), (padding, padding)] + [(0, 0)] * (x.ndim - 3)
    return np.pad(x, widths, mode="constant", constant_values=fill)


def _size(size, h: int, w: int) -> tuple[int, int]:
    if size is None:
        return h, w
    return (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)


def crop(x, top: int, left: int, size=None, *, padding: int = 0, fill: float = 0.0):
    """Pad every image by ``padding`` pixels of ``fill``, then cut the ``size`` window whose
    top-left corner is at ``(top, left)`` of the padded image (the deterministic core of
    :func:`random_crop`; ``top = left = padding`` gives the centre crop of the same size)."""
    x = _batch(x)
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    hs, ws = _size(size, *x.shape[1:3])
    big = _pad(x, padding, fill) if padding else x
    H, W = big.shape[1:3]
    if not (1 <= hs <= H and 1 <= ws <= W):
        raise ValueError(f"crop size {(hs, ws)} must fit the padded image {(H, W)}")
    if not (0 <= top <= H - hs and 0 <= left <= W - ws):
        raise ValueError(f"offset {(top, left)} out of range: expected 0..{H - hs}, 0..{W - ws}")
    return big[:, top:top + hs, left:left + ws].copy()


def random_crop(x, size=None, *, padding: int = 0, rng: np.random.Generator,
                fill: float = 0.0) -> np.ndarray:
    """Pad each image by ``padding`` pixels of ``fill``, then cut a ``size`` window at random.

    ``size`` is an int or ``(h_out, w_out)``; default: the input size (the classic
    "pad 4, crop 32" CIFAR recipe).  Each image gets its own offset, uniform over all
    ``h + 2*padding - h_out + 1`` rows (both ends included), and likewise for columns.
    """
    x = _batch(x)
    _check_rng(rng)
    hs, ws = _size(size, *x.shape[1:3])
    H, W = x.shape[1] + 2 * padding, x.shape[2] + 2 * padding
    if not (1 <= hs <= H and 1 <= ws <= W):
        raise ValueError(f"crop size {(hs, ws)} must fit the padded image {(H, W)}")
    rows = rng.integers(0, H - hs + 1, size=len(x))  # high is exclusive: offsets 0..H-hs
    cols = rng.integers(0, W - ws + 1, size=len(x))
    return np.concatenate([crop(x[i:i + 1], r, c, (hs, ws), padding=padding, fill=fill)
                           for i, (r, c) in enumerate(zip(rows, cols, strict=True))])


# ----------------------------------------------------------------------------- rotations
def rotate(x, angle_deg: float, *, fill: float = 0.0, order: int = 1) -> np.ndarray:
    """Rotate every image counter-clockwise by ``angle_deg`` about its centre.

    Bilinear interpolation (``order=1``) via ``scipy.ndimage.rotate`` with ``reshape=False``,
    so the output keeps the input size; corners that come from outside get ``fill``.
    """
    from scipy import ndimage

    x = _batch(x, need_float=True)
    # scipy's positive angle in the (row, col) plane turns the picture counter-clockwise on screen
    return ndimage.rotate(x, angle_deg, axes=(2, 1), reshape=False, order=order,
                          mode="grid-constant", cval=fill).astype(x.dtype, copy=False)


def random_rotate(x, max_deg: float, *, rng: np.random.Generator, fill: float = 0.0,
                  order: int = 1) -> np.ndarray:
    """Rotate each image by its own angle drawn uniformly from ``[-max_deg, max_deg]``."""
    x = _batch(x, need_float=True)
    _check_rng(rng)
    angles = rng.uniform(-max_deg, max_deg, size=len(x))
    return np.stack([rotate(x[i:i + 1], a, fill=fill, order=order)[0]
                     for i, a in enumerate(angles)])


# ----------------------------------------------------------------------------- translations
def translate(x, dx: float, dy: float, *, fill: float = 0.0, order: int = 1) -> np.ndarray:
    """Move every image's content ``dx`` pixels right and ``dy`` pixels down.

    Integer shifts copy pixels exactly; fractional shifts interpolate (bilinear for ``order=1``).
    Uncovered pixels get ``fill``.
    """
    x = _batch(x)
    if float(dx).is_integer() and float(dy).is_integer():
        dx, dy = int(dx), int(dy)
        out = np.full_like(x, fill)
        h, w = x.shape[1:3]
        src_r, dst_r = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
        src_c, dst_c = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
        if src_r.start < src_r.stop and src_c.start < src_c.stop:
            out[:, dst_r, dst_c] = x[:, src_r, src_c]
        return out
    from scipy import ndimage

    x = _batch(x, need_float=True)
    shift = (0, dy, dx) + (0,) * (x.ndim - 3)
    return ndimage.shift(x, shift, order=order, mode="grid-constant",
                         cval=fill).astype(x.dtype, copy=False)


def random_translate(x, max_shift: int, *, rng: np.random.Generator,
                     fill: float = 0.0) -> np.ndarray:
    """Shift each image by its own integer ``(dx, dy)``, each uniform in ``-max..max``."""
    x = _batch(x)
    _check_rng(rng)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))
    return np.concatenate([translate(x[i:i + 1], dx, dy, fill=fill)
                           for i, (dx, dy) in enumerate(shifts)])


# ----------------------------------------------------------------------------- noise
def gaussian_noise(x, sigma: float, *, rng: np.random.Generator,
                   clip=(0.0, 1.0)) -> np.ndarray:
    """The chapter's eq-noise: ``clip(x + sigma * eps, lo, hi)``, eps ~ N(0, 1) i.i.d. per pixel.

    By default pixels stay in ``[0, 1]``, the range of the book's float images; pass
    ``clip=(0, 255)`` for another range, or ``clip=None`` for data with no range to keep.
    """
    return add_noise(_batch(x, need_float=True), sigma, rng, clip)


def add_noise(x: np.ndarray, sigma: float, rng, clip) -> np.ndarray:
    """``x + sigma * eps`` for a float array of any shape, eps ~ N(0, 1), then clipped to
    ``clip=(lo, hi)`` unless it is None (shared by the image and the signal versions)."""
    _check_rng(rng)
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    out = x + sigma * rng.standard_normal(x.shape).astype(x.dtype)
    if clip is not None:
        lo, hi = clip
        if not lo < hi:
            raise ValueError(f"clip must be (lo, hi) with lo < hi, got {clip!r}")
        np.clip(out, lo, hi, out=out)  # the noisy data is clipped, not the noise
    return out
