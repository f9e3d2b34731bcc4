"""Optimizers, schedules and regularizers against hand-computed values and independent code."""

import math

import numpy as np
import pytest

from dlbook_utils import layers, losses, optim, regularizers, schedules
from dlbook_utils.gradcheck import numerical_grad, rel_error


def one_step(opt, w=1.0, g=0.5, steps=1):
    params = {"w": np.array([w])}
    for _ in range(steps):
        opt.step(params, {"w": np.array([g])})
    return float(params["w"][0])


def test_sgd_hand_values():
    assert one_step(optim.SGD(0.1)) == pytest.approx(0.95)
    # momentum: v1 = -0.05, w = 0.95; v2 = 0.9 * -0.05 - 0.05 = -0.095, w = 0.855
    assert one_step(optim.SGD(0.1, momentum=0.9), steps=2) == pytest.approx(0.855)
    # Nesterov step 1: v = -0.05; w += 0.9 * -0.05 - 0.05 -> 0.905
    assert one_step(optim.SGD(0.1, momentum=0.9, nesterov=True)) == pytest.approx(0.905)


def test_rmsprop_hand_value():
    # v = 0.1 * 0.25 = 0.025; w = 1 - 0.1 * 0.5 / sqrt(0.025 + 1e-7)
    expected = 1 - 0.1 * 0.5 / math.sqrt(0.025 + 1e-7)
    assert one_step(optim.RMSprop(0.1)) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("epsilon_hat", [False, True])
def test_adam_first_step_is_lr_times_sign(epsilon_hat):
    # bias correction makes m_hat = g and v_hat = g^2 at t = 1: the step is ~lr * sign(g)
    w = one_step(optim.Adam(0.1, epsilon_hat=epsilon_hat), g=-3.0)
    assert w == pytest.approx(1 + 0.1, rel=1e-6)


@pytest.mark.checks("eq-adam-keras", "eq-adam-update", kind="closed form", tol="rtol 1e-12")
def test_adam_forms_differ_only_by_rescaled_epsilon():
    """Algorithm 1 with eps == the epsilon-hat form with eps_t = eps * sqrt(1 - b2^t) (float64)."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((30, 4)) * 1e-3  # small gradients make eps matter
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-4
    opt = optim.Adam(lr, b1, b2, eps)
    ours = {"w": np.zeros(4)}
    w, m, v = np.zeros(4), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        opt.step(ours, {"w": g})
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        w = w - alpha * m / (np.sqrt(v) + eps * math.sqrt(1 - b2**t))
    assert rel_error(ours["w"], w) < 1e-12
    keras_form = optim.Adam(lr, b1, b2, eps, epsilon_hat=True)
    other = {"w": np.zeros(4)}
    for g in grads:
        keras_form.step(other, {"w": g})
    assert rel_error(ours["w"], other["w"]) > 1e-3  # the two forms really differ here


def test_adamw_decay_is_decoupled_from_the_gradient():
    # zero gradients: the Adam part is 0, only w <- w (1 - lr wd) remains
    opt = optim.AdamW(0.1, weight_decay=0.2)
    params = {"w": np.array([2.0, -1.0])}
    for _ in range(5):
        opt.step(params, {"w": np.zeros(2)})
    assert np.allclose(params["w"], np.array([2.0, -1.0]) * (1 - 0.02) ** 5, rtol=1e-14)
    assert np.all(opt.state["w"]["m"] == 0)  # the decay never enters the moments


@pytest.mark.parametrize("make", [
    lambda: optim.SGD(0.1, momentum=0.9, nesterov=True), lambda: optim.RMSprop(0.01),
    lambda: optim.Adam(0.01), lambda: optim.AdamW(0.01, epsilon_hat=True),
])
def test_float32_stays_float32_and_keys_are_independent(make):
    rng = np.random.default_rng(0)
    params = {"a": rng.standard_normal(3).astype(np.float32),
              "b": rng.standard_normal((2, 2)).astype(np.float32)}
    alone = {k: {k: v.copy()} for k, v in params.items()}
    opt, solo = make(), {k: make() for k in params}
    for _ in range(3):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}  # float64 grads
        opt.step(params, grads)
        for k in params:
            solo[k].step(alone[k], {k: grads[k]})
    for k, v in params.items():
        assert v.dtype == np.float32
        assert all(s.dtype == np.float32 for s in opt.state[k].values())
        assert np.array_equal(v, alone[k][k])  # state is per key


def test_schedule_as_lr_is_evaluated_at_the_0_based_step():
    sched = schedules.step_decay(0.1, drop=0.5, every=1)
    opt = optim.SGD(sched)
    params = {"w": np.array([0.0])}
    for _ in range(3):
        opt.step(params, {"w": np.array([-1.0])})
    assert params["w"][0] == pytest.approx(0.1 + 0.05 + 0.025)


def test_sgd_on_dense_mse_reaches_least_squares_solution():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.standard_normal((64, 1))
    model = layers.Sequential([layers.Dense(3, 1, rng=rng)], need_input_grad=False)
    opt = optim.SGD(0.1, momentum=0.5)
    for _ in range(300):
        _, dy = losses.mse(model.forward(X), y)
        assert model.backward(dy) is None
        opt.step(model.params(), model.grads())
    coef, *_ = np.linalg.lstsq(np.c_[X, np.ones(64)], y, rcond=None)
    assert np.allclose(model.params()["0.W"], coef[:3], atol=1e-6)
    assert np.allclose(model.params()["0.b"], coef[3], atol=1e-6)


@pytest.mark.checks("eq-lr-schedules", kind="reference value", tol="rtol 1e-6")
def test_schedule_hand_values():
    s = schedules.step_decay(0.1, drop=0.5, every=10)
    assert [s(t) for t in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert schedules.exponential(0.1, rate=0.5, decay_steps=2)(2) == pytest.approx(0.05)
    c = schedules.cosine(0.1, total=100)
    assert [c(0), c(50), c(100), c(150)] == pytest.approx([0.1, 0.05, 0.0, 0.0], abs=1e-15)
    w = schedules.linear_warmup(0.1, warmup=5)
    assert [w(0), w(4), w(5), w(99)] == pytest.approx([0.02, 0.1, 0.1, 0.1])
    wc = schedules.linear_warmup(schedules.cosine(0.1, total=10), warmup=5)
    assert wc(15) == pytest.approx(0.0, abs=1e-15) and wc(5) == pytest.approx(0.1)
    assert schedules.constant(0.3)(1000) == 0.3
    assert "cosine" in repr(c)


@pytest.mark.checks("eq-l1-penalty", "eq-l2-penalty", kind="finite differences",
                    tol="rtol 1e-7")
def test_regularizer_hand_values_and_gradients():
    W = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert regularizers.l1(W, 0.1)[0] == pytest.approx(0.6)
    assert np.array_equal(regularizers.l1(W, 0.1)[1], 0.1 * np.array([[1, -1], [0, 1]]))
    assert regularizers.l2(W, 0.1)[0] == pytest.approx(1.4)
    V = np.random.default_rng(0).standard_normal((3, 4)) + 0.5
    for fn in (regularizers.l1, regularizers.l2):
        numeric = numerical_grad(lambda fn=fn: fn(V, 0.03)[0], V)
        assert rel_error(fn(V, 0.03)[1], numeric) < 1e-7


def test_l2_maps_to_lambda_over_2m_texts():
    # lambda / (2 m) * sum W^2 has gradient (lambda / m) W
    W, lam, m = np.ones((2, 2)), 0.5, 10
    _, grad = regularizers.l2(W, lam / (2 * m))
    assert np.allclose(grad, lam / m * W)


def test_weight_penalty_sums_weight_matrices_only():
    model = layers.mlp([3, 4, 2], rng=np.random.default_rng(0))
    params = model.params()
    penalty, grads = regularizers.weight_penalty(params, "l2", 0.01)
    assert set(grads) == {"0.W", "2.W"}
    expected = 0.01 * sum((params[k] ** 2).sum() for k in ("0.W", "2.W"))
    assert penalty == pytest.approx(expected)
    assert np.allclose(grads["2.W"], 0.02 * params["2.W"])
    same = regularizers.WeightPenalty("l2", 0.01)(params)
    assert same[0] == penalty


def adamw_excluding_biases_ok(opt) -> bool:
    """Zero gradients: weights decay by (1 - lr wd) per step, biases ("…b") stay put."""
    params = {"0.W": np.array([2.0, -1.0]), "0.b": np.array([0.5, -0.5])}
    for _ in range(5):
        opt.step(params, {k: np.zeros(2) for k in params})
    return (np.allclose(params["0.W"], np.array([2.0, -1.0]) * 0.98 ** 5, rtol=1e-14)
            and np.array_equal(params["0.b"], np.array([0.5, -0.5])))


def test_adamw_exclude_from_decay_skips_biases():
    assert adamw_excluding_biases_ok(optim.AdamW(0.1, weight_decay=0.2,
                                                 exclude_from_decay=("b",)))
    # planted bug: the default decays every parameter, biases too; the check notices
    assert not adamw_excluding_biases_ok(optim.AdamW(0.1, weight_decay=0.2))
    with pytest.raises(ValueError, match="tuple of parameter names"):
        optim.AdamW(exclude_from_decay="b")
