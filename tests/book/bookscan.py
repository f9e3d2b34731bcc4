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
