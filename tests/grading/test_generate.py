"""The exercise generator: stubs run, exercises are in sync, no solution text leaks."""

import re

import nbformat
import pytest

from dlbook_utils.grading import registry
from dlbook_utils.grading.generate import (
    SolutionMarkerError,
    generate,
    solution_regions,
    strip_solutions,
)

from .helpers import CHAPTERS, EXERCISES, SOLUTIONS


def test_function_region_becomes_return_none():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n"
    out = strip_solutions(src)
    assert "x + 1" not in out and "return None" in out
    ns = {}
    exec(out, ns)
    assert ns["f"](3) is None


def test_toplevel_region_assigns_none_and_keeps_signatures():
    src = "### BEGIN SOLUTION\na, b = 1, 2\nanswer = 'B'\ndef g(x, *, k=3):\n    return x\n" \
          "### END SOLUTION\nprint(answer)"
    out = strip_solutions(src)
    ns = {}
    exec(out.replace("print(answer)", "pass"), ns)
    assert ns["answer"] is None and ns["a"] is None and ns["g"](1) is None
    assert "'B'" not in out


def test_region_in_a_loop_at_top_level_gets_pass():
    src = "for i in range(2):\n    ### BEGIN SOLUTION\n    print(i)\n    ### END SOLUTION\n"
    out = strip_solutions(src)
    compile(out, "<t>", "exec")
    assert "print(i)" not in out and "pass" in out


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_raise(src):
    with pytest.raises(SolutionMarkerError):
        strip_solutions(src)


def _skeleton(nb):
    return [(c.cell_type, c.source, sorted(c.metadata.get("tags", []))) for c in nb.cells]


def test_committed_exercises_are_in_sync(tmp_path):
    written = generate(SOLUTIONS, tmp_path, run=False)
    assert sorted(p.name for p in written) == sorted(p.name for p in SOLUTIONS.glob("ch*.ipynb"))
    for path in written:
        fresh = nbformat.read(path, as_version=4)
        committed = nbformat.read(EXERCISES / path.name, as_version=4)
        assert _skeleton(fresh) == _skeleton(committed), f"{path.name}: run `make exercises`"


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_solution_text_in_exercises(name):
    sol = nbformat.read(SOLUTIONS / name, as_version=4)
    ex_text = (EXERCISES / name).read_text()
    assert "BEGIN SOLUTION" not in ex_text and "END SOLUTION" not in ex_text
    code = [c.source for c in sol.cells if c.cell_type == "code"]
    outside = {ln.strip() for src in code for ln in strip_solutions(src).split("\n")}
    secret = {ln.strip() for src in code for region in solution_regions(src) for ln in region}
    secret = {s for s in secret if s and s not in outside and not s.startswith("#")}
    assert secret, "no solution lines found: the test would be vacuous"
    ex_code = "\n".join(c.source for c in nbformat.read(EXERCISES / name, as_version=4).cells)
    leaked = sorted(s for s in secret if s in ex_code)
    assert not leaked, leaked


@pytest.mark.parametrize("name", CHAPTERS)
def test_solution_and_exercise_outputs(name):
    """Stored outputs: every check passes in solutions (a written answer is 'submitted') and is
    'not attempted' in exercises."""
    for folder, word in ((SOLUTIONS, "passed"), (EXERCISES, "not attempted")):
        nb = nbformat.read(folder / name, as_version=4)
        checks = [c for c in nb.cells if c.cell_type == "code"
                  and c.source.strip().split("\n")[-1].startswith("check(")]
        assert len(checks) >= 4
        for c in checks:
            qid = re.search(r'check\("([\d.]+)"', c.source).group(1)
            written = word == "passed" and registry.get(qid).kind == "text"
            # the head line as the page shows it (the plain text folds it at 75 characters)
            html = c.outputs[-1]["data"]["text/html"]
            head = re.search(r"<b[^>]*>(.*?)</b>", html).group(1)
            assert head.startswith(("✓", "·", "✎")) and f" {qid} " in head, (folder.name, head)
            assert f": {'submitted' if written else word}" in head, (folder.name, head)
