"""Adam/AdamW update all parameters in one fused pass; it must equal the per-parameter loop."""

import numpy as np
import pytest

from dlbook_utils import optim


class PerParameter:
    """Mixin: force the plain per-parameter loop (what a subclass overriding _update gets)."""

    def _update(self, w, g, state, lr):
        super()._update(w, g, state, lr)


class AdamLoop(PerParameter, optim.Adam):
    pass


class AdamWLoop(PerParameter, optim.AdamW):
    pass


def problem(dtype, rng):
    shapes = {"0.W": (5, 4), "0.b": (4,), "2.W": (4, 3), "2.b": (3,)}
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    grads = [{k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()} for _ in range(20)]
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fused_cls,loop_cls,kw", [
    (optim.Adam, AdamLoop, {}),
    (optim.Adam, AdamLoop, {"epsilon_hat": True}),
    (optim.AdamW, AdamWLoop, {"weight_decay": 0.01}),
])
def test_fused_step_is_bit_identical_to_the_loop(dtype, fused_cls, loop_cls, kw):
    params, grads = problem(dtype, np.random.default_rng(0))
    a = {k: v.copy() for k, v in params.items()}
    b = {k: v.copy() for k, v in params.items()}
    fused, loop = fused_cls(0.01, **kw), loop_cls(0.01, **kw)
    for g in grads:
        fused.step(a, g)
        loop.step(b, g)
    assert hasattr(fused, "_flat") and not hasattr(loop, "_flat")
    for k in params:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(fused.state[k]["m"], loop.state[k]["m"])
        assert a[k].dtype == dtype


def test_state_entries_are_views_and_survive_a_layout_change():
    rng = np.random.default_rng(1)
    params, grads = problem(np.float64, rng)
    opt = optim.Adam(0.01)
    opt.step(params, grads[0])
    assert np.shares_memory(opt.state["0.W"]["m"], opt._flat["m"])
    m_before = opt.state["0.W"]["m"].copy()
    params["4.W"] = rng.standard_normal((3, 2))  # a new layer: new flat layout
    opt.step(params, {**grads[1], "4.W": np.zeros((3, 2))})
    expected = m_before + (1 - opt.beta1) * (grads[1]["0.W"] - m_before)
    np.testing.assert_allclose(opt.state["0.W"]["m"], expected, rtol=1e-15)
    np.testing.assert_array_equal(opt.state["4.W"]["m"], 0.0)


def test_mixed_precision_params_use_the_loop():
    opt = optim.Adam(0.1)
    params = {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)}
    opt.step(params, {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)})
    assert not hasattr(opt, "_flat")
    assert params["a"].dtype == np.float32 and params["b"].dtype == np.float64
    np.testing.assert_allclose(params["b"], 1 - 0.1, rtol=1e-6)  # first Adam step = lr * sign(g)
