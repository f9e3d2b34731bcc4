"""Chapter 10's function questions (10.7 membership advantage, 10.8 FGSM on a linear classifier,
10.9 power-law fit): references agree with the library the chapter uses and with independent
computations, and mistakes planted in the solution notebook are named by the batch grader.

(Every declared mistake is also graded against its own variant in test_questions_ch06_10.py, and
learners' answers in trials/ch10.yml by test_trials.py.)"""

import numpy as np
import pytest
from scipy import stats

from dlbook_utils import attacks
from dlbook_utils.grading import check, registry
from dlbook_utils.grading.batch import grade_all
from dlbook_utils.layers import mlp

from .helpers import SOLUTIONS, edited

NOTEBOOK = "ch10_trends_faq.ipynb"


def _cases(qid):
    return registry.get(qid).make_cases(np.random.default_rng(10))


# ---------------------------------------------------------------- 10.7 membership advantage
def test_advantage_by_hand_and_as_the_library_computes_it():
    ref = registry.get("10.7").reference
    # case 1: tau = 1.0; members 0.5, 1.0, 1.0 flagged (3/4), non-members 1.0, 0.5 (2/5)
    members, others = _cases("10.7")[0]
    assert ref(members, others) == pytest.approx(3 / 4 - 2 / 5, abs=1e-15)
    for m, o in _cases("10.7"):  # the chapter's attacks.membership_advantage, default threshold
        assert ref(m, o) == pytest.approx(attacks.membership_advantage(m, o), abs=1e-15)


def test_advantage_matches_the_closed_form_for_normal_losses():
    """Members N(0, 1), non-members N(1, 1), tau ~ 0: Phi(0) - Phi(-1), to sampling error."""
    r = np.random.default_rng(7)
    m, o = r.normal(0, 1, 200_000), r.normal(1, 1, 200_000)
    tau = m.mean()
    exact = stats.norm.cdf(tau) - stats.norm.cdf(tau - 1)
    assert abs(registry.get("10.7").reference(m, o) - exact) < 0.005


# ---------------------------------------------------------------- 10.8 FGSM, linear classifier
def _two_class_net(w, b):
    """A Dense layer (d, 2) with logits (-f/2, f/2): its softmax cross-entropy on class
    (y + 1) / 2 is exactly the logistic loss log(1 + exp(-y f)) of the question."""
    net = mlp([len(w), 2], rng=np.random.default_rng(0), need_input_grad=True)
    params = net.params()
    params["0.W"][:] = np.stack([-w / 2, w / 2], axis=1)
    params["0.b"][:] = [-b / 2, b / 2]
    return net


def test_fgsm_linear_equals_the_library_fgsm_on_the_same_classifier():
    ref = registry.get("10.8").reference
    for X, y, w, b, eps in _cases("10.8"):
        labels = ((y + 1) // 2).astype(int)
        lib = attacks.fgsm(_two_class_net(w, b), X, labels, eps)
        assert np.array_equal(ref(X, y, w, b, eps), lib)


def test_fgsm_linear_raises_the_loss_by_eps_l1_without_clipping():
    """Central differences give the gradient's sign; away from the box the score moves by
    -y eps ||w||_1 (eq-linear-adversarial) and every loss goes up."""
    ref = registry.get("10.8").reference
    r = np.random.default_rng(3)
    w, b, eps = r.normal(size=12), 0.3, 0.01
    X, y = r.uniform(0.2, 0.8, (6, 12)), np.array([1.0, -1, 1, -1, -1, 1])

    def loss(Z):
        return np.logaddexp(0, -y * (Z @ w + b))

    h, grad = 1e-6, np.zeros_like(X)
    for j in range(12):
        e = np.zeros(12)
        e[j] = h
        grad[:, j] = (loss(X + e) - loss(X - e)) / (2 * h)
    X_adv = ref(X, y, w, b, eps)
    assert np.array_equal(X_adv, X + eps * np.sign(grad))
    assert np.allclose((X_adv - X) @ w, -y * eps * np.abs(w).sum(), rtol=1e-12)
    assert np.all(loss(X_adv) > loss(X))


# ---------------------------------------------------------------- 10.9 power-law fit
def test_power_law_fit_recovers_exact_laws_and_agrees_with_linregress():
    ref = registry.get("10.9").reference
    n = np.array([100, 300, 1000, 3000, 10000])
    a, alpha = ref(n, 3.5 * n ** -0.45)
    assert abs(a - 3.5) < 1e-10 and abs(alpha - 0.45) < 1e-12
    for n, loss in _cases("10.9")[1:]:  # noisy data: scipy's least-squares line on the logs
        line = stats.linregress(np.log(n), np.log(loss))
        assert np.allclose(ref(n, loss), (np.exp(line.intercept), -line.slope), rtol=1e-9)


# ---------------------------------------------------------------- the grader on notebooks
def test_fgsm_label_blind_answer_is_named():
    """The direction of eq-linear-adversarial, written without the label: the mistake a reader
    of that equation is most likely to make."""
    r = check("10.8", lambda X, y, w, b, eps: np.clip(X + eps * np.sign(w), 0, 1))
    assert not r.passed and r.mistake == "fgsm-score-not-loss", str(r)


PLANTED = [  # (old, new, question, mistake id) in the solution notebook
    ("tpr - fpr", "fpr - tpr", "10.7", "mi-wrong-direction"),
    ("tau = np.mean(member_losses)", "tau = np.mean(nonmember_losses)", "10.7",
     "mi-threshold-from-outsiders"),
    ("step = -np.asarray(y)", "step = np.asarray(y)", "10.8", "fgsm-descends"),
    ("np.clip(X + eps * step, 0.0, 1.0)", "X + eps * step", "10.8", "fgsm-no-clip"),
    # the logs dropped from the fit, the exp of the intercept kept
    ("np.polyfit(np.log(n), np.log(loss), 1)", "np.polyfit(n, loss, 1)", "10.9",
     "power-law-linear-scale-exp"),
    ("return np.exp(intercept), -slope", "return np.exp(intercept), slope", "10.9",
     "power-law-alpha-sign"),
]


def test_batch_grader_names_mistakes_planted_in_the_solution_notebook(tmp_path):
    subs = tmp_path / "subs"
    for i, (old, new, _, _) in enumerate(PLANTED):
        edited(SOLUTIONS / NOTEBOOK, subs / f"p{i}" / NOTEBOOK, replace=[(old, new)])
    reports = {r["submission"]: r for r in grade_all(subs, tmp_path / "out", timeout=30,
                                                       seed=1010, log=lambda *a: None)}
    assert len(reports) == len(PLANTED)
    for i, (_, _, qid, mistake) in enumerate(PLANTED):
        r = reports[f"p{i}/{NOTEBOOK.removesuffix('.ipynb')}"]
        assert r["run"]["cell_errors"] == [], r["run"]
        failed = {k for k, q in r["questions"].items() if q["score"] == 0}
        assert failed == {qid}, (i, failed)
        q = r["questions"][qid]
        assert q["mistake"] == mistake and q["hint"] in q["feedback"], (i, q)
