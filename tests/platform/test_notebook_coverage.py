"""Every notebook in the repository is executed by nbval in `make test` — none is forgotten."""

import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIRS = ("book", "solutions", "exercises")


def tracked_notebooks() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ipynb"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    return {p for p in out.split() if (REPO / p).exists()}


def toc_files() -> set[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc.get("parts", []))
    return set(files)


def nbval_notebooks(session) -> set[str]:
    found = set()
    for item in session.items:
        if type(item).__module__.startswith("nbval"):
            found.add(Path(str(item.fspath)).resolve().relative_to(REPO).as_posix())
    return found


def test_every_notebook_lives_where_nbval_looks():
    stray = {nb for nb in tracked_notebooks() if nb.split("/")[0] not in NOTEBOOK_DIRS}
    assert not stray, f"notebooks outside {NOTEBOOK_DIRS} would escape nbval: {sorted(stray)}"


def test_every_toc_entry_exists():
    missing = [f for f in toc_files() if not any((REPO / f).with_suffix(s).exists()
                                                  for s in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_book_notebook_is_in_the_toc():
    in_toc = toc_files()
    orphans = {nb for nb in tracked_notebooks()
               if nb.startswith("book/") and nb[: -len(".ipynb")] not in in_toc}
    assert not orphans, f"book notebooks missing from _toc.yml: {sorted(orphans)}"


def test_nbval_collects_every_notebook(request):
    if not request.config.getoption("--nbval", default=False):
        pytest.skip("run without --nbval (e.g. `make test-fast`); `make test` runs this check")
    missing = tracked_notebooks() - nbval_notebooks(request.session)
    assert not missing, f"notebooks not executed by nbval: {sorted(missing)}"
