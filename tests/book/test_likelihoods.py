"""The losses of chapter 2 are mean negative log-likelihoods (issue 14).

Eqs. (eq-gaussian-nll), (eq-bce-logits), (eq-softmax-ce) and (eq-ce-p-minus-y) in
02_core_concepts, checked against ``scipy.stats`` (log-densities that share no code with
``dlbook_utils.losses``) and against finite differences. Each identity has a planted bug it
must catch: a wrong noise variance, a sum where the mean's 1/n belongs, and a per-example
Gaussian NLL without its factor d_out.
"""

import numpy as np
import pytest
from scipy import stats

from dlbook_utils import losses
from dlbook_utils.activations import sigmoid, softmax
from dlbook_utils.gradcheck import numerical_grad, rel_error

TOL = 1e-12      # the identities are exact; only float rounding separates the two sides
PLANTED = 1e-2   # a planted bug must move the result by far more than rounding


def gaussian_nll_from_mse(mse_value, noise_std):
    """Eq. (eq-gaussian-nll): mean NLL of y ~ N(y_hat, s^2) = MSE / (2 s^2) + log(2 pi s^2) / 2."""
    var = noise_std ** 2
    return mse_value / (2 * var) + 0.5 * np.log(2 * np.pi * var)


def gaussian_gap(mse_fn, nll_from_mse, noise_std, seed=0):
    """Relative gap between the NLL computed from ``mse_fn`` and scipy's Gaussian log-density."""
    r = np.random.default_rng(seed)
    y_hat, y = 2 * r.standard_normal((2, 16, 3))
    reference = -stats.norm.logpdf(y, loc=y_hat, scale=noise_std).mean()
    return abs(nll_from_mse(mse_fn(y_hat, y)[0], noise_std) - reference) / abs(reference)


def bernoulli_gap(bce_fn, seed=0):
    """Relative gap between ``bce_fn`` and scipy's mean Bernoulli NLL, p = sigmoid(z)."""
    r = np.random.default_rng(seed)
    z = 4 * r.standard_normal(32)  # |z| < 20: the probability form is still accurate
    y = r.integers(0, 2, size=32)
    reference = -stats.bernoulli.logpmf(y, sigmoid(z)).mean()
    return abs(bce_fn(z, y.astype(float))[0] - reference) / reference


def categorical_gap(ce_fn, seed=0, n=24, k=5):
    """Relative gap between ``ce_fn`` and scipy's mean categorical NLL, p = softmax(z)."""
    r = np.random.default_rng(seed)
    Z = 3 * r.standard_normal((n, k))
    labels = r.integers(0, k, size=n)
    one_hot = np.eye(k)[labels]
    # a categorical distribution is a multinomial with one draw
    reference = -stats.multinomial.logpmf(one_hot, 1, softmax(Z)).mean()
    return abs(ce_fn(Z, labels)[0] - reference) / reference


def summed(loss_fn):
    """Planted bug: the loss summed over the batch instead of averaged (no 1/n)."""
    def loss_without_mean(pred, target):
        loss, grad = loss_fn(pred, target)
        return loss * len(pred), grad
    return loss_without_mean


@pytest.mark.checks("eq-gaussian-nll", "eq-nll", kind="reference value", tol="rel 1e-12")
@pytest.mark.parametrize("noise_std", [0.3, 1.0, 2.5])
def test_mse_is_the_gaussian_nll_up_to_scale_and_shift(noise_std):
    assert gaussian_gap(losses.mse, gaussian_nll_from_mse, noise_std) < TOL


@pytest.mark.parametrize("noise_std", [0.3, 2.5])
def test_planted_wrong_variance_is_caught(noise_std):
    def std_for_variance(mse_value, s):  # the standard deviation where the variance belongs
        return mse_value / (2 * s) + 0.5 * np.log(2 * np.pi * s)

    assert gaussian_gap(losses.mse, std_for_variance, noise_std) > PLANTED


def test_planted_missing_mean_is_caught_for_mse():
    assert gaussian_gap(summed(losses.mse), gaussian_nll_from_mse, 1.0) > PLANTED


def per_example_gap(d_out_factor, noise_std=0.7, seed=1):
    """Gap between scipy's NLL per *example* of a (16, 3) target and the per-entry
    (eq-gaussian-nll) times ``d_out_factor``; the chapter says the factor is d_out = 3."""
    r = np.random.default_rng(seed)
    y_hat, y = r.standard_normal((2, 16, 3))
    reference = -stats.norm.logpdf(y, loc=y_hat, scale=noise_std).sum(axis=1).mean()
    per_entry = gaussian_nll_from_mse(losses.mse(y_hat, y)[0], noise_std)
    return abs(d_out_factor * per_entry - reference) / abs(reference)


def test_nll_per_example_is_d_out_times_the_nll_per_entry():
    assert per_example_gap(3) < TOL


def test_planted_missing_factor_d_out_is_caught():
    assert per_example_gap(1) > PLANTED


@pytest.mark.checks("eq-bce-logits", "eq-nll", kind="reference value", tol="rel 1e-12")
def test_bce_is_the_bernoulli_nll():
    assert bernoulli_gap(losses.binary_cross_entropy) < TOL


def test_planted_missing_mean_is_caught_for_bce():
    assert bernoulli_gap(summed(losses.binary_cross_entropy)) > PLANTED


def test_planted_sign_error_is_caught_for_bce():
    def flipped_labels(z, y):  # the log-probability of the wrong class
        return losses.binary_cross_entropy(z, 1 - y)

    assert bernoulli_gap(flipped_labels) > PLANTED


@pytest.mark.checks("eq-softmax-ce", "eq-nll", kind="reference value", tol="rel 1e-12")
def test_softmax_ce_is_the_categorical_nll():
    assert categorical_gap(losses.softmax_cross_entropy) < TOL


def test_planted_missing_mean_is_caught_for_softmax_ce():
    assert categorical_gap(summed(losses.softmax_cross_entropy)) > PLANTED


def softmax_ce_grad_error(grad_fn, seed=0, n=6, k=4):
    """Relative error of ``grad_fn(Z, labels)`` against central finite differences of the loss."""
    r = np.random.default_rng(seed)
    Z = r.standard_normal((n, k))
    labels = r.integers(0, k, size=n)
    numeric = numerical_grad(lambda: losses.softmax_cross_entropy(Z, labels)[0], Z)
    return rel_error(grad_fn(Z, labels), numeric)


def p_minus_y_over_n(Z, labels):
    """Eq. (eq-ce-p-minus-y): (softmax(Z) - onehot(y)) / n, written out independently."""
    return (softmax(Z) - np.eye(Z.shape[1])[labels]) / len(Z)


@pytest.mark.checks("eq-ce-p-minus-y", kind="finite differences", tol="rel 1e-7")
def test_softmax_ce_gradient_is_p_minus_y_over_n():
    assert softmax_ce_grad_error(p_minus_y_over_n) < 1e-7
    assert softmax_ce_grad_error(lambda Z, y: losses.softmax_cross_entropy(Z, y)[1]) < 1e-7


def test_planted_gradient_without_1_over_n_is_caught():
    def no_mean(Z, labels):
        return p_minus_y_over_n(Z, labels) * len(Z)

    assert softmax_ce_grad_error(no_mean) > PLANTED
