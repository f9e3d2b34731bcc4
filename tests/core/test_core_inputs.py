"""Extreme inputs stay finite without warnings (pytest turns warnings into errors), and bad
inputs raise ValueError naming what was expected and what was got."""

import numpy as np
import pytest

from dlbook_utils import activations as act
from dlbook_utils import gradcheck, layers, losses, optim, regularizers, schedules, tfcompare

# ------------------------------------------------------------------ stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_at_extremes(dtype):
    z = np.array([-1e3, -100.0, 0.0, 100.0, 1e3], dtype=dtype)
    s = act.sigmoid(z)
    assert s.dtype == dtype and np.array_equal(s[[0, 2, 4]], np.array([0, 0.5, 1], dtype))
    assert np.all(np.isfinite(act.sigmoid_grad(z))) and act.sigmoid_grad(z)[0] == 0
    assert np.array_equal(act.tanh(z)[[0, 4]], np.array([-1, 1], dtype))
    assert np.all(np.isfinite(act.tanh_grad(z)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_at_extreme_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    loss, grad = losses.softmax_cross_entropy(z, np.array([1, 0]))
    # row 0: -log softmax = 1e4 - (-1e4) = 2e4; row 1: 1e4 - (-1e4) + log 2
    assert loss == pytest.approx((2e4 + 2e4 + np.log(2)) / 2, rel=1e-6)
    assert grad.dtype == dtype and np.all(np.isfinite(grad))
    assert np.allclose(grad, np.array([[0.5, -0.5, 0], [-0.5, 0.25, 0.25]]), atol=1e-7)
    p = act.softmax(z)
    assert np.allclose(p.sum(axis=1), 1) and np.all(np.isfinite(act.log_softmax(z)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_at_extreme_logits(dtype):
    z = np.array([1e3, -1e3, 1e3, -1e3], dtype=dtype)
    loss, grad = losses.binary_cross_entropy(z, np.array([1, 0, 0, 1]))
    assert loss == pytest.approx((0 + 0 + 1e3 + 1e3) / 4)
    assert np.array_equal(grad, np.array([0, 0, 0.25, -0.25], dtype))


def test_optimizers_with_zero_gradients_stay_finite():
    for opt in (optim.RMSprop(), optim.Adam(), optim.AdamW(), optim.Adam(epsilon_hat=True)):
        params = {"w": np.ones(3, np.float32)}
        for _ in range(3):
            opt.step(params, {"w": np.zeros(3)})
        assert np.all(np.isfinite(params["w"]))


# ------------------------------------------------------------------ bad inputs

rng = np.random.default_rng(0)
dense = layers.Dense(3, 4, rng=rng)
X2 = np.ones((2, 3))

BAD_CALLS = {
    # activations
    "sigmoid-int": (lambda: act.sigmoid(np.array([1, 2])), "floating-point dtype.*got dtype int"),
    "tanh-complex": (lambda: act.tanh(np.array([1j])), "got dtype complex128"),
    "relu-object": (lambda: act.relu(np.array(["a"], dtype=object)), "got dtype object"),
    "relu_grad-nan": (lambda: act.relu_grad(np.array([np.nan])), "finite.*1 NaN/inf"),
    "sigmoid_grad-str": (lambda: act.sigmoid_grad("x"), "NumPy float array, got str"),
    "tanh_grad-bool": (lambda: act.tanh_grad(np.array([True])), "got dtype bool"),
    "softmax-axis": (lambda: act.softmax(X2, axis=2), r"axis in \[-2, 2\), got 2"),
    "log_softmax-scalar": (lambda: act.log_softmax(np.float64(1.0)), "at least 1 dimension"),
    # losses
    "mse-broadcast": (lambda: losses.mse(np.ones((4,)), np.ones((4, 1))),
                      r"shape \(4,\).*got \(4, 1\)"),
    "mse-int-pred": (lambda: losses.mse(np.ones(3, int), np.ones(3)), "dtype int"),
    "bce-range": (lambda: losses.binary_cross_entropy(np.zeros(2), np.array([0.0, 2.0])),
                  r"y in \[0, 1\]"),
    "bce-inf": (lambda: losses.binary_cross_entropy(np.array([np.inf]), np.ones(1)), "finite"),
    "sce-range": (lambda: losses.softmax_cross_entropy(X2, np.array([0, 3])),
                  r"labels in \[0, 3\), got values in \[0, 3\]"),
    "sce-negative": (lambda: losses.softmax_cross_entropy(X2, np.array([-1, 0])),
                     r"labels in \[0, 3\)"),
    "sce-fraction": (lambda: losses.softmax_cross_entropy(X2, np.array([0.5, 1.0])),
                     "integer class labels, got non-integer"),
    "sce-onehot": (lambda: losses.softmax_cross_entropy(X2, np.eye(2, 3)),
                   r"labels of shape \(2,\).*got \(2, 3\)"),
    "sce-1d-logits": (lambda: losses.softmax_cross_entropy(np.ones(3), np.array([0])),
                      "2 dimension"),
    # layers
    "dense-shape": (lambda: dense.forward(np.ones((4, 5))),
                    r"Dense\(in=3, out=4\) expected x of shape \(n, 3\), got \(4, 5\)"),
    "dense-delta": (lambda: (dense.forward(X2), dense.backward(np.ones((2, 3)))),
                    r"delta of shape \(2, 4\).*got \(2, 3\)"),
    "dense-init": (lambda: layers.Dense(3, 4, rng=rng, init="xavier"), "init in"),
    "dense-size": (lambda: layers.Dense(0, 4, rng=rng), "n_in to be a positive integer"),
    "dense-rng": (lambda: layers.Dense(3, 4, rng=0), "np.random.Generator, got int"),
    "dense-dtype": (lambda: layers.Dense(3, 4, rng=rng, dtype=np.int32), "floating-point dtype"),
    "dropout-p": (lambda: layers.Dropout(1.0, rng=rng), r"p in \[0, 1\), got 1.0"),
    "dropout-mask": (lambda: (d := layers.Dropout(0.5, rng=rng), d.set_mask(np.ones(3)),
                              d.forward(X2)), r"mask of shape \(2, 3\)"),
    "relu-layer-delta": (lambda: (lay := layers.ReLU(), lay.forward(X2),
                                  lay.backward(np.ones(2))), r"delta of shape \(2, 3\)"),
    "sequential-empty": (lambda: layers.Sequential([]), "non-empty list of Layer"),
    "mlp-activation": (lambda: layers.mlp([2, 3], activation="gelu", rng=rng), "activation in"),
    "mlp-sizes": (lambda: layers.mlp([2], rng=rng), ">= 2 entries"),
    # optimizers
    "sgd-lr": (lambda: optim.SGD(-0.1), "lr > 0, got -0.1"),
    "sgd-momentum": (lambda: optim.SGD(0.1, momentum=1.0), r"momentum in \[0, 1\)"),
    "rmsprop-eps": (lambda: optim.RMSprop(eps=0), "eps > 0"),
    "adam-beta": (lambda: optim.Adam(beta2=1.5), r"beta2 in \[0, 1\)"),
    "adamw-decay": (lambda: optim.AdamW(weight_decay=-1), "weight_decay >= 0"),
    "step-keys": (lambda: optim.SGD().step({"w": np.ones(2)}, {"v": np.ones(2)}),
                  r"keys of params \['w'\], got \['v'\]"),
    "step-shape": (lambda: optim.SGD().step({"w": np.ones(2)}, {"w": np.ones(3)}),
                   r"shape \(2,\), got \(3,\)"),
    "step-int-param": (lambda: optim.Adam().step({"w": np.ones(2, int)}, {"w": np.ones(2)}),
                       "float ndarray.*int64"),
    "step-nan-grad": (lambda: optim.Adam().step({"w": np.ones(2)}, {"w": np.array([1, np.nan])}),
                      "finite"),
    # schedules
    "cosine-total": (lambda: schedules.cosine(0.1, total=0), "total > 0"),
    "step-every": (lambda: schedules.step_decay(0.1, every=0), "every to be a positive integer"),
    "warmup": (lambda: schedules.linear_warmup(0.1, warmup=1.5), "warmup to be a positive"),
    "schedule-t": (lambda: schedules.constant(0.1)(-1), "t = 0, 1, 2"),
    "exponential-rate": (lambda: schedules.exponential(0.1, rate=0), "rate > 0"),
    # regularizers
    "l1-lam": (lambda: regularizers.l1(np.ones(2), -1), "lam >= 0"),
    "l2-int": (lambda: regularizers.l2(np.ones(2, int), 0.1), "dtype int"),
    "penalty-kind": (lambda: regularizers.weight_penalty({}, "l3", 0.1), "kind in"),
    "penalty-class": (lambda: regularizers.WeightPenalty("elastic"), "kind in"),
    # gradcheck
    "numgrad-f32": (lambda: gradcheck.numerical_grad(lambda: 0.0, np.ones(2, np.float32)),
                    "float64.*got float32"),
    "numgrad-f": (lambda: gradcheck.numerical_grad(None, np.ones(2)), "callable"),
    "rel-shape": (lambda: gradcheck.rel_error(np.ones(2), np.ones(3)), r"shape \(2,\)"),
    "check_layer-rng": (lambda: gradcheck.check_layer(dense, X2, rng=None), "Generator"),
    "check_loss-return": (lambda: gradcheck.check_loss(lambda p, t: 1.0, np.ones(2), None),
                          r"\(loss, grad\)"),
    # tfcompare (validated before TF is imported)
    "cmp-dense-b": (lambda: tfcompare.compare_dense(np.ones((3, 2)), np.ones(3), X2,
                                                    np.ones((2, 2))), r"b of shape \(2,\)"),
    "cmp-act-name": (lambda: tfcompare.compare_activation("gelu", X2), "name in"),
    "cmp-loss-name": (lambda: tfcompare.compare_loss("hinge", X2, X2), "name in"),
    "cmp-reg-kind": (lambda: tfcompare.compare_regularizer("l3", X2, 0.1), "kind in"),
    "cmp-opt-steps": (lambda: tfcompare.compare_optimizer(optim.SGD(), steps=0, rng=rng),
                      "steps to be a positive integer"),
    "cmp-opt-type": (lambda: tfcompare.compare_optimizer("adam", rng=rng), "dlbook_utils.optim"),
}


@pytest.mark.parametrize("key", BAD_CALLS)
def test_bad_input_raises_value_error_naming_expected_and_got(key):
    call, pattern = BAD_CALLS[key]
    with pytest.raises(ValueError, match=pattern):
        call()


def test_backward_before_forward_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="before forward"):
        layers.Dense(2, 2, rng=rng).backward(np.ones((1, 2)))


def test_comparison_prints_one_line():
    ok = tfcompare.Comparison("Adam (100 steps)", 3.1e-7, 1e-8, 1e-5, True)
    bad = tfcompare.Comparison("Adam (100 steps)", 2e-3, 1e-4, 1e-5, False)
    assert str(ok) == "Adam (100 steps): max |Δ| ≤ tol 1e-05 ✓"  # a pass prints the bound only
    assert str(bad) == "Adam (100 steps): max |Δ| = 2.0e-03 > tol 1e-05 ✗"
