"""float16 overflow/underflow, loss scaling, and the dynamic loss-scale rule against Keras."""

import numpy as np
import pytest

from dlbook_utils.mixed_precision import (
    FLOAT16,
    DynamicLossScale,
    cast_to_float16,
    float16_roundtrip,
)

HALF_ULP = 2.0**-11  # float16 rounds to nearest with 10 stored mantissa bits


def test_float16_limits_are_the_ones_the_text_states():
    assert FLOAT16.max == 65504 and FLOAT16.smallest_normal == 2.0**-14
    assert FLOAT16.smallest_subnormal == 2.0**-24


def test_cast_counts_overflow_underflow_and_subnormals():
    x = np.array([7e4, -1e5, 1e-9, 1e-6, 1.0, 0.0, 1 / 3, 65504.0])
    half, report = cast_to_float16(x)
    assert half.dtype == np.float16 and half.shape == x.shape
    assert (report.n, report.overflow, report.underflow, report.subnormal) == (8, 2, 1, 1)
    assert np.isinf(half[:2]).all() and half[2] == 0 and half[7] == 65504
    # 1e-6 is subnormal: its error is absolute (up to half of 2**-24), far above HALF_ULP
    assert abs(float(half[3]) - 1e-6) <= float(FLOAT16.smallest_subnormal) / 2
    assert report.max_rel_error == pytest.approx(abs(float(half[3]) - 1e-6) / 1e-6)
    _, normal_only = cast_to_float16(np.array([1 / 3, 0.1, 1000.1]))
    assert 0 < normal_only.max_rel_error <= HALF_ULP
    assert "2 overflow to inf, 1 underflow to 0" in str(report)


@pytest.mark.checks("eq-loss-scaling", kind="closed form", tol="half an ulp of float16")
def test_loss_scaling_rescues_small_gradients_and_too_large_a_scale_overflows():
    rng = np.random.default_rng(0)
    grads = 10.0 ** rng.uniform(-10, -3, 10_000)  # magnitudes that real gradients span
    # round to nearest: below half the smallest subnormal a value becomes 0
    expected_zeros = int(np.count_nonzero(grads <= float(FLOAT16.smallest_subnormal) / 2))
    plain, report = float16_roundtrip(grads)
    assert report.underflow == expected_zeros and 2000 < expected_zeros < 5000
    assert np.count_nonzero(plain == 0) == expected_zeros
    scaled, scaled_report = float16_roundtrip(grads, 2.0**15)
    assert scaled_report.underflow == 0 and scaled_report.overflow == 0
    normal = grads * 2.0**15 >= FLOAT16.smallest_normal
    rel = np.abs(scaled[normal] - grads[normal]) / grads[normal]
    assert rel.max() <= HALF_ULP + 1e-7  # + the float32 unscaling
    # log-uniform over 7 decades: the share at or above 2**-14 / S is a length ratio
    share = (-3 - np.log10(2.0**-14 / 2.0**15)) / 7  # 0.82 (0.17 without scaling)
    assert normal.mean() == pytest.approx(share, abs=0.02)
    assert (grads >= FLOAT16.smallest_normal).mean() == pytest.approx(
        (-3 - np.log10(2.0**-14)) / 7, abs=0.02)
    large = np.array([1e-3, 1.0, 3.0])  # 3 * 2**15 = 98304 > 65504
    assert float16_roundtrip(large, 2.0**15)[1].overflow == 1


def _keras_scales(pattern, initial, growth):
    """Keras's LossScaleOptimizer over steps whose gradients are finite (True) or inf (False)."""
    import keras

    w = keras.Variable(np.ones(2, np.float32))
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=initial,
                                              dynamic_growth_steps=growth)
    scales, weights = [], []
    for finite in pattern:
        grad = np.full(2, 1.0 if finite else np.inf, np.float32)
        opt.apply([grad], [w])
        scales.append(float(opt.dynamic_scale.numpy()))
        weights.append(w.numpy().copy())
    return scales, weights


PATTERN = [True, True, True, False, True, True, False, False, True, True, True, True, True]


@pytest.mark.tf
def test_dynamic_loss_scale_follows_keras_loss_scale_optimizer():
    keras_scales, keras_w = _keras_scales(PATTERN, 2.0**10, 3)
    ours = DynamicLossScale(2.0**10, growth_steps=3)
    scales = []
    for finite in PATTERN:
        applied = ours.update([np.full(2, 1.0 if finite else np.inf)])
        assert applied == finite
        scales.append(ours.scale)
    assert scales == keras_scales
    assert len(set(scales)) >= 4  # it went up and down
    skipped = [i for i, finite in enumerate(PATTERN) if not finite]
    for i in skipped:  # a skipped step leaves the weights alone
        np.testing.assert_array_equal(keras_w[i], keras_w[i - 1])


@pytest.mark.tf
def test_the_comparison_catches_a_scale_that_does_not_restart_its_count():
    class KeepsCounting(DynamicLossScale):  # planted bug: good_steps not reset on overflow
        def update(self, scaled_grads):
            count = self.good_steps
            applied = super().update(scaled_grads)
            if not applied:
                self.good_steps = count
            return applied

    keras_scales, _ = _keras_scales(PATTERN, 2.0**10, 3)
    buggy = KeepsCounting(2.0**10, growth_steps=3)
    scales = []
    for finite in PATTERN:
        buggy.update([np.full(2, 1.0 if finite else np.inf)])
        scales.append(buggy.scale)
    assert scales != keras_scales


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="scale > 0, got 0.0"):
        float16_roundtrip(np.ones(3), 0.0)
    with pytest.raises(ValueError, match="floating-point dtype"):
        cast_to_float16(np.arange(3))
    with pytest.raises(ValueError, match="growth_steps to be an integer >= 1, got 0"):
        DynamicLossScale(growth_steps=0)
    with pytest.raises(ValueError, match="initial_scale > 0"):
        DynamicLossScale(initial_scale=-1.0)
