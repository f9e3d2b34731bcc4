"""MNIST-1D (Greydanus, 2020) with fixed train / validation / test splits, generated offline.

MNIST-1D turns ten 1-D digit templates into signals of length 40 by random padding, scaling,
shearing, translation and noise. The paper reports test accuracies of about 32 % (logistic
regression), 68 % (MLP) and 94 % (CNN) with 4000 training examples: small enough to train in
seconds on a CPU, hard enough that architectures and regularizers make a visible difference.

How the splits are made (so that every chapter sees the same data):

1. ``mnist1d.data.make_dataset`` GENERATES a pool of ``POOL_SIZE`` examples from the data
   seed (1000 per digit, shuffled, centred and scaled to standard deviation 1 over the pool by
   the package). Nothing is downloaded: ``mnist1d.data.get_dataset`` would fetch a pickle from
   the web, ``make_dataset`` only computes. The pool is cached in memory, never on disk.
2. The pool is cut in a fixed order: the first ``n_test`` examples are the test split, the next
   ``n_val`` the validation split, the next ``n_train`` the training split.

So for one seed the test and validation splits do not depend on ``n_train``, and a smaller
training split (the small-data regime, :data:`SMALL_TRAIN` examples) is a subset of a larger one.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import numpy as np

__all__ = ["MNIST1DSplits", "load_mnist1d_splits", "POOL_SIZE", "SMALL_TRAIN", "SIGNAL_LENGTH",
           "N_CLASSES"]

POOL_SIZE = 10_000  # examples generated per seed; n_train + n_val + n_test may not exceed it
SMALL_TRAIN = 300  # the small-data regime: where regularization and augmentation matter
SIGNAL_LENGTH = 40
N_CLASSES = 10

_POOLS: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # seed -> (x (POOL_SIZE, 40), y)


class MNIST1DSplits(NamedTuple):
    """Three ``(X, y)`` pairs: X (n, 40, 1) float (or (n, 40) with ``flat=True``), y (n,) int64.

    Unpack as ``(X_train, y_train), (X_val, y_val), (X_test, y_test) = splits``.
    """

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"load_mnist1d_splits expected {name} to be an integer >= {minimum}, "
                         f"got {value!r}")
    return int(value)


def _pool(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The generated pool for ``seed``: x (POOL_SIZE, 40) float64, y (POOL_SIZE,) int64."""
    if seed not in _POOLS:
        import mnist1d.data

        args = mnist1d.data.get_dataset_args()
        args.num_samples, args.train_split, args.seed = POOL_SIZE, 1.0, seed
        # make_dataset reseeds the GLOBAL generators of NumPy and of `random`: restore both, so
        # loading data never changes what a learner's unseeded code draws next.
        np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
        try:
            ds = mnist1d.data.make_dataset(args)
        finally:
            np.random.set_state(np_state)  # noqa: NPY002
            random.setstate(py_state)
        x, y = np.asarray(ds["x"], np.float64), np.asarray(ds["y"], np.int64)
        if x.shape != (POOL_SIZE, SIGNAL_LENGTH):  # guards against a change in the package
            raise RuntimeError(f"mnist1d.make_dataset returned x of shape {x.shape}, "
                               f"expected {(POOL_SIZE, SIGNAL_LENGTH)}")
        x.flags.writeable = y.flags.writeable = False  # the cache must not change under anyone
        _POOLS[seed] = (x, y)
    return _POOLS[seed]


def load_mnist1d_splits(n_train: int = 4000, n_val: int = 1000, n_test: int = 1000, *,
                        seed: int = 0, flat: bool = False, dtype=np.float32) -> MNIST1DSplits:
    """Fixed train / validation / test splits of MNIST-1D, generated locally (no download).

    Returns :class:`MNIST1DSplits` ``(train, val, test)``, each ``(X, y)``: X of shape
    (n, 40, 1), channels last for ``Conv1D`` (or (n, 40) with ``flat=True``, for an MLP) and
    ``dtype``; y (n,) int64 labels in 0..9. ``n_train + n_val + n_test <= POOL_SIZE`` (10 000).

    Choose hyper-parameters and early-stopping epochs on ``val``; evaluate on ``test`` once per
    reported configuration. ``n_train=SMALL_TRAIN`` (300) gives the small-data regime, with the
    same validation and test splits as the default 4000. ``seed`` selects the generated data set
    (first call per seed ~3 s of CPU, then cached in memory). The arrays returned are new copies.
    """
    n_train = _count(n_train, "n_train", 1)
    n_val = _count(n_val, "n_val", 0)
    n_test = _count(n_test, "n_test", 0)
    seed = _count(seed, "seed", 0)
    if n_train + n_val + n_test > POOL_SIZE:
        raise ValueError(f"load_mnist1d_splits expected n_train + n_val + n_test <= {POOL_SIZE} "
                         f"(the generated pool), got {n_train} + {n_val} + {n_test} = "
                         f"{n_train + n_val + n_test}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"load_mnist1d_splits expected a floating-point dtype, got {dtype}")
    x, y = _pool(seed)
    shape = (SIGNAL_LENGTH,) if flat else (SIGNAL_LENGTH, 1)
    bounds = np.cumsum([0, n_test, n_val, n_train])  # test first: it never moves

    def part(k: int):
        rows = slice(bounds[k], bounds[k + 1])
        return x[rows].astype(dtype).reshape(-1, *shape), y[rows].copy()

    test, val, train = part(0), part(1), part(2)
    return MNIST1DSplits(train=train, val=val, test=test)
