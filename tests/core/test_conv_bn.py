"""Conv1D, BatchNorm and Flatten: values from first principles, finite differences, clear errors,
and the contract that lets them train inside ``Sequential`` and ``fit`` with every optimizer.

The comparisons with Keras are in test_conv_bn_tf.py; the planted bugs in
test_conv_bn_planted.py.
"""

import re

import numpy as np
import pytest

from dlbook_utils import gradcheck, losses, optim, train
from dlbook_utils.batchnorm import BatchNorm
from dlbook_utils.conv import Conv1D, Flatten, conv1d_padding
from dlbook_utils.layers import Dense, ReLU, Sequential, Tanh

GRAD_TOL = 1e-7
CONV_CASES = [(padding, stride, k) for padding in ("valid", "same") for stride in (1, 2)
              for k in (3, 4)]


def conv1d_loops(x, W, b, stride, left, right):
    """The definition, one entry at a time: y[i,t,o] = b[o] + sum_{j,c} xp[i,ts+j,c] W[j,c,o]."""
    xp = np.pad(x, ((0, 0), (left, right), (0, 0)))
    k = W.shape[0]
    out_length = (xp.shape[1] - k) // stride + 1
    y = np.zeros((x.shape[0], out_length, W.shape[2]))
    for i in range(x.shape[0]):
        for t in range(out_length):
            for o in range(W.shape[2]):
                y[i, t, o] = b[o] + np.sum(xp[i, t * stride:t * stride + k, :] * W[:, :, o])
    return y


# ----------------------------------------------------------------------------- Conv1D values

@pytest.mark.parametrize("length, k, stride, expected", [
    # TF's rule: out = ceil(length / stride), total = max((out - 1) * stride + k - length, 0),
    # left = total // 2, the odd one on the right (worked out by hand).
    (10, 4, 1, (10, 1, 2)),
    (10, 3, 1, (10, 1, 1)),
    (10, 3, 2, (5, 0, 1)),
    (9, 4, 2, (5, 1, 2)),
    (5, 1, 2, (3, 0, 0)),
    (4, 6, 1, (4, 2, 3)),
    (40, 5, 1, (40, 2, 2)),
])
def test_same_padding_puts_the_odd_zero_on_the_right(length, k, stride, expected):
    assert conv1d_padding(length, k, stride, "same") == expected


@pytest.mark.parametrize("length, k, stride, expected", [(10, 4, 1, 7), (10, 3, 2, 4),
                                                         (9, 4, 2, 3), (4, 4, 3, 1)])
def test_valid_padding_output_length(length, k, stride, expected):
    assert conv1d_padding(length, k, stride, "valid") == (expected, 0, 0)


@pytest.mark.parametrize("padding, stride, k", CONV_CASES)
@pytest.mark.parametrize("length", [9, 10])
def test_conv1d_forward_equals_the_definition(padding, stride, k, length):
    rng = np.random.default_rng(k + 10 * stride + length)
    layer = Conv1D(2, 3, k, rng=rng, stride=stride, padding=padding)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal((2, length, 2))
    out_length, left, right = conv1d_padding(length, k, stride, padding)
    y = layer.forward(x)
    assert y.shape == (2, out_length, 3)
    np.testing.assert_allclose(y, conv1d_loops(x, layer.params["W"], layer.params["b"], stride,
                                               left, right), rtol=1e-12, atol=1e-12)


def test_conv1d_he_and_glorot_scales():
    # fan_in = k * c_in = 5 * 8 = 40, fan_out = 5 * 50 = 250; 2000 draws: sample std within 5 %.
    he = Conv1D(8, 50, 5, rng=np.random.default_rng(0)).params["W"]
    glorot = Conv1D(8, 50, 5, rng=np.random.default_rng(0), init="glorot").params["W"]
    assert he.shape == (5, 8, 50)
    assert abs(he.std() / np.sqrt(2 / 40) - 1) < 0.05
    assert abs(glorot.std() / np.sqrt(2 / (40 + 250)) - 1) < 0.05  # U(-a, a): std = a / sqrt(3)


# ----------------------------------------------------------------------------- finite differences

@pytest.mark.parametrize("padding, stride, k", CONV_CASES)
@pytest.mark.parametrize("length", [9, 10])
def test_conv1d_gradients_match_finite_differences(padding, stride, k, length):
    rng = np.random.default_rng(k + 10 * stride + length)
    layer = Conv1D(2, 3, k, rng=rng, stride=stride, padding=padding)
    x = rng.standard_normal((2, length, 2))
    errors = gradcheck.check_layer(layer, x, rng=rng, return_all=True)
    assert set(errors) == {"W", "b", "x"}
    assert max(errors.values()) < GRAD_TOL, errors


def _bn(n_features, rng, *, training=True):
    """A BatchNorm with non-trivial gamma, beta and moving statistics."""
    layer = BatchNorm(n_features, momentum=0.9)
    layer.params["gamma"][...] = rng.standard_normal(n_features)
    layer.params["beta"][...] = rng.standard_normal(n_features)
    layer.moving_mean[...] = rng.standard_normal(n_features)
    layer.moving_var[...] = rng.random(n_features) + 0.5
    return layer.train() if training else layer.eval()


@pytest.mark.checks("eq-batchnorm-backward", kind="finite differences", tol="rel 1e-7")
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 3), (2, 3, 2, 3)])
def test_batchnorm_gradients_match_finite_differences(training, shape):
    rng = np.random.default_rng(len(shape))
    layer = _bn(3, rng, training=training)
    x = rng.standard_normal(shape) * 2 + 1
    errors = gradcheck.check_layer(layer, x, rng=rng, return_all=True)
    assert set(errors) == {"gamma", "beta", "x"}
    assert max(errors.values()) < GRAD_TOL, errors


def test_flatten_round_trip_and_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    flat = Flatten()
    y = flat.forward(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y[1], x[1].ravel())  # C order: channels of position 0 first
    assert flat.backward(y).shape == x.shape
    assert gradcheck.check_layer(flat, x, rng=rng) < GRAD_TOL


def test_a_whole_cnn_with_batchnorm_matches_finite_differences():
    rng = np.random.default_rng(0)
    model = Sequential([Conv1D(2, 3, 3, rng=rng, padding="same"), Tanh(), BatchNorm(3),
                        Conv1D(3, 2, 2, rng=rng, stride=2), Flatten(), Dense(8, 3, rng=rng)])
    x = rng.standard_normal((3, 9, 2))
    errors = gradcheck.check_layer(model, x, rng=rng, return_all=True)
    assert len(errors) == 9  # 0.W 0.b 2.gamma 2.beta 3.W 3.b 5.W 5.b and x
    assert max(errors.values()) < GRAD_TOL, errors


def test_a_bias_right_before_batchnorm_gets_no_gradient():
    """In training mode BatchNorm subtracts the batch mean, and with it any constant added
    before it: the loss does not depend on that bias (its finite differences are noise too)."""
    rng = np.random.default_rng(0)
    model = Sequential([Conv1D(2, 3, 3, rng=rng), BatchNorm(3), Flatten(), Dense(21, 2, rng=rng)])
    model.forward(rng.standard_normal((4, 9, 2)))
    model.backward(rng.standard_normal((4, 2)))
    assert np.abs(model.grads()["0.b"]).max() < 1e-13
    assert np.abs(model.grads()["0.W"]).max() > 1e-2


# ----------------------------------------------------------------------------- BatchNorm semantics

def test_batchnorm_training_uses_the_biased_variance_and_updates_the_moving_statistics():
    layer = BatchNorm(1, momentum=0.9, eps=1e-3)
    x = np.array([[0.0], [2.0], [4.0]])  # mean 2, biased variance 8/3 (the unbiased one is 4)
    y = layer.forward(x)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 2) / np.sqrt(8 / 3 + 1e-3), rtol=1e-14)
    np.testing.assert_allclose(layer.moving_mean, [0.9 * 0 + 0.1 * 2], rtol=1e-14)
    np.testing.assert_allclose(layer.moving_var, [0.9 * 1 + 0.1 * 8 / 3], rtol=1e-14)


def test_batchnorm_normalizes_over_every_axis_but_the_last():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5, 3)) * [1.0, 10.0, 0.1] + [0.0, -3.0, 7.0]
    y = BatchNorm(3, eps=1e-12).forward(x)
    np.testing.assert_allclose(y.mean(axis=(0, 1)), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 1)), 1, rtol=1e-9)
    assert abs(y.std(axis=0).mean() - 1) > 1e-3  # not normalized per position


def test_batchnorm_eval_uses_the_moving_statistics_so_examples_do_not_interact():
    rng = np.random.default_rng(0)
    layer = _bn(3, rng, training=False)
    x = rng.standard_normal((5, 4, 3))
    y = layer.forward(x)
    expected = (layer.params["gamma"] * (x - layer.moving_mean)
                / np.sqrt(layer.moving_var + layer.eps) + layer.params["beta"])
    np.testing.assert_allclose(y, expected, rtol=1e-13)
    np.testing.assert_allclose(layer.forward(x[2:3]), y[2:3], rtol=1e-13)  # alone = in a batch
    before = layer.moving_mean.copy()
    layer.forward(x + 100)
    np.testing.assert_array_equal(layer.moving_mean, before)  # eval never updates them


def test_batchnorm_is_exact_far_from_zero_and_finite_for_constant_features():
    rng = np.random.default_rng(0)
    x = 1e8 + rng.standard_normal((64, 2))  # E[x^2] - E[x]^2 would lose every digit here
    y = BatchNorm(2, eps=1e-12).forward(x)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-6)
    const = BatchNorm(2, eps=1e-3)
    const.params["beta"][...] = [0.5, -0.5]
    y = const.forward(np.full((4, 2), 3.0))  # variance 0: eps keeps the division finite
    np.testing.assert_array_equal(y, np.tile([0.5, -0.5], (4, 1)))
    dx = const.backward(np.ones((4, 2)))
    assert np.isfinite(dx).all()
    huge = BatchNorm(2).forward(1e100 * rng.standard_normal((8, 2)))
    assert np.isfinite(huge).all()


def test_batchnorm_with_one_entry_per_feature_outputs_beta_as_keras_does():
    layer = BatchNorm(2)
    layer.params["beta"][...] = [1.0, 2.0]
    np.testing.assert_array_equal(layer.forward(np.array([[5.0, -7.0]])), [[1.0, 2.0]])


# ----------------------------------------------------------------------------- contract

def test_gradients_are_written_into_the_same_arrays():
    """An optimizer (or Sequential's flat buffer) may hold references to grads: keep them valid."""
    rng = np.random.default_rng(0)
    for layer, x in [(Conv1D(2, 3, 3, rng=rng), rng.standard_normal((2, 7, 2))),
                     (BatchNorm(2), rng.standard_normal((2, 7, 2)))]:
        held = dict(layer.grads)
        layer.backward(np.ones_like(layer.forward(x)))
        for key, array in held.items():
            assert layer.grads[key] is array
            assert np.any(array != 0), key


def test_first_layer_skips_the_input_gradient():
    rng = np.random.default_rng(0)
    model = Sequential([Conv1D(1, 2, 3, rng=rng), Flatten(), Dense(6, 2, rng=rng)],
                       need_input_grad=False)
    model.forward(rng.standard_normal((4, 5, 1)))
    assert model.backward(np.ones((4, 2))) is None
    assert np.any(model.grads()["0.W"] != 0)


def toy_signals(n, rng, length=16):
    """Three classes: a bump near the start, the middle or the end of a noisy signal."""
    y = rng.integers(0, 3, n)
    t = np.arange(length)
    centres = np.array([3, 8, 13])[y]
    x = np.exp(-0.5 * (t - centres[:, None]) ** 2) + 0.3 * rng.standard_normal((n, length))
    return x[:, :, None], y


def small_cnn(rng, dtype=np.float64):
    return Sequential([Conv1D(1, 4, 3, rng=rng, padding="same", dtype=dtype),
                       BatchNorm(4, dtype=dtype), ReLU(),
                       Conv1D(4, 4, 3, rng=rng, stride=2, padding="same", dtype=dtype),
                       ReLU(), Flatten(), Dense(32, 3, rng=rng, dtype=dtype)],
                      need_input_grad=False)


@pytest.mark.parametrize("opt", [optim.SGD(0.1), optim.SGD(0.05, momentum=0.9),
                                 optim.SGD(0.05, momentum=0.9, nesterov=True),
                                 optim.RMSprop(0.005), optim.Adam(0.01),
                                 optim.AdamW(0.01, weight_decay=0.01)], ids=repr)
def test_a_cnn_with_batchnorm_learns_in_fit_with_every_optimizer(opt):
    rng = np.random.default_rng(0)
    X, y = toy_signals(300, rng)
    model = small_cnn(rng)
    bn = model.layers[1]
    loss_before, acc_before = train.evaluate(model, losses.softmax_cross_entropy, X, y)
    hist = train.fit(model, losses.softmax_cross_entropy, opt, X, y, epochs=8, batch_size=32,
                     rng=np.random.default_rng(1), progress=False)
    loss_after, acc_after = train.evaluate(model, losses.softmax_cross_entropy, X, y)
    assert loss_after < 0.5 * loss_before and acc_after > 0.9, (loss_before, loss_after, acc_after)
    assert hist.epochs == 8 and not bn.training  # fit leaves the model in eval mode
    assert np.all(bn.moving_var != 1) and np.all(bn.moving_mean != 0)  # updated while training
    # eval mode: each example's output is its own, whatever batch it is predicted in
    np.testing.assert_allclose(train.predict(model, X[:1]), train.predict(model, X)[:1],
                               rtol=1e-12)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    X, y = toy_signals(64, rng)
    model = small_cnn(rng, dtype=np.float32)
    train.fit(model, losses.softmax_cross_entropy, optim.Adam(0.01), X.astype(np.float32), y,
              epochs=1, batch_size=16, rng=rng, progress=False)
    assert model.forward(X[:4].astype(np.float32)).dtype == np.float32
    assert {a.dtype for a in [*model.params().values(), *model.grads().values()]} == {
        np.dtype(np.float32)}
    assert model.layers[1].moving_var.dtype == np.float32


# ----------------------------------------------------------------------------- clear errors

@pytest.mark.parametrize("kwargs, match", [
    (dict(c_in=0), "c_in to be a positive integer, got 0"),
    (dict(kernel_size=2.5), "kernel_size to be a positive integer, got 2.5"),
    (dict(stride=True), "stride to be a positive integer, got True"),
    (dict(padding="full"), r"padding in \('valid', 'same'\), got 'full'"),
    (dict(init="lecun"), r"init in \('he', 'glorot'\), got 'lecun'"),
    (dict(rng=0), "rng: np.random.Generator, got int"),
    (dict(dtype=np.int32), "floating-point dtype, got int32"),
])
def test_conv1d_constructor_errors(kwargs, match):
    args = dict(c_in=2, c_out=3, kernel_size=3, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(ValueError, match=match):
        Conv1D(args.pop("c_in"), args.pop("c_out"), args.pop("kernel_size"), **args)


@pytest.mark.parametrize("x, match", [
    (np.zeros((4, 10)), r"expected x of shape \(n, length, 2\) \(channels last\), got \(4, 10\)"),
    (np.zeros((4, 10, 3)), r"expected x of shape \(n, length, 2\).*got \(4, 10, 3\)"),
    (np.zeros((4, 2, 2)), "expected length >= kernel_size = 3 with padding='valid', got length 2"),
    (np.zeros((4, 10, 2), dtype=np.int64), "floating-point dtype"),
    ([[[0.0, 1.0]]], "expected length >= kernel_size"),  # a nested list is taken as floats
    ("x", "expected x to be a NumPy float array, got str"),
])
def test_conv1d_input_errors(x, match):
    with pytest.raises(ValueError, match=match):
        Conv1D(2, 3, 3, rng=np.random.default_rng(0)).forward(x)


def test_backward_errors():
    rng = np.random.default_rng(0)
    for layer, x in [(Conv1D(2, 3, 3, rng=rng), np.zeros((4, 10, 2))),
                     (BatchNorm(2), np.zeros((4, 10, 2))), (Flatten(), np.zeros((4, 10, 2)))]:
        with pytest.raises(RuntimeError, match="backward called before forward"):
            layer.backward(np.zeros((1, 1)))
        y = layer.forward(x)
        with pytest.raises(ValueError, match=re.escape(f"expected delta of shape {y.shape}")):
            layer.backward(np.zeros((*y.shape[:-1], y.shape[-1] + 1)))


def test_batchnorm_and_flatten_errors():
    with pytest.raises(ValueError, match=r"expected x of shape \(n, \.\.\., 3\) \(features last\), "
                                         r"got \(4, 2\)"):
        BatchNorm(3).forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="n_features to be a positive integer, got 0"):
        BatchNorm(0)
    with pytest.raises(ValueError, match=r"momentum in \[0, 1\), got 1.0"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="eps > 0, got 0"):
        BatchNorm(3, eps=0)
    with pytest.raises(ValueError, match=r"at least one more, got shape \(4,\)"):
        Flatten().forward(np.zeros(4))


def test_the_book_imports_them_from_layers():
    from dlbook_utils import layers

    assert layers.BatchNorm is BatchNorm  # chapter 6 imports it from layers


def test_an_empty_batch_passes_through():
    rng = np.random.default_rng(0)
    layer = Conv1D(2, 3, 3, rng=rng, stride=2, padding="same")
    y = layer.forward(np.zeros((0, 9, 2)))
    assert y.shape == (0, 5, 3)
    assert layer.backward(np.zeros((0, 5, 3))).shape == (0, 9, 2)
    assert np.all(layer.grads["W"] == 0)
