"""show_source lists the code that runs, and refuses what it cannot list."""
import inspect

import pytest

from dlbook_utils.layers import Dense
from dlbook_utils.optim import Adam
from dlbook_utils.source import show_source


@pytest.mark.parametrize("obj", [Dense, Adam.step])
def test_listing_is_the_current_source(obj):
    text = show_source(obj).data
    header, body = text.split("\n", 1)
    assert header == f"# {obj.__module__}.{obj.__qualname__}"
    assert body == inspect.getsource(obj)


@pytest.mark.parametrize("bad", [3, "Dense", None])
def test_refuses_non_code(bad):
    with pytest.raises(TypeError, match="expected a function, class or method, got"):
        show_source(bad)



def test_no_latex_form():
    """IPython's Code has a LaTeX form that the PDF build typesets as math ('Missing $')."""
    from IPython.core.formatters import DisplayFormatter
    from IPython.display import Code

    assert "text/latex" in DisplayFormatter().format(Code("x = 1"))[0]  # the trap
    assert sorted(DisplayFormatter().format(show_source(Dense))[0]) == ["text/html",
                                                                         "text/plain"]
