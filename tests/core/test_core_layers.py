"""Layer behaviour beyond gradients: initialisation, dropout statistics, Sequential, dtypes."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlbook_utils import gradcheck, layers, losses, optim, train


@pytest.mark.checks("eq-he", "eq-glorot", kind="property", tol="variance within 2 %")
def test_he_and_glorot_initialisation_statistics():
    rng = np.random.default_rng(0)
    he = layers.Dense(400, 300, rng=rng, init="he").params["W"]
    assert he.var() == pytest.approx(2 / 400, rel=0.02)  # 120 000 samples: s.e. of var ~0.4 %
    assert abs(he.mean()) < 5 * np.sqrt(2 / 400 / he.size)
    gl = layers.Dense(400, 300, rng=rng, init="glorot").params["W"]
    limit = np.sqrt(6 / 700)
    assert np.abs(gl).max() <= limit and np.abs(gl).max() > 0.99 * limit
    assert gl.var() == pytest.approx(limit**2 / 3, rel=0.02)  # U(-a, a) has variance a^2 / 3
    assert np.all(layers.Dense(4, 3, rng=rng).params["b"] == 0)


@pytest.mark.checks("eq-inverted-dropout", kind="property", tol="mean within 0.01")
def test_dropout_is_inverted_and_identity_at_eval():
    rng = np.random.default_rng(0)
    x = np.ones((200, 500))
    drop = layers.Dropout(0.3, rng=rng)
    y = drop.forward(x)
    kept = y != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.005)  # s.e. 0.0006
    assert np.allclose(y[kept], 1 / 0.7)
    assert y.mean() == pytest.approx(1.0, abs=0.01)  # expectation preserved
    dx = drop.backward(np.ones_like(x))
    assert np.array_equal(dx, y)  # same mask, same scale
    drop.eval()
    assert drop.forward(x) is x
    assert np.array_equal(layers.Dropout(0.0, rng=rng).forward(x), x)


def test_sequential_params_keys_share_memory_and_modes_propagate():
    model = layers.mlp([3, 5, 4, 2], activation="tanh", rng=np.random.default_rng(0))
    assert list(model.params()) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert [type(lay).__name__ for lay in model.layers] == [
        "Dense", "Tanh", "Dense", "Tanh", "Dense"]  # logits: no activation at the end
    assert model.params()["2.W"] is model.layers[2].params["W"]
    model.forward(np.ones((2, 3)))
    model.backward(np.ones((2, 2)))
    assert model.grads()["2.W"] is model.layers[2].grads["W"]
    model.eval()
    assert not any(lay.training for lay in model.layers)
    model.train()
    assert all(lay.training for lay in model.layers)
    assert repr(model).startswith("Sequential([Dense(in=3, out=5), Tanh()")


def test_skipping_input_grad_changes_nothing_else():
    rng = np.random.default_rng(0)
    x, delta = rng.standard_normal((6, 4)), rng.standard_normal((6, 3))
    skip = layers.mlp([4, 8, 3], rng=np.random.default_rng(1))  # need_input_grad=False
    full = layers.mlp([4, 8, 3], rng=np.random.default_rng(1), need_input_grad=True)
    skip.forward(x)
    full.forward(x)
    assert skip.backward(delta) is None
    assert full.backward(delta).shape == x.shape
    for k, g in full.grads().items():
        assert np.array_equal(skip.grads()[k], g)


def test_float32_end_to_end():
    rng = np.random.default_rng(0)
    model = layers.mlp([4, 6, 3], activation="sigmoid", rng=rng, dtype=np.float32,
                       need_input_grad=True)
    out = model.forward(rng.standard_normal((5, 4)))  # float64 data is cast at the first layer
    assert out.dtype == np.float32
    dx = model.backward(np.ones((5, 3)))  # float64 upstream gradient is cast too
    assert dx.dtype == np.float32
    assert all(v.dtype == np.float32 for v in [*model.params().values(), *model.grads().values()])
    drop = layers.Dropout(0.5, rng=rng)
    assert drop.forward(np.ones((3, 3), np.float32)).dtype == np.float32


def test_check_layer_works_on_float32_model_only_through_float64_copy():
    model = layers.Dense(3, 2, rng=np.random.default_rng(0), dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_layer(model, np.ones((2, 3), np.float32), rng=np.random.default_rng(0))


@pytest.mark.checks("eq-centred-difference", kind="closed form", tol="rtol 1e-8")
def test_numerical_grad_restores_x_and_counts_calls():
    x = np.arange(6.0).reshape(2, 3)
    original = x.copy()
    calls = []

    def f():
        calls.append(1)
        return float((x**3).sum())

    grad = gradcheck.numerical_grad(f, x)
    assert np.array_equal(x, original)
    assert len(calls) == 2 * x.size  # centred: two evaluations per entry
    assert np.allclose(grad, 3 * original**2, rtol=1e-8, atol=1e-8)


def test_import_does_not_import_tensorflow():
    code = ("import sys, dlbook_utils, dlbook_utils.layers, dlbook_utils.optim, "
            "dlbook_utils.losses, dlbook_utils.activations, dlbook_utils.gradcheck, "
            "dlbook_utils.regularizers, dlbook_utils.schedules, dlbook_utils.tfcompare; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr


CORE = ("layers", "activations", "losses", "optim")
SHOWN = {"layers": ["Dense", "ReLU"], "losses": ["softmax_cross_entropy"],
         "optim": ["Adam"]}
COLUMN = 75  # the width of a listing printed in the book


def test_the_core_reads_in_minutes():
    """What a learner opens to understand Dense, ReLU, softmax cross-entropy and Adam:
    each is one definition of at most 40 lines, in one file with the base class it
    inherits (Layer, Optimizer), so nothing it builds on sits in another file; the four
    modules together stay within 450 non-blank lines (docstrings and comments included)
    and every line fits the book's 75-character column. Not counted: the argument and
    shape checks of ``_validate``, whose names (``rows``, ``positive_int``,
    ``check_delta``) say what they check and which compute nothing the book derives."""
    import importlib
    import inspect

    package = Path(__file__).resolve().parents[2] / "dlbook_utils"
    lines = {m: (package / f"{m}.py").read_text().splitlines() for m in CORE}
    assert sum(1 for m in CORE for line in lines[m] if line.strip()) <= 450
    too_wide = [f"{m}.py:{i}" for m in CORE for i, line in enumerate(lines[m], 1)
                if len(line) > COLUMN]
    assert too_wide == []
    for module_name, names in SHOWN.items():
        module = importlib.import_module(f"dlbook_utils.{module_name}")
        for name in names:
            obj = getattr(module, name)
            for cls in (inspect.getmro(obj)[:-1] if inspect.isclass(obj) else [obj]):
                assert inspect.getsourcefile(cls) == str(package / f"{module_name}.py"), cls
            assert len(inspect.getsource(obj).splitlines()) <= 40, name


def template_methods(base, classes) -> list[str]:
    """Where a learner reading one optimizer would have to open another class: the base
    defines ``step`` or ``_update``, or an optimizer inherits either instead of defining it."""
    found = [f"{base.__name__}.{m}" for m in ("step", "_update") if m in vars(base)]
    return found + [f"{c.__name__} inherits {m}" for c in classes
                    for m in ("step", "_update") if m not in vars(c)]


def test_each_optimizer_reads_in_its_own_class():
    """Issue 21 and the learner's review: no template method. SGD, RMSprop and Adam each
    define the step loop and the update they run; the base keeps the bookkeeping."""
    assert template_methods(optim.Optimizer, [optim.SGD, optim.RMSprop, optim.Adam]) == []

    class TemplateBase(optim.Optimizer):  # planted: the old layout, step in the base
        def step(self, params, grads):
            for key, w in params.items():
                self._update(w, grads[key], self.state.setdefault(key, {}), 0.1)

    class Plain(TemplateBase):
        def _update(self, w, g, state, lr):
            w -= lr * g

    assert template_methods(TemplateBase, [Plain]) == ["TemplateBase.step",
                                                       "Plain inherits step"]


def test_every_module_stays_well_under_300_lines():
    """The package is code that learners read and copy: one concept per module, kept short."""
    package = Path(__file__).resolve().parents[2] / "dlbook_utils"
    lengths = {p.relative_to(package).as_posix(): len(p.read_text().splitlines())
               for p in package.rglob("*.py")}
    assert len(lengths) > 20
    assert {name: n for name, n in lengths.items() if n >= 285} == {}


def test_layers_check_types_and_shapes_and_training_catches_nan_where_data_enters():
    """A layer checks the type and shape of x (forward) and delta (backward). NaN/inf is
    caught where data enters training: fit and predict check X, the loss its logits (a NaN born
    inside, from a diverged weight, stops training there), the optimizer its gradients."""
    rng = np.random.default_rng(0)
    model = layers.mlp([3, 4, 2], rng=rng)
    with pytest.raises(ValueError, match=r"expected x with a floating-point dtype.*int"):
        model.forward(np.ones((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"Dense\(in=4, out=2\) expected x of shape \(n, 4\), got \(1, 5\)"):
        layers.Sequential([layers.Dense(3, 4, rng=rng), layers.Dense(4, 5, rng=rng),
                           layers.Dense(4, 2, rng=rng)]).forward(np.ones((1, 3)))
    model.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Dense\(in=4, out=2\)\.backward expected delta of "
                                         r"shape \(2, 2\).*got \(2, 3\)"):
        model.backward(np.ones((2, 3)))
    X, y = np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 2.0]]), np.array([0, 1])
    for call in (lambda: train.fit(model, losses.softmax_cross_entropy, optim.SGD(0.1), X, y,
                                   epochs=1, batch_size=2, rng=rng, progress=False),
                 lambda: train.predict(model, X)):
        with pytest.raises(ValueError, match=r"expected finite X, got 1 NaN/inf"):
            call()
    model.layers[2].params["W"][0, 0] = np.nan  # e.g. a diverged update
    logits = model.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="softmax_cross_entropy expected finite logits"):
        losses.softmax_cross_entropy(logits, np.array([0, 1]))


def test_sequential_calls_a_layer_that_overrides_forward_or_backward_through_it():
    """A learner's layer that overrides the public methods (CS231n style) is called through
    them inside a Sequential."""
    calls = []

    class Logged(layers.ReLU):
        def forward(self, x):
            calls.append("forward")
            return super().forward(x)

        def backward(self, delta):
            calls.append("backward")
            return super().backward(delta)

    rng = np.random.default_rng(0)
    model = layers.Sequential([layers.Dense(3, 4, rng=rng), Logged(), layers.Dense(4, 2, rng=rng)])
    model.backward(np.ones_like(model.forward(np.ones((2, 3)))))
    assert calls == ["forward", "backward"]


def test_a_nested_sequential_trains_like_the_flat_one():
    from dlbook_utils import losses

    def build(nested):
        rng = np.random.default_rng(0)
        first = [layers.Dense(3, 4, rng=rng), layers.ReLU()]
        last = layers.Dense(4, 2, rng=rng)
        return layers.Sequential([layers.Sequential(first), last] if nested else [*first, last])

    x, y = np.random.default_rng(1).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    models = {nested: build(nested) for nested in (True, False)}
    assert list(models[True].params()) == ["0.0.W", "0.0.b", "1.W", "1.b"]
    for model in models.values():
        opt = optim.Adam(0.1)
        for _ in range(3):
            model.backward(losses.softmax_cross_entropy(model.forward(x), y)[1])
            opt.step(model.params(), model.grads())
    for a, b in zip(models[True].params().values(), models[False].params().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    drop = layers.Dropout(0.5, rng=np.random.default_rng(0))
    model = layers.Sequential([layers.Sequential([layers.Dense(3, 3, rng=np.random.default_rng(0)),
                                                  drop])])
    model.eval()
    assert not drop.training  # eval() reaches the layers of a nested Sequential
    model.train()
    assert drop.training
