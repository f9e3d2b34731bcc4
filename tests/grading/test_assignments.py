"""The assignments' machinery: answers called as forward/backward pairs or with known functions
(calls.py), judged questions (judged.py), the held-out digits, and references that agree with
finite differences. (Their learner trials are in trials/chNN.yml, run by test_trials.py.)"""

import numpy as np
import pytest

from dlbook_utils.grading import calls, check, registry
from dlbook_utils.grading.batch import build_cases
from dlbook_utils.grading.digits_task import heldout_digits, learner_digits
from dlbook_utils.grading.judged import judged_question
from dlbook_utils.grading.registry import Mistake

from .test_references import numerical_grad


def _flat(grads):
    return np.concatenate([g.ravel() for pair in grads for g in pair])


def test_dense_and_mlp_references_match_finite_differences():
    X, W, b, dZ = registry.get("4.7").cases[0]
    Z, dX, dW, db = registry.get("4.7").reference(X, W, b, dZ)
    assert np.allclose(Z, X @ W + b)
    for grad, arg, f in ((dX, X, lambda a: np.sum((a @ W + b) * dZ)),
                         (dW, W, lambda a: np.sum((X @ a + b) * dZ)),
                         (db, b, lambda a: np.sum((X @ W + a) * dZ))):
        assert np.allclose(grad, numerical_grad(f, arg.copy()), atol=1e-7)
    q = registry.get("4.9")
    for X, params, dS in q.cases:
        assert np.allclose(q.reference(X, params, dS)[1], _mlp_numeric(q, X, params, dS),
                           atol=1e-7), len(params)


def _mlp_numeric(q, X, params, dS):
    """Finite-difference gradients of sum(scores * dS), flattened as the question grades them."""
    def loss(a, i, k):
        p = [list(pair) for pair in params]
        p[i][k] = a
        return np.sum(q.reference(X, p, dS)[0] * dS)

    return _flat([(numerical_grad(lambda a, i=i: loss(a, i, 0), W.copy()),
                   numerical_grad(lambda a, i=i: loss(a, i, 1), b.copy()))
                  for i, (W, b) in enumerate(params)])


def test_debugging_reference_is_right_and_the_planted_bug_is_a_real_bug():
    q = registry.get("4.11")
    args = q.cases[0]
    X, y = args[0], args[1]

    def loss(*p):
        S = np.tanh(X @ p[0] + p[1]) @ p[2] + p[3]
        S = S - S.max(axis=1, keepdims=True)
        return -np.mean((S - np.log(np.exp(S).sum(axis=1, keepdims=True)))[np.arange(len(y)), y])

    params = list(args[2:])
    numeric = [numerical_grad(lambda a, k=k: loss(*params[:k], a, *params[k + 1:]),
                              params[k].copy()) for k in range(4)]
    fixed = q.reference(*args)
    buggy = next(m for m in q.mistakes if m.id == "debug-bug-still-there").variant(*args)
    assert all(np.allclose(f, n, atol=1e-7) for f, n in zip(fixed, numeric, strict=True))
    assert not np.allclose(buggy[0], numeric[0], atol=1e-3)  # dW1 is wrong ...
    assert np.allclose(buggy[2], numeric[2], atol=1e-7)  # ... dW2 is right: a gradient check shows it


def test_grad_check_reference_gradients_are_exact():
    q = registry.get("4.8")
    rng = np.random.default_rng(0)
    for name, f in calls.KNOWN_FUNCTIONS.items():
        x = rng.normal(size=(2, 3))
        assert np.allclose(q.reference(name, x), numerical_grad(f, x.copy()), atol=1e-7), name


def test_dropout_layer_reference_backward_is_its_forward_derivative():
    q = registry.get("6.7")
    for case in q.cases:
        x, training, dout = case[0], case[2], case[4]
        out, dx = q.reference(*case)

        def loss(a, case=case):
            return np.sum(q.reference(a, *case[1:])[0] * case[4])

        assert np.allclose(dx, numerical_grad(loss, x.copy()), atol=1e-7)
        assert np.allclose(out, x) == (not training) and dout.shape == x.shape


def test_a_layer_is_graded_on_its_own_cache_and_a_missing_cache_is_named():
    def forward(X, W, b):  # an unusual cache: a closure the grader knows nothing about
        return X @ W + b, lambda dZ: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=0))

    def backward(dZ, cache):
        return cache(dZ)

    assert check("4.7", (forward, backward)).passed
    no_cache = check("4.7", (lambda X, W, b: X @ W + b, backward))
    assert no_cache.status == "error" and "forward must return a pair (out, cache)" in str(no_cache)
    one_function = check("4.7", forward)
    assert "expected a pair (forward, backward)" in str(one_function)
    assert check("4.7", (lambda *a: None, backward)).status == "not attempted"


def test_call_is_validated_when_a_question_is_declared():
    with pytest.raises(ValueError, match="call must be one of"):
        registry.function_question("3.99", "t", name="f", reference=abs, cases=[(1.0,)],
                                   call="pair")


def test_a_judged_question_is_declared_with_a_judge_and_judge_mistakes():
    with pytest.raises(ValueError, match="judge must be a function"):
        judged_question("3.99", "t", name="f", judge=0.9, cases=[(1,)])
    with pytest.raises(ValueError, match="detector='judge'"):
        judged_question("3.99", "t", name="f", judge=lambda a, args: (True, "", None),
                        cases=[(1,)], mistakes=[Mistake("m", "h", value=1)])
    with pytest.raises(ValueError, match="at least one fixed case"):
        judged_question("3.99", "t", name="f", judge=lambda a, args: (True, "", None), cases=[])
    assert "3.99" not in registry.all_ids()


def test_the_held_out_digits_never_reach_the_learners_code():
    X_l, y_l = learner_digits()
    X_h, y_h = heldout_digits()
    assert X_l.shape == (1437, 64) and X_h.shape == (360, 64) and set(y_h) == set(range(10))
    q = registry.get("6.8")
    encoded = build_cases([q], seed=5, private={})["6.8"]
    sent = {tuple(np.asarray(row).round(6)) for case in encoded for row in
            np.asarray(case[0]["data"]).reshape(case[0]["nd"])}
    assert len(sent) > 1000  # the learner's part is sent ...
    assert not sent & {tuple(row.round(6)) for row in X_h}  # ... and no held-out image


def test_the_training_judge_measures_the_held_out_accuracy():
    q = registry.get("6.8")
    rng = np.random.default_rng(0)
    untrained = [[rng.normal(size=(64, 10)), np.zeros(10)]]
    ok, message, mistake = q.reference(untrained, q.cases[0])
    assert not ok and mistake == "train-chance-level" and "held-out accuracy" in message
    # least squares on one-hot labels (a linear classifier) is far above chance on the digits
    X, y = learner_digits()
    Xb = np.hstack([X, np.ones((len(X), 1))])
    Wb = np.linalg.lstsq(Xb, np.eye(10)[y], rcond=None)[0]
    ok, message, mistake = q.reference([[Wb[:-1], Wb[-1]]], q.cases[0])
    assert mistake in (None, "train-below-target") and "held-out accuracy" in message
    assert q.reference([[np.full((64, 10), np.nan), np.zeros(10)]], q.cases[0])[2] == \
        "train-diverged"
    assert q.reference([[np.zeros((10, 64)), np.zeros(64)]], q.cases[0])[2] == \
        "train-params-format"
