"""The corrected seed examples of chapter 8 produce their key results."""

import numpy as np
import pytest

from dlbook_utils import seed_examples as se


def max_stable_lr(X) -> float:
    """Largest stable gradient-descent step for the mean squared error of a linear model.

    The loss ``L(w, b) = mean((X w + b - y)^2)`` has the constant Hessian
    ``H = (2/n) [X 1]^T [X 1]``; gradient descent converges iff ``lr < 2 / lambda_max(H)``.
    """
    Xb = np.column_stack([X, np.ones(len(X))])
    return float(2.0 / np.linalg.eigvalsh(2.0 / len(X) * Xb.T @ Xb).max())


@pytest.mark.checks("eq-linreg-loss", "eq-linreg-grad", kind="closed form", tol="atol 1e-6")
def test_linear_regression_recovers_slope_and_intercept():
    X, y = se.seed_regression_data(100, noise=0.1, rng=np.random.default_rng(0))
    w, b, losses = se.fit_linear_regression(X, y, lr=max_stable_lr(X) / 2, epochs=1000)
    assert abs(w[0, 0] - 3) < 0.1 and abs(b[0] - 2) < 0.1
    assert w.shape == (1, 1) and b.shape == (1,)  # one model, not one per example
    exact = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0].ravel()
    np.testing.assert_allclose([w[0, 0], b[0]], exact, atol=1e-6)
    assert losses[-1] < losses[0]


@pytest.mark.checks("eq-lr-bound", kind="property", tol="0.95 and 1.05 x the bound")
def test_step_size_bound_separates_convergence_from_divergence():
    X, y = se.seed_regression_data(100, rng=np.random.default_rng(1))
    bound = max_stable_lr(X)
    *_, ok = se.fit_linear_regression(X, y, lr=0.95 * bound, epochs=2000)
    *_, bad = se.fit_linear_regression(X, y, lr=1.05 * bound, epochs=2000)
    assert ok[-1] < 0.02 and bad[-1] > 1e3


@pytest.mark.checks("eq-mlp-backprop", kind="finite differences", tol="rel 1e-7")
def test_two_layer_gradient_check_and_training():
    rng = np.random.default_rng(0)
    X, y = se.product_data(50, rng=rng)
    params = se.init_two_layer(2, 4, 1, rng=rng)
    assert se.two_layer_gradcheck(params, X, y) < 1e-7
    X, y = se.product_data(200, rng=rng)
    X_test, y_test = se.product_data(200, rng=rng)
    params, losses = se.fit_two_layer(X, y, hidden=4, lr=0.2, epochs=2000, rng=rng)
    r2 = 1 - se.two_layer_loss_and_grads(params, X_test, y_test)[0] / y_test.var()
    assert r2 > 0.9 and losses[-1] < 0.1 * losses[0]


def test_gradient_check_catches_the_seeds_tanh_derivative(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = se.product_data(30, rng=rng)
    params = se.init_two_layer(2, 4, 1, rng=rng)
    real = se.two_layer_loss_and_grads

    def seed_derivative(p, X, y):
        loss, grads = real(p, X, y)
        A1 = np.tanh(X @ p["W1"] + p["b1"])
        d2 = 2 * (A1 @ p["W2"] + p["b2"] - y) / y.size
        d1 = (d2 @ p["W2"].T) * (1 - A1)  # the seed's 1 - tanh instead of 1 - tanh^2
        return loss, {**grads, "W1": X.T @ d1, "b1": d1.sum(0)}

    monkeypatch.setattr(se, "two_layer_loss_and_grads", seed_derivative)
    assert se.two_layer_gradcheck(params, X, y) > 1e-2


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match=r"expected X \(n, d\) and y \(n, 1\)"):
        se.fit_linear_regression(np.ones((4, 1)), np.ones(4), lr=0.1, epochs=1)
    params = se.init_two_layer(2, 4, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"expected X \(n, 2\)"):
        se.two_layer_loss_and_grads(params, np.ones((3, 5)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="source must be"):
        se.load_digit_pair(source="internet")


def test_digit_pair_is_binary_flat_and_offline():
    X_tr, X_te, y_tr, y_te, source = se.load_digit_pair(0, 1, source="digits")
    assert source == "digits" and X_tr.ndim == 2 and X_tr.shape[1] == 64
    assert set(np.unique(y_tr)) == {0, 1} and set(np.unique(y_te)) == {0, 1}
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0


@pytest.mark.tf
def test_keras_zero_vs_one_accuracy():
    import keras

    keras.utils.set_random_seed(0)
    X_tr, X_te, y_tr, y_te, _ = se.load_digit_pair(0, 1, source="digits")
    model = se.keras_mlp(X_tr.shape[1], [128, 128], 2, learning_rate=1e-3)
    model.fit(X_tr, y_tr, epochs=10, batch_size=128, verbose=0)
    assert model.evaluate(X_te, y_te, verbose=0)[1] > 0.99


@pytest.mark.tf
def test_keras_ten_digit_classifier_learns():
    import keras

    from dlbook_utils.data import load_digits_split

    keras.utils.set_random_seed(0)
    X_tr, X_te, y_tr, y_te = load_digits_split(test_size=0.25, seed=0)
    model = se.keras_mlp(64, [32], 10, learning_rate=1e-3)
    model.fit(X_tr, y_tr, epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(X_te, y_te, verbose=0)[1] > 0.9
