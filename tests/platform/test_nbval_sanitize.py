"""What nbval's sanitizers mask, and what they must leave for the comparison to catch.

``make test`` compares stored outputs with tests/nbval_sanitize.cfg; ``make test-latest`` adds
tests/nbval_sanitize_latest.cfg (decimal numbers and line breaks, which newer kernels change).
"""

import re

from nbval.plugin import get_sanitize_patterns

from tests.platform.test_notebook_coverage import REPO


def sanitizer(*names):
    text = "\n".join((REPO / "tests" / n).read_text(encoding="utf-8") for n in names)
    patterns = get_sanitize_patterns(text)
    assert patterns, f"no regex/replace pairs read from {names}"

    def apply(s):
        for regex, replace in patterns:
            s = re.sub(regex, replace, s)
        return s
    return apply


def frame(data: str) -> str:
    """A to_jshtml player's frame: base64 broken into lines that end in a backslash."""
    return f'frames[0] = "data:image/png;base64,{data[:8]}\\\n{data[8:]}";\n'


def test_the_base_sanitizer_masks_whole_player_frames_and_nothing_numeric():
    same = sanitizer("nbval_sanitize.cfg")
    assert same(frame("iVBORw0KGgoAAAANSUhEUg")) == same(frame("iVBORw0KGgoAAAANSUhEXX"))
    assert same("max |diff| = 2.4e-07") != same("max |diff| = 3.0e-07")
    assert same("val acc 0.593") != same("val acc 0.599")


def test_the_latest_sanitizer_masks_digits_and_wrapping_but_not_verdicts_or_counts():
    latest = sanitizer("nbval_sanitize.cfg", "nbval_sanitize_latest.cfg")
    assert latest("SGD  0.3: 0.577  1: 0.588\n") == latest("SGD  0.3: 0.578  1: 0.601\n")
    assert latest("updates = 2.4e-07 (tol. 1e-4)") == latest("updates = 3e-07 (tol. 1e-4)")
    assert latest("(95 %\nStudent-t intervals") == latest("(95 % Student-t\nintervals")
    assert latest("tensorflow-cpu 2.21.0") == latest("tensorflow 2.21.0")
    # what the text claims is still compared
    assert latest("Adam vs SGD: better (p = 0.01)") != latest(
        "Adam vs SGD: no measurable difference (p = 0.2)")
    assert latest("stopped at epoch 46") != latest("stopped at epoch 47")
    assert latest("300 training signals") != latest("200 training signals")
