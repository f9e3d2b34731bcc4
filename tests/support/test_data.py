"""Tests for dlbook_utils.data: synthetic sets, offline loaders and the IDX reader."""

import gzip
import struct

import numpy as np
import pytest

from dlbook_utils import data


def test_make_linear_recovers_weights_and_noise_is_zero_mean():
    rng = np.random.default_rng(0)
    w, b = np.array([2.0, -3.0]), 0.5
    X, y = data.make_linear(20_000, w, b, noise=0.3, rng=rng)
    assert X.shape == (20_000, 2) and y.shape == (20_000, 1)
    resid = y[:, 0] - (X @ w + b)
    # the noise is N(0, 0.3^2): mean within ~5 standard errors of 0, std within 3 %
    assert abs(resid.mean()) < 5 * 0.3 / np.sqrt(20_000)
    assert resid.std() == pytest.approx(0.3, rel=0.03)
    # least squares recovers (w, b)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(coef, [2.0, -3.0, 0.5], atol=0.02)


def test_make_linear_is_seeded_and_validates():
    a = data.make_linear(5, [1.0], noise=0.1, rng=np.random.default_rng(3))
    b = data.make_linear(5, [1.0], noise=0.1, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="Generator"):
        data.make_linear(5, [1.0], rng=3)
    with pytest.raises(ValueError, match="noise"):
        data.make_linear(5, [1.0], noise=-1, rng=np.random.default_rng(0))


def test_spirals_shape_balance_and_not_linearly_separable():
    from sklearn.linear_model import LogisticRegression

    X, y = data.make_spirals(100, 3, noise=0.2, rng=np.random.default_rng(0))
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    assert np.abs(X).max() <= 1.0 + 1e-12  # radius grows 0..1
    acc = LogisticRegression(max_iter=1000).fit(X, y).score(X, y)
    assert acc < 0.65  # a linear model cannot separate the arms


def test_moons_labels_and_geometry():
    X, y = data.make_moons(400, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (400, 2) and np.bincount(y).tolist() == [200, 200]
    # noise-free: class 0 lies on the unit circle, class 1 on the circle around (1, 0.5)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0, atol=1e-12)


def test_load_digits_split_scaled_stratified():
    Xtr, Xte, ytr, yte = data.load_digits_split(test_size=0.25, seed=0)
    assert Xtr.dtype == np.float32 and Xtr.shape[1] == 64
    assert len(Xtr) + len(Xte) == 1797 and len(Xte) == 450
    assert Xtr.min() == 0.0 and Xtr.max() == 1.0
    # stratified: class shares agree to within one sample per class
    share_tr = np.bincount(ytr) / len(ytr)
    share_te = np.bincount(yte) / len(yte)
    assert np.abs(share_tr - share_te).max() < 1 / len(yte) + 1e-9
    imgs = data.load_digits_split(images=True, dtype=np.float64)[0]
    assert imgs.shape[1:] == (8, 8) and imgs.dtype == np.float64
    with pytest.raises(ValueError, match="test_size"):
        data.load_digits_split(test_size=1.5)


def test_load_mnist1d_shapes_standardised_and_leaves_global_rng_alone():
    data._MNIST1D_CACHE.clear()  # force generation, which reseeds NumPy's global generator
    np.random.seed(123)  # noqa: NPY002
    before = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    Xtr, Xte, ytr, yte = data.load_mnist1d()
    assert np.random.random() == before  # noqa: NPY002  (global NumPy state untouched)
    assert Xtr.shape == (4000, 40) and Xte.shape == (1000, 40) and Xtr.dtype == np.float32
    assert set(np.unique(ytr)) == set(range(10))
    np.testing.assert_allclose(Xtr.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Xtr.std(axis=0), 1, atol=1e-4)
    again = data.load_mnist1d()
    np.testing.assert_array_equal(again[0], Xtr)  # deterministic (and cached)


@pytest.mark.tf
def test_load_mnist_offline_raises_data_unavailable(monkeypatch):
    pytest.importorskip("keras")
    import keras.datasets.mnist as kmnist

    def offline():
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(kmnist, "load_data", offline)
    with pytest.raises(data.DataUnavailableError, match="load_digits_split"):
        data.load_mnist()


def _write_idx(path, arr, code, compress=False):
    arr = np.asarray(arr)
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as fh:
        fh.write(header + body)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_roundtrip(tmp_path, dtype, code, compress):
    arr = (np.arange(2 * 3 * 4) * 7 - (0 if dtype == np.uint8 else 40)).astype(dtype)
    arr = arr.reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    _write_idx(path, arr, code, compress)
    got = data.read_idx(path)
    assert got.shape == (2, 3, 4) and got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, arr)


def test_read_idx_known_bytes(tmp_path):
    # hand-written bytes: 1-d uint8 of length 3 -> [7, 8, 255]
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 255]))
    np.testing.assert_array_equal(data.read_idx(path), [7, 8, 255])


@pytest.mark.parametrize("raw,msg", [
    (bytes([0, 0]), "header"),
    (bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]), "magic"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "type code"),
    (bytes([0, 0, 8, 2, 0, 0, 0, 1]), "dimensions"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), "needs 4 data bytes, got 2"),
])
def test_read_idx_malformed(tmp_path, raw, msg):
    path = tmp_path / "bad"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=msg):
        data.read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read"):
        data.read_idx(path)


def test_load_mnist_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    xte = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", xtr, 0x08, compress=True)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(5, dtype=np.uint8), 0x08, True)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", xte, 0x08)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([9, 0, 1], np.uint8), 0x08)
    Xtr, Xte, ytr, yte = data.load_mnist_idx(tmp_path)
    assert Xtr.shape == (5, 784) and Xte.dtype == np.float32
    np.testing.assert_allclose(Xtr[2], xtr[2].ravel() / 255.0, rtol=1e-6)
    assert ytr.tolist() == [0, 1, 2, 3, 4] and yte.tolist() == [9, 0, 1]
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(data.DataUnavailableError, match="t10k-labels"):
        data.load_mnist_idx(tmp_path)
