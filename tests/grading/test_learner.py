"""check() for learners: planted mistakes are named, odd answers never crash it."""

import numpy as np
import pytest

from dlbook_utils.grading import Result, check, registry
from dlbook_utils.grading.feedback import DETECTORS

from .helpers import check_in_reference_form

ALL = [q for ch in ("01", "02", "03", "04", "05") for q in registry.load_chapter(ch)]
GRADED = [q for q in ALL if q.kind in ("function", "value", "choice")]  # by a reference
VARIANTS = [(q.qid, m) for q in ALL for m in q.mistakes if m.detector is None]


def test_question_counts_and_kinds():
    per_chapter = {ch: len(registry.load_chapter(ch)) for ch in ("01", "02", "03", "04", "05")}
    assert all(n >= 4 for n in per_chapter.values()), per_chapter
    kinds = {q.kind for q in ALL}
    assert kinds == {"function", "value", "choice", "text", "judged"}


def test_distinct_named_mistakes():
    ids = {m.id for q in ALL for m in q.mistakes if not m.id.startswith("choice-")}
    required = {"transposed-gradient", "missing-1-over-n", "sum-instead-of-mean", "wrong-sign",
                "sigmoid-grad-as-sigmoid", "tanh-grad-one-minus-a", "adam-no-bias-correction",
                "eps-inside-sqrt", "rmsprop-first-moment", "elementwise-instead-of-matmul",
                "unstable-softmax"}
    assert required <= ids, required - ids
    assert len(ids) >= 12


@pytest.mark.parametrize("qid,mistake", VARIANTS, ids=[f"{q}-{m.id}" for q, m in VARIANTS])
def test_each_wrong_variant_is_recognised(qid, mistake):
    q = registry.get(qid)
    answer = mistake.variant if q.kind == "function" else mistake.value
    r = check_in_reference_form(qid, answer)
    assert r.status in ("failed", "error")
    assert r.mistake == mistake.id, str(r)
    assert r.hint == mistake.hint


def test_reference_passes_and_result_api():
    for q in GRADED:
        r = check_in_reference_form(q.qid, q.reference)
        assert r.passed and r.score == 1.0 and r.status == "passed", str(r)


@pytest.mark.parametrize("qid,wrong,mistake", [
    ("4.1", lambda X, W, dZ: (dZ @ W.T, dZ.T @ X, dZ.sum(0)), "transposed-gradient"),
    ("4.2", lambda z, y: registry.get("4.2").reference(z, y) * len(y), "missing-1-over-n"),
    ("4.2", lambda z, y: -registry.get("4.2").reference(z, y), "wrong-sign"),
    ("3.4", lambda z, y: registry.get("3.4").reference(z, y) * len(y), "sum-instead-of-mean"),
    ("3.2", lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True), "unstable-softmax"),
    ("3.1", lambda X, W, b: X * W + b, "elementwise-instead-of-matmul"),
    ("2.4", lambda p, y: (np.sum((p - y) ** 2), 2 * (p - y) / p.size), "sum-instead-of-mean"),
    ("2.4", lambda p, y: (np.mean((p - y) ** 2), 2 * (p - y)), "missing-1-over-n"),
])
def test_generic_detectors_name_the_mistake(qid, wrong, mistake):
    r = check(qid, wrong)
    assert not r.passed and r.mistake == mistake, str(r)


def test_generic_hint_without_declared_mistake():
    # 5.4 declares no sign mistake: the generic detector's hint is used
    r = check("5.4", lambda s, t, hi, lo: -registry.get("5.4").reference(s, t, hi, lo))
    assert r.mistake == "sign" and r.hint == DETECTORS["sign"][1]


class AlwaysEqual:
    def __eq__(self, other):
        return True


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def _raise(exc):
    def f(*args):
        raise exc
    return f


@pytest.mark.parametrize("answer,status,text", [
    (None, "not attempted", "returned None"),
    (_raise(NotImplementedError()), "not attempted", ""),
    (lambda *a: None, "not attempted", ""),
    (_raise(KeyError("w")), "error", "KeyError"),
    (_raise(SystemError("x")), "error", "SystemError"),
    (lambda *a: AlwaysEqual(), "failed", "AlwaysEqual"),
    (lambda *a: (AlwaysEqual(),) * 3, "failed", "AlwaysEqual"),
    (lambda w, *a: (np.zeros(w.shape).view(Liar),) * 3, "failed", "subclass"),
    (lambda *a: "passed", "failed", "expected a tuple"),
    (lambda *a: {"w": 1}, "failed", "dict"),
    (lambda w, g, *a: (w, g), "failed", "expected a tuple of 3 arrays, got 2"),
    (lambda w, *a: (w[:1], w, w), "failed", "expected shape"),
    (42, "error", "expected a function"),
])
def test_check_never_raises(answer, status, text):
    r = check("5.3", answer)
    assert isinstance(r, Result)
    assert r.status == status and text in str(r), str(r)
    assert r.score == 0.0 and not r.passed


def test_unknown_question_and_choice_answers():
    assert check("99.1", 1).status == "error"
    assert check("5.5", " b ").passed
    r = check("5.5", "E")
    assert r.status == "failed" and "not one of the options" in r.message
    assert check("5.5", 2).status == "failed"


def test_representations_are_stable():
    r = check("5.3", lambda *a: None)
    for text in (str(r), repr(r), r._repr_html_()):
        assert "0x" not in text and " at " not in text
    assert str(check("5.3", lambda *a: None)) == str(r)
    assert "not attempted" in r._repr_html_()
