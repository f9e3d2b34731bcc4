"""The errata and glossary records: complete, unique, valid, and linked to labels that exist."""

import pytest
import yaml

from dlbook_utils import bookdata
from tests.book.bookscan import (
    chapter_page,
    conflicting_translations,
    first_use_chapter,
    labels_in,
    missing_labels,
    page_texts,
)

ERRATA = bookdata.load_errata()
GLOSSARY = bookdata.load_glossary()


def labels_of_chapter(chapter: str) -> set[str]:
    page = chapter_page(chapter)
    return labels_in(page_texts(page)) if page else set()


def test_errata_ids_unique_fields_present_categories_valid():
    ids = [e["id"] for e in ERRATA]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for e in ERRATA:
        assert all(str(e[f]).strip() for f in bookdata.ERRATA_FIELDS), e["id"]
        assert e["category"] in bookdata.CATEGORIES
        assert e["seed"].endswith(".txt") and len(str(e["quote"])) <= 160, e["id"]


def test_every_errata_where_label_exists_in_its_chapter():
    assert missing_labels(ERRATA, labels_of_chapter) == []


def test_every_glossary_label_exists_and_terms_are_unique():
    assert missing_labels(GLOSSARY, labels_of_chapter) == []
    terms = [" ".join(t["en"].split()).lower() for t in GLOSSARY]
    assert len(terms) == len(set(terms)), sorted({t for t in terms if terms.count(t) > 1})


def test_glossary_has_at_least_80_terms_with_chinese_names():
    assert len({t["en"].lower() for t in GLOSSARY}) >= 80
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in t["zh"]) for t in GLOSSARY)


def test_label_checker_catches_a_missing_label():
    records = [{"id": "ok", "where": "real-label", "chapter": "08"},
               {"id": "planted", "where": "no-such-label", "chapter": "08"}]
    found = missing_labels(records, lambda ch: {"real-label"})
    assert found == ["ch08: planted -> no-such-label"]


def _write(tmp_path, kind, name, entries):
    (tmp_path / "errata").mkdir(exist_ok=True)
    (tmp_path / "glossary").mkdir(exist_ok=True)
    (tmp_path / kind / name).write_text(yaml.safe_dump(entries, allow_unicode=True), "utf-8")


GOOD = {"id": "x", "seed": "000_a.txt", "section": "4.1", "quote": "q", "category": "code",
        "problem": "p", "fix": "f", "where": "lab"}


@pytest.mark.parametrize("change, message", [
    ({"category": "typo"}, "expected category"),
    ({"fix": ""}, "missing fields"),
])
def test_loader_rejects_planted_bad_errata(tmp_path, change, message):
    _write(tmp_path, "errata", "ch99.yml", [{**GOOD, **change}])
    with pytest.raises(ValueError, match=message):
        bookdata.load_errata(tmp_path)


def test_appendix_renders_every_entry_with_its_label_and_counts():
    text = bookdata.errata_appendix().data
    for e in ERRATA:
        assert f"(errata-{e['id']})=" in text
    assert f"| **{len(ERRATA)}** |" in text  # grand total of the summary table
    counts = bookdata.errata_counts(ERRATA)
    assert sum(sum(row.values()) for row in counts.values()) == len(ERRATA)


def test_appendix_counts_planted_entries(tmp_path):
    _write(tmp_path, "errata", "ch98.yml", [GOOD, {**GOOD, "id": "y", "category": "faq"},
                                            {**GOOD, "id": "z", "seed": "001_b.txt"}])
    counts = bookdata.errata_counts(bookdata.load_errata(tmp_path))
    assert counts["000_a.txt"]["code"] == 1 and counts["000_a.txt"]["faq"] == 1
    assert counts["001_b.txt"]["code"] == 1 and sum(counts["001_b.txt"].values()) == 1
    # the summary has a column per seed, named by its number, so that it fits the page
    table = bookdata.errata_summary_table(bookdata.load_errata(tmp_path)).splitlines()
    assert table[0] == "| category | 000 | 001 | total |"
    assert table[2:4] == ["| code | 1 | 1 | 2 |", "| math | 0 | 0 | 0 |"]
    assert "| faq | 1 | 0 | 1 |" in table
    assert table[-1] == "| **all** | **2** | **1** | **3** |"


def test_glossary_table_rejects_planted_duplicate(tmp_path):
    _write(tmp_path, "glossary", "ch01.yml", [{"en": "Epoch", "zh": "轮次", "label": "a"}])
    _write(tmp_path, "glossary", "ch02.yml", [{"en": "epoch", "zh": "周期", "label": "b"}])
    with pytest.raises(ValueError, match="unique"):
        bookdata.glossary_table(tmp_path)


def test_glossary_table_lists_every_term():
    text = bookdata.glossary_table().data
    assert text.count("{ref}`ch. ") == len(GLOSSARY)


def test_no_records_left_in_the_old_book_folders():
    """The records ship inside the package now; a file added to book/errata/ would be ignored."""
    from tests.book.bookscan import BOOK

    stray = sorted(str(p.relative_to(BOOK.parent)) for kind in ("errata", "glossary")
                   for p in (BOOK / kind).glob("*.yml"))
    assert not stray, f"move {stray} to dlbook_utils/book_records/ (where bookdata reads them)"
    assert bookdata.RECORDS_DIR.name == "book_records" and (bookdata.RECORDS_DIR / "errata").is_dir()


# Compound terms of the text that are not glossary terms but end in one: their Chinese name is
# not a second translation of the shorter term.
COMPOUNDS = ("proximal gradient descent",)


def chapter_texts() -> dict[str, str]:
    """Chapter number -> the chapter's prose, in reading order."""
    pages = {f"{n:02d}": chapter_page(f"{n:02d}") for n in range(1, 100)}
    return {ch: "\n".join(page_texts(p)) for ch, p in pages.items() if p}


def translation_conflicts(glossary, texts) -> list[str]:
    longer = [t["en"] for t in glossary] + list(COMPOUNDS)
    return [f"{t['en']}: glossary {t['zh']}, ch{ch} {sorted(names)}"
            for t in glossary for ch, text in texts.items()
            if (names := conflicting_translations(t["en"], t["zh"], text, longer))]


def misplaced_first_uses(glossary, texts) -> list[str]:
    found = ((t, first_use_chapter(t["en"], t["zh"], texts)) for t in glossary)
    return [f"{t['en']}: first_use ch{t['chapter']}, first used in ch{ch}"
            for t, ch in found if ch is not None and ch != t["chapter"]]


def test_every_term_has_one_chinese_name_across_the_book():
    assert translation_conflicts(GLOSSARY, chapter_texts()) == []


def test_every_first_use_is_in_the_first_chapter_that_uses_the_term():
    assert misplaced_first_uses(GLOSSARY, chapter_texts()) == []


def test_translation_checker_catches_a_planted_second_name():
    glossary = [{"en": "logits", "zh": "未归一化的对数概率", "chapter": "02"},
                {"en": "dropout", "zh": "丢弃法（Dropout）", "chapter": "06"},
                {"en": "inverted dropout", "zh": "反向丢弃", "chapter": "06"}]
    texts = {"02": "the **logits (未归一化的对数概率)** of each class",
             "06": "Dropout (丢弃法) ... inverted dropout (反向丢弃) ... dropout, 丢弃法",
             "08": "returns logits (未归一化的对数几率, the scores before the softmax)"}
    assert translation_conflicts(glossary, texts) == [
        "logits: glossary 未归一化的对数概率, ch08 ['未归一化的对数几率']"]


def test_first_use_checker_catches_a_label_in_a_later_chapter():
    glossary = [{"en": "epoch", "zh": "轮次", "chapter": "05"},
                {"en": "capacity", "zh": "容量", "chapter": "02"},
                {"en": "test set", "zh": "测试集", "chapter": "03"}]
    texts = {"01": "It runs for at most 100 **epochs (轮次)**, passes over all",
             "02": "wasted capacity; one epoch later",
             "03": "a held-out test set"}
    assert misplaced_first_uses(glossary, texts) == [
        "epoch: first_use ch05, first used in ch01"]
