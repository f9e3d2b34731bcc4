"""Chapter 4's initialisation claim, Eq. (eq-chi) in 04_backprop, against a measurement.

Each layer of a deep MLP (weights of variance s^2, biases 0, width d) multiplies

- the spread of its activations across the examples of a batch (forwards), and
- the root mean square of delta = dL/dZ (backwards)

by the same factor chi = sqrt(d s^2 <phi'(Z)^2>), <.> the mean over examples and units. The measurement runs through
``dlbook_utils.layers`` (public API only: Dense, Tanh, Sigmoid, ReLU, forward, backward), not
through the notebook's NumPy code, so the two are independent.

Measured (5 seeds, 10 hidden layers of 64, Gaussian inputs): the backward factor is within 2 %
of the prediction in all 9 configurations (tolerance 5 %); the forward one within 6 % for
sigmoid and tanh (tolerance 10 %), and 11 % below it for ReLU. For ReLU, phi(z) = phi'(z) z
exactly; what the first-order derivation misses is the mean: rectifying turns part of the
variation into an offset shared by every example. For z ~ N(0, tau^2), std(relu z) is
tau sqrt(1/2 - 1/(2 pi)) against the linearisation's tau / sqrt(2), a ratio sqrt(1 - 1/pi) ~ 0.83
for a zero-mean layer. Each unit's pre-activation has its own mean across the batch; a unit
active for most examples is nearly linear and loses little, one inactive for most contributes
little either way, and the measured ratio lies between 0.83 and 1. Sigmoid with Glorot:
0.23 per layer both ways. The planted predictions miss by 12x and 4x.
"""

import math

import numpy as np
import pytest

from dlbook_utils import layers, losses

WIDTH, DEPTH, N, CLASSES = 64, 10, 256, 10
SEEDS = range(5)
SCALES = {  # s, the standard deviation of W, for fan-in d_in and fan-out d_out
    "small": lambda d_in, d_out: 0.01,
    "glorot": lambda d_in, d_out: math.sqrt(2 / (d_in + d_out)),
    "he": lambda d_in, d_out: math.sqrt(2 / d_in),
}
KINDS = {"sigmoid": layers.Sigmoid, "tanh": layers.Tanh, "relu": layers.ReLU}


def derivative(activation, z):
    """phi'(z), written out here (not taken from the package under test)."""
    if activation == "sigmoid":
        s = 0.5 * (1 + np.tanh(z / 2))  # = 1 / (1 + e^-z), without overflow
        return s * (1 - s)
    if activation == "tanh":
        return 1 - np.tanh(z) ** 2
    return (z > 0).astype(float)


def measure(activation, scheme, seed):
    """Per hidden layer l = 1..DEPTH: spread(A^(l)), rms(delta^(l)) and Z^(l)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, WIDTH))
    y = rng.integers(0, CLASSES, N)
    widths = [WIDTH] * (DEPTH + 1) + [CLASSES]
    dense = []
    for d_in, d_out in zip(widths[:-1], widths[1:], strict=True):
        layer = layers.Dense(d_in, d_out, rng=rng, init="glorot")
        layer.params["W"][...] = rng.standard_normal((d_in, d_out)) * SCALES[scheme](d_in, d_out)
        dense.append(layer)
    acts = [KINDS[activation]() for _ in range(DEPTH)]

    A, Zs, spread = X, [], []
    for layer, act in zip(dense[:-1], acts, strict=True):
        Zs.append(layer.forward(A).copy())
        A = act.forward(Zs[-1])
        spread.append(A.std(axis=0).mean())
    _, dout = losses.softmax_cross_entropy(dense[-1].forward(A), y)
    dout = dense[-1].backward(dout)
    rms = []
    for layer, act in zip(dense[-2::-1], acts[::-1], strict=True):
        delta = act.backward(dout)  # dL/dZ of ``layer``
        rms.append(np.sqrt(np.mean(delta ** 2)))
        dout = layer.backward(delta)
    return np.array(spread), np.array(rms[::-1]), Zs


def chi(activation, scheme, Zs):
    """Eq. (eq-chi): the predicted factor of each hidden layer."""
    s = SCALES[scheme](WIDTH, WIDTH)
    return np.array([math.sqrt(WIDTH * s ** 2 * np.mean(derivative(activation, Z) ** 2))
                     for Z in Zs])


def factors(activation, scheme, predictor=chi):
    """(forward, backward, predicted) median per-layer factors, averaged over the seeds."""
    out = []
    for seed in SEEDS:
        spread, rms, Zs = measure(activation, scheme, seed)
        out.append((np.median(spread[1:] / spread[:-1]), np.median(rms[:-1] / rms[1:]),
                    np.median(predictor(activation, scheme, Zs))))
    return np.mean(out, axis=0)


CONFIGS = [(a, s) for a in KINDS for s in SCALES]


@pytest.fixture(scope="module")
def measured():
    return {cfg: factors(*cfg) for cfg in CONFIGS}


@pytest.mark.checks("eq-chi", kind="property", tol="rel 0.05 vs measured")
@pytest.mark.parametrize("cfg", CONFIGS, ids=["-".join(c) for c in CONFIGS])
def test_the_derivation_predicts_the_backward_factor(measured, cfg):
    _, backward, predicted = measured[cfg]
    assert backward == pytest.approx(predicted, rel=0.05)


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c[0] != "relu"],
                         ids=["-".join(c) for c in CONFIGS if c[0] != "relu"])
def test_the_derivation_predicts_the_forward_factor_for_smooth_activations(measured, cfg):
    forward, _, predicted = measured[cfg]
    assert forward == pytest.approx(predicted, rel=0.10)


ZERO_MEAN_SHORTFALL = math.sqrt(1 - 1 / math.pi)  # std relu(z) / (std z / sqrt 2), z ~ N(0, 1)


def test_relu_shortfall_of_a_zero_mean_layer_is_sqrt_one_minus_one_over_pi():
    z = np.random.default_rng(0).standard_normal(400_000)
    sampled = np.maximum(z, 0).std() / (z.std() / math.sqrt(2))
    assert sampled == pytest.approx(ZERO_MEAN_SHORTFALL, abs=0.005)
    assert sampled != pytest.approx(1.0, abs=0.1)  # the linearisation alone would say 1


def test_relu_forward_spread_falls_below_the_first_order_prediction(measured):
    for scheme in SCALES:
        forward, _, predicted = measured["relu", scheme]
        # between the zero-mean layer's shortfall and no shortfall at all
        assert ZERO_MEAN_SHORTFALL * predicted < forward < predicted


def test_deep_sigmoid_loses_signal_and_gradient_at_least_4x_per_layer(measured):
    """The chapter's fix: the forward signal collapses as fast as the gradient."""
    forward, backward, predicted = measured["sigmoid", "glorot"]
    assert 0.2 < forward < 0.25 and 0.2 < backward < 0.25
    assert predicted < 0.25  # the a-priori bound sigma' <= 1/4, times sqrt(d s^2) = 1


def test_glorot_keeps_tanh_and_he_keeps_relu_near_one(measured):
    assert 0.85 < measured["tanh", "glorot"][1] < 1.0
    assert 0.9 < measured["relu", "he"][1] < 1.1
    assert measured["relu", "glorot"][1] == pytest.approx(1 / math.sqrt(2), rel=0.05)


# ------------------------------------------------------------------ the check can fail
def chi_without_weight_scale(activation, scheme, Zs):
    """Planted: forgets d s^2, as if only the activation's slope mattered."""
    return np.array([math.sqrt(np.mean(derivative(activation, Z) ** 2)) for Z in Zs])


def chi_without_slope(activation, scheme, Zs):
    """Planted: forgets phi', as if only the weight scale mattered."""
    return np.full(len(Zs), math.sqrt(WIDTH * SCALES[scheme](WIDTH, WIDTH) ** 2))


@pytest.mark.parametrize("bad, cfg", [(chi_without_weight_scale, ("tanh", "small")),
                                      (chi_without_slope, ("sigmoid", "glorot"))])
def test_a_wrong_prediction_is_caught(bad, cfg):
    _, backward, predicted = factors(*cfg, predictor=bad)
    assert backward != pytest.approx(predicted, rel=0.05)
    assert abs(math.log(backward / predicted)) > math.log(3)  # off by 4x and 12x
