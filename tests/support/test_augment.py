"""Tests for dlbook_utils.augment: exact geometry, reachability of random offsets, Keras parity."""

import numpy as np
import pytest

from dlbook_utils import augment as A


def asym(n=2, h=5, w=4, c=None):
    """Batch of images with all-distinct pixel values: no symmetry can hide a wrong transform."""
    shape = (n, h, w) if c is None else (n, h, w, c)
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


# ----------------------------------------------------------------------------- flips
def test_hflip_is_a_reflection_not_a_rotation():
    x = asym()
    f = A.hflip(x)
    assert f[0, 0, 0] == x[0, 0, -1] and f[0, 4, 1] == x[0, 4, 2]
    assert not np.array_equal(f, np.rot90(x, 2, axes=(1, 2)))  # the seed's mistake
    np.testing.assert_array_equal(A.hflip(f), x)  # an involution
    np.testing.assert_array_equal(A.vflip(A.vflip(x)), x)
    # a reflection in both axes *is* the 180-degree rotation
    np.testing.assert_array_equal(A.vflip(A.hflip(x)), np.rot90(x, 2, axes=(1, 2)))


def test_vflip_and_channels_and_input_untouched():
    x = asym(c=3)
    keep = x.copy()
    v = A.vflip(x)
    np.testing.assert_array_equal(v[:, 0], x[:, -1])
    np.testing.assert_array_equal(A.hflip(x)[..., 1], A.hflip(x[..., 1]))  # channels kept apart
    np.testing.assert_array_equal(x, keep)


def test_random_flip_probability_and_each_image_flipped_or_not():
    rng = np.random.default_rng(0)
    x = asym(n=2000, h=3, w=3)
    np.testing.assert_array_equal(A.random_flip(x, rng=rng, p=0.0), x)
    np.testing.assert_array_equal(A.random_flip(x, rng=rng, p=1.0), A.hflip(x))
    out = A.random_flip(x, rng=rng, p=0.3)
    same = np.all(out == x, axis=(1, 2))
    flipped = np.all(out == A.hflip(x), axis=(1, 2))
    assert np.all(same ^ flipped)
    assert abs(flipped.mean() - 0.3) < 0.04  # ~4 standard errors
    both = A.random_flip(x[:400], rng=rng, p=1.0, mode="horizontal_and_vertical")
    np.testing.assert_array_equal(both, A.vflip(A.hflip(x[:400])))
    with pytest.raises(ValueError, match="mode"):
        A.random_flip(x, rng=rng, mode="diagonal")


# ----------------------------------------------------------------------------- crops
def test_crop_at_fixed_offset():
    x = asym(n=1, h=4, w=4)
    c = A.crop(x, 0, 0, padding=1)
    assert c.shape == (1, 4, 4)
    np.testing.assert_array_equal(c[0, 0], 0)  # top padding row
    np.testing.assert_array_equal(c[0, 1:, 1:], x[0, :3, :3])
    np.testing.assert_array_equal(A.crop(x, 1, 1, padding=1), x)  # centre crop = identity
    with pytest.raises(ValueError, match="out of range"):
        A.crop(x, 3, 0, padding=1)


def test_random_crop_reaches_every_offset_and_only_those():
    pad, h = 2, 5
    x = np.broadcast_to(asym(n=1, h=h, w=h) + 1, (1500, h, h))  # distinct, nonzero pixels
    out = A.random_crop(x, padding=pad, rng=np.random.default_rng(1))
    assert out.shape == x.shape
    windows = {(t, s): A.crop(x[:1], t, s, padding=pad)[0]
               for t in range(2 * pad + 1) for s in range(2 * pad + 1)}
    seen = []
    for img in out:
        match = [k for k, win in windows.items() if np.array_equal(img, win)]
        assert len(match) == 1  # every output is exactly one legal window
        seen.append(match[0])
    # all (2*pad+1)^2 = 25 offsets occur, both ends included (no off-by-one)
    assert set(seen) == set(windows)


def test_random_crop_smaller_size_and_errors():
    x = asym(n=3, h=6, w=6, c=2)
    out = A.random_crop(x, (4, 3), rng=np.random.default_rng(0))
    assert out.shape == (3, 4, 3, 2)
    for i in range(3):  # each crop is a window of its own image
        hits = [(r, c) for r in range(3) for c in range(4)
                if np.array_equal(x[i, r:r + 4, c:c + 3], out[i])]
        assert len(hits) == 1
    with pytest.raises(ValueError, match="must fit"):
        A.random_crop(x, 7, rng=np.random.default_rng(0))


# ----------------------------------------------------------------------------- rotate / translate
def test_rotate_quarter_turns_match_rot90_counter_clockwise():
    x = asym(n=2, h=5, w=5)
    np.testing.assert_allclose(A.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(A.rotate(x, -90), np.rot90(x, -1, axes=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(A.rotate(x, 0), x, atol=1e-6)
    assert A.rotate(x, 17).dtype == np.float32


def test_rotate_fills_corners_and_rejects_integers():
    x = np.ones((1, 21, 21), np.float64)
    r = A.rotate(x, 45, fill=-1.0)
    assert r[0, 0, 0] == pytest.approx(-1.0) and r[0, 10, 10] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="floating"):
        A.rotate(x.astype(np.uint8), 10)
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        A.rotate(x[0], 10)


def test_random_rotate_angles_bounded():
    x = asym(n=20, h=9, w=9)
    out = A.random_rotate(x, 30, rng=np.random.default_rng(0))
    grid = np.arange(-40, 40.5, 0.5)
    best = []
    for i in range(len(x)):
        errs = [np.abs(A.rotate(x[i:i + 1], a)[0] - out[i]).max() for a in grid]
        assert min(errs) < 0.05 * x[i].max()  # each output is a rotation of its own image
        best.append(grid[int(np.argmin(errs))])
    assert max(abs(a) for a in best) <= 30.5 and np.std(best) > 5  # drawn per image, bounded


@pytest.mark.checks("eq-crop-translation", kind="reference value", tol="exact")
def test_translate_integer_exact():
    x = asym(n=1, h=4, w=5)
    t = A.translate(x, 2, -1, fill=-9)
    np.testing.assert_array_equal(t[0, :3, 2:], x[0, 1:, :3])
    assert np.all(t[0, :, :2] == -9) and np.all(t[0, 3] == -9)
    assert np.all(A.translate(x, 5, 0) == 0)  # moved out entirely
    np.testing.assert_array_equal(A.translate(x, 0, 0), x)
    assert A.translate(x.astype(np.uint8), 1, 0).dtype == np.uint8  # exact copy: ints fine


def test_translate_fractional_is_bilinear():
    x = asym(n=1, h=4, w=5)
    t = A.translate(x, 0.5, 0)
    np.testing.assert_allclose(t[0, :, 1:], (x[0, :, 1:] + x[0, :, :-1]) / 2, rtol=1e-6)


def test_random_translate_within_range():
    x = np.zeros((300, 11, 11), np.float32)
    x[:, 5, 5] = 1.0
    out = A.random_translate(x, 2, rng=np.random.default_rng(0))
    pos = np.array([np.argwhere(img == 1.0)[0] for img in out]) - 5
    assert set(pos[:, 0]) == set(range(-2, 3)) and set(pos[:, 1]) == set(range(-2, 3))


@pytest.mark.checks("eq-noise", kind="property", tol="std within 2 %")
def test_gaussian_noise_statistics_and_clip():
    rng = np.random.default_rng(0)
    x = np.full((100, 20, 20), 0.5, np.float32)
    out = A.gaussian_noise(x, 0.1, rng=rng, clip=None)
    assert out.dtype == np.float32
    assert abs((out - x).mean()) < 0.002 and (out - x).std() == pytest.approx(0.1, rel=0.02)
    c = A.gaussian_noise(x, 1.0, rng=rng)  # default: pixels stay in [0, 1]
    assert c.min() == 0.0 and c.max() == 1.0
    with pytest.raises(ValueError, match="sigma"):
        A.gaussian_noise(x, -1, rng=rng)
    with pytest.raises(ValueError, match="lo < hi"):
        A.gaussian_noise(x, 0.1, rng=rng, clip=(1, 0))


def noise_equation_error(noise_fn, clip=(0.0, 1.0)) -> float:
    """Max |noise_fn - eq-noise| where eq-noise is clip(x + sigma * eps, lo, hi), computed
    independently from the same random draws (same seed). 0 for a correct implementation."""
    x = np.random.default_rng(5).random((20, 6, 6, 3)).astype(np.float32)  # pixels in [0, 1)
    sigma = 0.4  # large enough that many pixels leave [0, 1]
    eps = np.random.default_rng(9).standard_normal(x.shape).astype(np.float32)
    expected = x + sigma * eps
    if clip is not None:
        expected = np.minimum(np.maximum(expected, clip[0]), clip[1])
    kwargs = {} if clip == (0.0, 1.0) else {"clip": clip}
    got = noise_fn(x, sigma, rng=np.random.default_rng(9), **kwargs)
    return float(np.max(np.abs(got - expected)))


@pytest.mark.checks("eq-noise", kind="closed form", tol="atol 1e-6")
def test_gaussian_noise_is_the_clipped_equation():
    assert noise_equation_error(A.gaussian_noise) < 1e-6
    assert noise_equation_error(A.gaussian_noise, clip=None) < 1e-6
    assert noise_equation_error(A.gaussian_noise, clip=(0.2, 0.7)) < 1e-6


def test_noise_check_catches_planted_bugs():
    def unclipped(x, sigma, *, rng, clip=(0.0, 1.0)):  # the old default: clip only on request
        return x + sigma * rng.standard_normal(x.shape).astype(x.dtype)

    def noise_clipped(x, sigma, *, rng, clip=(0.0, 1.0)):  # clips the noise, not the image
        return x + np.clip(sigma * rng.standard_normal(x.shape).astype(x.dtype), *clip)

    def variance_as_scale(x, sigma, *, rng, clip=(0.0, 1.0)):  # sigma**2 where sigma belongs
        return np.clip(x + sigma**2 * rng.standard_normal(x.shape).astype(x.dtype), *clip)

    for bug in (unclipped, noise_clipped, variance_as_scale):
        assert noise_equation_error(bug) > 0.05, bug.__name__


# ----------------------------------------------------------------------------- Keras parity
TOL = 1e-5  # float32 bilinear interpolation; observed differences ~1e-6


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.checks("eq-flips", kind="TensorFlow", tol="exact")
@pytest.mark.tf
def test_flip_matches_tf_and_keras_random_flip(keras):
    import tensorflow as tf

    x = np.random.default_rng(0).random((6, 7, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(A.hflip(x), tf.image.flip_left_right(x).numpy())
    np.testing.assert_array_equal(A.vflip(x), tf.image.flip_up_down(x).numpy())
    out = np.asarray(keras.layers.RandomFlip("horizontal", seed=0)(x, training=True))
    for i in range(len(x)):  # Keras' random choice differs from ours; the flip itself must not
        assert np.array_equal(out[i], x[i]) or np.array_equal(out[i], A.hflip(x[i:i + 1])[0])


@pytest.mark.checks("eq-rotation", kind="TensorFlow", tol="atol 1e-5 (float32)")
@pytest.mark.tf
@pytest.mark.parametrize("angle", [30.0, -20.0, 90.0, 135.0])
def test_rotate_matches_keras_random_rotation(keras, angle):
    # Keras' factor is a fraction of a full turn; positive = counter-clockwise, like ours
    x = np.random.default_rng(1).random((2, 16, 12, 2)).astype(np.float32)
    layer = keras.layers.RandomRotation((angle / 360, angle / 360), fill_mode="constant",
                                        interpolation="bilinear", fill_value=0.0)
    np.testing.assert_allclose(A.rotate(x, angle), np.asarray(layer(x, training=True)),
                               atol=TOL)


@pytest.mark.tf
@pytest.mark.parametrize("dx,dy", [(3, -2), (-1.25, 2.5), (0.5, 0.0)])
def test_translate_matches_keras_random_translation(keras, dx, dy):
    x = np.random.default_rng(2).random((2, 16, 12, 1)).astype(np.float32)
    layer = keras.layers.RandomTranslation((dy / 16, dy / 16), (dx / 12, dx / 12),
                                           fill_mode="constant", interpolation="bilinear")
    np.testing.assert_allclose(A.translate(x, dx, dy), np.asarray(layer(x, training=True)),
                               atol=TOL)


@pytest.mark.checks("eq-crop-translation", kind="TensorFlow", tol="exact")
@pytest.mark.tf
@pytest.mark.parametrize("top,left", [(0, 0), (4, 1), (2, 2)])
def test_crop_matches_keras_zero_padding_then_cropping(keras, top, left):
    x = np.random.default_rng(3).random((3, 8, 8, 2)).astype(np.float32)
    pad = 2
    padded = keras.layers.ZeroPadding2D(pad)(x)
    cropped = keras.layers.Cropping2D(((top, 2 * pad - top), (left, 2 * pad - left)))(padded)
    np.testing.assert_array_equal(A.crop(x, top, left, padding=pad), np.asarray(cropped))
