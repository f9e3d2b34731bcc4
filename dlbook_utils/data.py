"""Data sets for the book: synthetic sets, offline real sets, and the MNIST loaders.

Everything here works offline except :func:`load_mnist`, which asks Keras to download MNIST and
raises :class:`DataUnavailableError` when it cannot.  :func:`read_idx` reads the IDX files that
MNIST is distributed in, so a reader who has the four files can use them without Keras.

Shapes follow the book's batch-first convention: ``X`` is ``(n, d)`` and labels ``y`` are ``(n,)``
integers (or ``(n, 1)`` targets for regression).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from .mnist1d_data import load_mnist1d_splits

__all__ = [
    "DataUnavailableError",
    "make_linear",
    "make_spirals",
    "make_moons",
    "load_digits_split",
    "load_mnist1d",
    "load_mnist1d_splits",
    "load_mnist",
    "read_idx",
    "load_mnist_idx",
]


class DataUnavailableError(RuntimeError):
    """A data set needs a download (or files) that are not available here."""


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


# ----------------------------------------------------------------------------- synthetic
def make_linear(n: int, w, b: float = 0.0, *, noise: float = 0.1, rng: np.random.Generator):
    """Regression data ``y = X @ w + b + eps`` with ``eps ~ N(0, noise^2)`` (zero-mean noise).

    Returns ``X`` of shape ``(n, d)`` drawn from N(0, 1) and ``y`` of shape ``(n, 1)``,
    where ``d = len(w)``.
    """
    _check_rng(rng)
    w = np.atleast_1d(np.asarray(w, dtype=np.float64))
    if w.ndim != 1:
        raise ValueError(f"w must be a vector of shape (d,), got shape {w.shape}")
    if n < 1 or noise < 0:
        raise ValueError(f"expected n >= 1 and noise >= 0, got n={n}, noise={noise}")
    X = rng.standard_normal((n, w.size))
    y = X @ w + b + noise * rng.standard_normal(n)
    return X, y[:, None]


def make_spirals(n_per_class: int, n_classes: int = 3, *, noise: float = 0.2,
                 rng: np.random.Generator):
    """The CS231n-style spiral: ``n_classes`` interleaved arms in the plane.

    Returns ``X`` of shape ``(n_per_class * n_classes, 2)`` and labels ``y`` of shape ``(n,)``.
    Not linearly separable, so a linear classifier stays near chance and an MLP does not.
    """
    _check_rng(rng)
    if n_per_class < 1 or n_classes < 2:
        raise ValueError(f"expected n_per_class >= 1 and n_classes >= 2, got "
                         f"{n_per_class}, {n_classes}")
    r = np.linspace(0.0, 1.0, n_per_class)
    X, y = [], []
    for k in range(n_classes):
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class)
        theta = theta + noise * rng.standard_normal(n_per_class)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


def make_moons(n: int, *, noise: float = 0.1, rng: np.random.Generator):
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), labels 0/1.

    Returns ``X`` of shape ``(n, 2)`` and ``y`` of shape ``(n,)``; the first ``n // 2`` points
    are class 0 before shuffling, the rest class 1.
    """
    _check_rng(rng)
    if n < 2:
        raise ValueError(f"expected n >= 2, got {n}")
    n0 = n // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n - n0, dtype=np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


# ----------------------------------------------------------------------------- offline real data
def load_digits_split(test_size: float = 0.25, *, seed: int = 0, dtype=np.float32,
                      images: bool = False):
    """sklearn's 1797 handwritten 8x8 digits, pixels scaled to [0, 1], stratified split.

    Returns ``X_train, X_test, y_train, y_test``; ``X`` is ``(n, 64)`` or, with ``images=True``,
    ``(n, 8, 8)``.  The split is stratified, so every class keeps its share in both parts.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    digits = load_digits()
    X = (digits.images / 16.0).astype(dtype)  # raw pixel values are 0..16
    if not images:
        X = X.reshape(len(X), -1)
    y = digits.target.astype(np.int64)
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)


_MNIST1D_CACHE: dict = {}


def load_mnist1d(seed: int = 42, *, dtype=np.float32, standardize: bool = True):
    """MNIST-1D (Greydanus 2020), generated locally: no download.

    Returns ``X_train (4000, 40), X_test (1000, 40), y_train, y_test``.  ``seed=42`` is the seed
    of the published data set (logistic regression ~32 %, MLP ~68 % test accuracy).  With
    ``standardize`` each feature is shifted and scaled by the *training* mean and std.
    Generation takes ~2 s, so results are cached per seed in memory.
    """
    if seed not in _MNIST1D_CACHE:
        import mnist1d.data

        args = mnist1d.data.get_dataset_args()
        args.seed = seed
        # make_dataset reseeds NumPy's *global* generator; keep the caller's global state intact.
        state = np.random.get_state()  # noqa: NPY002
        try:
            ds = mnist1d.data.make_dataset(args)
        finally:
            np.random.set_state(state)  # noqa: NPY002
        _MNIST1D_CACHE[seed] = (ds["x"], ds["x_test"], ds["y"], ds["y_test"])
    x, x_test, y, y_test = _MNIST1D_CACHE[seed]
    if standardize:
        mu, sd = x.mean(axis=0), x.std(axis=0)
        x, x_test = (x - mu) / sd, (x_test - mu) / sd
    return (x.astype(dtype), x_test.astype(dtype),
            y.astype(np.int64), y_test.astype(np.int64))


# ----------------------------------------------------------------------------- MNIST
def load_mnist(*, dtype=np.float32, flatten: bool = True):
    """MNIST via ``keras.datasets.mnist`` (needs the network on first use), scaled to [0, 1].

    Returns ``X_train, X_test, y_train, y_test`` with ``X`` ``(n, 784)`` (or ``(n, 28, 28)``).
    Raises :class:`DataUnavailableError` offline; use :func:`load_digits_split` instead.
    """
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras.datasets import mnist

        (x_tr, y_tr), (x_te, y_te) = mnist.load_data()
    except Exception as exc:  # offline, proxy, missing Keras: all mean "not available here"
        raise DataUnavailableError(
            f"MNIST could not be loaded through keras.datasets.mnist ({type(exc).__name__}: "
            f"{exc}). It needs a network connection the first time. Offline, use "
            "dlbook_utils.data.load_digits_split() (8x8 digits, bundled with scikit-learn), or "
            "load_mnist_idx(folder) if you have the four IDX files."
        ) from exc
    return _finish_mnist(x_tr, x_te, y_tr, y_te, dtype, flatten)


def _finish_mnist(x_tr, x_te, y_tr, y_te, dtype, flatten):
    x_tr = x_tr.astype(dtype) / 255
    x_te = x_te.astype(dtype) / 255
    if flatten:
        x_tr, x_te = x_tr.reshape(len(x_tr), -1), x_te.reshape(len(x_te), -1)
    return x_tr, x_te, y_tr.astype(np.int64), y_te.astype(np.int64)


# IDX type codes (LeCun's MNIST page); multi-byte values are big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally ``.gz``): the format MNIST is distributed in.

    Layout: two zero bytes, one type byte (0x08 = uint8, ... 0x0E = float64), one byte with the
    number of dimensions ``k``, ``k`` big-endian uint32 sizes, then the data in C order.
    Returns an array of that shape in native byte order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"cannot read IDX file {path.name}: {exc}") from exc
    if len(raw) < 4:
        raise ValueError(f"{path.name}: expected an IDX header of 4 bytes, got {len(raw)} bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path.name}: expected magic bytes 00 00, got {raw[0]:02x} {raw[1]:02x}"
                         " (not an IDX file, or gzip data without a .gz name?)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path.name}: unknown IDX type code 0x{code:02x}; expected one of "
                         + ", ".join(f"0x{c:02x}" for c in _IDX_DTYPES))
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path.name}: header declares {ndim} dimensions but the file ends "
                         f"after {len(raw)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        raise ValueError(f"{path.name}: shape {shape} of {dtype.name} needs {expected} data "
                         f"bytes, got {got}")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


_IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_mnist_idx(folder, *, dtype=np.float32, flatten: bool = True):
    """MNIST from the four original IDX files in ``folder`` (plain or ``.gz``).

    Returns ``X_train, X_test, y_train, y_test`` exactly like :func:`load_mnist`.
    """
    folder = Path(folder)
    arrays = {}
    for key, stem in _IDX_NAMES.items():
        for candidate in (folder / stem, folder / (stem + ".gz")):
            if candidate.exists():
                arrays[key] = read_idx(candidate)
                break
        else:
            raise DataUnavailableError(f"{folder}: missing {stem} (or {stem}.gz)")
    for split in ("train", "test"):
        nx, ny = len(arrays[f"x_{split}"]), len(arrays[f"y_{split}"])
        if nx != ny:
            raise ValueError(f"{split}: {nx} images but {ny} labels")
    return _finish_mnist(arrays["x_train"], arrays["x_test"], arrays["y_train"],
                         arrays["y_test"], dtype, flatten)
