"""Exercise 8.7, the backward pass of chapter 8's two-layer network: its reference agrees with
finite differences of the loss, every classic mistake gets its own hint (from check() and from
the sandboxed batch grader on an edited solution notebook), and a right answer in another form
passes."""

import numpy as np
import pytest

from dlbook_utils.gradcheck import numerical_grad
from dlbook_utils.grading import check, registry
from dlbook_utils.grading.batch import grade_all

from .helpers import SOLUTIONS, edited

registry.load_chapter("08")
Q = registry.get("8.7")
NAMES = ("dW1", "db1", "dW2", "db2")


def _loss(X, y, W1, b1, W2, b2):
    """The chapter's loss, written independently of the reference: np.mean of squared errors."""
    return float(np.mean((np.tanh(X @ W1 + b1) @ W2 + b2 - y) ** 2))


@pytest.mark.checks("eq-mlp-backprop", kind="finite differences", tol="rtol 1e-6")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_equals_finite_differences_on_every_case(seed):
    cases = Q.make_cases(np.random.default_rng(seed))
    assert {c[1].shape[1] for c in cases} >= {1, 2, 3}  # one to three outputs: 1/(n d_out)
    for case in cases:
        grads = Q.reference(*case)

        def loss(case=case):
            return _loss(*case)

        for name, p, g in zip(NAMES, case[2:], grads, strict=True):
            assert g.shape == p.shape, name
            numeric = numerical_grad(loss, p)  # perturbs p in place, then restores it
            assert np.allclose(g, numeric, rtol=1e-6, atol=1e-9), (name, g, numeric)


def _right(X, y, W1, b1, W2, b2):
    return Q.reference(X, y, W1, b1, W2, b2)


def _only_dw1_transposed(*args):
    dW1, db1, dW2, db2 = _right(*args)
    return dW1.T, db1, dW2, db2


def _sign_flipped(*args):
    return tuple(-g for g in _right(*args))


def _only_db1_wrong_axis(X, y, W1, b1, W2, b2):
    dW1, _, dW2, db2 = _right(X, y, W1, b1, W2, b2)
    A1 = np.tanh(X @ W1 + b1)
    delta1 = (2 * (A1 @ W2 + b2 - y) / y.size @ W2.T) * (1 - A1**2)
    return dW1, delta1.sum(axis=1), dW2, db2


HAND_WRITTEN = [
    (_only_dw1_transposed, "transposed-product"),
    (_sign_flipped, "backward-wrong-sign"),
]


@pytest.mark.parametrize("wrong,mistake", HAND_WRITTEN, ids=[m for _, m in HAND_WRITTEN])
def test_hand_written_mistakes_get_their_hint(wrong, mistake):
    r = check("8.7", wrong)
    assert not r.passed and r.mistake == mistake, str(r)
    hint = next(m.hint for m in Q.mistakes if m.id == mistake)
    assert r.hint == hint and hint in str(r)


def test_every_declared_variant_is_named_and_fails_on_every_fixed_case():
    """Each planted variant differs from the reference on the fixed cases (else a learner with
    that bug could pass) and is named by its own id, never by another variant's."""
    variants = [m for m in Q.mistakes if m.variant is not None]
    assert len(variants) >= 6
    for m in variants:
        r = check("8.7", m.variant)
        assert r.status == "failed" and r.mistake == m.id and r.hint == m.hint, (m.id, str(r))


def test_a_bug_in_one_gradient_only_fails_without_a_false_hint():
    r = check("8.7", _only_db1_wrong_axis)
    assert not r.passed and "db1" in r.message, str(r)
    assert r.mistake is None or r.mistake == "bias-grad-wrong-axis", str(r)


def test_right_answer_in_float32_and_as_a_list_passes():
    def as_list(*args):
        return [g.astype(np.float32) for g in _right(*args)]
    assert check("8.7", as_list).passed


def test_batch_grader_names_the_seed_tanh_derivative(tmp_path):
    name = "ch08_code_examples.ipynb"
    right = "delta1 = (delta2 @ W2.T) * (1 - A1**2)"
    edited(SOLUTIONS / name, tmp_path / "subs" / "seed_tanh" / name,
           replace=[(right, "delta1 = (delta2 @ W2.T) * (1 - A1)")])
    edited(SOLUTIONS / name, tmp_path / "subs" / "no_mean" / name,
           replace=[("/ y.size  # dL/dY_hat", "  # dL/dY_hat")])
    reports = grade_all(tmp_path / "subs", tmp_path / "out", timeout=30, seed=87,
                        log=lambda *a: None)
    reps = {r["submission"].split("/")[0]: r for r in reports}
    for sub, mistake in (("seed_tanh", "tanh-derivative-1-minus-a"),
                         ("no_mean", "backward-missing-mean")):
        qs = reps[sub]["questions"]
        failed = {k for k, q in qs.items() if q["score"] == 0}
        assert failed == {"8.7"}, (sub, failed)
        assert qs["8.7"]["mistake"] == mistake and qs["8.7"]["hint"] in qs["8.7"]["feedback"]
