"""Tests for dlbook_utils.widgets: the static sweep, the live controls, stable stored output."""

import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook_utils.widgets import explorer  # noqa: E402


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, ax, lr, momentum):
        self.calls.append((lr, momentum))
        ax.plot(np.arange(5) * lr + momentum)


def test_static_sweep_uses_defaults_and_one_frame_per_value():
    rec = Recorder()
    e = explorer(rec, {"lr": [0.01, 0.1, 1.0], "momentum": [0.0, 0.9]}, sweep="lr",
                 defaults={"momentum": 0.9}, title="demo")
    html = e.to_html()
    swept = rec.calls
    assert {lr for lr, _ in swept} == {0.01, 0.1, 1.0}
    assert all(m == 0.9 for _, m in swept)  # the other parameter stays at its default
    assert html.count("data:image/png;base64") == 3
    assert e.to_html() is html  # cached: computed once


def test_frames_are_downsampled_evenly_including_ends():
    e = explorer(lambda ax, a: ax.plot([0, a]), {"a": list(range(100))}, max_frames=12)
    vals = e.sweep_values()
    assert len(vals) == 12 and vals[0] == 0 and vals[-1] == 99 and vals == sorted(vals)


def test_repr_and_html_are_stable_text():
    def make():
        return explorer(lambda ax, a: ax.plot([0, a]), {"a": [1.0, 2.0, 3.0]}, title="t")

    e1, e2 = make(), make()
    assert repr(e1) == ("Interactive explorer: t.\n"
                        "Sweeps a over 3 frames (1 to 3); controls: a.\n"
                        "Open the web page or run the notebook to use it.")
    assert "0x" not in repr(e1)
    h1, h2 = e1.to_html(), e2.to_html()
    assert h1 == h2  # no random element ids
    bundle = e1._repr_mimebundle_()
    assert bundle["text/plain"] == repr(e1) and bundle["text/html"] == h1
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no kernel here


def test_repr_wraps_to_the_code_column_as_sentences():
    """The printed edition shows the text form: lines of at most 75 characters, no word cut."""
    title = "Random MLP output (colour scale per frame), " * 3 + "ending here."
    params = {f"knob_{i}": [0.25, 0.5, 8.0] for i in range(12)}
    text = repr(explorer(lambda ax, **v: None, params, title=title, sweep="knob_3"))
    lines = text.split("\n")
    assert max(len(line) for line in lines) <= 75, lines
    assert len(lines) >= 5  # the long title and the list of controls each wrapped
    words = " ".join(lines).split()
    assert words == f"Interactive explorer: {title}".split() + (
        "Sweeps knob_3 over 3 frames (0.25 to 8); controls: "
        + ", ".join(params) + ". Open the web page or run the notebook to use it.").split()
    assert "ending here..." not in text  # the title's own full stop is not doubled
    one = repr(explorer(lambda ax, a: None, {"a": [2.0]}))
    assert one.startswith("Interactive explorer.\nShows a = 2; controls: a.\n")


def test_static_html_stays_small():
    def plot(ax, s):
        x = np.linspace(-3, 3, 200)
        ax.plot(x, np.sin(s * x))
        ax.set_xlabel("x")

    html = explorer(plot, {"s": list(np.linspace(0.5, 3, 40))}).to_html()
    assert len(html) < 300_000  # 12 frames at 60 dpi; a notebook must stay < 3 MB


def test_live_controls_rerun_the_plot():
    pytest.importorskip("ipywidgets")
    rec = Recorder()
    e = explorer(rec, {"lr": [0.01, 0.1], "momentum": [0.0, 0.5, 0.9]}, live=True)
    ui = e.widget()
    sliders = ui.children[0].children
    assert [s.description for s in sliders] == ["lr", "momentum"]
    assert type(sliders[0]).__name__ == "SelectionSlider"
    rec.calls.clear()
    sliders[1].value = 0.5
    assert rec.calls[-1] == (0.01, 0.5)


@pytest.mark.parametrize("kwargs,msg", [
    ({"params": {}}, "non-empty dict"),
    ({"params": {"a": []}}, "empty"),
    ({"params": {"a": "abc"}}, "list of values"),
    ({"params": {"a": [1]}, "sweep": "b"}, "sweep='b'"),
    ({"params": {"a": [1]}, "defaults": {"a": 5}}, "not among its values"),
])
def test_bad_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        explorer(lambda ax, a: None, **kwargs)


def test_stored_notebook_output_repeats(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    src = ("import numpy as np\n"
           "from dlbook_utils.widgets import explorer\n"
           "explorer(lambda ax, a: ax.plot(np.arange(4) * a), {'a': [1.0, 2.0]}, title='x')")
    outputs = []
    for _ in range(2):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        (out,) = nb.cells[0].outputs
        outputs.append(out["data"])
    assert outputs[0]["text/plain"] == outputs[1]["text/plain"]
    assert outputs[0]["text/html"] == outputs[1]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in outputs[0]  # live view in a kernel
    assert outputs[0]["text/plain"].startswith("Interactive explorer: x.\n")


def test_static_player_loads_nothing_from_the_network():
    """matplotlib's player links Font Awesome on a CDN; the site must work offline."""
    import re

    from dlbook_utils.widgets import explorer

    html = explorer(lambda ax, a: ax.plot([0, a]), {"a": [1.0, 2.0]}, title="offline").to_html()
    assert not re.search(r"https?://", html), "the static player references a remote URL"
    assert 'class="fa ' not in html, "a Font Awesome icon is left without its stylesheet"
    assert "▶" in html and "◀" in html and "⏸" in html


def test_explorer_cell_passes_nbval(tmp_path):
    """An explorer stores what nbval sees on re-run: the live view sends no extra outputs."""
    import subprocess
    import sys

    import nbclient
    import nbformat

    src = ("import numpy as np\n"
           "from dlbook_utils.widgets import explorer\n"
           "explorer(lambda ax, a: ax.plot(np.arange(4) * a), {'a': [1.0, 2.0]}, title='x')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert len(nb.cells[0].outputs) == 1
    path = tmp_path / "explorer.ipynb"
    nbformat.write(nb, path)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", str(path)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
