"""check()'s plain-text display fits the book's 75-character column (a notebook stores it, the
PDF prints it), while str() keeps one line per part for logs and the batch grader."""

from IPython.lib.pretty import pretty

from dlbook_utils.grading import check
from dlbook_utils.grading.result import WIDTH, Result


def _long_failure() -> Result:
    return Result("8.7", "Two-layer MLP backward pass (four gradients)", "failed",
                  "case 1 of 4: first mismatch at dW1[0, 0]: got -0.26274, expected 0.26274. "
                  "Smallest failing input: X=[[0.488953, -0.130788], [0.48271, 1.556472]]",
                  "All your gradients have the wrong sign: the residual is prediction minus "
                  "target.", "backward-wrong-sign", 4, 0, section="../book/08.ipynb#mlp-numpy")


def test_display_folds_every_line_to_the_column_and_keeps_every_word():
    r = _long_failure()
    shown = pretty(r)
    assert max(len(line) for line in str(r).split("\n")) > WIDTH  # the case needs folding
    assert max(len(line) for line in shown.split("\n")) <= WIDTH, shown
    assert shown.split() == str(r).split()  # same words, same order: only the breaks move
    # a continuation line is indented under its part, so the parts stay readable
    hint_at = next(i for i, ln in enumerate(shown.split("\n")) if ln.startswith("  Hint: "))
    assert shown.split("\n")[hint_at + 1].startswith("    ")


def test_str_keeps_one_line_per_part():
    r = _long_failure()
    assert f"  Hint: {r.hint}" in str(r).split("\n")
    assert r.wrapped(width=10_000) == str(r)


def test_not_attempted_message_of_a_long_name_fits():
    shown = pretty(check("8.7", lambda *args: None))
    assert "not attempted" in shown
    assert max(len(line) for line in shown.split("\n")) <= WIDTH, shown
