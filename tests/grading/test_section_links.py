"""Every exercise links to a section of the book that exists (question ``section`` and notebook text)."""

import re
from pathlib import Path

import nbformat
import pytest

from dlbook_utils.grading import registry

REPO = Path(__file__).resolve().parents[2]
BOOK, SOLUTIONS = REPO / "book", REPO / "solutions"
LINK = re.compile(r"(\.\./book/[\w.]+#[\w-]+)")


def labels(chapter: Path) -> set[str]:
    found = set()
    for cell in nbformat.read(chapter, as_version=4).cells:
        if cell.cell_type == "markdown":
            found |= set(re.findall(r"^\(([\w-]+)\)=", cell.source, flags=re.M))
    return found


def broken_links(links) -> list[str]:
    broken = []
    for link in sorted(links):
        path, _, anchor = link.removeprefix("../book/").partition("#")
        if not (BOOK / path).exists() or (anchor and anchor not in labels(BOOK / path)):
            broken.append(link)
    return broken


def test_every_chapter_has_exercises():
    assert len(list(SOLUTIONS.glob("ch[0-9][0-9]_*.ipynb"))) == 10


@pytest.mark.parametrize("notebook", sorted(p.name for p in SOLUTIONS.glob("ch*.ipynb")))
def test_links_name_existing_sections(notebook):
    chapter = notebook[2:4]
    links = {q.section for q in registry.load_chapter(chapter) if q.section}
    for cell in nbformat.read(SOLUTIONS / notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            links |= set(LINK.findall(cell.source))
    assert links, f"{notebook}: no link to the chapter"
    assert not broken_links(links), broken_links(links)


def test_a_link_to_a_missing_label_is_caught():
    assert broken_links({"../book/05_optimizers.ipynb#no-such-section"})
    assert broken_links({"../book/99_missing.ipynb#ch5-adam"})
    assert not broken_links({"../book/05_optimizers.ipynb#ch5-adam", "../book/01_background.ipynb"})
