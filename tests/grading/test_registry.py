"""The question registry: a broken question module is reported as broken, not as unknown, and
each Mistake field holds one kind of thing."""

import sys

import pytest

from dlbook_utils.grading import registry
from dlbook_utils.grading.registry import Mistake


def test_an_import_error_inside_a_question_module_is_not_unknown_question(tmp_path, monkeypatch):
    """A chapter module whose own import fails must surface that error. (Before, get() swallowed
    every ImportError and told the learner "unknown question".)"""
    (tmp_path / "broken_ch99.py").write_text("import a_module_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "chapter_module", lambda chapter: "broken_ch99")
    with pytest.raises(ModuleNotFoundError, match="a_module_that_is_not_installed"):
        registry.get("99.1")
    sys.modules.pop("broken_ch99", None)


def test_a_chapter_without_questions_is_unknown():
    with pytest.raises(KeyError, match="unknown question '42.1'"):
        registry.get("42.1")
    with pytest.raises(KeyError, match="unknown question 'x.1'"):
        registry.get("x.1")


def test_a_mistake_takes_exactly_one_of_variant_value_detector():
    assert Mistake("m", "hint", value=3).value == 3
    assert Mistake("m", "hint", variant=abs).variant is abs
    with pytest.raises(ValueError, match="exactly one of variant=, value= or detector="):
        Mistake("m", "hint")
    with pytest.raises(ValueError, match="exactly one"):
        Mistake("m", "hint", value=3, detector="sign")
    with pytest.raises(ValueError, match="variant= is a function; for a wrong value use value="):
        Mistake("m", "hint", variant=101632)


def test_every_registered_question_keeps_its_mistakes_apart():
    """Function questions recognise a mistake by a function or a detector; value and choice
    questions by a value (a choice question's value is a letter among its options)."""
    for chapter in range(1, 11):
        for q in registry.load_chapter(str(chapter)):
            assert callable(q.batch_size_of), q.qid
            for m in q.mistakes:
                if q.kind == "function":
                    assert m.value is None, (q.qid, m.id)
                else:
                    assert m.variant is None, (q.qid, m.id)
                if q.kind == "choice":
                    assert m.value in q.options, (q.qid, m.id)
