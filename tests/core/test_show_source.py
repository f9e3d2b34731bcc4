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
