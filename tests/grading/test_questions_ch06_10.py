"""Exercises of chapters 6-10: references agree with independent computations, every named
mistake is recognised (by check() and by the sandboxed batch grader on edited notebooks),
solutions score 100 % and untouched exercises 0 % ("not attempted")."""


import numpy as np
import pytest

from dlbook_utils import augment, layers, optim, regularizers
from dlbook_utils.gradcheck import numerical_grad
from dlbook_utils.grading import check, registry
from dlbook_utils.grading.batch import grade_all

from .helpers import EXERCISES, SOLUTIONS, check_in_reference_form, edited

CHAPTERS = ("06", "07", "08", "09", "10")
NOTEBOOKS = ["ch06_regularization.ipynb", "ch07_augmentation.ipynb", "ch08_code_examples.ipynb",
             "ch09_tf_at_scale.ipynb", "ch10_trends_faq.ipynb"]
ALL = [q for ch in CHAPTERS for q in registry.load_chapter(ch)]
VARIANTS = [(q.qid, m) for q in ALL for m in q.mistakes if m.detector is None]


# ---------------------------------------------------------------- registry-level
def test_question_counts_kinds_and_links():
    counts = {ch: len(registry.load_chapter(ch)) for ch in CHAPTERS}
    assert all(n >= 4 for n in counts.values()), counts
    assert {q.kind for q in ALL} == {"function", "value", "choice", "text", "judged"}
    for q in ALL:
        assert q.section.startswith("../book/") and "#" in q.section, (q.qid, q.section)
    for q in ALL:  # every wrong option of a multiple-choice question explains itself
        if q.kind == "choice":
            assert {m.value for m in q.mistakes} == set(q.options) - {q.reference}, q.qid


def test_named_mistakes_are_covered():
    ids = {m.id for q in ALL for m in q.mistakes}
    required = {"l1-grad-without-sign", "flip-as-rotation", "crop-off-by-one",
                "elementwise-instead-of-matmul", "missing-1-over-n", "wrong-sign",
                "dropout-no-rescale", "weight-decay-in-gradient"}
    assert required <= ids, required - ids


def test_references_pass():
    for q in ALL:
        if q.kind in ("text", "judged"):  # no reference answer: a rubric, a judge
            continue
        r = check_in_reference_form(q.qid, q.reference)
        assert r.passed and r.score == 1.0, str(r)


@pytest.mark.parametrize("qid,mistake", VARIANTS, ids=[f"{q}-{m.id}" for q, m in VARIANTS])
def test_each_wrong_variant_is_recognised(qid, mistake):
    q = registry.get(qid)
    r = check_in_reference_form(qid, mistake.variant if q.kind == "function" else mistake.value)
    assert r.status in ("failed", "error") and r.mistake == mistake.id, str(r)
    assert r.hint == mistake.hint


# ---------------------------------------------------------------- references vs independent code
def test_ch06_references_match_the_library():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3))
    W[0, 0] = 0.0
    for kind, lib in (("6.1", regularizers.l2), ("6.2", regularizers.l1)):
        pen, grad = registry.get(kind).reference(W, 0.3)
        lib_pen, lib_grad = lib(W, 0.3)
        assert np.isclose(pen, lib_pen) and np.allclose(grad, lib_grad), kind
    # L2 gradient by finite differences (independent of both implementations)
    Wp = W.copy()
    num = numerical_grad(lambda: registry.get("6.1").reference(Wp, 0.3)[0], Wp)
    assert np.allclose(num, 2 * 0.3 * W, atol=1e-6)
    # inverted dropout: the library layer with the same fixed mask, in both modes
    x, keep = rng.normal(size=(5, 4)), rng.random((5, 4)) >= 0.4
    drop = layers.Dropout(0.4, rng=rng)
    drop.set_mask(keep)
    assert np.allclose(registry.get("6.3").reference(x, keep, 0.4, True), drop.forward(x))
    drop.training = False
    assert np.allclose(registry.get("6.3").reference(x, keep, 0.4, False), drop.forward(x))
    # AdamW: two steps of the library optimizer == two steps of the reference
    w, g1, g2 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    opt = optim.AdamW(0.01, weight_decay=0.1, eps=1e-7)
    params = {"W": w.copy()}
    m = v = np.zeros_like(w)
    ref = w.copy()
    for t, g in ((1, g1), (2, g2)):
        opt.step(params, {"W": g.copy()})
        ref, m, v = registry.get("6.5").reference(ref, g, m, v, t, 0.01, 0.1, 0.9, 0.999, 1e-7)
    assert np.allclose(params["W"], ref, rtol=1e-10, atol=1e-12)


def test_early_stopping_answer_by_simulation():
    from dlbook_utils.grading.questions.ch06 import VAL_LOSS

    best, wait, best_epoch, stopped = np.inf, 0, None, None
    for epoch, loss in enumerate(VAL_LOSS, start=1):  # Keras EarlyStopping(patience=3)
        if loss < best:
            best, wait, best_epoch = loss, 0, epoch
        else:
            wait += 1
            if wait >= 3:
                stopped = epoch
                break
    assert (best_epoch, stopped) == (7, 10)
    assert registry.get("6.4").reference == best_epoch


def test_ch07_references_match_the_library():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 7))
    assert np.array_equal(registry.get("7.1").reference(x), augment.hflip(x))
    for top, left, size, pad in ((0, 0, 5, 2), (3, 6, 4, 2), (1, 2, 3, 1)):
        assert np.array_equal(registry.get("7.2").reference(x, top, left, size, pad),
                              augment.crop(x, top, left, size, padding=pad))
    for dx, dy in ((2, 1), (-3, 2), (0, -4), (7, 0), (-9, 5)):
        assert np.array_equal(registry.get("7.3").reference(x, dx, dy),
                              augment.translate(x, dx, dy))
    # a hand-made 1 x 2 x 3 example of the flip and the shift
    img = np.array([[[1.0, 2, 3], [4, 5, 6]]])
    assert registry.get("7.1").reference(img).tolist() == [[[3, 2, 1], [6, 5, 4]]]
    assert registry.get("7.3").reference(img, 1, 1).tolist() == [[[0, 0, 0], [0, 1, 2]]]


def test_ch08_references_are_right():
    rng = np.random.default_rng(2)
    X, y, w, b = rng.normal(size=(7, 3)), rng.normal(size=(7, 1)), rng.normal(size=(3, 1)), 0.4
    dw, db = registry.get("8.1").reference(X, y, w, b)

    wb = np.append(w[:, 0], b)
    num = numerical_grad(lambda: np.mean((X @ wb[:3, None] + wb[3] - y) ** 2), wb)
    assert np.allclose(num, np.append(dw[:, 0], db), atol=1e-7)
    from dlbook_utils.grading.questions.ch08 import linreg_data

    Xd, yd = linreg_data()
    A = np.hstack([Xd, np.ones_like(Xd)])  # theta = [w, b]
    coef = np.linalg.lstsq(A, yd[:, 0], rcond=None)[0]
    assert abs(coef[0] - 3) < 0.2 and abs(coef[1] - 2) < 0.1  # the data are y = 3x + 2
    # GD on a quadratic in closed form: theta_k - theta* = (I - lr H)^k (theta_0 - theta*),
    # H = (2/n) A.T A, theta_0 = 0; 100 steps of lr 0.5, with no loop shared with the reference
    H = 2 / len(A) * A.T @ A
    after_100 = coef - np.linalg.matrix_power(np.eye(2) - 0.5 * H, 100) @ coef
    ref = registry.get("8.2").reference
    assert np.allclose(ref, after_100, rtol=0, atol=1e-12)
    assert np.abs(ref - coef).max() > 1e-3  # not yet at the end point: np.polyfit must fail


def test_ch09_numbers_by_hand():
    assert registry.get("9.1").reference([4, 3], 1) == 3 * 2 * 4 * 3
    assert registry.get("9.2").reference == 6 * 128 * (784 * 256 + 256 * 10) == 156_106_752
    # steps 2..20 take 0.95 s in total (19 x 0.050 s; the deviations cancel)
    assert np.isclose(registry.get("9.3").reference, 2560.0)
    assert np.isclose(registry.get("9.4").reference, 156_106_752 * 20 / 1e9)


def test_ch09_replica_loss_is_tensorflows_and_sums_to_the_global_mean():
    import tensorflow as tf

    q = registry.get("9.8")
    rng = np.random.default_rng(5)
    for per_example, global_batch in q.cases + q.random_cases(rng):
        ours = q.reference(per_example, global_batch)
        theirs = float(tf.nn.compute_average_loss(tf.constant(per_example),
                                                  global_batch_size=global_batch))
        assert np.isclose(ours, theirs, rtol=1e-12, atol=0), (ours, theirs)
    # eq-global-batch-loss: the r replicas' losses add up to the mean over the global batch
    losses = rng.uniform(0, 3, size=24)
    for r in (1, 2, 3, 4, 6, 8):
        shares = np.split(losses, r)
        total = sum(q.reference(share, len(losses)) for share in shares)
        assert np.isclose(total, losses.mean(), rtol=1e-12, atol=0), r
        local = sum(np.mean(share) for share in shares)  # the planted bug: r times too large
        assert np.isclose(local, r * losses.mean(), rtol=1e-12, atol=0), r
    assert {g // len(p) for p, g in q.cases} == {1, 2, 4, 8}  # the replica counts


def test_ch09_safe_loss_scale_by_float16_casts():
    q = registry.get("9.9")
    for (grads,) in q.cases + q.random_cases(np.random.default_rng(6)):
        s = q.reference(grads)
        assert np.log2(s) == np.round(np.log2(s))  # a power of two
        with np.errstate(over="ignore"):
            fits = np.isfinite((s * grads).astype(np.float16)).all()
            twice = np.isfinite((2 * s * grads).astype(np.float16)).all()
        assert fits and not twice, (s, np.abs(grads).max())


# ---------------------------------------------------------------- hand-written wrong answers
def _flip_rot(x):
    return np.rot90(x, 2, axes=(1, 2))


WRONG = [
    ("6.2", lambda W, lam: (lam * abs(W).sum(), lam * W), "l1-grad-without-sign"),
    ("6.2", lambda W, lam: (lam * abs(W).sum(), np.full(W.shape, lam)), "l1-grad-constant"),
    ("6.3", lambda x, k, p, tr: x * k if tr else x, "dropout-no-rescale"),
    ("6.3", lambda x, k, p, tr: x * k / (1 - p) if tr else (1 - p) * x, "dropout-scaled-at-eval"),
    ("7.1", _flip_rot, "flip-as-rotation"),
    ("7.1", lambda x: np.flip(x, axis=1), "flip-wrong-axis"),
    ("7.2", lambda x, t, c, s, p: np.pad(x, ((0, 0), (p, p), (p, p)))[:, t:t + s - 1,
                                                                   c:c + s - 1],
     "crop-off-by-one"),
    ("8.1", lambda X, y, w, b: (2 * X.T @ (X @ w + b - y), 2 * float(np.sum(X @ w + b - y))),
     "missing-1-over-n"),
    ("8.1", lambda X, y, w, b: (2 * X.T @ (y - X @ w - b) / len(X),
                                2 * float(np.mean(y - X @ w - b))), "wrong-sign"),
    ("8.1", lambda X, y, w, b: (2 * (X @ w + b - y).T @ X / len(X),
                                2 * float(np.mean(X @ w + b - y))), "transposed-gradient"),
    ("8.2", np.array([np.nan, np.inf]), "gd-diverged"),
    ("8.3", lambda X, W1, b1, W2, b2: np.tanh(X * W1 + b1) * W2 + b2,
     "elementwise-instead-of-matmul"),
    ("9.1", lambda s, n: 2 * n * sum(a * b for a, b in zip(s, s[1:], strict=False)),
     "flops-forward-only"),
    ("9.8", lambda per_example, global_batch: per_example.sum() / len(per_example),
     "replica-local-mean"),
    ("9.9", lambda g: 2.0 ** np.ceil(np.log2(65504 / abs(g).max())), "scale-rounded-up"),
]


@pytest.mark.parametrize("qid,wrong,mistake", WRONG, ids=[f"{q}-{m}" for q, _, m in WRONG])
def test_hand_written_mistakes_are_named(qid, wrong, mistake):
    r = check(qid, wrong)
    assert not r.passed and r.mistake == mistake, str(r)
    assert r.hint and r.hint in str(r)


def test_unrecognised_wrong_answer_fails_without_a_false_hint():
    r = check("7.1", lambda x: x + 1.0)
    assert r.status == "failed" and r.mistake is None and r.n_passed == 0, str(r)


PLANTED = [  # (notebook, old, new, questions that must fail, {qid: mistake id})
    ("ch06_regularization", "lam * np.sum(np.abs(W)), lam * np.sign(W)",
     "lam * np.sum(np.abs(W)), lam * W", {"6.2": "l1-grad-without-sign"}),
    ("ch06_regularization", "return x * keep_mask / (1 - p)", "return x * keep_mask",
     {"6.3": "dropout-no-rescale"}),
    ("ch06_regularization", "if not training:\n        return x.copy()",
     "if not training:\n        return x * (1 - p)", {"6.3": "dropout-scaled-at-eval"}),
    ("ch06_regularization", "w = w - lr * weight_decay * w", "g = g + weight_decay * w",
     {"6.5": "weight-decay-in-gradient"}),
    ("ch07_augmentation", "return x[:, :, ::-1].copy()", "return x[:, ::-1, ::-1].copy()",
     {"7.1": "flip-as-rotation"}),
    ("ch07_augmentation", "big[:, top:top + size, left:left + size]",
     "big[:, top:top + size - 1, left:left + size - 1]", {"7.2": "crop-off-by-one"}),
    ("ch08_code_examples", "H = np.tanh(X @ W1 + b1)", "H = np.tanh(X * W1 + b1)",
     {"8.3": "elementwise-instead-of-matmul"}),
    # 8.2 runs the learner's own linreg_grad, so a gradient bug also breaks the run: by design
    ("ch08_code_examples", "return 2 / n * X.T @ r, float(2 / n * r.sum())",
     "return 2 * X.T @ r, float(2 * r.sum())",
     {"8.1": "missing-1-over-n", "8.2": "gd-diverged"}),
    ("ch08_code_examples", "r = X @ w + b - y", "r = y - X @ w - b",
     {"8.1": "wrong-sign", "8.2": "gd-diverged"}),
    ("ch09_tf_at_scale", "return np.sum(per_example) / global_batch",
     "return np.mean(per_example)", {"9.8": "replica-local-mean"}),
    ("ch10_trends_faq", 'answer_10_4 = "C"', 'answer_10_4 = "A"', {"10.4": "choice-10.4-a"}),
]


def test_batch_grader_full_zero_and_planted_mistakes(tmp_path):
    subs = tmp_path / "subs"
    for name in NOTEBOOKS:
        edited(SOLUTIONS / name, subs / "sol" / name)
        edited(EXERCISES / name, subs / "ex" / name)
    for i, (nb, old, new, _) in enumerate(PLANTED):
        edited(SOLUTIONS / f"{nb}.ipynb", subs / f"p{i:02d}" / f"{nb}.ipynb", replace=[(old, new)])
    reports = grade_all(subs, tmp_path / "out", timeout=30, seed=4321, log=lambda *a: None)
    reps = {r["submission"]: r for r in reports}
    assert len(reps) == 2 * len(NOTEBOOKS) + len(PLANTED)
    for name in NOTEBOOKS:
        stem = name.removesuffix(".ipynb")
        sol, ex = reps[f"sol/{stem}"], reps[f"ex/{stem}"]
        # a written answer is "submitted": its points wait for the instructor's merge
        written = sum(q["points"] for q in sol["questions"].values()
                      if q["status"] == "submitted")
        assert sol["total"] == sol["max"] - written >= 4, sol["questions"]
        assert {q["status"] for q in sol["questions"].values()} <= {"passed", "submitted"}
        assert ex["total"] == 0 and {q["status"] for q in ex["questions"].values()} == {
            "not attempted"}
        for r in (sol, ex):
            assert not r["run"]["timed_out"] and r["run"]["cell_errors"] == [], r["run"]
    for i, (nb, _, _, expected) in enumerate(PLANTED):
        r = reps[f"p{i:02d}/{nb}"]
        failed = {k for k, q in r["questions"].items()
                  if q["score"] == 0 and q["status"] != "submitted"}
        assert failed == set(expected), (i, failed)
        for qid, mistake in expected.items():
            q = r["questions"][qid]
            assert q["mistake"] == mistake and q["hint"] and q["hint"] in q["feedback"], q
