"""MNIST-1D splits: shapes, fixed and disjoint splits, determinism, and no network access."""

import random
import socket
import urllib.request

import numpy as np
import pytest
import requests

from dlbook_utils import data, mnist1d_data
from dlbook_utils.mnist1d_data import POOL_SIZE, SMALL_TRAIN, load_mnist1d_splits


@pytest.fixture(scope="module")
def full():
    return load_mnist1d_splits(seed=0)


@pytest.fixture
def network_attempts(monkeypatch):
    """Every way the code below could reach the network records the attempt and fails."""
    attempts = []

    def refuse(what):
        def blocked(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"network disabled in this test ({what})")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse("urllib.request.urlopen"))
    monkeypatch.setattr(requests.Session, "request", refuse("requests"))
    return attempts


def test_shapes_dtypes_and_labels(full):
    (X, y), (Xv, yv), (Xt, yt) = full
    assert X.shape == (4000, 40, 1) and Xv.shape == (1000, 40, 1) and Xt.shape == (1000, 40, 1)
    assert X.dtype == np.float32 and y.dtype == np.int64
    for labels in (y, yv, yt):
        assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(y).min() > 300  # 1000 per digit in the shuffled pool: ~400 each here
    assert abs(X.mean()) < 0.05 and abs(X.std() - 1) < 0.05  # the pool is scaled to std 1
    flat = load_mnist1d_splits(n_train=10, flat=True, dtype=np.float64)
    assert flat.train[0].shape == (10, 40) and flat.train[0].dtype == np.float64
    np.testing.assert_array_equal(flat.train[0].astype(np.float32), X[:10, :, 0])
    empty = load_mnist1d_splits(n_train=10, n_val=0, n_test=0, flat=True)
    assert empty.val[0].shape == (0, 40) and empty.test[1].shape == (0,)


def test_splits_are_disjoint(full):
    rows = np.concatenate([full.train[0], full.val[0], full.test[0]])[:, :, 0]
    assert len(np.unique(rows, axis=0)) == len(rows)  # no example in two splits (or twice)


def test_the_small_regime_shares_validation_and_test_and_nests_in_the_training_split(full):
    small = load_mnist1d_splits(n_train=SMALL_TRAIN, seed=0)
    assert small.train[0].shape == (300, 40, 1)
    for a, b in [(small.val, full.val), (small.test, full.test)]:
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(small.train[0], full.train[0][:300])
    # A bigger validation split moves the training split, never the test split.
    other = load_mnist1d_splits(n_train=100, n_val=2000, seed=0)
    np.testing.assert_array_equal(other.test[0], full.test[0])
    np.testing.assert_array_equal(other.val[0][:1000], full.val[0])


def test_returned_arrays_are_copies(full):
    first = load_mnist1d_splits(n_train=5)
    first.train[0][...] = 99.0
    first.train[1][...] = 0
    again = load_mnist1d_splits(n_train=5)
    np.testing.assert_array_equal(again.train[0], full.train[0][:5])
    np.testing.assert_array_equal(again.train[1], full.train[1][:5])


def test_generated_offline_deterministically_leaving_global_generators_alone(
        full, monkeypatch, network_attempts):
    monkeypatch.setattr(mnist1d_data, "_POOLS", {})  # force a new generation
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    expected = np.random.random(), random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    regenerated = load_mnist1d_splits(seed=0)
    assert (np.random.random(), random.random()) == expected  # noqa: NPY002
    assert network_attempts == []
    for a, b in zip(regenerated, full, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_the_network_guard_sees_a_download(tmp_path, network_attempts):
    """The guard above is not vacuous: mnist1d's get_dataset tries to download (and, failing,
    quietly generates the data instead and writes a pickle), which the guard records."""
    import mnist1d.data

    args = mnist1d.data.get_dataset_args()
    args.num_samples = 20
    states = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        mnist1d.data.get_dataset(args, path=str(tmp_path / "mnist1d.pkl"), verbose=False,
                                 download=True)
    finally:
        np.random.set_state(states[0])  # noqa: NPY002
        random.setstate(states[1])
    assert network_attempts == ["requests"]


def test_another_seed_gives_another_data_set(full):
    other = load_mnist1d_splits(n_train=50, seed=1)
    assert not np.allclose(other.train[0], full.train[0][:50])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_train=0), "n_train to be an integer >= 1, got 0"),
    (dict(n_val=-1), "n_val to be an integer >= 0, got -1"),
    (dict(n_test=1.5), "n_test to be an integer >= 0, got 1.5"),
    (dict(seed=True), "seed to be an integer >= 0, got True"),
    (dict(n_train=9000), rf"n_train \+ n_val \+ n_test <= {POOL_SIZE} .*got 9000 \+ 1000 \+ "
                         r"1000 = 11000"),
    (dict(dtype=np.int32), "floating-point dtype, got int32"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_mnist1d_splits(**kwargs)


def test_reexported_from_data():
    assert data.load_mnist1d_splits is load_mnist1d_splits
