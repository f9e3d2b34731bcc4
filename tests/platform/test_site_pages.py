"""The exercise and solution pages of the site, their links, and the book without solutions.

Links between the book's notebooks are absolute URLs of the published site (so they work on
Colab); the site build makes them local and checks each page and label (book/_ext/site_links.py).
The checks run here on a two-page book, where each planted fault must fail the build.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from dlbook_utils.project import site_url
from tests.platform.test_notebook_coverage import REPO
from tools.build_site import build, toc_without_solutions
from tools.sync_links import read_config, with_exercise_links, with_site_links

CHAPTERS = sorted(p.stem for p in (REPO / "book").glob("[0-9][0-9]_*.ipynb"))


def toc_parts() -> dict[str, list[str]]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return {p["caption"]: [c["file"] for c in p["chapters"]] for p in toc["parts"]}


def test_every_exercise_and_solution_notebook_is_a_page_of_its_part():
    parts = toc_parts()
    for folder, caption in (("exercises", "Exercises"), ("solutions", "Solutions")):
        notebooks = sorted(f"{folder}/{p.stem}" for p in (REPO / folder).glob("ch*.ipynb"))
        assert len(notebooks) == len(CHAPTERS), f"{folder}: {len(notebooks)} notebooks"
        assert parts.get(caption) == notebooks, f"TOC part {caption!r}: {parts.get(caption)}"


def test_exercise_and_solution_pages_are_never_executed():
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    patterns = config["execute"].get("exclude_patterns", [])
    for folder in ("exercises", "solutions"):
        path = Path(f"/any/checkout/{folder}/ch01_background.ipynb")
        assert any(path.match(p) for p in patterns), f"{folder} notebooks would be executed"
    assert not any(Path("/any/checkout/book/01_background.ipynb").match(p) for p in patterns)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_exercises_section_links_its_pages(chapter):
    nb = nbformat.read(REPO / "book" / f"{chapter}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    section = text[text.index("## Exercises"):]
    for folder in ("exercises", "solutions"):
        assert f"({site_url(f'{folder}/ch{chapter}.html')})" in section, (
            f"{chapter}: no link to {folder}/ch{chapter}; run `python tools/sync_links.py`")


def test_notebook_links_are_synced():
    """No relative link between notebooks is left, and the chapters' links are as sync_links writes them."""
    url, branch = read_config()
    stale = []
    for folder in ("book", "exercises", "solutions"):
        for path in sorted((REPO / folder).glob("*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type != "markdown":
                    continue
                synced = with_site_links(cell.source, url)
                if folder == "book" and path.stem[:2].isdigit():
                    synced = with_exercise_links(synced, path.stem, url, branch)
                if synced != cell.source or re.search(r"\]\(\.\./\w+/[\w.-]+\.ipynb", cell.source):
                    stale.append(f"{folder}/{path.name}")
    assert not stale, f"run `python tools/sync_links.py`: {sorted(set(stale))}"


def test_sync_rewrites_a_relative_chapter_link_and_a_solutions_sentence():
    url, branch = read_config()
    assert with_site_links("See [Adam](../book/05_optimizers.ipynb#ch5-adam).", url) == (
        f"See [Adam]({site_url('book/05_optimizers.html#ch5-adam')}).")
    text = ("## Exercises\n\nOpen the notebook: write Adam. Worked solutions are in "
            "[solutions/ch05_optimizers.ipynb](https://example.org/x.ipynb).\n")
    once = with_exercise_links(text, "05_optimizers", url, branch)
    assert "Worked solutions" not in once and "write Adam." in once
    assert once.count(site_url("solutions/ch05_optimizers.html")) == 1
    assert with_exercise_links(once, "05_optimizers", url, branch) == once  # rerunnable
    alone = with_exercise_links("## Exercises", "05_optimizers", url, branch)  # heading ends the cell
    assert alone.count(site_url("exercises/ch05_optimizers.html")) == 1
    assert with_exercise_links(alone, "05_optimizers", url, branch) == alone


# ---------------------------------------------------------------- the site build on a small book
def small_book(root: Path, chapter_text: str) -> Path:
    """A book with an intro, one chapter (``chapter_text``) and one solution page."""
    (root / "book").mkdir(parents=True)
    (root / "solutions").mkdir()
    (root / "_config.yml").write_text(yaml.safe_dump({
        "title": "small", "only_build_toc_files": True, "execute": {"execute_notebooks": "off"},
        "sphinx": {"local_extensions": {"site_links": str(REPO / "book" / "_ext")}},
    }))
    (root / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "intro",
        "parts": [{"caption": "Chapters", "chapters": [{"file": "book/a"}]},
                  {"caption": "Solutions", "chapters": [{"file": "solutions/s"}]}],
    }))
    (root / "intro.md").write_text(f"# Intro\n\nRead [the section]({site_url('book/a.html#a-section')}).\n")
    (root / "book" / "a.md").write_text("# A\n\n(a-section)=\n## A section\n\n" + chapter_text)
    (root / "solutions" / "s.md").write_text("# Solutions\n\nThe answer is 42.\n")
    return root


SOLUTION_LINE = f"**Solution page:** [solutions/s]({site_url('solutions/s.html')}), folded.\n"


def test_site_links_become_local_and_the_solution_line_goes_without_solutions(tmp_path):
    root = small_book(tmp_path / "src", "Text.\n\n" + SOLUTION_LINE)
    html, log, code = build(tmp_path / "with", root=root)
    assert code == 0 and "WARNING" not in log, log[-3000:]
    assert 'href="book/a.html#a-section"' in (html / "intro.html").read_text()
    assert 'href="../solutions/s.html"' in (html / "book" / "a.html").read_text()
    traces = solution_traces(html)  # the inspection finds what a book with solutions has
    assert "page solutions/s.html" in traces and "book/a.html: link ../solutions/s.html" in traces
    assert any("'Solutions' part in the TOC" in t for t in traces), traces
    html, log, code = build(tmp_path / "without", root=root, solutions=False)
    assert code == 0 and "WARNING" not in log, log[-3000:]
    page = (html / "book" / "a.html").read_text()
    assert "Solution page" not in page and not solution_traces(html)


def solution_traces(html: Path) -> list[str]:
    """Every trace of the solutions on a built site: pages, links, TOC entries, search entries."""
    traces = [f"page {p.relative_to(html)}" for p in html.glob("solutions/*.html")]
    for page in html.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        traces += [f"{page.relative_to(html)}: link {h}"
                   for h in re.findall(r'href="([^"]*solutions/[^"]*)"', text)]
        if re.search(r'class="caption-text">\s*Solutions\s*<', text):
            traces.append(f"{page.relative_to(html)}: a 'Solutions' part in the TOC")
    index = html / "searchindex.js"
    if index.exists() and "solutions/" in index.read_text(encoding="utf-8"):
        traces.append("searchindex.js lists a solution page")
    return traces


def test_a_missing_label_and_a_solution_link_in_running_text_fail_the_build(tmp_path):
    planted = (f"See [a section]({site_url('book/a.html#no-such-label')}).\n\n"
               f"The [answer]({site_url('solutions/s.html')}) is on its page.\n")
    html, log, code = build(tmp_path / "out", root=small_book(tmp_path / "src", planted),
                            solutions=False)
    assert "no label 'no-such-label' in book/a" in log, log[-3000:]
    assert "a link to solutions/s in a book without solutions" in log, log[-3000:]
    assert code != 0


def test_a_book_without_solutions_needs_a_solutions_part():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    assert "Solutions" not in [p["caption"] for p in toc_without_solutions(toc)["parts"]]
    with pytest.raises(ValueError, match="expected a part with caption 'Solutions'"):
        toc_without_solutions({"parts": [{"caption": "Chapters", "chapters": []}]})


@pytest.mark.site
def test_the_whole_book_without_solutions(tmp_path):
    """`make book-nosolutions`: no solution page, link, TOC part or search entry; exercises stay."""
    html, log, code = build(tmp_path, solutions=False)
    assert code == 0 and "WARNING" not in log, log[-6000:]
    assert not solution_traces(html), solution_traces(html)[:10]
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "exercises/" in intro and "worked solutions" not in intro, "the intro's {only} block"
    for chapter in CHAPTERS:
        page = (html / "book" / f"{chapter}.html").read_text(encoding="utf-8")
        assert f'href="../exercises/ch{chapter}.html"' in page, f"{chapter} lost its exercise link"
        assert (html / "exercises" / f"ch{chapter}.html").exists()
