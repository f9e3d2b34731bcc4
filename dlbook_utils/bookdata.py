"""The book's errata and glossary, kept as data and rendered as MyST Markdown.

The records live in ``book/errata/chNN.yml`` and ``book/glossary/chNN.yml`` (one file per chapter).
Chapters render their own errata admonitions from them; the appendices render everything.
Rendering returns an ``IPython.display.Markdown`` object: Jupyter shows it, and the book build
(``nb_render_markdown_format: myst``) parses it as MyST, so ``{ref}`` links are checked by Sphinx.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ERRATA_FIELDS = ("id", "seed", "section", "quote", "category", "problem", "fix", "where")
CATEGORIES = ("code", "math", "history", "augmentation", "reference", "faq", "structure")
SITE_ERRATA_URL = "https://dlbook.github.io/dlbook/book/errata.html"


def find_book_dir(start: str | Path | None = None) -> Path | None:
    """Walk up from ``start`` (default: the working directory) to the folder holding errata/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder, folder / "book"):
            if (candidate / "errata").is_dir() and (candidate / "glossary").is_dir():
                return candidate
    return None


def _load_records(kind: str, book_dir: str | Path | None) -> list[dict]:
    root = Path(book_dir) if book_dir else find_book_dir()
    if root is None:
        return []
    records = []
    for path in sorted((root / kind).glob("ch*.yml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path.name}: expected a YAML list of entries, got {type(entries).__name__}")
        for entry in entries:
            if not isinstance(entry, dict):
                raise ValueError(f"{path.name}: expected a mapping per entry, got {entry!r}")
            records.append({**entry, "chapter": path.stem[2:]})
    return records


def load_errata(book_dir: str | Path | None = None) -> list[dict]:
    """All errata entries; each dict has ERRATA_FIELDS plus ``chapter`` ("05" for ch05.yml)."""
    entries = _load_records("errata", book_dir)
    for e in entries:
        missing = [f for f in ERRATA_FIELDS if not e.get(f)]
        if missing:
            raise ValueError(f"errata entry {e.get('id', '?')!r}: missing fields {missing}")
        if e["category"] not in CATEGORIES:
            raise ValueError(
                f"errata entry {e['id']!r}: expected category in {CATEGORIES}, got {e['category']!r}"
            )
    return entries


def load_glossary(book_dir: str | Path | None = None) -> list[dict]:
    """All glossary terms; each dict has ``en``, ``zh``, ``label`` and ``chapter``."""
    return _load_records("glossary", book_dir)


def _markdown(text: str):
    from IPython.display import Markdown  # IPython ships with every Jupyter kernel

    return Markdown(text)


def _one_line(text) -> str:
    return " ".join(str(text).split())


def admonition(entry: dict) -> str:
    """One errata entry as a MyST admonition that links to the fix and to the appendix."""
    return (
        f":::{{admonition}} Seed error: {_one_line(entry['problem']).split(';')[0]}\n"
        ":class: warning\n\n"
        f"**Seed** `{entry['seed']}`, section “{_one_line(entry['section'])}”: "
        f"“{_one_line(entry['quote'])}”\n\n"
        f"**What is wrong.** {_one_line(entry['problem'])}\n\n"
        f"**Fix.** {_one_line(entry['fix'])} See {{ref}}`{entry['where']}` and "
        f"{{ref}}`errata-{entry['id']} <errata-{entry['id']}>`.\n"
        ":::\n"
    )


def errata_admonitions(chapter: str, also: tuple[str, ...] = (), book_dir=None):
    """Render the errata of chapter ``"05"`` (plus entries named in ``also``) as admonitions."""
    entries = load_errata(book_dir)
    if not entries:
        return _markdown(f"The seed errata are listed in the [errata appendix]({SITE_ERRATA_URL}).")
    chosen = [e for e in entries if e["chapter"] == chapter or e["id"] in also]
    unknown = set(also) - {e["id"] for e in entries}
    if unknown:
        raise ValueError(f"errata_admonitions: unknown errata ids {sorted(unknown)}")
    if not chosen:
        raise ValueError(f"errata_admonitions: expected entries for chapter {chapter!r}, found none")
    return _markdown("\n".join(admonition(e) for e in chosen))
