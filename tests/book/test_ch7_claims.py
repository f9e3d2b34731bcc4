"""Claims of chapter 7 (07_augmentation) about convolution and shifts, checked on small arrays.

Eq. (eq-equivariance): a stride-1 convolution commutes with a circular shift of its input,
exactly with circular padding and away from the ends with Keras's zero 'same' padding; a dense
layer does not. Each check is a function that a planted bug (an unshared, position-dependent
kernel) makes fail.
"""

import numpy as np
import pytest

from dlbook_utils.augment1d import shift
from dlbook_utils.conv import Conv1D
from dlbook_utils.layers import Dense

LENGTH, KERNEL, K = 40, 5, 3
X = np.random.default_rng(0).standard_normal((8, LENGTH, 2))  # (n, L, c_in)


def equivariance_gap(layer_fn, positions=slice(None)) -> float:
    """max |f(shift_k x) - shift_k f(x)| over the given output positions."""
    gap = np.abs(layer_fn(shift(X, K)) - shift(layer_fn(X), K))
    return float(gap[:, positions].max())


def circular_conv(conv: Conv1D):
    """The same kernel with circular padding: pad by wrapping, then a 'valid' convolution."""
    valid = Conv1D(2, 4, KERNEL, rng=np.random.default_rng(0), padding="valid")
    valid.params["W"][...] = conv.params["W"]
    valid.params["b"][...] = conv.params["b"]
    half = KERNEL // 2
    return lambda x: valid.forward(np.concatenate([x[:, -half:], x, x[:, :half]], axis=1))


CONV = Conv1D(2, 4, KERNEL, rng=np.random.default_rng(1), padding="same")
INNER = slice(KERNEL // 2 + K, LENGTH - KERNEL // 2)  # no window reaches the zero padding


@pytest.mark.checks("eq-equivariance", kind="property", tol="atol 1e-12")
def test_convolution_commutes_with_shifts():
    assert equivariance_gap(circular_conv(CONV)) < 1e-12  # circular padding: everywhere
    assert equivariance_gap(CONV.forward, INNER) < 1e-12  # zero padding: away from the ends
    assert equivariance_gap(CONV.forward) > 0.1  # ... and not at the ends


def test_dense_layer_does_not_commute_with_shifts():
    dense = Dense(LENGTH, LENGTH, rng=np.random.default_rng(2))
    assert equivariance_gap(lambda x: dense.forward(x[..., 0])[..., None]) > 0.1


def test_equivariance_check_catches_an_unshared_kernel():
    # planted bug: a different kernel at every position (a locally connected layer)
    weights = np.random.default_rng(3).standard_normal((LENGTH, KERNEL, 2, 4))
    half = KERNEL // 2

    def unshared(x):
        padded = np.concatenate([x[:, -half:], x, x[:, :half]], axis=1)
        windows = np.stack([padded[:, t:t + KERNEL] for t in range(LENGTH)], axis=1)
        return np.einsum("ntkc,tkcd->ntd", windows, weights)

    assert equivariance_gap(unshared) > 0.1
