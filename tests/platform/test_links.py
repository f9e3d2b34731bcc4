"""One install cell, first in every notebook; one source for every link to the repository or the site.

The source is ``repository.url`` in ``_config.yml``; ``tools/sync_links.py`` derives the rest.
"""

import re

import nbformat
import pytest
import yaml

import dlbook_utils
from dlbook_utils import project
from dlbook_utils.project import is_install_cell
from tests.platform.test_notebook_coverage import REPO, tracked_notebooks
from tools.sync_links import read_config, with_install_cell_first, with_setup_folded

IMPORTS_PACKAGE = re.compile(r"^\s*(?:from\s+dlbook_utils\b|import\s+(?:[\w.]+\s*,\s*)*dlbook_utils\b)",
                             re.M)
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".yml", ".yaml", ".toml", ".txt", ".cfg", ".js", ".css",
                 ".html", ".json", ".bib", ""}


def install_cell_problems(nb, repository_url: str) -> list[str]:
    """What is wrong with ``nb``'s first cells: no install cell first, or an import before it."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_install_cell(cell):
            if cell.source != project.install_cell_source(repository_url):
                problems.append(f"cell {i}: install cell differs from the one tools/sync_links.py writes")
            if project.INSTALL_TAG not in cell.metadata.get("tags", []):
                problems.append(f"cell {i}: install cell not tagged {project.INSTALL_TAG!r}")
            return problems
        if IMPORTS_PACKAGE.search(cell.source):
            problems.append(f"cell {i} imports dlbook_utils before the install cell")
        else:
            problems.append(f"cell {i} is code before the install cell")
    return problems + ["no install cell"]


def url_problems(files: dict[str, str], repository_url: str, branch: str,
                 existing: set[str] | None = None) -> list[str]:
    """Every spelling of the repository or site URL in ``files`` ({path: text}) not derived from them.

    Allowed: the config itself and the package's copy of it; elsewhere only the derived forms, i.e.
    ``git+<repository url>`` (install cells, README), a Colab or GitHub link to a file that exists
    (in ``existing``, by default the paths of ``files``) and a page of the site. Python code
    outside dlbook_utils/project.py calls the project functions instead.
    """
    existing = set(files) if existing is None else existing
    owner, name = project._owner_and_name(repository_url)
    # Find the owner/name anchor, then widen it to the whole URL (one regex that starts with the
    # URL's characters would backtrack quadratically over the notebooks' base64 images).
    anchor = re.compile(rf"{re.escape(owner)}/{re.escape(name)}|{re.escape(owner)}\.github\.io", re.I)
    head, tail = re.compile(r"[\w+.:/@%-]{0,200}$"), re.compile(r"[\w./#?=%-]*")
    site = project.site_url("", repository_url)
    colab = project.colab_url("", repository_url, branch)
    blob = project.blob_url("", repository_url, branch)
    problems = []
    for path, text in sorted(files.items()):
        for m in anchor.finditer(text):
            start = head.search(text, max(0, m.start() - 200), m.start()).start()
            url = text[start:tail.match(text, m.end()).end()].rstrip(".")
            if path in ("_config.yml", "dlbook_utils/project.py") and url == repository_url:
                continue
            derived = (url == f"git+{repository_url}"
                       or (url.startswith(site) and url.count("github.io") == 1)
                       or any(url.startswith(p) and url[len(p):] in existing
                              for p in (colab, blob)))
            if not derived or path.endswith(".py"):
                problems.append(f"{path}: {url!r} is not derived from _config.yml's repository.url")
    return problems


def tracked_paths() -> set[str]:
    import subprocess

    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def tracked_text_files() -> dict[str, str]:
    files = {}
    for path in sorted(tracked_paths()):
        full = REPO / path
        if full.is_file() and full.suffix in TEXT_SUFFIXES and not path.startswith("tests/"):
            files[path] = full.read_text(encoding="utf-8", errors="replace")
    return files


@pytest.mark.parametrize("path", sorted(tracked_notebooks()))
def test_install_cell_comes_first(path):
    nb = nbformat.read(REPO / path, as_version=4)
    assert not install_cell_problems(nb, read_config()[0]), (
        f"{path}: {install_cell_problems(nb, read_config()[0])}; run `python tools/sync_links.py`")


def test_package_copy_of_the_links_matches_config():
    assert (project.REPOSITORY_URL, project.BRANCH) == read_config(), "run `python tools/sync_links.py`"


def test_the_site_footer_names_the_package_version():
    footer = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["html"]["extra_footer"]
    assert footer.endswith(f"dlbook_utils {dlbook_utils.__version__}"), (
        f"footer {footer!r}: run `python tools/sync_links.py`")


def test_every_link_to_the_repository_or_site_is_derived():
    files = tracked_text_files()
    assert "_config.yml" in files and any(p.endswith(".ipynb") for p in files)
    # a page may link a test file (the equations appendix does), though tests are not scanned
    assert not url_problems(files, *read_config(), existing=tracked_paths())


# ---------------------------------------------------------------- the checks catch planted violations
def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter")] + [
        nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_install_check_catches_an_import_before_the_install_cell():
    url = project.REPOSITORY_URL
    good = with_install_cell_first(_notebook("from dlbook_utils.plots import set_style"), url)
    assert not install_cell_problems(good, url)
    assert good.cells[1].source == project.install_cell_source(url)
    planted = _notebook("import numpy as np\nfrom dlbook_utils.plots import set_style",
                        project.install_cell_source(url))
    planted.cells[2].metadata["tags"] = [project.INSTALL_TAG]
    assert install_cell_problems(planted, url) == [
        "cell 1 imports dlbook_utils before the install cell"]
    assert install_cell_problems(_notebook("import os, dlbook_utils"), url)[0].endswith(
        "imports dlbook_utils before the install cell")
    assert "no install cell" in install_cell_problems(_notebook("x = 1"), url)
    untagged = _notebook(project.install_cell_source(url))
    assert install_cell_problems(untagged, url) == [
        f"cell 1: install cell not tagged {project.INSTALL_TAG!r}"]


def test_url_check_catches_other_spellings():
    url, branch = "https://github.com/someone/book", "main"
    ok = {"_config.yml": f"repository:\n  url: {url}\n",
          "exercises/ch01.ipynb": f"[open]({project.colab_url('exercises/ch01.ipynb', url, branch)})",
          "README.md": f'pip install "dlbook_utils @ git+{url}" and {project.site_url("book/x.html", url)}'}
    assert not url_problems(ok, url, branch)
    for path, planted in [
        ("README.md", "clone http://github.com/someone/book.git"),
        ("README.md", "see https://github.com/Someone/Book/issues"),
        ("dlbook_utils/bookdata.py", f'URL = "{project.site_url("book/errata.html", url)}"'),
        ("book/01.ipynb", project.colab_url("exercises/missing.ipynb", url, branch)),
        ("book/01.ipynb", project.colab_url("exercises/ch01.ipynb", url, "dev")),
        ("book/01.ipynb", project.blob_url("solutions/ch01.ipynb", url, branch)),  # no such file
        ("book/01.ipynb", project.blob_url("tests/core/test_gone.py", url, branch)),
        ("_config.yml", "url: https://github.com/someone/book/"),
    ]:
        assert url_problems({**ok, path: ok.get(path, "") + "\n" + planted}, url, branch), planted
    # a link to a file that exists but is not scanned (a test) is derived
    test_link = {"book/equations.md": project.blob_url("tests/core/test_a.py", url, branch)}
    assert not url_problems({**ok, **test_link}, url, branch,
                            existing={*ok, *test_link, "tests/core/test_a.py"})


# ---------------------------------------------------------------- the setup cell is folded on the site
def setup_problems(nb) -> list[str]:
    code = [c for c in nb.cells if c.cell_type == "code" and not is_install_cell(c)]
    setup = code[0] if code else None
    if setup is None or "hide-input" not in setup.metadata.get("tags", []):
        return ["the setup cell is not folded (tag hide-input)"]
    note = setup.metadata.get("mystnb", {}).get("code_prompt_show", "")
    return [] if note.startswith("Setup: ") else [f"the setup cell's note is {note!r}"]


@pytest.mark.parametrize("path", sorted(p for p in tracked_notebooks()
                                        if p.startswith("book/") and p[5:7].isdigit()))
def test_each_chapter_folds_its_setup_with_a_one_line_note(path):
    assert not setup_problems(nbformat.read(REPO / path, as_version=4)), (
        f"{path}: run `python tools/sync_links.py`")


def test_setup_check_catches_an_unfolded_setup_cell():
    nb = _notebook("import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'")
    assert setup_problems(nb) == ["the setup cell is not folded (tag hide-input)"]
    with_setup_folded(nb)
    assert not setup_problems(nb)
    assert nb.cells[1].metadata["mystnb"]["code_prompt_show"] == "Setup: imports, TensorFlow's log level"


@pytest.mark.parametrize("path", sorted(p for p in tracked_notebooks() if p.startswith("solutions/")))
def test_each_solution_is_folded_under_its_question_and_not_in_the_exercise(path):
    def folded(nb):
        return [c for c in nb.cells if c.cell_type == "code" and "hide-input" in c.metadata.get("tags", [])]

    sol = nbformat.read(REPO / path, as_version=4)
    solution_cells = [c for c in sol.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]
    assert solution_cells and folded(sol) == solution_cells, f"{path}: run `python tools/sync_links.py`"
    assert {c.metadata["mystnb"]["code_prompt_show"] for c in solution_cells} == {"Show the solution"}
    exercise = nbformat.read(REPO / path.replace("solutions/", "exercises/"), as_version=4)
    assert not folded(exercise), f"{path}: the exercise must show its stubs; run `make exercises`"


def test_solution_folding_and_its_removal_in_exercises():
    from dlbook_utils.grading.generate import make_exercise
    from tools.sync_links import with_solutions_folded

    nb = _notebook("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", "x = 1")
    assert "hide-input" not in nb.cells[1].metadata.get("tags", [])  # planted: not folded
    with_solutions_folded(nb)
    assert nb.cells[1].metadata["tags"] == ["hide-input"] and "tags" not in nb.cells[2].metadata
    exercise = make_exercise(nb)
    assert all("hide-input" not in c.metadata.get("tags", []) for c in exercise.cells)
