"""dlbook_utils.attacks: FGSM and PGD follow the loss gradient, membership advantage counts right.

Each checker is also run on a planted bug (a flipped sign, a strict threshold, swapped roles) to
show it can fail.
"""

import numpy as np
import pytest

from dlbook_utils.attacks import (
    fgsm,
    input_gradient,
    membership_advantage,
    per_example_loss,
    pgd,
)
from dlbook_utils.layers import mlp


@pytest.fixture
def model_and_data():
    rng = np.random.default_rng(0)
    model = mlp([6, 8, 3], rng=rng, need_input_grad=True)  # float64: exact enough for FD
    X = rng.uniform(0.2, 0.8, (5, 6))  # away from the clip bounds 0 and 1
    y = rng.integers(0, 3, 5)
    return model, X, y


def fd_input_gradient(model, X, y, h=1e-6):
    """Central differences of each example's own loss: (n, d)."""
    out = np.zeros_like(X)
    for j in range(X.shape[1]):
        step = np.zeros_like(X)
        step[:, j] = h
        out[:, j] = (per_example_loss(model, X + step, y)
                     - per_example_loss(model, X - step, y)) / (2 * h)
    return out


def steps_along_gradient_sign(attack, model, X, y, eps):
    """True if attack(model, X, y, eps) - X equals eps * sign(dL_i/dx_i) from finite
    differences, on every coordinate where that gradient is clearly non-zero."""
    fd = fd_input_gradient(model, X, y)
    clear = np.abs(fd) > 1e-6
    moved = attack(model, X, y, eps) - X
    return bool(np.allclose(moved[clear], eps * np.sign(fd[clear]), atol=1e-12))


def test_input_gradient_matches_finite_differences(model_and_data):
    model, X, y = model_and_data
    g, fd = input_gradient(model, X, y), fd_input_gradient(model, X, y)
    assert np.abs(g - fd).max() / np.abs(fd).max() < 1e-7


@pytest.mark.checks("eq-fgsm", kind="finite differences", tol="atol 1e-12")
def test_fgsm_steps_along_the_sign_of_the_finite_difference_gradient(model_and_data):
    model, X, y = model_and_data
    assert steps_along_gradient_sign(fgsm, model, X, y, 0.05)


def test_planted_sign_flip_is_caught(model_and_data):
    model, X, y = model_and_data

    def descending_fgsm(model, X, y, eps):  # the classic bug: a step *down* the loss
        return np.clip(X - eps * np.sign(input_gradient(model, X, y)), 0, 1)

    assert not steps_along_gradient_sign(descending_fgsm, model, X, y, 0.05)


def test_fgsm_raises_each_loss_for_a_small_step(model_and_data):
    model, X, y = model_and_data
    before = per_example_loss(model, X, y)
    assert np.all(per_example_loss(model, fgsm(model, X, y, 1e-3), y) > before)


@pytest.mark.checks("eq-pgd", kind="property", tol="atol 1e-15")
def test_pgd_one_step_from_x_is_fgsm_and_more_steps_stay_in_the_ball(model_and_data):
    model, X, y = model_and_data
    X = np.vstack([X, np.zeros((1, 6)), np.ones((1, 6))])  # the clip bounds are hit too
    y = np.concatenate([y, [0, 1]])
    eps = 0.1
    np.testing.assert_array_equal(pgd(model, X, y, eps, steps=1, step_size=eps),
                                  fgsm(model, X, y, eps))
    X_adv = pgd(model, X, y, eps, steps=7, rng=np.random.default_rng(1))
    assert np.abs(X_adv - X).max() <= eps + 1e-15
    assert X_adv.min() >= 0 and X_adv.max() <= 1
    # More steps found at least as large a mean loss as the single FGSM step here. PGD does
    # not guarantee this in general (it is a local search from a random start); this holds
    # for these fixed seeds and data, and a broken projection or sign would break it.
    assert (per_example_loss(model, X_adv, y).mean()
            >= per_example_loss(model, fgsm(model, X, y, eps), y).mean())


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_attacks_put_the_model_mode_back(model_and_data, mode):
    model, X, y = model_and_data
    getattr(model, mode)()
    for attack in (per_example_loss, input_gradient, fgsm, pgd):
        attack(model, X, y, *([0.1] if attack in (fgsm, pgd) else []))
        assert model.training == (mode == "train"), attack.__name__


def test_float32_inputs_stay_float32():
    rng = np.random.default_rng(2)
    model = mlp([4, 5, 2], rng=rng, dtype=np.float32, need_input_grad=True)
    X, y = rng.uniform(0, 1, (3, 4)).astype(np.float32), np.array([0, 1, 1])
    assert fgsm(model, X, y, 0.1).dtype == np.float32
    assert pgd(model, X, y, 0.1, rng=rng).dtype == np.float32


def test_membership_advantage_by_hand():
    members = np.array([0.1, 0.2, 0.3, 1.4])      # mean 0.5: three at or below it
    others = np.array([0.4, 0.9, 1.0, 2.0, 3.0])  # one at or below 0.5
    assert membership_advantage(members, others) == pytest.approx(3 / 4 - 1 / 5)
    assert membership_advantage(members, others, threshold=0.3) == pytest.approx(3 / 4 - 0)
    assert membership_advantage(others, others) == 0.0  # same losses: nothing revealed


def test_planted_membership_bugs_are_caught():
    members, others = np.array([0.5, 0.5, 2.0]), np.array([0.5, 3.0])
    right = membership_advantage(members, others, threshold=0.5)
    strict = np.mean(members < 0.5) - np.mean(others < 0.5)  # "<" drops ties at tau
    swapped = membership_advantage(others, members, threshold=0.5)
    assert right == pytest.approx(2 / 3 - 1 / 2)
    assert strict != pytest.approx(right) and swapped != pytest.approx(right)


def test_per_example_loss_is_stable_for_huge_logits():
    rng = np.random.default_rng(3)
    model = mlp([2, 3], rng=rng)
    model.layers[0].params["W"][:] = [[1e6, -1e6, 0], [0, 0, 0]]
    loss = per_example_loss(model, np.array([[1.0, 0.0]]), np.array([1]))
    assert np.isfinite(loss).all() and loss[0] == pytest.approx(2e6)


@pytest.mark.parametrize("call, message", [
    (lambda m, X, y: fgsm(mlp([6, 3], rng=np.random.default_rng(0)), X, y, 0.1),
     "need_input_grad=True"),
    (lambda m, X, y: fgsm(m, X, y, -0.1), "eps >= 0"),
    (lambda m, X, y: fgsm(m, X, y, 0.1, clip=(1, 0)), "low < high"),
    (lambda m, X, y: pgd(m, X, y, 0.1, steps=0), "steps >= 1"),
    (lambda m, X, y: input_gradient(m, X, y[:2]), "integer labels y"),
    (lambda m, X, y: input_gradient(m, X, y.astype(float)), "integer labels y"),
    (lambda m, X, y: membership_advantage([], [1.0]), "shape (m,)"),
    (lambda m, X, y: membership_advantage([[1.0]], [1.0]), "shape (m,)"),
])
def test_bad_input_gets_a_clear_error(model_and_data, call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(*model_and_data)
