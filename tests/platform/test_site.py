"""The built website, opened in a real browser (headless Debian Chromium driven by Playwright).

The site is built once per session from the stored notebook outputs (nbval checks those equal a
fresh run), with ``-W`` so any Sphinx warning fails. Every TOC page is then loaded from a local
HTTP server and checked: math typeset by the locally served MathJax, no console errors, no request
leaving the machine, every internal link resolving, and the launch/download buttons present.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from dlbook_utils.project import colab_url
from tests.platform.test_notebook_coverage import toc_files
from tools.build_site import build

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    # the stdlib test server leaves keep-alive sockets to the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def build_site(out: Path, *, solutions: bool = True) -> Path:
    """Build the book with stored outputs into ``out``; fail on any warning."""
    html, log, code = build(out, solutions=solutions)
    assert code == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    assert "WARNING" not in log, f"the build logged warnings:\n{log[-6000:]}"
    return html


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    html = build_site(tmp_path_factory.mktemp("site"))
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield html, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), (
        "Chromium is required for the browser test: `make test` installs it (apt package chromium)"
    )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


# Code and printed output fit the column of a 1280-pixel-wide window: 75 characters of the code
# font (measured: a 684-px code block with 32 px of padding, 8.43 px per character; 69 in the
# narrower blocks of an admonition), which is the notebooks' ruff line length (book/ruff.toml).
# Every page of the site is checked: the chapters, the appendices, the exercises and solutions.
WINDOW_WIDTH = 1280
CHAPTERS = [f"book/{name}.html" for name in (
    "01_background", "02_core_concepts", "03_forward_pass", "04_backprop", "05_optimizers",
    "06_regularization", "07_augmentation", "08_code_examples", "09_tf_at_scale", "10_trends_faq")]
APPENDICES = [f"book/{name}.html" for name in (
    "notation", "equations", "glossary", "errata", "references")]
# Every element that needs a horizontal scroll: a code cell (its source, its outputs), a code
# block of the text, a table or its scrolling container. Folded cells and dropdowns are opened
# first: a folded setup or solution cell, or a seed's listing, must fit once unfolded.
OVERFLOWING_JS = """() => {
  document.querySelectorAll('article details').forEach(d => { d.open = true; });
  document.querySelectorAll('article .toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  const wide = 'article div.cell, article div.cell *, article pre, article table, '
    + 'article .pst-scrollable-table-container';
  return [...document.querySelectorAll(wide)]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
    .map(e => (e.innerText || '').split('\\n').reduce((a, l) => l.length > a.length ? l : a, ''));
}"""


def overflowing_code(page) -> list[str]:
    """The longest line of each code cell, output, code block or table of ``page`` that scrolls
    horizontally."""
    return page.evaluate(OVERFLOWING_JS)


def toc_pages() -> list[str]:
    return sorted(f + ".html" for f in toc_files())


def stored_figures_and_citations(notebook: Path) -> tuple[int, bool]:
    """How many PNG figures a notebook stores, and whether its text cites anything."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    figures = sum("image/png" in out.get("data", {})
                  for c in cells if c["cell_type"] == "code" for out in c.get("outputs", []))
    cites = any("{cite" in "".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return figures, cites


def visit(browser, url: str):
    """Load ``url``; return (page, console errors, requests that left localhost)."""
    page = browser.new_page(viewport={"width": WINDOW_WIDTH, "height": 800})
    errors, external = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400
            else None)

    def on_request(req):
        host = urlparse(req.url).hostname
        if host not in ("127.0.0.1", "localhost", None) and not req.url.startswith("data:"):
            external.append(req.url)

    page.on("request", on_request)
    page.goto(url, wait_until="networkidle")
    return page, errors, external


def test_every_toc_entry_has_a_page(site):
    html, _ = site
    missing = [p for p in toc_pages() if not (html / p).exists()]
    assert not missing, f"TOC entries without an HTML page: {missing}"
    assert (html / "index.html").exists()
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "worked solutions" in intro, "the intro's {only} solutions block is missing"


@pytest.mark.parametrize("page_path", toc_pages())
def test_page_renders_offline(site, browser, page_path):
    html, base = site
    page, errors, external = visit(browser, urljoin(base, page_path))
    try:
        source = (html / page_path).read_text(encoding="utf-8")
        if 'class="math' in source:
            page.wait_for_selector("mjx-container", timeout=20_000)
            body_text = page.inner_text("article")
            assert "$$" not in body_text, f"{page_path}: raw $$ left untypeset"
            assert "\\begin{" not in body_text, f"{page_path}: raw LaTeX left untypeset"
        assert not errors, f"{page_path}: console errors {errors}"
        assert not external, f"{page_path}: requests left the machine {external[:5]}"
        notebook = (REPO / page_path).with_suffix(".ipynb")
        if notebook.exists():
            figures, cites = stored_figures_and_citations(notebook)
            shown = page.locator("article img[src*='_images/']")
            assert shown.count() >= figures, f"{page_path}: {shown.count()} of {figures} figures"
            assert all(shown.nth(i).evaluate("im => im.complete && im.naturalWidth > 0")
                       for i in range(shown.count())), f"{page_path}: a figure did not load"
            if cites:
                assert page.locator("a[href*='references.html#']").count() >= 1, (
                    f"{page_path}: citations in the source but none rendered"
                )
            notebook_path = notebook.relative_to(REPO).as_posix()
            launch = page.locator(f'a[href^="{colab_url(notebook_path)}"]')
            assert launch.count() >= 1, f"{page_path}: no Colab launch button for {notebook_path}"
            assert page.locator('a[href$=".ipynb"]').count() >= 1, f"{page_path}: no download button"
            if page_path.startswith(("exercises/", "solutions/")):
                check_exercise_page(page, html, page_path, notebook)
        if page_path in width_checked_pages():  # last: it unfolds every folded cell
            wide = overflowing_code(page)
            assert not wide, f"{page_path}: {len(wide)} code blocks scroll, e.g. {wide[:3]}"
    finally:
        page.close()


def check_exercise_page(page, html: Path, page_path: str, notebook: Path) -> None:
    """An exercise or solution page: all its math typeset, linked from its chapter, solutions folded."""
    n_math = (html / page_path).read_text(encoding="utf-8").count('class="math')
    assert n_math >= 1, f"{page_path}: no math on the page"
    typeset = page.locator("article mjx-container").count()
    assert typeset >= n_math, f"{page_path}: {typeset} of {n_math} formulas typeset"
    chapter = html / "book" / (notebook.name.removeprefix("ch").removesuffix(".ipynb") + ".html")
    assert f'href="../{page_path}"' in chapter.read_text(encoding="utf-8"), (
        f"{chapter.name} does not link {page_path}")
    if page_path.startswith("solutions/"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        n_solutions = sum(c["cell_type"] == "code" and "### BEGIN SOLUTION" in "".join(c["source"])
                          for c in cells)
        folded = page.locator("article details:has(summary:has-text('Show the solution'))")
        assert folded.count() == n_solutions >= 1, (
            f"{page_path}: {folded.count()} folded solutions, {n_solutions} in the notebook")
        assert not any(folded.nth(i).evaluate("d => d.open") for i in range(folded.count())), (
            f"{page_path}: a solution is shown unfolded")


def test_internal_links_resolve(site):
    """Every relative link of every page points to an existing file and, if any, an existing id."""
    from html.parser import HTMLParser

    html, _ = site

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs, self.ids = [], set()

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "id" in attrs:
                self.ids.add(attrs["id"])
            if tag == "a" and attrs.get("href"):
                self.hrefs.append(attrs["href"])

    parsed = {}
    for page in html.rglob("*.html"):
        p = Links()
        p.feed(page.read_text(encoding="utf-8"))
        parsed[page.resolve()] = p
    broken = []
    for page, links in parsed.items():
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for href in links.hrefs:
            if urlparse(href).scheme or href.startswith(("mailto:", "//", "javascript:")):
                continue
            path, frag = urldefrag(href)
            target = (page.parent / path).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.name}: {href}")
            elif frag and target.suffix == ".html" and frag not in parsed[target].ids:
                broken.append(f"{page.name}: {href} (no id {frag!r})")
    assert not broken, f"{len(broken)} broken internal links, e.g. {broken[:10]}"


def test_screenshot_shows_typeset_math(site, browser, tmp_path_factory):
    """Screenshot a chapter page; the math there must be typeset by MathJax."""
    _, base = site
    chapters = [p for p in toc_pages() if Path(p).name[:2].isdigit()]
    assert chapters, "no chapter pages in the TOC"
    chapter = next((p for p in chapters if "backprop" in p), chapters[0])  # the most math
    page, errors, _ = visit(browser, urljoin(base, chapter))
    try:
        page.wait_for_selector("mjx-container", timeout=20_000)
        n_math = page.locator("mjx-container").count()
        page.locator("mjx-container[display='true']").first.scroll_into_view_if_needed()
        shot = tmp_path_factory.mktemp("shots") / "chapter.png"
        page.screenshot(path=str(shot), full_page=False)
        print(f"screenshot of {chapter} with {n_math} typeset formulas: {shot}")
        assert n_math >= 1 and shot.stat().st_size > 10_000
    finally:
        page.close()


def width_checked_pages() -> list[str]:
    """Every page of the site: issue 17 asks that no chapter page scroll horizontally."""
    return toc_pages()


def test_width_checked_pages_are_pages():
    """test_page_renders_offline checks the width of these pages: every chapter and appendix."""
    checked = set(width_checked_pages())
    assert set(CHAPTERS + APPENDICES) <= checked, set(CHAPTERS + APPENDICES) - checked
    assert sum(p.startswith(("exercises/", "solutions/")) for p in checked) >= 20


def test_code_width_check_catches_a_long_line(site, browser):
    """A planted 100-character line in a code cell, in an output and in a code block of the text
    (chapter 8's seed listings, in a folded dropdown), and a 120-character one in a table cell:
    each one scrolls. (A table's longest line is its longest cell, and chapter 8's table of the
    seeds' code blocks has a 107-character one, which wraps and fits.)"""
    _, base = site
    page, _, _ = visit(browser, urljoin(base, "book/08_code_examples.html"))
    try:
        assert not overflowing_code(page)
        for where, length in (("div.cell_input pre", 100), ("div.cell_output pre", 100),
                              ("div.dropdown pre", 100), ("table td", 120)):
            page.reload(wait_until="networkidle")
            ones = "1" * (length - 4)
            page.locator(f"article {where}").first.evaluate(
                "(e, line) => { e.textContent += '\\n' + line; }", "x = " + ones)
            assert any(ones in line for line in overflowing_code(page)), f"{where} not caught"
    finally:
        page.close()


def test_exercise_page_check_catches_an_unfolded_solution(site, browser):
    """check_exercise_page passes on a solution page, and fails once a solution is shown open."""
    html, base = site
    page_path = "solutions/ch02_core_concepts.html"
    page, _, _ = visit(browser, urljoin(base, page_path))
    try:
        page.wait_for_selector("mjx-container", timeout=20_000)
        notebook = (REPO / page_path).with_suffix(".ipynb")
        check_exercise_page(page, html, page_path, notebook)
        page.locator("article details").first.evaluate("d => { d.open = true; }")
        with pytest.raises(AssertionError, match="unfolded"):
            check_exercise_page(page, html, page_path, notebook)
    finally:
        page.close()
