"""Chapter 4's definitions and derivation steps, each checked against something independent
(finite differences, a Monte Carlo average, an entry-by-entry loop)."""

import math

import numpy as np
import pytest

from dlbook_utils import gradcheck, losses
from dlbook_utils.autodiff import Value


@pytest.mark.checks("eq-scalar-graph", kind="finite differences", tol="rel 1e-7")
def test_the_scalar_graph_of_one_neuron():
    w, x, b, y = 0.7, -1.3, 0.2, 1.0

    def loss(w, b):
        return (1 / (1 + math.exp(-(w * x + b))) - y) ** 2

    wv, bv = Value(w), Value(b)
    L = ((wv * x + bv).sigmoid() - y) ** 2
    L.backward()
    assert L.data == pytest.approx(loss(w, b), rel=1e-14)
    h = 1e-6
    assert wv.grad == pytest.approx((loss(w + h, b) - loss(w - h, b)) / (2 * h), rel=1e-7)
    assert bv.grad == pytest.approx((loss(w, b + h) - loss(w, b - h)) / (2 * h), rel=1e-7)


def _two_layer(rng):
    X = rng.standard_normal((5, 4))
    labels = rng.integers(0, 3, size=5)
    W1, b1 = rng.standard_normal((4, 6)), rng.standard_normal(6)
    W2, b2 = rng.standard_normal((6, 3)), rng.standard_normal(3)
    return X, labels, W1, b1, W2, b2


@pytest.mark.checks("eq-delta-def", kind="finite differences", tol="rel 1e-6")
@pytest.mark.parametrize("planted", [False, True])
def test_delta_is_the_gradient_of_the_loss_wrt_each_pre_activation(planted):
    X, labels, W1, b1, W2, b2 = _two_layer(np.random.default_rng(4))
    Z1 = X @ W1 + b1
    A1 = np.tanh(Z1)
    _, delta2 = losses.softmax_cross_entropy(A1 @ W2 + b2, labels)
    slope = 1.0 if planted else 1 - A1 ** 2  # planted: the activation's derivative left out
    delta1 = (delta2 @ W2.T) * slope
    fd1 = gradcheck.numerical_grad(
        lambda: losses.softmax_cross_entropy(np.tanh(Z1) @ W2 + b2, labels)[0], Z1)
    Z2 = A1 @ W2 + b2
    fd2 = gradcheck.numerical_grad(lambda: losses.softmax_cross_entropy(Z2, labels)[0], Z2)
    assert gradcheck.rel_error(delta2, fd2) < 1e-6
    assert (gradcheck.rel_error(delta1, fd1) < 1e-6) is not planted


@pytest.mark.checks("eq-init-linear", kind="property", tol="rel 0.02 (Monte Carlo)")
def test_the_linear_step_multiplies_the_squared_spread_by_s2_times_the_sum():
    rng = np.random.default_rng(5)
    d, s, trials = 50, 0.3, 100_000
    da = rng.standard_normal(d)  # one fixed input deviation
    W = rng.normal(0.0, s, size=(trials, d))  # independent weights, one row per draw
    dz = W @ da
    predicted = s ** 2 * np.sum(da ** 2)
    assert np.mean(dz ** 2) == pytest.approx(predicted, rel=0.02)
    assert np.mean(dz ** 2) != pytest.approx(predicted / d, rel=0.5)  # a missing sum shows


@pytest.mark.checks("eq-init-activation", kind="finite differences", tol="rel 1e-3 at dz=1e-4")
@pytest.mark.parametrize("phi, slope", [
    (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2)])
def test_a_small_deviation_is_scaled_by_the_local_slope(phi, slope):
    z = np.linspace(-3, 3, 13)
    dz = 1e-4
    np.testing.assert_allclose(phi(z + dz) - phi(z), slope(z) * dz, rtol=1e-3)
    with pytest.raises(AssertionError):  # the slope at the wrong point is caught
        np.testing.assert_allclose(phi(z + dz) - phi(z), slope(z + 1) * dz, rtol=1e-3)


@pytest.mark.checks("eq-init-backward", kind="closed form", tol="rel 1e-12")
def test_the_entrywise_delta_recursion_equals_the_matrix_form():
    rng = np.random.default_rng(6)
    Z, W, delta_next = (rng.standard_normal(s) for s in [(4, 5), (5, 3), (4, 3)])
    slope = 1 - np.tanh(Z) ** 2
    entrywise = np.array([[slope[i, j] * sum(delta_next[i, m] * W[j, m] for m in range(3))
                           for j in range(5)] for i in range(4)])
    assert gradcheck.rel_error(entrywise, (delta_next @ W.T) * slope) < 1e-12
    assert gradcheck.rel_error(entrywise, (delta_next @ W.T)) > 1e-2  # the slope matters
