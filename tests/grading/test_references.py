"""The reference solutions are right: finite differences and the library's optimizers agree."""

import numpy as np
import pytest

from dlbook_utils.grading import registry


def numerical_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def test_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    p, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    mse = registry.get("2.4").reference
    assert np.allclose(mse(p, y)[1], numerical_grad(lambda a: mse(a, y)[0], p), atol=1e-7)
    z, t = rng.normal(size=6), rng.integers(0, 2, 6).astype(float)
    bce = registry.get("2.5").reference
    assert np.allclose(bce(z, t)[1], numerical_grad(lambda a: bce(a, t)[0], z), atol=1e-7)
    logits, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    sce, sce_grad = registry.get("3.4").reference, registry.get("4.2").reference
    assert np.allclose(sce_grad(logits, labels),
                       numerical_grad(lambda a: sce(a, labels), logits), atol=1e-7)


def test_two_layer_gradients_match_finite_differences():
    q = registry.get("4.5")
    X, y, W1, b1, W2, b2 = q.cases[0]
    sce = registry.get("3.4").reference
    mlp = registry.get("3.3").reference

    def loss(params):
        return sce(mlp(X, [(params[0], params[1]), (params[2], params[3])]), y)

    params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    analytic = q.reference(X, y, *params)
    for k in range(4):
        def f(a, k=k):
            ps = list(params)
            ps[k] = a
            return loss(ps)
        assert np.allclose(analytic[k], numerical_grad(f, params[k].copy()), atol=1e-6)


def test_stable_functions_at_extreme_inputs():
    big = np.array([[1000.0, -1000.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.allclose(registry.get("3.2").reference(big), [[1.0, 0.0, 0.0]])
        assert np.isclose(registry.get("3.4").reference(big, np.array([1])), 2000.0)
        assert np.isclose(registry.get("2.5").reference(np.array([-800.0]), np.array([1.0]))[0],
                          800.0)


def test_optimizer_references_match_the_library():
    optim = pytest.importorskip("dlbook_utils.optim")
    rng = np.random.default_rng(2)
    w0, grads = rng.normal(size=(3, 2)), [rng.normal(size=(3, 2)) for _ in range(4)]
    for qid, opt, state in [("5.3", optim.Adam(lr=0.01, eps=1e-7), 2),
                            ("5.2", optim.RMSprop(lr=0.01, rho=0.9, eps=1e-7), 1),
                            ("5.1", optim.SGD(lr=0.01, momentum=0.9), 1)]:
        ref = registry.get(qid).reference
        params, w, st = {"w": w0.copy()}, w0.copy(), [np.zeros_like(w0)] * state
        for t, g in enumerate(grads, start=1):
            opt.step(params, {"w": g.copy()})
            if qid == "5.3":
                w, *st = ref(w, g, *st, t, 0.01, 0.9, 0.999, 1e-7)
            elif qid == "5.2":
                w, *st = ref(w, g, *st, 0.01, 0.9, 1e-7)
            else:
                w, *st = ref(w, g, *st, 0.01, 0.9)
        assert np.allclose(params["w"], w, rtol=1e-10, atol=1e-12), qid
