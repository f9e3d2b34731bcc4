"""Answers to the learner's reading review of the core (issue 21), each pinned by a test that
fails on the code before the fix.

* A ``grads()`` dict taken once, before the training loop, stays valid: Dense writes its
  gradients into the arrays that ``grads`` already holds instead of replacing them.
* An optimizer refuses a parameter whose shape changed, instead of silently restarting its
  state from zeros.
* One NaN rule: a NaN passes through ReLU's forward (NaN out), and its backward refuses it
  through ``activations.relu_grad`` rather than give it slope 0.
"""

import numpy as np
import pytest

from dlbook_utils import activations as act
from dlbook_utils import layers, losses, optim


def train(grads_taken_once: bool, steps: int = 5):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    net = layers.mlp([4, 8, 3], rng=np.random.default_rng(1))
    opt = optim.SGD(0.5)
    grads = net.grads()  # the learner's refactoring: taken once, before the loop
    for _ in range(steps):
        _, delta = losses.softmax_cross_entropy(net.forward(X), y)
        net.backward(delta)
        opt.step(net.params(), grads if grads_taken_once else net.grads())
    return net.params()


def test_a_grads_dict_taken_before_the_loop_stays_valid():
    once, fresh = train(True), train(False)
    start = layers.mlp([4, 8, 3], rng=np.random.default_rng(1)).params()
    for key in fresh:
        assert not np.array_equal(fresh[key], start[key]), key  # training moved every array
        np.testing.assert_array_equal(once[key], fresh[key])  # bit for bit the same run


def test_dense_backward_writes_into_its_own_grad_arrays():
    dense = layers.Dense(3, 2, rng=np.random.default_rng(0))
    held = dict(dense.grads)
    x, delta = np.arange(6.0).reshape(2, 3), np.array([[1.0, -2.0], [0.5, 3.0]])
    dense.forward(x)
    dense.backward(delta)
    assert held["W"] is dense.grads["W"] and held["b"] is dense.grads["b"]
    np.testing.assert_array_equal(held["W"], x.T @ delta)  # hand formula, Eq. (eq-dense-backward)
    np.testing.assert_array_equal(held["b"], [1.5, 1.0])


@pytest.mark.parametrize("make", [lambda: optim.SGD(0.1, momentum=0.9), optim.RMSprop,
                                  optim.Adam, optim.AdamW])
def test_an_optimizer_refuses_a_parameter_whose_shape_changed(make):
    opt = make()
    opt.step({"w": np.ones(3)}, {"w": np.ones(3)})
    state_before = {k: v.copy() for k, v in opt.state["w"].items()}
    with pytest.raises(ValueError, match=r"expected a parameter of shape \(3,\).*got \(4,\); "
                                         r"call reset\(\)"):
        opt.step({"w": np.ones(4)}, {"w": np.ones(4)})
    for k, v in state_before.items():  # the state was not silently replaced by zeros
        np.testing.assert_array_equal(opt.state["w"][k], v)
    opt.reset()
    opt.step({"w": np.ones(4)}, {"w": np.ones(4)})  # after reset() the new shape is fine


def test_relu_layer_follows_the_nan_rule_and_uses_the_activations_module():
    relu = layers.ReLU()
    x = np.array([[-1.0, 0.0, 2.0, np.nan]])
    out = relu.forward(x)
    np.testing.assert_array_equal(out[:, :3], act.relu(x[:, :3]))
    assert np.isnan(out[0, 3])  # NaN in, NaN out: the loss downstream refuses it
    # slope 0 would hide the NaN; the error names the layer, not an internal function
    with pytest.raises(ValueError, match=r"ReLU\(\)\.backward expected finite x, got 1 NaN/inf"):
        relu.backward(np.ones_like(x))
    with pytest.raises(ValueError, match=r"relu_grad expected finite z, got 1 NaN/inf"):
        act.relu_grad(x)  # the function itself refuses it too
    relu.forward(x[:, :3])
    delta = np.array([[5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(relu.backward(delta), delta * act.relu_grad(x[:, :3]))
    np.testing.assert_array_equal(relu.backward(delta), [[0.0, 0.0, 7.0]])  # 0 at the kink
