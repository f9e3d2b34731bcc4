"""Derive every link to the repository and the site from ``_config.yml``, and put the install cell first.

    python tools/sync_links.py        # rewrite what differs; prints the files it changed

The one source is ``repository.url`` (and ``repository.branch``) in ``_config.yml``. This script
copies them into ``dlbook_utils/project.py`` (the package must know them on Colab, without the
repository), makes the first code cell of every notebook the install cell of
``dlbook_utils.project.install_cell_source``, and rewrites the Colab links and the README's install
line, folds each chapter's setup cell on the site, and writes the package version into the site's footer. ``tests/platform/test_links.py`` fails when anything is out of step with ``_config.yml``.

Links between the book's pages, in notebooks that are read alone on Colab (exercises and
solutions; a chapter's "Exercises" section), are absolute URLs of the published site: a relative
``../book/04_backprop.ipynb#label`` leads nowhere on Colab, and MyST cannot resolve a label as a
``.ipynb`` anchor. The site build turns each back into a local link and checks its page and label
(``book/_ext/site_links.py``). Rerun this script after merging anything that edits notebooks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from a checkout: use this checkout's package

import dlbook_utils  # noqa: E402
from dlbook_utils import project  # noqa: E402
from dlbook_utils.project import is_install_cell  # noqa: E402

NOTEBOOK_DIRS = ("book", "solutions", "exercises")
PROJECT_MODULE = REPO / "dlbook_utils" / "project.py"
COLAB_LINK = re.compile(re.escape(project.COLAB_URL) + r"/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/([\w./-]+\.ipynb)")
BLOB_LINK = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/blob/[\w.-]+/([\w./-]+)")
PIP_LINE = re.compile(r'"dlbook_utils @ git\+[^"\s]+"')
# A markdown link from one notebook of the book to another: ](../book/04_backprop.ipynb#label)
RELATIVE_PAGE_LINK = re.compile(r"\]\(\.\./((?:book|exercises|solutions)/[\w.-]+)\.(?:ipynb|md)(#[\w-]+)?\)")
# A chapter's own sentence pointing to its solutions; the managed "Solution page" line replaces it.
SOLUTIONS_SENTENCE = re.compile(
    r"(?:\s*|;\s*)[Ww]orked solutions are in (?:\[[^\]]*\]\([^)]*\)|`[^`]*`)\.?(?=\s|$)")
EXERCISE_LINE, SOLUTION_LINE = "**Exercise page:**", "**Solution page:**"


def read_config(root: Path = REPO) -> tuple[str, str]:
    """``(repository url, branch)`` from ``root/_config.yml``."""
    repo = (yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}).get("repository")
    if not isinstance(repo, dict) or not repo.get("url"):
        raise ValueError("_config.yml: expected repository.url, found none")
    return str(repo["url"]).rstrip("/"), str(repo.get("branch") or "main")


def with_install_cell_first(nb, repository_url: str):
    """``nb`` with every install cell replaced by one canonical install cell before all other code."""
    old = [c for c in nb.cells if is_install_cell(c)]
    cells = [c for c in nb.cells if not is_install_cell(c)]
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    install = nbformat.v4.new_code_cell(project.install_cell_source(repository_url))
    install.metadata = {"tags": [project.INSTALL_TAG]}
    if old:
        install.id = old[0].get("id", install.id)
    cells.insert(first_code, install)
    code = [c for c in cells if c.cell_type == "code"]
    if all(c.execution_count is not None for c in code if c is not install):
        for n, c in enumerate(code, start=1):  # numbered as "Run all" numbers them
            c.execution_count = n
    else:
        install.execution_count = None
    nb.cells = cells
    return nb


SETUP_PARTS = [  # (what the setup cell contains, how the one-line note names it)
    ("import ", "imports"), ("default_rng", "random seeds"),
    ("TF_CPP_MIN_LOG_LEVEL", "TensorFlow's log level"), ("enable_op_determinism", "deterministic TF ops"),
    ("threadpool_limits", "BLAS thread limit"), ("set_style", "plot style"),
]


def setup_note(source: str) -> str:
    """The one line that stands for a chapter's folded setup cell on the site."""
    return "Setup: " + ", ".join(name for key, name in SETUP_PARTS if key in source)


def with_setup_folded(nb):
    """Fold the chapter's setup cell (the first code cell after the install cell) on the site.

    A reader does not need environment variables, seeds and thread limits first: the site shows
    a one-line note that opens the cell (myst-nb's per-cell ``code_prompt_show``).
    """
    code = [c for c in nb.cells if c.cell_type == "code" and not is_install_cell(c)]
    if code:
        setup = code[0]
        tags = setup.metadata.setdefault("tags", [])
        if "hide-input" not in tags:
            tags.append("hide-input")
        setup.metadata["mystnb"] = {"code_prompt_show": setup_note(setup.source),
                                    "code_prompt_hide": "Hide the setup"}
    return nb


def with_solutions_folded(nb):
    """On the site each solution cell is collapsed under its question ("Show the solution")."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
            cell.metadata["mystnb"] = {"code_prompt_show": "Show the solution",
                                       "code_prompt_hide": "Hide the solution"}
    return nb


def with_site_links(text: str, repository_url: str) -> str:
    """``text`` with each relative link to a notebook of the book made a link to its site page."""
    return RELATIVE_PAGE_LINK.sub(
        lambda m: f"]({project.site_url(m.group(1) + '.html' + (m.group(2) or ''), repository_url)})", text)


def with_exercise_links(text: str, chapter: str, repository_url: str, branch: str) -> str:
    """A chapter's "## Exercises" section starting with links to its exercise and solution pages.

    ``chapter`` is e.g. ``"04_backprop"``; its notebooks are ``exercises/ch04_backprop.ipynb`` and
    ``solutions/ch04_backprop.ipynb``. The solution link is a paragraph of its own, which a book
    built without solutions drops whole (book/_ext/site_links.py).
    """
    heading = re.search(r"^## Exercises[ \t]*$", text, re.M)
    if not heading:
        return text
    if heading.end() == len(text):  # the heading ends its cell: the links go under it
        text += "\n"
    name = f"ch{chapter}"
    text = "\n".join(line for line in text.split("\n")
                     if not line.startswith((EXERCISE_LINE, SOLUTION_LINE)))
    text = SOLUTIONS_SENTENCE.sub(lambda m: "." if m.group(0).startswith(";") else "", text)
    text = re.sub(r"(^## Exercises[ \t]*\n)\n+", r"\1", text, flags=re.M)
    exercise = project.site_url(f"exercises/{name}.html", repository_url)
    colab = project.colab_url(f"exercises/{name}.ipynb", repository_url, branch)
    solution = project.site_url(f"solutions/{name}.html", repository_url)
    block = (f"{EXERCISE_LINE} [exercises/{name}]({exercise}) on this site, or "
             f"[open it on Colab]({colab}) to run it.\n\n"
             f"{SOLUTION_LINE} [solutions/{name}]({solution}), each worked solution folded under "
             "its question.\n\n")
    return re.sub(r"^## Exercises[ \t]*\n", lambda m: m.group(0) + "\n" + block, text, count=1, flags=re.M)


def _relink(text: str, repository_url: str, branch: str) -> str:
    text = COLAB_LINK.sub(lambda m: project.colab_url(m.group(1), repository_url, branch), text)
    text = BLOB_LINK.sub(lambda m: project.blob_url(m.group(1), repository_url, branch), text)
    return PIP_LINE.sub(f'"{project.pip_spec(repository_url)}"', text)


def sync_notebook(path: Path, repository_url: str, branch: str) -> bool:
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=4)
    with_install_cell_first(nb, repository_url)
    if path.parent.name == "book" and path.name[:2].isdigit():
        with_setup_folded(nb)
    if path.parent.name == "solutions":
        with_solutions_folded(nb)
    chapter = path.stem if path.parent.name == "book" and path.stem[:2].isdigit() else None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = with_site_links(_relink(cell.source, repository_url, branch), repository_url)
            if chapter:
                cell.source = with_exercise_links(cell.source, chapter, repository_url, branch)
    after = nbformat.writes(nb) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def sync_project_module(repository_url: str, branch: str, path: Path = PROJECT_MODULE) -> bool:
    before = path.read_text(encoding="utf-8")
    after = re.sub(r'^REPOSITORY_URL = ".*"$', f'REPOSITORY_URL = "{repository_url}"', before, flags=re.M)
    after = re.sub(r'^BRANCH = ".*"$', f'BRANCH = "{branch}"', after, flags=re.M)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def sync_footer_version(path: Path) -> bool:
    """The site's footer names the package version (``dlbook_utils X.Y.Z`` in html.extra_footer)."""
    before = path.read_text(encoding="utf-8")
    after = re.sub(r"dlbook_utils \d+\.\d+\.\d+\S*\"", f'dlbook_utils {dlbook_utils.__version__}"', before)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def main(root: Path = REPO) -> list[Path]:
    url, branch = read_config(root)
    changed = [root / "_config.yml"] if sync_footer_version(root / "_config.yml") else []
    if sync_project_module(url, branch, root / "dlbook_utils" / "project.py"):
        changed.append(root / "dlbook_utils" / "project.py")
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if _relink(text, url, branch) != text:
        readme.write_text(_relink(text, url, branch), encoding="utf-8")
        changed.append(readme)
    for folder in NOTEBOOK_DIRS:
        for path in sorted((root / folder).glob("*.ipynb")):
            if sync_notebook(path, url, branch):
                changed.append(path)
    return changed


if __name__ == "__main__":
    for p in main():
        print(f"rewrote {p.relative_to(REPO)}")
