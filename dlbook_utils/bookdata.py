"""The book's errata and glossary, kept as data and rendered as MyST Markdown.

The records live in ``dlbook_utils/book_records/errata/chNN.yml`` and ``.../glossary/chNN.yml`` (one
file per chapter), inside the package, so a notebook run on Colab, without the repository, has them.
Chapters render their own errata admonitions from them; the appendices render everything.
Rendering returns an ``IPython.display.Markdown`` object: Jupyter shows it, and the book build
(``nb_render_markdown_format: myst``) parses it as MyST, so ``{ref}`` links are checked by Sphinx.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ERRATA_FIELDS = ("id", "seed", "section", "quote", "category", "problem", "fix", "where")
CATEGORIES = ("code", "math", "history", "augmentation", "reference", "faq", "structure")
RECORDS_DIR = Path(__file__).with_name("book_records")  # errata/ and glossary/, shipped in the wheel


def _load_records(kind: str, book_dir: str | Path | None) -> list[dict]:
    root = Path(book_dir) if book_dir else RECORDS_DIR
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
    chosen = [e for e in entries if e["chapter"] == chapter or e["id"] in also]
    unknown = set(also) - {e["id"] for e in entries}
    if unknown:
        raise ValueError(f"errata_admonitions: unknown errata ids {sorted(unknown)}")
    if not chosen:
        raise ValueError(f"errata_admonitions: expected entries for chapter {chapter!r}, found none")
    return _markdown("\n".join(admonition(e) for e in chosen))


# ----------------------------------------------------------------------------- appendices
SEED_NAMES = {
    "000_668aaf76049e1a23.txt": "deep learning core concepts, algorithms and code",
    "001_6d3d26cdd62fab5d.txt": "deep learning principles, TensorFlow/PyTorch code and FAQ",
    "002_c8230daa9f55eee3.txt": "deep learning and neural networks: history, practice, FAQ",
    "003_453e1efe3f9dba1c.txt": "deep learning principles and code examples",
    "004_fdb4944e63a3190b.txt": "mathematical foundations of deep learning in Python",
}


def errata_counts(entries: list[dict]) -> dict:
    """``{seed: {category: count}}`` over ``entries`` (every category present, zeros included)."""
    counts: dict = {}
    for e in entries:
        row = counts.setdefault(e["seed"], dict.fromkeys(CATEGORIES, 0))
        row[e["category"]] += 1
    return dict(sorted(counts.items()))


def seed_number(seed: str) -> str:
    """The number a seed file name starts with: ``"000_668aaf76049e1a23.txt"`` -> ``"000"``."""
    return seed.split("_", 1)[0]


def errata_summary_table(entries: list[dict]) -> str:
    """Markdown table: one row per category, one column per seed file, with totals.

    Seeds are the columns, named by their number (``000`` for ``000_668aaf76049e1a23.txt``):
    nine columns of categories, or the full file names, were wider than the page's text column.
    """
    counts = errata_counts(entries)
    seeds = list(counts)
    head = ("| category | " + " | ".join(seed_number(s) for s in seeds) + " | total |\n|---|"
            + "---:|" * (len(seeds) + 1))
    rows = [f"| {c} | " + " | ".join(str(counts[s][c]) for s in seeds)
            + f" | {sum(counts[s][c] for s in seeds)} |" for c in CATEGORIES]
    totals = [sum(counts[s].values()) for s in seeds]
    rows.append("| **all** | " + " | ".join(f"**{t}**" for t in totals)
                + f" | **{sum(totals)}** |")
    return "\n".join([head, *rows])


def errata_entry(entry: dict) -> str:
    """One entry for the appendix, with the MyST label ``errata-<id>`` that chapters link to."""
    title = _one_line(entry["problem"]).split(";")[0].split(". ")[0].rstrip(".")
    return (
        f"(errata-{entry['id']})=\n"
        f":::{{admonition}} {title}\n:class: note\n\n"
        f"`{entry['id']}` · section “{_one_line(entry['section'])}”: "
        f"“{_one_line(entry['quote'])}”\n\n"
        f"**What is wrong.** {_one_line(entry['problem'])}\n\n"
        f"**Fix.** {_one_line(entry['fix'])}\n\n"
        f"**Done right in** {{ref}}`{entry['where']}` (chapter {int(entry['chapter'])}).\n"
        ":::\n"
    )


def errata_appendix(book_dir=None):
    """The errata appendix: the summary table of counts, then every entry by seed and category."""
    entries = load_errata(book_dir)
    if not entries:
        raise ValueError("errata_appendix: found no errata records (dlbook_utils/book_records/errata/ch*.yml)")
    parts = [f"**{len(entries)} errors** in {len(errata_counts(entries))} seed articles, "
             "counted by category and seed (numbered as in the headings below):\n",
             errata_summary_table(entries), ""]
    for seed in errata_counts(entries):
        parts.append(f":::{{rubric}} Seed `{seed}`: {SEED_NAMES.get(seed, '')}\n:::\n")
        for category in CATEGORIES:
            chosen = [e for e in entries if e["seed"] == seed and e["category"] == category]
            if chosen:
                parts.append(f"**{category}** ({len(chosen)})\n")
                parts.extend(errata_entry(e) for e in chosen)
    return _markdown("\n".join(parts))


def glossary_table(book_dir=None):
    """The glossary: English, 中文 and a link to the section where the term is first used."""
    terms = load_glossary(book_dir)
    if not terms:
        raise ValueError("glossary_table: found no glossary records (dlbook_utils/book_records/glossary/ch*.yml)")
    for t in terms:
        missing = [f for f in ("en", "zh", "label") if not t.get(f)]
        if missing:
            raise ValueError(f"glossary term {t!r}: missing fields {missing}")
    seen: dict = {}
    for t in terms:
        key = _one_line(t["en"]).lower()
        if key in seen:
            raise ValueError(f"glossary term {t['en']!r} is defined in ch{seen[key]} and "
                             f"ch{t['chapter']}; terms must be unique")
        seen[key] = t["chapter"]
    rows = [f"| {_one_line(t['en'])} | {_one_line(t['zh'])} | "
            f"{{ref}}`ch. {int(t['chapter'])} <{t['label']}>` |"
            for t in sorted(terms, key=lambda t: _one_line(t["en"]).lower())]
    return _markdown(f"{len(terms)} terms.\n\n| English | 中文 | first used |\n|---|---|---|\n"
                     + "\n".join(rows))
