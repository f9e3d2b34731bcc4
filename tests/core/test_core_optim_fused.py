"""Adam/AdamW update flat parameter buffers in one fused pass; it must equal the per-parameter loop.

``Sequential`` keeps all parameters (and all gradients) in one contiguous buffer each
(``dlbook_utils._flat``); Adam then updates the whole model with one pass over the buffers.
"""

import types

import numpy as np
import pytest

from dlbook_utils import _flat, layers, losses, optim


class PerParameter:
    """Mixin: force the plain per-parameter loop (what a subclass overriding _update gets)."""

    def _update(self, w, g, state, lr):
        super()._update(w, g, state, lr)


class AdamLoop(PerParameter, optim.Adam):
    pass


class AdamWLoop(PerParameter, optim.AdamW):
    pass


SHAPES = {"0.W": (5, 4), "0.b": (4,), "2.W": (4, 3), "2.b": (3,)}


def flat_dict(arrays: dict) -> dict:
    """The same arrays as views into one flat buffer, as ``Sequential.params()`` returns them."""
    holder = types.SimpleNamespace(arrays=dict(arrays))
    _flat.share_buffer([holder], "arrays")
    return holder.arrays


def problem(dtype, rng):
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    grads = [{k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()} for _ in range(20)]
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fused_cls,loop_cls,kw", [
    (optim.Adam, AdamLoop, {}),
    (optim.Adam, AdamLoop, {"epsilon_hat": True}),
    (optim.AdamW, AdamWLoop, {"weight_decay": 0.01}),
])
def test_fused_step_is_bit_identical_to_the_loop(dtype, fused_cls, loop_cls, kw):
    params, grads = problem(dtype, np.random.default_rng(0))
    a, b = flat_dict(params), {k: v.copy() for k, v in params.items()}
    a_grads = flat_dict(grads[0])
    assert _flat.flat_buffer(a) is not None and _flat.flat_buffer(b) is None
    fused, loop = fused_cls(0.01, **kw), loop_cls(0.01, **kw)
    for g in grads:
        for k in g:
            np.copyto(a_grads[k], g[k])  # the model writes its gradients into the flat buffer
        fused.step(a, a_grads)
        loop.step(b, g)
    assert fused._flat_pair is not None and not hasattr(loop, "_flat")
    for k in params:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(fused.state[k]["m"], loop.state[k]["m"])
        assert a[k].dtype == dtype
        assert np.shares_memory(a[k], _flat.flat_buffer(a))  # still views: updated in place


def test_flat_buffer_recognises_only_exact_in_order_tilings():
    flat = flat_dict({"a": np.ones((2, 3)), "b": np.zeros(4)})
    assert _flat.flat_buffer(flat) is flat["a"].base
    assert _flat.flat_buffer({"b": flat["b"], "a": flat["a"]}) is None  # order differs
    assert _flat.flat_buffer({"a": flat["a"]}) is None  # does not cover the buffer
    assert _flat.flat_buffer({"a": flat["a"], "b": np.zeros(4)}) is None  # another array
    assert _flat.flat_buffer({"a": flat["a"].T, "b": flat["b"]}) is None  # not C-contiguous
    assert _flat.flat_buffer({}) is None


def test_sequential_shares_one_buffer_and_adam_takes_the_fused_path():
    rng = np.random.default_rng(0)
    model = layers.mlp([6, 5, 3], rng=rng)
    W0 = model.layers[0].params["W"].copy()
    assert _flat.flat_buffer(model.params()) is not None
    assert _flat.flat_buffer(model.grads()) is not None
    np.testing.assert_array_equal(model.layers[0].params["W"], W0)  # values unchanged
    opt = optim.Adam(0.01)
    x, y = rng.standard_normal((4, 6)), np.array([0, 1, 2, 0])
    model.backward(losses.softmax_cross_entropy(model.forward(x), y)[1])
    opt.step(model.params(), model.grads())
    assert opt._flat_pair is not None


def test_a_layer_that_replaces_its_arrays_falls_back_to_the_loop():
    """A layer may rebind ``grads["W"]`` to a new array (the flat buffer is then stale): Adam must
    notice, not update from stale gradients."""
    rng = np.random.default_rng(0)
    params, grads = problem(np.float64, rng)
    a, a_grads = flat_dict(params), flat_dict(grads[0])
    b = {k: v.copy() for k, v in params.items()}
    fused, loop = optim.Adam(0.01), AdamLoop(0.01)
    fused.step(a, a_grads)
    loop.step(b, grads[0])
    a_grads["0.W"] = grads[1]["0.W"].copy()  # rebound, no longer a view of the buffer
    for k in SHAPES:
        if k != "0.W":
            np.copyto(a_grads[k], grads[1][k])
    fused.step(a, a_grads)
    loop.step(b, grads[1])
    assert fused._flat_pair is None
    for k in SHAPES:
        np.testing.assert_array_equal(a[k], b[k])


def test_state_entries_are_views_and_survive_a_layout_change():
    rng = np.random.default_rng(1)
    params, grads = problem(np.float64, rng)
    params, g0 = flat_dict(params), flat_dict(grads[0])
    opt = optim.Adam(0.01)
    opt.step(params, g0)
    assert np.shares_memory(opt.state["0.W"]["m"], opt._flat["m"])
    m_before = opt.state["0.W"]["m"].copy()
    params = flat_dict({**params, "4.W": rng.standard_normal((3, 2))})  # a new layer
    opt.step(params, flat_dict({**grads[1], "4.W": np.zeros((3, 2))}))
    expected = m_before + (1 - opt.beta1) * (grads[1]["0.W"] - m_before)
    np.testing.assert_allclose(opt.state["0.W"]["m"], expected, rtol=1e-15)
    np.testing.assert_array_equal(opt.state["4.W"]["m"], 0.0)


def test_mixed_precision_params_use_the_loop():
    opt = optim.Adam(0.1)
    params = {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)}
    opt.step(params, {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)})
    assert opt._flat_pair is None
    assert params["a"].dtype == np.float32 and params["b"].dtype == np.float64
    np.testing.assert_allclose(params["b"], 1 - 0.1, rtol=1e-6)  # first Adam step = lr * sign(g)


def test_reset_forgets_the_flat_moments():
    params, grads = problem(np.float32, np.random.default_rng(2))
    used, fresh = flat_dict(params), flat_dict(params)
    g = flat_dict(grads[0])
    opt = optim.Adam(0.01)
    for _ in range(3):
        opt.step(used, g)
    for key in params:
        np.copyto(used[key], params[key])
    opt.reset()
    new = optim.Adam(0.01)
    for _ in range(3):
        opt.step(used, g)
        new.step(fresh, g)
    for key in params:
        np.testing.assert_array_equal(used[key], fresh[key])


@pytest.mark.parametrize("make", [lambda: optim.Adam(0.01), lambda: optim.SGD(0.1, momentum=0.9),
                                  optim.RMSprop])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_in_a_flat_buffer_is_refused_by_name(make, bad):
    """Flat gradients are checked in one pass: the error must still name the key that holds the
    NaN/inf, and no parameter, moment or step count may change."""
    opt = make()
    params, grads = problem(np.float32, np.random.default_rng(3))
    params, good, bad_grads = flat_dict(params), flat_dict(grads[0]), flat_dict(grads[1])
    opt.step(params, good)  # the optimizer has seen this layout once
    before = {k: v.copy() for k, v in params.items()}
    state = {k: {n: a.copy() for n, a in s.items()} for k, s in opt.state.items()}
    bad_grads["2.W"][1, 2] = bad
    with pytest.raises(ValueError, match=r"expected finite grads\['2\.W'\], got 1 NaN"):
        opt.step(params, bad_grads)
    assert opt.t == 1
    for k in SHAPES:
        np.testing.assert_array_equal(params[k], before[k])
        for name, a in opt.state.get(k, {}).items():
            np.testing.assert_array_equal(a, state[k][name])
