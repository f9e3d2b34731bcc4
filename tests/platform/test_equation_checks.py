"""Every numbered equation has a check that executes it; the appendix page lists them all.

A check is a notebook cell whose first line is ``# checks: eq-a | <kind> | <tolerance>`` (it must
assert, and nbval must compare its output) or a test marked ``@pytest.mark.checks("eq-a",
kind=..., tol=...)``. tools/equations.py reads both; CONTRIBUTING.md documents the format.
"""

import json

import nbformat
import pytest

from tests.platform.test_notebook_coverage import REPO
from tools import equations as eqs

# Chapters whose equations are not all checked yet: each is expected to fail (strict), so the
# test turns red the moment a chapter becomes fully traced, and the chapter must leave this list.
NOT_YET_TRACED: set[str] = set()
CHAPTERS = sorted(p.stem for p in (REPO / "book").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def trace():
    return eqs.scan(REPO)


def test_every_check_is_well_formed_and_names_an_equation_that_exists(trace):
    assert trace.equations and (trace.cells or trace.tests)
    problems = trace.all_problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("chapter", [
    pytest.param(ch, marks=pytest.mark.xfail(strict=True, reason="checks not yet declared"))
    if ch[:2] in NOT_YET_TRACED else ch for ch in CHAPTERS])
def test_every_numbered_equation_of_the_chapter_has_a_valid_check(trace, chapter):
    missing = trace.unchecked(chapter)
    assert not missing, (f"{chapter}: no check (or only cells that do not assert or whose output "
                         f"nbval ignores) for {', '.join(missing)}")


def test_the_appendix_page_is_current(trace):
    page = REPO / eqs.PAGE
    assert page.exists() and page.read_text(encoding="utf-8") == eqs.render(trace), (
        f"{eqs.PAGE} is stale: run `python tools/equations.py`")


def test_the_appendix_is_in_the_table_of_contents():
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    assert f"file: {eqs.PAGE.removesuffix('.md')}" in toc


def test_the_appendix_lists_every_equation_once_with_its_checks(trace):
    page = eqs.render(trace)
    for e in trace.equations:
        assert page.count(f"**{{eq}}`{e.label}`** `{e.label}`") == 1, e.label
    for c in trace.tests:
        assert f"test `{c.name}` in [{c.path}](" in page


# ---------------------------------------------------------------- planted cases: the checks can fail
def _book(tmp_path, cells, test_source=""):
    """A fake repository: one chapter notebook with ``cells`` [(type, source, tags)], one test file."""
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "md"
                else nbformat.v4.new_code_cell(source))
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    (tmp_path / "book").mkdir()
    (tmp_path / "tests" / "core").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "book" / "02_fake.ipynb")
    (tmp_path / "tests" / "core" / "test_fake.py").write_text(test_source, encoding="utf-8")
    return eqs.scan(tmp_path)


CHAPTER = ("md", "(ch-fake)=\n# 2. Fake\n\n(fake-sec)=\n## A section\n\n"
           "$$\ny = 2x\n$$ (eq-planted)\n\n### Unlabelled subsection\n\n$$\nz = y^2\n$$ (eq-sub)\n"
           "\n$$\nq = 1\n$$\n", ())
GOOD_CELL = ("code", "# checks: eq-planted, eq-sub | closed form | exact\nassert 2 * 3 == 6\n"
             "print('ok')", ())


def test_planted_unchecked_equation_is_caught(tmp_path):
    trace = _book(tmp_path, [CHAPTER, ("code", "# checks: eq-sub | property | exact\nassert 1", ())])
    assert trace.unchecked() == ["eq-planted"]
    assert not trace.all_problems()
    page = eqs.render(trace)
    assert "*No check yet.*" in page and "1 of 2 equations have at least one check" in page


def test_sections_labels_and_unnumbered_equations_are_read(tmp_path):
    trace = _book(tmp_path, [CHAPTER, GOOD_CELL])
    planted, sub = trace.equations
    assert (planted.chapter_title, planted.section) == ("2. Fake", eqs.Section("A section", "fake-sec",
                                                                             "A section"))
    assert planted.latex == "y = 2x"
    # an unlabelled ### links to the nearest labelled heading above it
    assert sub.section == eqs.Section("Unlabelled subsection", "fake-sec", "A section")
    assert "{ref}`A section <fake-sec>` › Unlabelled subsection" in eqs.render(trace)
    assert trace.unnumbered == {"02_fake": 1}
    assert trace.unchecked() == [] and not trace.all_problems()
    (cell,) = trace.cells
    assert (cell.labels, cell.kind, cell.tol, cell.number) == (("eq-planted", "eq-sub"),
                                                               "closed form", "exact", 1)


def test_a_check_of_a_label_that_does_not_exist_is_caught(tmp_path):
    test_source = ('import pytest\n\n@pytest.mark.checks("eq-nowhere", kind="property", tol="exact")\n'
                   "def test_x():\n    assert True\n")
    trace = _book(tmp_path, [CHAPTER, GOOD_CELL,
                             ("code", "# checks: eq-missing | property | exact\nassert 1", ())],
                  test_source)
    problems = trace.all_problems()
    assert any("cell 2: checks eq-missing, which no chapter defines" in p for p in problems)
    assert any("test_fake.py::test_x: checks eq-nowhere" in p for p in problems)


@pytest.mark.parametrize("source, tags", [
    ("# checks: eq-planted, eq-sub | closed form | exact\n# NBVAL_IGNORE_OUTPUT\nassert 1", ()),
    ("# checks: eq-planted, eq-sub | closed form | exact\nassert 1", ("nbval-ignore-output",)),
    ("# checks: eq-planted, eq-sub | closed form | exact\nassert 1", ("nbval-skip",)),
    ("# checks: eq-planted, eq-sub | closed form | exact\nassert 1", ("raises-exception",)),
    ("# checks: eq-planted, eq-sub | closed form | exact\nprint(abs(2 * 3 - 6))", ()),
    ("# checks: eq-planted, eq-sub | closed form | exact\nok = 6 == 2 * 3  # assert later", ()),
])
def test_an_equation_checked_only_by_an_ignored_or_non_asserting_cell_is_unchecked(
        tmp_path, source, tags):
    trace = _book(tmp_path, [CHAPTER, ("code", source, tags)])
    assert trace.unchecked() == ["eq-planted", "eq-sub"]
    assert len(trace.all_problems()) == 1
    assert "(not counted" in eqs.render(trace)


def test_a_test_marker_makes_the_same_equation_checked(tmp_path):
    ignored = ("code", "# checks: eq-planted, eq-sub | closed form | exact\n# NBVAL_IGNORE_OUTPUT\n"
               "assert 1", ())
    test_source = (
        "import pytest\n\npytestmark = [pytest.mark.tf]\n\n\n"
        '@pytest.mark.parametrize("n", [1, 2])\n'
        '@pytest.mark.checks("eq-planted", kind="TensorFlow", tol="atol 1e-6")\n'
        "def test_param(n):\n    assert n\n\n\n"
        '@pytest.mark.checks("eq-sub", kind="finite differences", tol="rel 1e-7")\n'
        "class TestGroup:\n"
        "    def test_one(self):\n        assert True\n\n"
        '    @pytest.mark.checks("eq-planted", kind="property", tol="exact")\n'
        "    def test_two(self):\n        assert True\n")
    trace = _book(tmp_path, [CHAPTER, ignored], test_source)
    assert trace.unchecked() == []
    found = sorted((t.name, t.labels, t.kind) for t in trace.tests)
    assert found == [("TestGroup::test_one", ("eq-sub",), "finite differences"),
                     ("TestGroup::test_two", ("eq-planted",), "property"),
                     ("TestGroup::test_two", ("eq-sub",), "finite differences"),
                     ("test_param", ("eq-planted",), "TensorFlow")]
    page = eqs.render(trace)
    assert "test `test_param` in [tests/core/test_fake.py](" in page
    assert "[tests/core/test_fake.py](" in page and ": TensorFlow, tolerance atol 1e-6" in page


@pytest.mark.parametrize("first_line, words", [
    ("# checks: eq-planted | by eye | exact", "expected a kind out of"),
    ("# checks: eq-planted | closed form", "expected '# checks: eq-a, eq-b | <kind> | <tolerance>'"),
    ("# checks: eq-planted | closed form | ", "expected a tolerance"),
    ("# checks: planted | closed form | exact", "expected labels like eq-name"),
    ("x = 1\n# checks: eq-planted | closed form | exact", "must be the cell's first line"),
])
def test_malformed_declarations_are_reported_with_what_was_expected(tmp_path, first_line, words):
    trace = _book(tmp_path, [CHAPTER, ("code", f"{first_line}\nassert 1", ())])
    assert any(words in p for p in trace.all_problems()), trace.all_problems()
    assert "eq-planted" in trace.unchecked()


@pytest.mark.parametrize("marker, words", [
    ('@pytest.mark.checks("eq-planted", kind="eyeballed", tol="exact")', "expected a kind"),
    ('@pytest.mark.checks("eq-planted", kind="property")', "expected kind=... and tol=..."),
    ('@pytest.mark.checks(LABEL, kind="property", tol="exact")', "string literals"),
])
def test_malformed_markers_are_reported(tmp_path, marker, words):
    source = f'import pytest\nLABEL = "eq-planted"\n\n{marker}\ndef test_x():\n    assert True\n'
    trace = _book(tmp_path, [CHAPTER], source)
    assert any(words in p for p in trace.all_problems()), trace.all_problems()
    assert not trace.tests


def test_a_marked_helper_that_pytest_never_collects_is_reported(tmp_path):
    source = ('import pytest\n\n@pytest.mark.checks("eq-planted", kind="property", tol="exact")\n'
              "def helper():\n    assert True\n")
    trace = _book(tmp_path, [CHAPTER], source)
    assert any("does not collect" in p for p in trace.all_problems())
    assert "eq-planted" in trace.unchecked()


def test_a_hidden_check_cell_does_not_count(tmp_path):
    trace = _book(tmp_path, [CHAPTER, (*GOOD_CELL[:2], ("remove-cell",))])
    assert trace.unchecked() == ["eq-planted", "eq-sub"]
    assert any("does not show" in p for p in trace.all_problems())


@pytest.mark.parametrize("source, asserts", [
    ("assert x < 1", True),
    ("np.testing.assert_allclose(a, b)", True),
    ("%timeit f()\nassert_close(a, b)", True),
    ("print(err < 1e-9)", False),
    ("x = 'assert'", False),
])
def test_cell_asserts_reads_the_code_not_the_text(source, asserts):
    assert eqs.cell_asserts(source) is asserts


def test_the_real_book_is_read_as_the_other_checkers_read_it(trace):
    """The labels agree with the equation-citation test's own reading of the notebooks."""
    from tests.platform.test_equation_citations import defined_equations

    assert {e.label: e.chapter for e in trace.equations} == defined_equations()
    for nb in CHAPTERS:
        cells = json.loads((REPO / "book" / f"{nb}.ipynb").read_text(encoding="utf-8"))["cells"]
        declared = sum(c["cell_type"] == "code" and "".join(c["source"]).startswith("# checks:")
                       for c in cells)
        assert declared == sum(c.chapter == nb for c in trace.cells), nb
