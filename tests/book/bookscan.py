"""Read what the book defines and cites: MyST labels, citation keys, bibliography keys.

Small pure functions over text, so that each checker can also be fed planted bad data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

BOOK = Path(__file__).resolve().parents[2] / "book"

LABEL_RE = re.compile(r"^\(([A-Za-z0-9_.:-]+)\)=\s*$", re.MULTILINE)
CITE_RE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
BIB_KEY_RE = re.compile(r"^@[A-Za-z]+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)


def page_texts(path: Path) -> list[str]:
    """Markdown of a page: every markdown cell, plus text/markdown outputs of a notebook."""
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    nb = json.loads(path.read_text(encoding="utf-8"))
    texts = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            texts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            if md:
                texts.append("".join(md))
    return texts


def book_pages(book: Path = BOOK) -> list[Path]:
    return sorted([*book.glob("*.ipynb"), *book.glob("*.md")])


def labels_in(texts: list[str]) -> set[str]:
    return {m for t in texts for m in LABEL_RE.findall(t)}


def citations_in(texts: list[str]) -> set[str]:
    keys = set()
    for t in texts:
        for group in CITE_RE.findall(t):
            keys.update(k.strip() for k in group.split(",") if k.strip())
    return keys


def bib_keys(bib_text: str) -> list[str]:
    return BIB_KEY_RE.findall(bib_text)


def chapter_page(chapter: str, book: Path = BOOK) -> Path | None:
    """``"08"`` -> ``book/08_code_examples.ipynb`` (None if that chapter does not exist yet)."""
    found = sorted(book.glob(f"{chapter}_*.ipynb"))
    return found[0] if found else None


def missing_labels(records: list[dict], labels_of) -> list[str]:
    """Records whose ``label``/``where`` is not defined in their chapter; ``labels_of(ch)``."""
    bad = []
    for r in records:
        label = r.get("where") or r.get("label")
        if label not in labels_of(r["chapter"]):
            bad.append(f"ch{r['chapter']}: {r.get('id') or r.get('en')!s} -> {label}")
    return bad


# ---- glossary terms in the chapters' text: their Chinese names and where they first appear

def _bare(name: str) -> str:
    """A glossary name without its parenthesised gloss: "Adam (...)" -> "Adam"."""
    return re.split(r"\s*[(（]", name)[0].strip()


def _english(en: str) -> re.Pattern:
    """The English term as a whole phrase: not inside a longer word or a hyphenated one."""
    return re.compile(r"(?<![\w-])" + re.escape(_bare(en)) + r"(?![\w-])", re.IGNORECASE)


def chinese_names_given(en: str, text: str, longer_terms=()) -> set[str]:
    """Chinese names the text attaches to ``en``: "en (中文" or "**en, 中文".

    A match that is the tail of a longer term (``longer_terms``, e.g. "inverted dropout" for
    "dropout") names that term, not this one, and is skipped.
    """
    names = set()
    pattern = re.compile(_english(en).pattern + r"\**\s*[(（,，]\s*\**([\u4e00-\u9fff][^,，)）*\n]*)",
                         re.IGNORECASE)
    for m in pattern.finditer(text):
        before = text[max(0, m.start() - 40):m.start()].lower()
        if any(before.endswith(t.lower()[:-len(_bare(en))]) for t in longer_terms
               if t.lower().endswith(_bare(en).lower()) and len(t) > len(_bare(en))):
            continue
        names.add(m.group(1).strip())
    return names


def conflicting_translations(en: str, zh: str, text: str, longer_terms=()) -> set[str]:
    """Chinese names given to ``en`` in ``text`` other than ``zh`` (the glossary's).

    A name that contains the glossary's or is contained in it ("多层感知机" for "perceptron"
    in "multilayer perceptron (多层感知机)") is a compound term, not a second translation.
    """
    zh = _bare(zh)
    return {name for name in chinese_names_given(en, text, longer_terms)
            if zh not in name and name not in zh}


def first_use_chapter(en: str, zh: str, texts: dict[str, str]) -> str | None:
    """The chapter (``texts``: chapter -> text, in reading order) where a term is first used:
    the first that gives its Chinese name next to it (the book's convention for a first use),
    else the first that mentions the English term at all."""
    zh = _bare(zh)
    named = re.compile(r"(?:[(（,，]\s*|\*\*)" + re.escape(zh) + r"\s*(?:[)）,，*]|$)")
    for chapter, text in texts.items():
        if named.search(text):
            return chapter
    english = _english(en)
    return next((chapter for chapter, text in texts.items() if english.search(text)), None)
