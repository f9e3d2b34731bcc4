"""Conv1D and BatchNorm vs keras.layers.Conv1D / BatchNormalization, float32, tolerance 1e-5.

Values are O(1), so 1e-5 absolute is ~100 float32 ulps: room for a different summation order,
far below any formula difference (the planted bugs in test_conv_bn_planted.py miss by > 1e-2).
"""

import numpy as np
import pytest

from dlbook_utils.batchnorm import BatchNorm
from dlbook_utils.conv import Conv1D

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tfl():
    from dlbook_utils import tfcompare_layers

    return tfcompare_layers


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("length", [9, 10])  # with 'same', one of the two has an odd total pad
def test_conv1d_matches_keras(tfl, padding, stride, k, length):
    rng = np.random.default_rng(k + 10 * stride + length)
    layer = Conv1D(2, 3, k, rng=rng, stride=stride, padding=padding)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal((2, length, 2))
    dy = rng.standard_normal(layer.forward(x).shape)
    result = tfl.compare_conv1d(layer, x, dy)
    assert result.passed, str(result)


def test_conv1d_float32_layer_matches_keras_on_mnist1d_sized_input(tfl):
    rng = np.random.default_rng(0)
    layer = Conv1D(1, 32, 5, rng=rng, padding="same", dtype=np.float32)
    x = rng.standard_normal((16, 40, 1))
    # dW sums 16 * 40 products per entry, so its entries are O(100): judge it relatively.
    result = tfl.compare_conv1d(layer, x, rng.standard_normal((16, 40, 32)), tol=1e-3)
    assert result.passed and result.max_rel < 2e-6, f"{result}, relative {result.max_rel:.1e}"


@pytest.mark.checks("eq-batchnorm", "eq-batchnorm-backward",
                     kind="TensorFlow", tol="atol 1e-5 (float32)")
@pytest.mark.parametrize("shape", [(8, 3), (4, 6, 3)])
@pytest.mark.parametrize("momentum", [0.99, 0.5])
def test_batchnorm_matches_keras_in_training_and_eval(tfl, shape, momentum):
    """Outputs and gradients over three training steps and one eval step, and the moving mean
    and variance after each step (momentum 0.5 moves them far from their start)."""
    rng = np.random.default_rng(len(shape))
    layer = BatchNorm(3, momentum=momentum)
    layer.params["gamma"][...] = rng.standard_normal(3)
    layer.params["beta"][...] = rng.standard_normal(3)
    batches = [rng.standard_normal(shape) * 2 + 1 for _ in range(3)]
    result = tfl.compare_batchnorm(layer, batches, rng.standard_normal(shape), rng=rng)
    assert result.passed, str(result)
    assert not layer.training
    assert np.abs(layer.moving_mean).max() > 0.01  # the moving statistics did move


def test_compare_functions_refuse_other_layers(tfl):
    with pytest.raises(ValueError, match="expected a Conv1D layer, got BatchNorm"):
        tfl.compare_conv1d(BatchNorm(2), np.zeros((1, 3, 2)), np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="expected a BatchNorm layer, got Conv1D"):
        tfl.compare_batchnorm(Conv1D(1, 1, 1, rng=np.random.default_rng(0)), [], np.zeros((2, 1)),
                              rng=np.random.default_rng(0))
