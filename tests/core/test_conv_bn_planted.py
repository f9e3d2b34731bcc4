"""The checks of Conv1D and BatchNorm catch the classic mistakes: each planted bug FAILS a check.

Mistakes in what the forward pass computes (the padding on the wrong side, the unbiased
variance, batch statistics at inference) are caught by the comparison with Keras; the padding
bug even keeps forward and backward consistent, so finite differences cannot see it at all.
Mistakes in the backward pass alone (a gradient overwritten where it must be accumulated) are
caught by finite differences, which point at the wrong array.
Each test also runs the correct layer through the same check, so the check is known to pass.
"""

import numpy as np
import pytest

from dlbook_utils import conv, gradcheck
from dlbook_utils.batchnorm import BatchNorm
from dlbook_utils.conv import Conv1D

GRAD_TOL = 1e-7


@pytest.fixture(scope="module")
def tfl():
    from dlbook_utils import tfcompare_layers

    return tfcompare_layers


# ----------------------------------------------------------------------------- planted variants

class BatchNormVariant(BatchNorm):
    """BatchNorm.forward written out again, with one mistake that can be switched on."""

    def __init__(self, *args, unbiased=False, batch_stats_in_eval=False, shortcut_var=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.unbiased, self.batch_stats_in_eval = unbiased, batch_stats_in_eval
        self.shortcut_var = shortcut_var

    def forward(self, x):
        axes = tuple(range(x.ndim - 1))
        if self.training or self.batch_stats_in_eval:
            mean = x.mean(axis=axes)
            if self.shortcut_var:  # E[x^2] - E[x]^2: cancels catastrophically far from 0
                var = (x * x).mean(axis=axes) - mean * mean
            else:
                var = x.var(axis=axes, ddof=1 if self.unbiased else 0)
            if self.training:
                m = self.momentum
                self.moving_mean[...] = m * self.moving_mean + (1 - m) * mean
                self.moving_var[...] = m * self.moving_var + (1 - m) * var
        else:
            mean, var = self.moving_mean, self.moving_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        self._cache = (xhat, inv_std, self.training, axes)
        return self.params["gamma"] * xhat + self.params["beta"]


class BatchNormDgammaOverwritten(BatchNorm):
    """dgamma summed over the batch in a loop over positions that assigns instead of adding:
    only the last position counts. On 2-D input there is one 'position', so it goes unseen."""

    def backward(self, delta):
        dx = super().backward(delta)
        xhat = self._cache[0]
        shape = (len(delta), -1, self.n_features)  # (n, positions, features)
        rows, feats = delta.reshape(shape), xhat.reshape(shape)
        for t in range(rows.shape[1]):
            self.grads["gamma"][...] = (rows[:, t] * feats[:, t]).sum(axis=0)  # '=' not '+='
        return dx


class Conv1DdWOverwritten(Conv1D):
    """dW from a loop over output positions that assigns instead of adding: only the last
    window's contribution survives, though the same W was used at every position."""

    def backward(self, delta):
        dx = super().backward(delta)
        cols = self._cache[0].reshape(len(delta), delta.shape[1], -1)
        for t in range(delta.shape[1]):
            dW = cols[:, t].T @ delta[:, t]  # '=' not '+='
        self.grads["W"][...] = dW.reshape(self.params["W"].shape)
        return dx


class Conv1DdxOverwritten(Conv1D):
    """dx scattered back tap by tap with '=' instead of '+=': where windows overlap, the
    gradient from the earlier taps is lost."""

    def backward(self, delta):
        super().backward(delta)
        pad_shape, left, length = self._cache[1:4]
        dcols = (delta.reshape(-1, self.c_out) @ self.params["W"].reshape(-1, self.c_out).T)
        dcols = dcols.reshape(len(delta), delta.shape[1], self.kernel_size, self.c_in)
        dx_pad = np.zeros(pad_shape)
        last = (delta.shape[1] - 1) * self.stride + 1
        for j in range(self.kernel_size):
            dx_pad[:, j:j + last:self.stride] = dcols[:, :, j]  # '=' not '+='
        return dx_pad[:, left:left + length]


def padding_split_on_the_left(length, kernel_size, stride, padding):
    """conv1d_padding with the odd zero on the LEFT (as some hand-written codes do)."""
    out_length, left, right = CORRECT_PADDING(length, kernel_size, stride, padding)
    return out_length, right, left


CORRECT_PADDING = conv.conv1d_padding


def _bn_setup(layer_cls, shape, **kwargs):
    rng = np.random.default_rng(0)
    layer = layer_cls(3, momentum=0.5, **kwargs)
    layer.params["gamma"][...] = rng.standard_normal(3)
    layer.params["beta"][...] = rng.standard_normal(3)
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(3)]
    return layer, batches, rng.standard_normal(shape), rng


# ----------------------------------------------------------------------------- caught by gradcheck

def test_gradcheck_catches_conv_dW_overwritten_over_positions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 2))
    good = Conv1D(2, 3, 3, rng=np.random.default_rng(1))
    bad = Conv1DdWOverwritten(2, 3, 3, rng=np.random.default_rng(1))
    assert gradcheck.check_layer(good, x, rng=np.random.default_rng(2)) < GRAD_TOL
    errors = gradcheck.check_layer(bad, x, rng=np.random.default_rng(2), return_all=True)
    assert errors["W"] > 1e-2
    assert errors["x"] < GRAD_TOL and errors["b"] < GRAD_TOL  # the check points at W


@pytest.mark.parametrize("stride", [1, 2])
def test_gradcheck_catches_conv_dx_overwritten_where_windows_overlap(stride):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 10, 2))
    good = Conv1D(2, 3, 3, rng=np.random.default_rng(1), stride=stride, padding="same")
    bad = Conv1DdxOverwritten(2, 3, 3, rng=np.random.default_rng(1), stride=stride,
                              padding="same")
    assert gradcheck.check_layer(good, x, rng=np.random.default_rng(2)) < GRAD_TOL
    errors = gradcheck.check_layer(bad, x, rng=np.random.default_rng(2), return_all=True)
    assert errors["x"] > 1e-2
    assert errors["W"] < GRAD_TOL and errors["b"] < GRAD_TOL


def test_gradcheck_catches_bn_dgamma_overwritten_but_only_on_3d_input():
    rng = np.random.default_rng(0)
    x3 = rng.standard_normal((4, 5, 3))
    assert gradcheck.check_layer(BatchNorm(3), x3, rng=np.random.default_rng(1)) < GRAD_TOL
    errors = gradcheck.check_layer(BatchNormDgammaOverwritten(3), x3,
                                   rng=np.random.default_rng(1), return_all=True)
    assert errors["gamma"] > 1e-2
    assert errors["x"] < GRAD_TOL and errors["beta"] < GRAD_TOL
    # A 2-D input has one position per row: the same bug passes. Hence the 3-D checks.
    x2 = rng.standard_normal((6, 3))
    assert gradcheck.check_layer(BatchNormDgammaOverwritten(3), x2,
                                 rng=np.random.default_rng(1)) < GRAD_TOL


def test_exactness_check_catches_the_shortcut_variance():
    x = 1e8 + np.random.default_rng(0).standard_normal((64, 2))
    for layer, ok in [(BatchNormVariant(2, eps=1e-12), True),
                      (BatchNormVariant(2, eps=1e-12, shortcut_var=True), False)]:
        with np.errstate(invalid="ignore"):  # the shortcut's variance may even come out < 0
            std = layer.forward(x).std(axis=0)
        assert np.allclose(std, 1, rtol=1e-6) == ok, std


# ----------------------------------------------------------------------------- caught by Keras

@pytest.mark.tf
@pytest.mark.parametrize("k, stride, length", [(4, 1, 9), (3, 2, 10), (4, 2, 9)])
def test_keras_comparison_catches_the_padding_split_on_the_wrong_side(tfl, monkeypatch, k,
                                                                      stride, length):
    """Each case needs an odd number of zeros, so that the two sides differ."""
    assert sum(conv.conv1d_padding(length, k, stride, "same")[1:]) % 2 == 1
    rng = np.random.default_rng(0)
    layer = Conv1D(2, 3, k, rng=rng, stride=stride, padding="same")
    x = rng.standard_normal((2, length, 2))
    delta = rng.standard_normal(layer.forward(x).shape)
    assert tfl.compare_conv1d(layer, x, delta).passed
    monkeypatch.setattr(conv, "conv1d_padding", padding_split_on_the_left)
    assert gradcheck.check_layer(layer, x, rng=rng) < GRAD_TOL  # still self-consistent
    result = tfl.compare_conv1d(layer, x, delta)
    assert not result.passed and result.max_abs > 1e-2, str(result)


@pytest.mark.tf
@pytest.mark.parametrize("shape", [(8, 3), (4, 6, 3)])
@pytest.mark.parametrize("bug", ["unbiased", "batch_stats_in_eval"])
def test_keras_comparison_catches_the_batchnorm_statistics_bugs(tfl, shape, bug):
    layer, batches, eval_batch, rng = _bn_setup(BatchNormVariant, shape)
    assert tfl.compare_batchnorm(layer, batches, eval_batch, rng=rng).passed  # the harness
    layer, batches, eval_batch, rng = _bn_setup(BatchNormVariant, shape, **{bug: True})
    result = tfl.compare_batchnorm(layer, batches, eval_batch, rng=rng)
    assert not result.passed and result.max_abs > 1e-2, str(result)
