"""The batch grader flags an answer taken from any reference implementation in the package."""

import pkgutil

import nbformat
import pytest

import dlbook_utils
from dlbook_utils.grading.batch import FLAG_PATTERNS, REFERENCE_MODULES, grade_all

FLAG = "imports the library's reference code"
NOT_REFERENCE = {"grading", "data", "bookdata", "plots", "widgets",  # no exercise answers there
                 "autodiff_plot", "mnist1d_data", "project", "source", "turns"}
FORMS = ["from dlbook_utils.{m} import something",
         "import dlbook_utils.{m} as ref",
         "from dlbook_utils import {m}",
         "from dlbook_utils import plots, {m}",
         "from dlbook_utils import (\n    plots,\n    {m},\n)",
         "x = dlbook_utils.{m}.something(1)"]


def _flagged(code: str) -> bool:
    import re

    return re.search(FLAG_PATTERNS[FLAG], code) is not None


def test_every_module_of_the_package_is_either_reference_or_named_as_not():
    modules = {m.name for m in pkgutil.iter_modules(dlbook_utils.__path__)}
    assert modules - NOT_REFERENCE == set(REFERENCE_MODULES), modules


@pytest.mark.parametrize("module", REFERENCE_MODULES)
@pytest.mark.parametrize("form", FORMS, ids=range(len(FORMS)))
def test_each_reference_module_is_flagged_in_every_import_form(module, form):
    assert _flagged(form.format(m=module))


@pytest.mark.parametrize("code", [
    "from dlbook_utils.grading import check",
    "from dlbook_utils import data, plots",
    "import dlbook_utils.bookdata as bd",
    "from dlbook_utils import widgets\noptim = 'sgd'  # a variable, not an import",
    "import numpy as np  # layers of a network",
])
def test_helpers_and_plain_words_are_not_flagged(code):
    assert not _flagged(code)


def test_a_batch_report_carries_the_flag(tmp_path):
    """The issue's case: an answer imported from dlbook_utils.augment, end to end."""
    nb = nbformat.v4.new_notebook(metadata={"dlbook": {"chapter": "07"}})
    nb.cells = [nbformat.v4.new_code_cell("from dlbook_utils.grading import check\n"
                                          "from dlbook_utils import augment"),
                nbformat.v4.new_code_cell("hflip = augment.hflip\ncheck('7.1', hflip)")]
    (tmp_path / "subs").mkdir()
    nbformat.write(nb, tmp_path / "subs" / "ch07_copied.ipynb")
    (report,) = grade_all(tmp_path / "subs", tmp_path / "out", timeout=30, seed=1,
                          log=lambda *a: None)
    assert FLAG in report["flags"]
