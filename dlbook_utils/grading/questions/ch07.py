"""Chapter 7 (augmentation): flips, padded crops, integer translations, additive noise.

Conventions as in ``dlbook_utils.augment``: grey batches ``(n, h, w)`` with row 0 at the top (as
``plt.imshow`` draws it); a horizontal flip mirrors left-right; ``translate(x, dx, dy)`` moves
the content dx pixels right and dy pixels down and fills uncovered pixels with 0. Noise is passed
in as an array (no random numbers inside the answer, so the expected output is exact).
"""

import numpy as np

from ..registry import Mistake, function_question

SECTION = "../book/07_augmentation.ipynb"
_NO_BATCH = {"batch_size_of": lambda args: None}


def _images(r, n, h, w):
    return r.normal(size=(n, h, w))


# ---------------------------------------------------------------- 7.1 horizontal flip
def _flip_cases():
    r = np.random.default_rng(71)
    return [(_images(r, 2, 3, 4),), (_images(r, 3, 5, 5),),
            (np.arange(12.0).reshape(1, 3, 4),)]


function_question(
    "7.1", "Horizontal flip of a batch", name="hflip", reference=lambda x: x[:, :, ::-1].copy(),
    cases=_flip_cases(), section=SECTION + "#ch7-geometry", **_NO_BATCH,
    random_cases=lambda rng: [(_images(rng, int(rng.integers(1, 4)), int(rng.integers(2, 7)),
                                       int(rng.integers(2, 7))),)],
    mistakes=[
        Mistake("flip-as-rotation", "You reversed both rows and columns: that is a rotation by "
                "180 degrees, not a mirror image. A horizontal flip reverses the columns only: "
                "x[:, :, ::-1].", variant=lambda x: x[:, ::-1, ::-1].copy()),
        Mistake("flip-wrong-axis", "You flipped top-bottom (the rows, axis 1): that is a "
                "VERTICAL flip. Horizontal means left-right: reverse axis 2 (the columns).",
                variant=lambda x: x[:, ::-1, :].copy()),
        Mistake("flip-batch-axis", "You reversed the order of the images in the batch (axis 0); "
                "flip each image's columns instead (axis 2).", variant=lambda x: x[::-1].copy()),
        Mistake("flip-as-transpose", "Transposing an image swaps rows and columns (a reflection "
                "about the diagonal); a horizontal flip keeps the shape and reverses the columns.",
                variant=lambda x: np.swapaxes(x, 1, 2).copy()),
    ],
)


# ---------------------------------------------------------------- 7.2 padded crop
def _crop(x, top, left, size, padding):
    big = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    return big[:, top:top + size, left:left + size].copy()


def _crop_short(x, top, left, size, padding):
    big = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    return big[:, top:top + size - 1, left:left + size - 1].copy()


def _crop_shifted(x, top, left, size, padding):
    big = np.pad(x, [(0, 0), (padding, padding), (padding, padding)])
    return big[:, top + 1:top + 1 + size, left + 1:left + 1 + size].copy()


def _crop_unpadded(x, top, left, size, padding):
    return x[:, top:top + size, left:left + size].copy()


def _crop_edge(x, top, left, size, padding):
    big = np.pad(x, [(0, 0), (padding, padding), (padding, padding)], mode="edge")
    return big[:, top:top + size, left:left + size].copy()


def _crop_pads_batch(x, top, left, size, padding):
    big = np.pad(x, padding)  # pads every axis, the batch axis too
    return big[:, top:top + size, left:left + size].copy()


def _crop_cases():
    r = np.random.default_rng(72)
    x = _images(r, 2, 6, 6)
    return [(x, 0, 0, 6, 2), (x, 4, 1, 6, 2), (x, 3, 5, 4, 1), (_images(r, 1, 5, 7), 2, 6, 5, 3)]


def _crop_random(rng):
    h, w, pad = int(rng.integers(4, 8)), int(rng.integers(4, 8)), int(rng.integers(1, 4))
    size = int(rng.integers(3, min(h, w) + 1))
    top, left = int(rng.integers(0, h + 2 * pad - size + 1)), int(rng.integers(0, w + 2 * pad
                                                                               - size + 1))
    return [(_images(rng, 2, h, w), top, left, size, pad)]


function_question(
    "7.2", "Crop with zero padding at given offsets", name="padded_crop", reference=_crop,
    cases=_crop_cases(), random_cases=_crop_random, section=SECTION + "#ch7-geometry", **_NO_BATCH,
    mistakes=[
        Mistake("crop-off-by-one", "Your crop is (size - 1) x (size - 1): Python slices exclude "
                "the end, so rows top .. top + size - 1 are big[:, top:top + size].",
                variant=_crop_short),
        Mistake("crop-offset-off-by-one", "Your window starts one pixel too far down and right: "
                "(top, left) is already a 0-based index into the PADDED image.",
                variant=_crop_shifted),
        Mistake("crop-ignores-padding", "Pad first (padding zeros on every side of each image), "
                "then cut the window from the padded image; (top, left) index the padded image.",
                variant=_crop_unpadded),
        Mistake("crop-pads-batch-axis", "np.pad(x, padding) pads EVERY axis, so the batch "
                "gains 2 * padding blank images. Pad only the rows and columns: "
                "np.pad(x, [(0, 0), (padding, padding), (padding, padding)]).",
                variant=_crop_pads_batch),
        Mistake("crop-pad-not-zero", "Pad with zeros (np.pad's default constant mode), not by "
                "repeating the edge pixels.", variant=_crop_edge),
    ],
)


# ---------------------------------------------------------------- 7.3 integer translation
def _translate(x, dx, dy):
    n, h, w = x.shape
    out = np.zeros_like(x)
    src_r, dst_r = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
    src_c, dst_c = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
    if src_r.start < src_r.stop and src_c.start < src_c.stop:
        out[:, dst_r, dst_c] = x[:, src_r, src_c]
    return out


def _translate_cases():
    r = np.random.default_rng(73)
    x = _images(r, 2, 5, 6)
    return [(x, 2, 1), (x, -3, 2), (x, 1, -2), (np.arange(1.0, 13.0).reshape(1, 3, 4), 0, 1),
            (x, 6, 0)]


function_question(
    "7.3", "Translate by (dx, dy) with zero fill", name="translate", reference=_translate,
    cases=_translate_cases(), section=SECTION + "#ch7-geometry", **_NO_BATCH,
    random_cases=lambda rng: [(_images(rng, 2, 5, 5), int(rng.integers(-3, 4)),
                               int(rng.integers(-3, 4))) for _ in range(2)],
    mistakes=[
        Mistake("translate-wraps-around", "np.roll wraps pixels round to the other side. A "
                "translation brings in zeros: the pixels that leave the image are lost.",
                variant=lambda x, dx, dy: np.roll(x, (dy, dx), axis=(1, 2))),
        Mistake("translate-axes-swapped", "dx moves along the columns (axis 2, to the right) and "
                "dy along the rows (axis 1, down); you swapped them.",
                variant=lambda x, dx, dy: _translate(x, dy, dx)),
        Mistake("translate-wrong-direction", "Your content moves left/up. A positive dx moves the "
                "content RIGHT: out[:, r, c + dx] = x[:, r, c].",
                variant=lambda x, dx, dy: _translate(x, -dx, -dy)),
    ],
)


# ---------------------------------------------------------------- 7.4 additive Gaussian noise
def _noise(x, noise, sigma):
    return np.clip(x + sigma * noise, 0.0, 1.0)


def _noise_cases():
    r = np.random.default_rng(74)
    return [(r.random((2, 4, 4)), r.standard_normal((2, 4, 4)), 0.3),
            (r.random((1, 3, 5)), r.standard_normal((1, 3, 5)), 0.1)]


function_question(
    "7.4", "Gaussian pixel noise, clipped", name="add_noise", reference=_noise,
    cases=_noise_cases(), section=SECTION + "#ch7-geometry", **_NO_BATCH,
    random_cases=lambda rng: [(rng.random((2, 3, 3)), rng.standard_normal((2, 3, 3)),
                               float(rng.uniform(0.05, 0.5)))],
    mistakes=[
        Mistake("noise-not-clipped", "Pixel values must stay in [0, 1]: clip the noisy image "
                "with np.clip(..., 0, 1).", variant=lambda x, z, s: x + s * z),
        Mistake("noise-variance-as-std", "sigma is the standard deviation: scale the standard "
                "normal noise by sigma, not by sigma**2.",
                variant=lambda x, z, s: np.clip(x + s**2 * z, 0, 1)),
        Mistake("noise-clipped-before-adding", "Clip the noisy IMAGE, not the noise: "
                "np.clip(x + sigma * noise, 0, 1).",
                variant=lambda x, z, s: x + np.clip(s * z, 0, 1)),
    ],
)
