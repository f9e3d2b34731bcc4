"""The PDF edition (``make pdf``): complete, readable, nothing cut off, and linked from the site.

``make test-pdf`` builds ``_build/latex/dlbook.pdf`` and runs this module with ``DLBOOK_PDF`` set,
so a missing PDF fails. Under ``make test`` the module runs when a PDF has been built and is newer
than the book's sources (all but the site build), and is skipped, with the reason shown, otherwise. The checks read the PDF with poppler's
``pdftotext``/``pdfimages`` (and the LaTeX log beside it); each one is also run on a small XeLaTeX
document, built here, that carries the defect it looks for.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from dlbook_utils.bookdata import load_glossary
from tests.platform.test_notebook_coverage import toc_files

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PDF = REPO / "_build" / "latex" / "dlbook.pdf"
PDF = Path(os.environ.get("DLBOOK_PDF") or DEFAULT_PDF)
if not PDF.is_absolute():
    PDF = REPO / PDF

ON_REQUEST = "DLBOOK_PDF" in os.environ  # set by `make test-pdf`
if not ON_REQUEST and not PDF.exists():
    pytest.skip("no PDF built (make test-pdf builds and checks it)", allow_module_level=True)
if not ON_REQUEST and any(p.stat().st_mtime > PDF.stat().st_mtime
                          for p in (REPO / "book").rglob("*") if p.suffix in {".ipynb", ".md", ".yml"}):
    pytest.skip("the PDF is older than the book (make test-pdf rebuilds and checks it)",
                allow_module_level=True)

# A line that ends this close to the paper's right edge is cut off by a printer (and by many viewers).
EDGE_INSET_PT = 18.0
# matplotlib's to_jshtml player: frame 0 is the first base64 PNG; the site shows it on load.
JSHTML_FIRST_FRAME = re.compile(r'"data:image/png;base64,([A-Za-z0-9+/=\\\s]+)"')


# ---------------------------------------------------------------- reading a PDF
def run(*cmd: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
    return proc.stdout


def pdf_text(pdf: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def squash(text: str) -> str:
    """Text without whitespace or hyphens: a phrase is found however lines broke or CJK spread."""
    return re.sub(r"[\s\-\u00ad]+", "", text)


def missing_phrases(text: str, phrases) -> list[str]:
    flat = squash(text)
    return [p for p in phrases if squash(p) not in flat]


def unresolved_references(text: str) -> list[str]:
    """LaTeX prints ``??`` for a reference it cannot resolve; return each with some context."""
    return [text[max(m.start() - 40, 0): m.end() + 40].replace("\n", " ")
            for m in re.finditer(r"\?\?", text)]


def pdf_images(pdf: Path) -> Counter:
    """(width, height) in pixels of every image drawn in the PDF (soft masks not counted)."""
    rows = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    return Counter((int(r.split()[3]), int(r.split()[4])) for r in rows if r.split()[2] == "image")


def words_past_edge(pdf: Path, inset: float = EDGE_INSET_PT) -> list[str]:
    """Words that end within ``inset`` points of the paper's right edge, or beyond it."""
    html = run("pdftotext", "-bbox", str(pdf), "-")
    found = []
    for number, page in enumerate(html.split("<page ")[1:], start=1):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for x_max, word in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" '
                                      r'yMax="[\d.]+">([^<]*)</word>', page):
            if float(x_max) > width - inset:
                found.append(f"page {number}: {word!r} ends at {float(x_max):.0f} of {width:.0f} pt")
    return found


def code_past_text_edge(pdf: Path, tolerance: float = 2.0) -> list[str]:
    """Pieces of code (text in a monospaced font) that end right of the text block.

    The text block's right edge is where most lines end (justified prose); poppler's XML output
    gives each piece of text its font and position, in points.
    """
    xml = run("pdftohtml", "-xml", "-i", "-q", "-zoom", "1", "-stdout", str(pdf))
    fonts = dict(re.findall(r'<fontspec id="(\d+)"[^>]* family="([^"]+)"', xml))
    pieces = []  # (page, right edge, font family, text)
    for page in re.split(r'<page number="', xml)[1:]:
        number = int(page.split('"', 1)[0])
        for left, width, font, text in re.findall(
                r'<text top="-?\d+" left="(-?\d+)" width="(\d+)" height="\d+" font="(\d+)">(.*?)</text>',
                page):
            pieces.append((number, int(left) + int(width), fonts[font], re.sub("<[^>]+>", "", text)))
    edge = Counter(right for _, right, _, _ in pieces).most_common(1)[0][0]
    return [f"page {page}: {text[:60]!r} ends {right - edge} pt right of the text"
            for page, right, family, text in pieces
            if re.search("Mono|Courier|cmtt", family) and right > edge + tolerance]


def missing_glyphs(log: str) -> list[str]:
    """Characters XeLaTeX dropped because the font in use has no glyph for them."""
    return sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log)))


# ---------------------------------------------------------------- what the book holds
def toc_paths() -> list[Path]:
    paths = []
    for name in sorted(toc_files()):
        for suffix in (".ipynb", ".md"):
            if (REPO / f"{name}{suffix}").exists():
                paths.append(REPO / f"{name}{suffix}")
    return paths


def page_title(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


def glossary_chinese() -> list[str]:
    """The Chinese of every glossary term, read as the glossary appendix reads it."""
    return [entry["zh"] for entry in load_glossary()]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def site_figures() -> Counter:
    """(width, height) of every figure the website shows: the stored PNG outputs of the TOC
    notebooks, and the first frame of each explorer player (its web view)."""
    sizes = Counter()
    for path in toc_paths():
        if path.suffix != ".ipynb":
            continue
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if "remove-cell" in cell.get("metadata", {}).get("tags", []):
                continue
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    sizes[png_size(base64.b64decode("".join(data["image/png"])))] += 1
                elif (frame := JSHTML_FIRST_FRAME.search("".join(data.get("text/html", "")))):
                    sizes[png_size(base64.b64decode(re.sub(r"[\\\s]", "", frame.group(1))))] += 1
    return sizes


# ---------------------------------------------------------------- the book's PDF
@pytest.fixture(scope="module")
def book_pdf() -> Path:
    assert PDF.is_file(), f"expected the PDF at {PDF.relative_to(REPO)}; got none (run make pdf)"
    return PDF


@pytest.fixture(scope="module")
def book_text(book_pdf) -> str:
    return pdf_text(book_pdf)


def test_every_chapter_title_is_in_the_pdf(book_text):
    # LaTeX numbers the chapters itself, so the PDF's titles drop the site's "7. "
    titles = [re.sub(r"^\d+\. ", "", page_title(p)) for p in toc_paths()]
    assert len(titles) == len(toc_files())
    assert missing_phrases(book_text, titles) == []


def test_every_glossary_term_has_its_chinese_in_the_pdf(book_text):
    terms = glossary_chinese()
    assert len(terms) > 50, f"expected the glossary's terms, got {len(terms)}"
    assert missing_phrases(book_text, terms) == []


def test_the_appendices_are_lettered(book_text):
    """Appendix A is the notation (book/_ext/pdf_edition.py inserts \\appendix before the part),
    not "Chapter thirty-one" after the Exercises and Solutions parts."""
    assert re.search(r"APPENDIX\s+A\s+NOTATION", book_text), "expected 'Appendix A: Notation'"
    # 10 chapters, then 10 exercise and 10 solution chapters: none is numbered past 30
    assert not re.search(r"CHAPTER\s+THIRTY-?[A-Z]", book_text)


def test_no_unresolved_reference(book_text):
    assert unresolved_references(book_text) == []
    # numbered equations are there and cited by number, e.g. "(4.7)"
    assert len(set(re.findall(r"\(\d{1,2}\.\d{1,2}\)", book_text))) >= 40


def test_every_cited_work_is_in_the_bibliography(book_text):
    from pybtex.database import parse_file

    sources = "\n".join(p.read_text(encoding="utf-8") for p in toc_paths())
    cited = {key.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", sources)
             for key in group.split(",")}
    entries = parse_file(str(REPO / "book" / "references.bib")).entries
    assert cited and cited <= set(entries), f"unknown keys: {sorted(cited - set(entries))}"
    # The bibliography style recases titles and typesets quotes and dashes: compare letters only.
    letters = re.sub(r"[^a-z0-9]", "", book_text.lower())
    lost = [key for key in sorted(cited)
            if re.sub(r"[^a-z0-9]", "", entries[key].fields["title"].lower())[:30] not in letters]
    assert lost == [], f"cited works missing from the PDF's bibliography: {lost}"


def test_every_figure_of_the_site_is_in_the_pdf(book_pdf):
    expected, found = site_figures(), pdf_images(book_pdf)
    assert sum(expected.values()) >= 20
    assert expected - found == Counter(), "figures of the site missing from the PDF (w x h px)"
    assert found - expected == Counter(), "images in the PDF that the site does not show"


def test_nothing_runs_off_the_page(book_pdf):
    assert words_past_edge(book_pdf) == []


def test_no_code_line_overflows_and_no_glyph_is_dropped(book_pdf):
    assert code_past_text_edge(book_pdf) == []
    log = book_pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert missing_glyphs(log) == []


@pytest.mark.skipif(not ON_REQUEST, reason="builds the site (a minute); make test-pdf runs it")
def test_the_site_links_the_pdf_once_it_exists(book_pdf, tmp_path):
    """Built without a PDF, the site has no link to one; rebuilt (incrementally) after the PDF,
    it carries the PDF at its root and the intro page links it."""
    from tests.platform.test_site import build_site

    html = build_site(tmp_path)
    assert "dlbook.pdf" not in (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert not (html / "dlbook.pdf").exists()

    (tmp_path / "_build" / "latex").mkdir(parents=True)
    shutil.copy2(book_pdf, tmp_path / "_build" / "latex" / book_pdf.name)
    html = build_site(tmp_path)
    assert 'href="../dlbook.pdf"' in (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert broken_pdf_links(html) == []
    assert (html / "dlbook.pdf").read_bytes() == book_pdf.read_bytes()


def broken_pdf_links(html: Path) -> list[str]:
    """Links to a .pdf, in any page of the site, whose target is not in the site."""
    broken = []
    for page in html.rglob("*.html"):
        for href in re.findall(r'href="([^"#]+\.pdf)"', page.read_text(encoding="utf-8")):
            if "://" not in href and not (page.parent / href).resolve().is_file():
                broken.append(f"{page.relative_to(html)} -> {href}")
    return broken


# ---------------------------------------------------------------- planted defects
PLANTED_TEX = r"""
\documentclass{article}
\usepackage{fontspec}
\setmonofont{FreeMono}
\usepackage{xeCJK}
\setCJKmainfont{Noto Serif CJK SC}
\usepackage{graphicx}
\begin{document}
\section{A planted chapter}
Backpropagation (反向传播), see Section~\ref{nowhere}. Justified prose sets the right edge of
the text block: the lines of this paragraph end there, and so would any line of code that fits
in the text width. The planted line of code below does not fit: it runs past the edge of the
text and off the paper, where a printer cuts it off and a reader never sees its last arguments.

\includegraphics[width=2cm]{dot.png}

\noindent\hbox{\texttt{x = a\_function\_whose\_name\_is\_much\_too\_long\_to\_fit(argument\_one, argument\_two, three)}}

\texttt{✗}
\end{document}
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A one-page PDF with a dangling reference, one 37x23 image, a code line running off the
    page and a symbol that FreeMono lacks."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("planted")
    Image.new("RGB", (37, 23), "teal").save(folder / "dot.png")
    (folder / "planted.tex").write_text(PLANTED_TEX, encoding="utf-8")
    run("xelatex", "-interaction=nonstopmode", "-halt-on-error", "planted.tex", cwd=folder)
    return folder / "planted.pdf"


def test_the_checks_catch_planted_defects(planted):
    text = pdf_text(planted)
    assert missing_phrases(text, ["A planted chapter", "An absent chapter"]) == ["An absent chapter"]
    assert missing_phrases(text, ["反向传播", "梯度下降"]) == ["梯度下降"]
    assert len(unresolved_references(text)) == 1
    assert pdf_images(planted) == Counter({(37, 23): 1})
    expected = Counter({(37, 23): 1, (40, 40): 1})
    assert expected - pdf_images(planted) == Counter({(40, 40): 1})
    assert any("argument" in w or "three" in w for w in words_past_edge(planted))
    assert code_past_text_edge(planted, tolerance=500) == []
    log = planted.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    past = code_past_text_edge(planted)
    assert len(past) == 1 and "argument" in past[0]
    assert missing_glyphs(log) == ["✗ (U+2717)"]


def test_the_link_check_catches_a_missing_pdf(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.html").write_text('<a href="../dlbook.pdf">PDF</a>', encoding="utf-8")
    assert broken_pdf_links(tmp_path) == ["book/intro.html -> ../dlbook.pdf"]
    (tmp_path / "dlbook.pdf").write_bytes(b"%PDF-1.5")
    assert broken_pdf_links(tmp_path) == []
