"""The opt-in fast path (dlbook_utils.fast) trains exactly like the learner core.

``fast.mlp`` keeps all parameters (and all gradients) in one contiguous buffer each
(``fast.flat``) and ``FusedAdam`` updates the whole model in one pass over them; its ReLU works
in place on its own Dense output; ``fast.fit`` reuses one batch buffer. Each must equal the
plain code of ``layers``/``optim``/``train`` bit for bit, and must never touch a caller's data.
"""

import types

import numpy as np
import pytest

from dlbook_utils import fast, gradcheck, layers, losses, optim, train
from dlbook_utils.fast import FusedAdam, flat

SHAPES = {"0.W": (5, 4), "0.b": (4,), "2.W": (4, 3), "2.b": (3,)}


def flat_dict(arrays: dict) -> dict:
    """The same arrays as views into one flat buffer, as ``Sequential.params()`` returns them."""
    holder = types.SimpleNamespace(arrays=dict(arrays))
    flat.share_buffer([holder], "arrays")
    return holder.arrays


def problem(dtype, rng):
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    grads = [{k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()} for _ in range(20)]
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, {"epsilon_hat": True}])
def test_fused_step_is_bit_identical_to_the_loop(dtype, kw):
    params, grads = problem(dtype, np.random.default_rng(0))
    a, b = flat_dict(params), {k: v.copy() for k, v in params.items()}
    a_grads = flat_dict(grads[0])
    assert flat.flat_buffer(a) is not None and flat.flat_buffer(b) is None
    fused, loop = FusedAdam(0.01, **kw), optim.Adam(0.01, **kw)
    for g in grads:
        for k in g:
            np.copyto(a_grads[k], g[k])  # the model writes its gradients into the flat buffer
        fused.step(a, a_grads)
        loop.step(b, g)
    assert fused._pair is not None
    assert set(fused.state["0.W"]) == {"m", "v"}  # no scratch buffers in the state
    for k in params:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(fused.state[k]["m"], loop.state[k]["m"])
        assert a[k].dtype == dtype
        assert np.shares_memory(a[k], flat.flat_buffer(a))  # still views: updated in place


def test_flat_buffer_recognises_only_exact_in_order_tilings():
    tiled = flat_dict({"a": np.ones((2, 3)), "b": np.zeros(4)})
    assert flat.flat_buffer(tiled) is tiled["a"].base
    assert flat.flat_buffer({"b": tiled["b"], "a": tiled["a"]}) is None  # order differs
    assert flat.flat_buffer({"a": tiled["a"]}) is None  # does not cover the buffer
    assert flat.flat_buffer({"a": tiled["a"], "b": np.zeros(4)}) is None  # another array
    assert flat.flat_buffer({"a": tiled["a"].T, "b": tiled["b"]}) is None  # not C-contiguous
    assert flat.flat_buffer({}) is None


def test_fast_mlp_shares_one_buffer_and_adam_takes_the_fused_path():
    rng = np.random.default_rng(0)
    model = fast.mlp([6, 5, 3], rng=rng)
    W0 = model.layers[0].params["W"].copy()
    assert flat.flat_buffer(model.params()) is not None
    assert flat.flat_buffer(model.grads()) is not None
    np.testing.assert_array_equal(model.layers[0].params["W"], W0)  # values unchanged
    opt = FusedAdam(0.01)
    x, y = rng.standard_normal((4, 6)), np.array([0, 1, 2, 0])
    model.backward(losses.softmax_cross_entropy(model.forward(x), y)[1])
    opt.step(model.params(), model.grads())
    assert opt._pair is not None


def test_a_layer_that_replaces_its_arrays_falls_back_to_the_loop():
    """A layer may rebind ``grads["W"]`` to a new array (the flat buffer is then stale): Adam must
    notice, not update from stale gradients."""
    rng = np.random.default_rng(0)
    params, grads = problem(np.float64, rng)
    a, a_grads = flat_dict(params), flat_dict(grads[0])
    b = {k: v.copy() for k, v in params.items()}
    fused, loop = FusedAdam(0.01), optim.Adam(0.01)
    fused.step(a, a_grads)
    loop.step(b, grads[0])
    a_grads["0.W"] = grads[1]["0.W"].copy()  # rebound, no longer a view of the buffer
    for k in SHAPES:
        if k != "0.W":
            np.copyto(a_grads[k], grads[1][k])
    fused.step(a, a_grads)
    loop.step(b, grads[1])
    assert fused._pair is None
    for k in SHAPES:
        np.testing.assert_array_equal(a[k], b[k])


def test_state_entries_are_views_and_survive_a_layout_change():
    rng = np.random.default_rng(1)
    params, grads = problem(np.float64, rng)
    params, g0 = flat_dict(params), flat_dict(grads[0])
    opt = FusedAdam(0.01)
    opt.step(params, g0)
    assert np.shares_memory(opt.state["0.W"]["m"], opt._m)
    m_before = opt.state["0.W"]["m"].copy()
    params = flat_dict({**params, "4.W": rng.standard_normal((3, 2))})  # a new layer
    opt.step(params, flat_dict({**grads[1], "4.W": np.zeros((3, 2))}))
    expected = m_before + (1 - opt.beta1) * (grads[1]["0.W"] - m_before)
    np.testing.assert_allclose(opt.state["0.W"]["m"], expected, rtol=1e-15)
    np.testing.assert_array_equal(opt.state["4.W"]["m"], 0.0)


def test_mixed_precision_params_use_the_loop():
    opt = FusedAdam(0.1)
    params = {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)}
    opt.step(params, {"a": np.ones(3, np.float32), "b": np.ones(2, np.float64)})
    assert opt._pair is None
    assert params["a"].dtype == np.float32 and params["b"].dtype == np.float64
    np.testing.assert_allclose(params["b"], 1 - 0.1, rtol=1e-6)  # first Adam step = lr * sign(g)


def test_reset_forgets_the_flat_moments():
    params, grads = problem(np.float32, np.random.default_rng(2))
    used, fresh = flat_dict(params), flat_dict(params)
    g = flat_dict(grads[0])
    opt = FusedAdam(0.01)
    for _ in range(3):
        opt.step(used, g)
    for key in params:
        np.copyto(used[key], params[key])
    opt.reset()
    new = FusedAdam(0.01)
    for _ in range(3):
        opt.step(used, g)
        new.step(fresh, g)
    for key in params:
        np.testing.assert_array_equal(used[key], fresh[key])


@pytest.mark.parametrize("make", [lambda: FusedAdam(0.01), lambda: optim.Adam(0.01),
                                  lambda: optim.SGD(0.1, momentum=0.9), optim.RMSprop])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_in_a_flat_buffer_is_refused_by_name(make, bad):
    """FusedAdam checks flat gradients in one pass: the error must still name the key that holds
    the NaN/inf, and no parameter, moment or step count may change (nor for the core's own)."""
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


# ------------------------------------------------------------------ fast.mlp, fast.fit


def train_both(dtype, epsilon_hat, X, y, sizes=(6, 16, 16, 3)):
    """The same training through the learner core and through the fast path."""
    core = layers.mlp(list(sizes), rng=np.random.default_rng(9), dtype=dtype)
    quick = fast.mlp(list(sizes), rng=np.random.default_rng(9), dtype=dtype)
    hists = [train.fit(core, losses.softmax_cross_entropy, optim.Adam(1e-2, epsilon_hat=epsilon_hat),
                       X, y, epochs=3, batch_size=8, rng=np.random.default_rng(10), progress=False),
             fast.fit(quick, losses.softmax_cross_entropy, FusedAdam(1e-2, epsilon_hat=epsilon_hat),
                      X, y, epochs=3, batch_size=8, rng=np.random.default_rng(10))]
    return core, quick, hists


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("epsilon_hat", [False, True])
def test_fast_path_trains_exactly_like_the_learner_core(dtype, epsilon_hat):
    data = np.random.default_rng(8)
    X, y = data.standard_normal((40, 6)).astype(np.float32), data.integers(0, 3, 40)
    core, quick, (h_core, h_fast) = train_both(dtype, epsilon_hat, X, y)
    dense = [lay for lay in core.layers if isinstance(lay, layers.Dense)]
    for d, q in zip(dense, quick.layers, strict=True):
        for key in ("W", "b"):
            np.testing.assert_array_equal(q.params[key], d.params[key])
            assert q.params[key].dtype == dtype
    assert (h_fast["loss"], h_fast["acc"]) == (h_core["loss"], h_core["acc"])


def test_the_bit_for_bit_comparison_catches_a_planted_change():
    """A fused update whose first moment is off by a rounding-size factor must make the
    comparison above fail: bit for bit means bit for bit."""

    class OffByRounding(FusedAdam):
        def step(self, params, grads):
            super().step(params, grads)
            self._m *= 1 + 1e-7  # a rounding-size change

    data = np.random.default_rng(8)
    X, y = data.standard_normal((40, 6)).astype(np.float32), data.integers(0, 3, 40)
    core = layers.mlp([6, 16, 3], rng=np.random.default_rng(9), dtype=np.float32)
    quick = fast.mlp([6, 16, 3], rng=np.random.default_rng(9), dtype=np.float32)
    train.fit(core, losses.softmax_cross_entropy, optim.Adam(1e-2), X, y, epochs=2,
              batch_size=8, rng=np.random.default_rng(10), progress=False)
    fast.fit(quick, losses.softmax_cross_entropy, OffByRounding(1e-2), X, y, epochs=2,
             batch_size=8, rng=np.random.default_rng(10))
    assert not np.array_equal(quick.layers[0].params["W"], core.layers[0].params["W"])


def test_in_place_relu_gives_plain_values_for_changing_batches_and_dtypes():
    """The cached array of zeros must give np.maximum(z, 0) bit for bit (signs of zero
    included) whatever the batch size, and the layer must not keep a stale mask."""
    rng = np.random.default_rng(11)
    for dtype in (np.float64, np.float32):
        quick = fast.DenseReLU(4, 5, rng=np.random.default_rng(0), relu=True, dtype=dtype)
        plain = layers.Dense(4, 5, rng=np.random.default_rng(0), dtype=dtype)
        for n in (6, 2, 9, 1):
            x = rng.standard_normal((n, 4)).astype(dtype)
            expected = np.maximum(plain.forward(x), 0)
            z = quick.forward(x)
            assert z.dtype == dtype and z.shape == (n, 5)
            np.testing.assert_array_equal(z, expected)
            np.testing.assert_array_equal(np.signbit(z), np.signbit(expected))
            delta = rng.standard_normal((n, 5))
            np.testing.assert_array_equal(quick.backward(delta),
                                          plain.backward(delta * (expected > 0)))


def test_fast_mlp_never_writes_over_the_callers_data():
    x = np.random.default_rng(1).standard_normal((5, 3))
    before = x.copy()
    model = fast.mlp([3, 4, 2], rng=np.random.default_rng(0), need_input_grad=True)
    delta = np.ones((5, 2))
    model.forward(x)
    model.backward(delta)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(delta, np.ones((5, 2)))


def test_check_layer_on_the_in_place_relu_finds_it_correct():
    layer = fast.DenseReLU(4, 3, rng=np.random.default_rng(0), relu=True, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((6, 4))
    assert gradcheck.check_layer(layer, x, rng=np.random.default_rng(2)) < 1e-7


class Spy:
    """Wraps a model and records where each training batch lives."""

    def __init__(self, model):
        self.model, self.addresses, self.batches = model, [], []

    def forward(self, x):
        self.addresses.append(x.__array_interface__["data"][0])
        self.batches.append(x.copy())
        return self.model.forward(x)

    def backward(self, delta):
        return self.model.backward(delta)

    def params(self):
        return self.model.params()

    def grads(self):
        return self.model.grads()


def test_fast_fit_gathers_every_batch_into_one_buffer_and_sees_every_row():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 4)).astype(np.float32), np.arange(50) % 3
    spy = Spy(fast.mlp([4, 8, 3], rng=rng))
    hist = fast.fit(spy, losses.softmax_cross_entropy, FusedAdam(1e-3), X, y, epochs=2,
                    batch_size=16, rng=rng)
    assert len(spy.addresses) == 8 and len(set(spy.addresses)) == 1
    for epoch in (spy.batches[:4], spy.batches[4:]):
        rows = np.concatenate(epoch)
        np.testing.assert_array_equal(np.sort(rows, axis=0), np.sort(X, axis=0))
    assert len(hist["loss"]) == len(hist["acc"]) == 2
