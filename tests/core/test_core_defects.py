"""Three defects the old speed machinery caused, each pinned by a test that failed on it.

1. ``check_layer`` on a layer that writes over its input (an in-place ReLU) reported a correct
   layer as broken (error 0.17): it perturbed an x that forward had already overwritten.
2. An in-place ReLU placed first, or after Dropout in eval mode (which returns its input),
   overwrote the caller's data.
3. A learner's ``Layer`` subclass in the library's old ``_forward``/``_backward`` style failed
   with "backward called before forward" in some positions of a Sequential and ran in others.
"""

import inspect
import itertools

import numpy as np
import pytest

from dlbook_utils import gradcheck, layers, losses


class LearnersInPlaceReLU(layers.Layer):
    """A learner's ReLU that saves memory by writing over its input."""

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0, out=x)

    def backward(self, delta):
        return delta * self.mask


def test_check_layer_finds_a_correct_in_place_layer_correct():
    x = np.random.default_rng(0).standard_normal((6, 5))
    before = x.copy()
    error = gradcheck.check_layer(LearnersInPlaceReLU(), x, rng=np.random.default_rng(1))
    assert error < 1e-7
    np.testing.assert_array_equal(x, before)  # and the caller's x is left alone


def relu_variants():
    """Every ReLU the constructor's boolean options allow (e.g. an in-place one)."""
    flags = [name for name, p in inspect.signature(layers.ReLU).parameters.items()
             if isinstance(p.default, bool)]
    return [layers.ReLU(**dict(zip(flags, values, strict=True)))
            for values in itertools.product([False, True], repeat=len(flags))]


@pytest.mark.parametrize("where", ["first", "after eval-mode Dropout"])
def test_no_relu_overwrites_the_callers_data(where):
    rng = np.random.default_rng(0)
    for relu in relu_variants():
        before = [layers.Dropout(0.5, rng=rng).eval()] if where != "first" else []
        model = layers.Sequential([*before, relu, layers.Dense(4, 2, rng=rng)])
        if where != "first":
            model.eval()
        x = rng.standard_normal((3, 4))
        x_before = x.copy()
        model.forward(x)
        np.testing.assert_array_equal(x, x_before, err_msg=repr(relu))


class OldStyle(layers.Layer):
    """A layer written like the library's layers used to be: _forward/_backward."""

    def _forward(self, x):
        self.x = x
        return 2 * x

    def _backward(self, delta):
        return 2 * delta


class NewStyle(layers.Layer):
    """The same layer written to the contract: forward/backward."""

    def forward(self, x):
        return 2 * x

    def backward(self, delta):
        return 2 * delta


def model_with(layer, position):
    rng = np.random.default_rng(0)
    around = [layers.Dense(3, 3, rng=rng), layers.Dense(3, 3, rng=rng)]
    return layers.Sequential(around[:position] + [layer] + around[position:])


@pytest.mark.parametrize("position", [0, 1, 2])
def test_an_old_style_layer_fails_the_same_clear_way_in_every_position(position):
    model = model_with(OldStyle(), position)
    with pytest.raises(NotImplementedError,
                       match=r"OldStyle must define forward\(x\); rename _forward/_backward"):
        model.forward(np.ones((2, 3)))


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_learners_layer_works_in_every_position(position):
    model = model_with(NewStyle(), position)
    x, y = np.random.default_rng(1).standard_normal((4, 3)), np.array([0, 1, 2, 0])
    _, delta = losses.softmax_cross_entropy(model.forward(x), y)
    assert model.backward(delta).shape == x.shape
    assert gradcheck.check_layer(model, x, rng=np.random.default_rng(2)) < 1e-7
