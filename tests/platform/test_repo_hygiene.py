"""Repository-wide rules that no single test of a module would catch."""

import json
import re

import pytest

from tests.platform.test_notebook_coverage import REPO, tracked_notebooks

TF_NOISE = re.compile(r"oneDNN|cuInit|absl::|cuda_dnn|TF-TRT|tensorflow/core/|I0000 ")
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|farm|root|home/\w+)/|site-packages/")
MAX_NOTEBOOK_BYTES = 3_000_000


def outputs(nb):
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for out in cell.get("outputs", []):
                yield i, cell, out


def text_of(out) -> str:
    if "text" in out:
        return "".join(out["text"])
    data = out.get("data", {})
    return "".join("".join(data[k]) for k in ("text/plain", "text/markdown", "text/html")
                   if k in data)


@pytest.mark.parametrize("path", sorted(tracked_notebooks()))
def test_stored_outputs_are_clean(path):
    raw = (REPO / path).read_text(encoding="utf-8")
    assert len(raw.encode()) < MAX_NOTEBOOK_BYTES, f"{path} is {len(raw) / 1e6:.1f} MB"
    nb = json.loads(raw)
    for i, cell, out in outputs(nb):
        tags = cell.get("metadata", {}).get("tags", [])
        source = "".join(cell["source"])
        if out["output_type"] == "error":
            assert "raises-exception" in tags or "NBVAL_RAISES_EXCEPTION" in source, (
                f"{path} cell {i}: stored error {out.get('ename')} in a cell not marked to raise"
            )
        text = text_of(out)
        assert not TF_NOISE.search(text), f"{path} cell {i}: TensorFlow log line in the output"
        assert not MACHINE_PATH.search(text), f"{path} cell {i}: a machine path in the output"
        if out.get("name") == "stderr":
            assert not text.strip() or "NBVAL_IGNORE_OUTPUT" in source, (
                f"{path} cell {i}: stderr output would reach the site: {text[:200]!r}"
            )


def test_every_notebook_executed():
    unexecuted = []
    for path in sorted(tracked_notebooks()):
        nb = json.loads((REPO / path).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        if code and all(c.get("execution_count") is None for c in code):
            unexecuted.append(path)
    assert not unexecuted, f"notebooks stored without outputs: {unexecuted}"


def test_the_checks_catch_planted_problems():
    """The patterns above really match what they are meant to catch."""
    assert TF_NOISE.search("I0000 00:00:1700000000.0 oneDNN custom operations are on")
    assert MACHINE_PATH.search('File "/' + 'work/main/.venv/lib/x.py"')  # split: not a path here
    assert MACHINE_PATH.search("/usr/lib/python3/site-packages/numpy")
    assert not MACHINE_PATH.search("see book/05_optimizers.ipynb and dlbook_utils/optim.py")
