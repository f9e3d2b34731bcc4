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


def pinned(requirements: str, names: tuple[str, ...]) -> tuple[str, str]:
    """(name, version) of the first of ``names`` pinned with == in ``requirements``."""
    m = re.search(rf"^({'|'.join(map(re.escape, names))})==(\S+)", requirements, re.M)
    return m.group(1), m.group(2)


def supported_range(pyproject: str, tf_classifiers: list[str], keras_requires: str) -> tuple[str, str]:
    """(requires-python's lower bound, the newest Python the pinned TensorFlow has wheels for)."""
    low = re.search(r'requires-python = ">=(3\.\d+)"', pyproject).group(1)
    versions = [c.rsplit(" :: ", 1)[1] for c in tf_classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    keras_low = keras_requires.removeprefix(">=")
    assert _key(keras_low) <= _key(low), f"pinned Keras needs Python {keras_low}, pyproject says {low}"
    return low, max(versions, key=_key)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@pytest.mark.parametrize("doc", ["README.md", "book/intro.md"])
def test_stated_python_versions_match_pyproject_and_tensorflow(doc):
    requirements = (REPO / "requirements.txt").read_text()
    pins = [pinned(requirements, ("tensorflow-cpu", "tensorflow")), pinned(requirements, ("keras",))]
    for name, version in pins:
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:  # e.g. make test-latest: not the pinned release
            pytest.skip(f"{name} {installed} installed, {version} pinned")
    expected = supported_range((REPO / "pyproject.toml").read_text(),
                               metadata.metadata(pins[0][0]).get_all("Classifier") or [],
                               metadata.metadata("keras")["Requires-Python"])
    assert stated_range((REPO / doc).read_text(encoding="utf-8")) == expected, doc


def test_planted_wrong_versions_are_caught():
    assert stated_range("needs Python 3.11 to 3.13 and make") == ("3.11", "3.13")
    assert stated_range("with Python 3.10, 3.11 or 3.12,") == ("3.10", "3.12") != ("3.11", "3.13")
    with pytest.raises(ValueError, match="expected a statement"):
        stated_range("with Python 3.11, make")
    tf = ["Programming Language :: Python :: 3.10", "Programming Language :: Python :: 3.13"]
    assert supported_range('requires-python = ">=3.11"', tf, ">=3.11") == ("3.11", "3.13")
    with pytest.raises(AssertionError, match="pinned Keras needs Python"):
        supported_range('requires-python = ">=3.9"', tf, ">=3.11")
    assert pinned("numpy==2.4.6\ntensorflow-cpu==2.21.0\n", ("tensorflow-cpu", "tensorflow")) == (
        "tensorflow-cpu", "2.21.0")
