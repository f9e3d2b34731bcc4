"""The Python versions that README and intro state agree with pyproject and the pinned TF/Keras."""

import re
from importlib import metadata

import pytest

from tests.platform.test_notebook_coverage import REPO

STATED = re.compile(r"Python (3\.\d+)(?:, (3\.\d+))*(?:,? (?:or|to) (3\.\d+))")


def stated_range(text: str) -> tuple[str, str]:
    """(lowest, highest) of the first "Python 3.a, 3.b or 3.c" / "Python 3.a to 3.c" in ``text``."""
    m = STATED.search(text)
    if not m:
        raise ValueError("expected a statement like 'Python 3.11, 3.12 or 3.13', found none")
    return m.group(1), m.group(3)


def supported_range(requirements: str, pyproject: str) -> tuple[str, str]:
    """(requires-python's lower bound, the newest Python the pinned TensorFlow has wheels for)."""
    low = re.search(r'requires-python = ">=(3\.\d+)"', pyproject).group(1)
    tf = re.search(r"^(tensorflow(?:-cpu)?)==", requirements, re.M).group(1)
    classifiers = metadata.metadata(tf).get_all("Classifier") or []
    versions = [c.rsplit(" :: ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    keras_low = metadata.metadata("keras")["Requires-Python"].removeprefix(">=")
    assert _key(keras_low) <= _key(low), f"pinned Keras needs Python {keras_low}, pyproject says {low}"
    return low, max(versions, key=_key)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@pytest.mark.parametrize("doc", ["README.md", "book/intro.md"])
def test_stated_python_versions_match_pyproject_and_tensorflow(doc):
    expected = supported_range((REPO / "requirements.txt").read_text(), (REPO / "pyproject.toml").read_text())
    assert stated_range((REPO / doc).read_text(encoding="utf-8")) == expected, doc


def test_planted_wrong_versions_are_caught():
    assert stated_range("needs Python 3.11 to 3.13 and make") == ("3.11", "3.13")
    assert stated_range("with Python 3.10, 3.11 or 3.12,") == ("3.10", "3.12") != ("3.11", "3.13")
    with pytest.raises(ValueError, match="expected a statement"):
        stated_range("with Python 3.11, make")
    with pytest.raises(AssertionError, match="pinned Keras needs Python"):
        supported_range("tensorflow-cpu==2.21.0\n", 'requires-python = ">=3.9"')
