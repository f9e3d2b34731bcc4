"""The checkers catch the classic mistakes: each buggy variant FAILS, the correct one passes.

A checker that never fails proves nothing, so every bug below is planted deliberately and the
matching checker (finite differences, or the Keras comparison) must reject it.
"""

import numpy as np
import pytest

from dlbook_utils import activations as act
from dlbook_utils import gradcheck, layers, losses, optim

GRAD_TOL = 1e-7


class DenseTransposedDW(layers.Dense):
    """dW = delta^T x: the transpose of x^T delta. Same shape when n_in == n_out, so only a
    check sees it."""

    def backward(self, delta):
        dx = super().backward(delta)
        self.grads["W"] = delta.T @ self.x
        return dx


class TanhOneMinusA(layers.Tanh):
    """tanh'(z) written as 1 - a instead of 1 - a^2."""

    def backward(self, delta):
        return delta * (1 - self.y)


def softmax_ce_without_1_over_n(logits, labels):
    loss, grad = losses.softmax_cross_entropy(logits, labels)
    return loss, grad * len(labels)


def mse_without_1_over_n(pred, y):
    loss, grad = losses.mse(pred, y)
    return loss, grad * pred.size


class AdamNoBiasCorrection(optim.Adam):
    def _update(self, w, g, state, lr):
        m, v = self._slot(state, "m", w), self._slot(state, "v", w)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        w -= lr * m / (np.sqrt(v) + self.eps)


class RMSpropWithFirstMoment(optim.RMSprop):
    """RMSprop 'like Adam': the numerator uses a moving average of g instead of g itself."""

    def _update(self, w, g, state, lr):
        m, v = self._slot(state, "m", w), self._slot(state, "v", w)
        m *= 0.9
        m += 0.1 * g
        v *= self.rho
        v += (1 - self.rho) * g * g
        w -= lr * m / np.sqrt(v + self.eps)


# ------------------------------------------------------------------ caught by gradcheck

def test_gradcheck_catches_transposed_dW():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    good = layers.Dense(4, 4, rng=np.random.default_rng(1))
    bad = DenseTransposedDW(4, 4, rng=np.random.default_rng(1))
    assert gradcheck.check_layer(good, x, rng=np.random.default_rng(2)) < GRAD_TOL
    errors = gradcheck.check_layer(bad, x, rng=np.random.default_rng(2), return_all=True)
    assert errors["W"] > 1e-2
    assert errors["x"] < GRAD_TOL and errors["b"] < GRAD_TOL  # the check pinpoints W


@pytest.mark.parametrize("good, bad, target", [
    (losses.softmax_cross_entropy, softmax_ce_without_1_over_n, np.array([0, 2, 1, 1, 0, 2])),
    (losses.mse, mse_without_1_over_n, np.linspace(-1, 1, 12).reshape(6, 2)),
])
def test_gradcheck_catches_missing_1_over_n(good, bad, target):
    rng = np.random.default_rng(0)
    shape = (6, 3) if target.ndim == 1 else target.shape
    pred = rng.standard_normal(shape)
    assert gradcheck.check_loss(good, pred, target) < GRAD_TOL
    # the gradient is n (or N) times too large: relative error (n-1)/(n+1) >= 0.7
    assert gradcheck.check_loss(bad, pred, target) > 0.5


def test_gradcheck_catches_tanh_derivative_one_minus_a():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    assert gradcheck.check_layer(layers.Tanh(), x, rng=np.random.default_rng(1)) < GRAD_TOL
    assert gradcheck.check_layer(TanhOneMinusA(), x, rng=np.random.default_rng(1)) > 1e-2


def test_rel_error_is_zero_for_equal_and_large_for_wrong():
    a = np.array([1.0, -2.0, 3.0])
    assert gradcheck.rel_error(a, a.copy()) == 0.0
    assert gradcheck.rel_error(a, -a) == 1.0  # hand-computed: 6 / 6
    assert gradcheck.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    # an entry ~0 in both arrays cannot dominate: the scale is the largest |a|+|b|
    assert gradcheck.rel_error(np.array([1.0, 1e-12]), np.array([1.0, 2e-12])) < 1e-11


# ------------------------------------------------------------------ caught by the Keras comparison

@pytest.mark.tf
def test_tfcompare_catches_tanh_derivative_one_minus_a():
    from dlbook_utils import tfcompare

    z = np.linspace(-3, 3, 20).reshape(4, 5)
    assert tfcompare.compare_activation("tanh", z).passed
    bad = tfcompare.compare_activation("tanh", z, impl=(act.tanh, lambda z: 1 - act.tanh(z)))
    assert not bad.passed and bad.max_abs > 0.1


@pytest.mark.tf
def test_tfcompare_catches_missing_1_over_n():
    from dlbook_utils import tfcompare

    rng = np.random.default_rng(0)
    z, labels = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    assert tfcompare.compare_loss("softmax_cross_entropy", z, labels).passed
    bad = tfcompare.compare_loss("softmax_cross_entropy", z, labels,
                                 impl=softmax_ce_without_1_over_n)
    assert not bad.passed


@pytest.mark.tf
@pytest.mark.parametrize("good, bad", [
    (optim.Adam(0.01, epsilon_hat=True), AdamNoBiasCorrection(0.01, epsilon_hat=True)),
    (optim.RMSprop(0.01), RMSpropWithFirstMoment(0.01)),
], ids=["adam-no-bias-correction", "rmsprop-with-first-moment"])
def test_tfcompare_catches_optimizer_bugs(good, bad):
    from dlbook_utils import tfcompare

    ok = tfcompare.compare_optimizer(good, rng=np.random.default_rng(0))
    wrong = tfcompare.compare_optimizer(bad, rng=np.random.default_rng(0))
    assert ok.passed, str(ok)
    assert not wrong.passed and wrong.max_abs > 1e-3, str(wrong)
    assert "✗" in str(wrong) and "✓" in str(ok)
