"""Property tests: every backward pass agrees with centred finite differences (float64).

Hypothesis draws shapes and a seed; the arrays come from that seed. A correct gradient gives a
relative error around 1e-10; the bound 1e-7 leaves room for rounding and none for a wrong formula
(the planted-bug tests show wrong formulas land near 1e-1).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlbook_utils import activations as act
from dlbook_utils import gradcheck, layers, losses

FAST = settings(max_examples=25, deadline=None, derandomize=True)
TOL = 1e-7
dims = st.integers(1, 6)
seeds = st.integers(0, 2**32 - 1)


def away_from_zero(rng, shape, gap=0.05):
    """Random values with |z| >= gap, so a finite difference never straddles ReLU's kink."""
    z = rng.standard_normal(shape) * 2
    return np.where(z >= 0, z + gap, z - gap)


@pytest.mark.checks("eq-sigmoid-grad", "eq-tanh-grad", "eq-relu-grad",
                     kind="finite differences", tol="rel 1e-7")
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
@FAST
@given(n=dims, d=dims, seed=seeds)
def test_activation_derivative_matches_finite_differences(name, n, d, seed):
    rng = np.random.default_rng(seed)
    z = away_from_zero(rng, (n, d))
    f, f_grad = getattr(act, name), getattr(act, name + "_grad")
    # elementwise f: the gradient of sum(f(z)) is f'(z) entry by entry
    numeric = gradcheck.numerical_grad(lambda: f(z).sum(), z)
    assert gradcheck.rel_error(f_grad(z), numeric) < TOL


@pytest.mark.checks("eq-softmax", "eq-log-softmax", kind="closed form", tol="rtol 1e-12")
@FAST
@given(n=dims, k=dims, seed=seeds, shift=st.floats(-50, 50))
def test_softmax_is_a_distribution_and_shift_invariant(n, k, seed, shift):
    z = np.random.default_rng(seed).standard_normal((n, k)) * 3
    p = act.softmax(z)
    assert np.all(p > 0) and np.allclose(p.sum(axis=1), 1, rtol=0, atol=1e-12)
    assert np.allclose(act.softmax(z + shift), p, rtol=1e-9, atol=1e-12)
    # independent reference: the textbook formula (safe here, |z| is small)
    naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert np.allclose(p, naive, rtol=1e-12, atol=0)
    assert np.allclose(act.log_softmax(z), np.log(naive), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(64, 10), (512, 10), (100, 32), (512, 2), (63, 10), (64, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_a_batch_of_short_rows_is_the_plain_formula_bit_for_bit(shape, dtype):
    """For many short rows (a batch of logits) the row max comes from a transposed copy, which
    is faster; the values must be exactly those of the plain z - z.max(axis=1)."""
    z = (np.random.default_rng(shape[0]).standard_normal(shape) * 5).astype(dtype)
    z[0, -1], z[1, 0] = z[0].max() + 1, z[1].max() + 1  # maxima in the last and first column
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    for axis in (1, -1):
        log_p = act.log_softmax(z, axis=axis)
        assert log_p.dtype == dtype
        np.testing.assert_array_equal(log_p, shifted - np.log(e.sum(axis=1, keepdims=True)))
        np.testing.assert_array_equal(act.softmax(z, axis=axis), e / e.sum(axis=1, keepdims=True))


@pytest.mark.checks("eq-mse", kind="finite differences", tol="rel 1e-7")
@FAST
@given(n=dims, d=dims, seed=seeds)
def test_mse_value_and_gradient(n, d, seed):
    rng = np.random.default_rng(seed)
    pred, y = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    loss, _ = losses.mse(pred, y)
    assert loss == pytest.approx(sum(((pred - y) ** 2).ravel()) / (n * d), rel=1e-12)
    assert gradcheck.check_loss(losses.mse, pred, y) < TOL


@pytest.mark.checks("eq-bce-logits", kind="finite differences", tol="rel 1e-7")
@FAST
@given(n=dims, d=st.integers(0, 4), seed=seeds)
def test_binary_cross_entropy_value_and_gradient(n, d, seed):
    rng = np.random.default_rng(seed)
    shape = (n,) if d == 0 else (n, d)
    z, y = rng.standard_normal(shape) * 3, rng.random(shape)
    p = 1 / (1 + np.exp(-z))
    naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert losses.binary_cross_entropy(z, y)[0] == pytest.approx(naive, rel=1e-10)
    assert gradcheck.check_loss(losses.binary_cross_entropy, z, y) < TOL


@pytest.mark.checks("eq-softmax-ce", "eq-ce-p-minus-y", "eq-softmax-ce-grad",
                     kind="finite differences", tol="rel 1e-7")
@FAST
@given(n=dims, k=st.integers(2, 6), seed=seeds)
def test_softmax_cross_entropy_value_and_gradient(n, k, seed):
    rng = np.random.default_rng(seed)
    z, labels = rng.standard_normal((n, k)) * 3, rng.integers(0, k, n)
    naive = -np.mean([np.log(np.exp(z[i, labels[i]]) / np.exp(z[i]).sum()) for i in range(n)])
    assert losses.softmax_cross_entropy(z, labels)[0] == pytest.approx(naive, rel=1e-10)
    assert gradcheck.check_loss(losses.softmax_cross_entropy, z, labels) < TOL


@pytest.mark.checks("eq-dense-backward", kind="finite differences", tol="rel 1e-7")
@FAST
@given(n=dims, d_in=dims, d_out=dims, seed=seeds, init=st.sampled_from(["he", "glorot"]))
def test_dense_gradients(n, d_in, d_out, seed, init):
    rng = np.random.default_rng(seed)
    layer = layers.Dense(d_in, d_out, rng=rng, init=init)
    layer.params["b"][...] = rng.standard_normal(d_out)  # a zero bias would hide a bias bug
    errors = gradcheck.check_layer(layer, rng.standard_normal((n, d_in)), rng=rng,
                                   return_all=True)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOL


@pytest.mark.checks("eq-activation-backward", kind="finite differences", tol="rel 1e-7")
@pytest.mark.parametrize("cls", [layers.ReLU, layers.Sigmoid, layers.Tanh])
@FAST
@given(n=dims, d=dims, seed=seeds)
def test_activation_layer_gradients(cls, n, d, seed):
    rng = np.random.default_rng(seed)
    assert gradcheck.check_layer(cls(), away_from_zero(rng, (n, d)), rng=rng) < TOL


@FAST
@given(n=dims, d=dims, seed=seeds, p=st.floats(0.0, 0.9))
def test_dropout_gradient_with_fixed_mask(n, d, seed, p):
    rng = np.random.default_rng(seed)
    layer = layers.Dropout(p, rng=rng)
    layer.set_mask(rng.random((n, d)) >= p)
    assert gradcheck.check_layer(layer, rng.standard_normal((n, d)), rng=rng) < TOL


@pytest.mark.checks("eq-delta-recursion", "eq-delta-factor", kind="finite differences",
                     tol="rel 1e-7")
@FAST
@given(sizes=st.lists(dims, min_size=2, max_size=4), n=dims, seed=seeds,
       activation=st.sampled_from(["relu", "sigmoid", "tanh"]))
def test_mlp_gradients(sizes, n, seed, activation):
    rng = np.random.default_rng(seed)
    model = layers.mlp(sizes, activation=activation, rng=rng, need_input_grad=True)
    for key, value in model.params().items():
        if key.endswith(".b"):
            value[...] = 0.1 * rng.standard_normal(value.shape)
    errors = gradcheck.check_layer(model, rng.standard_normal((n, sizes[0])), rng=rng,
                                   return_all=True)
    n_dense = len(sizes) - 1
    assert len(errors) == 2 * n_dense + 1  # every W and b, and x
    assert max(errors.values()) < TOL


def test_mlp_loss_gradient_end_to_end():
    """Model + loss together: the gradient of the mean cross-entropy w.r.t. every weight."""
    rng = np.random.default_rng(0)
    model = layers.mlp([4, 7, 3], activation="tanh", rng=rng)
    X, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    _, dlogits = losses.softmax_cross_entropy(model.forward(X), y)
    model.backward(dlogits)
    analytic = {k: g.copy() for k, g in model.grads().items()}

    def loss():
        return losses.softmax_cross_entropy(model.forward(X), y)[0]

    for key, W in model.params().items():
        assert gradcheck.rel_error(analytic[key], gradcheck.numerical_grad(loss, W)) < TOL
