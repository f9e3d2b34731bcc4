"""Every work in references.bib is cited in the book, and every citation has an entry."""

from tests.book.bookscan import BOOK, bib_keys, book_pages, citations_in, page_texts


def cited_everywhere() -> set[str]:
    return citations_in([t for page in book_pages() for t in page_texts(page)])


def citation_problems(keys: list[str], cited: set[str]) -> dict:
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    return {"uncited": sorted(set(keys) - cited), "missing": sorted(cited - set(keys)),
            "duplicate": dupes}


def test_bib_has_entries():
    assert len(bib_keys((BOOK / "references.bib").read_text(encoding="utf-8"))) >= 30


def test_every_bib_entry_is_cited_and_every_citation_exists():
    keys = bib_keys((BOOK / "references.bib").read_text(encoding="utf-8"))
    problems = citation_problems(keys, cited_everywhere())
    assert problems == {"uncited": [], "missing": [], "duplicate": []}


def test_checker_catches_planted_problems():
    bib = "@article{real2020,\n title={x}}\n@book{lonely2001,\n title={y}}\n@misc{real2020,\n}"
    texts = ["as shown {cite:p}`real2020, ghost1999` and {cite:t}`real2020`"]
    problems = citation_problems(bib_keys(bib), citations_in(texts))
    assert problems == {"uncited": ["lonely2001"], "missing": ["ghost1999"],
                        "duplicate": ["real2020"]}


def bib_syntax_error(text: str) -> str | None:
    """What pybtex (the parser the site and the PDF build use) says is wrong, or None."""
    from pybtex.database import parse_string
    from pybtex.scanner import PybtexSyntaxError

    try:
        parse_string(text, "bibtex")
    except PybtexSyntaxError as exc:
        return str(exc)
    return None


def test_bib_parses_as_the_build_parses_it():
    # a merge that drops one closing brace still passes the key scan above, but breaks the build
    assert bib_syntax_error((BOOK / "references.bib").read_text(encoding="utf-8")) is None


def test_a_missing_closing_brace_is_caught():
    good = "@misc{a2020,\n  title = {x},\n  year = {2020}\n}\n\n@misc{b2021,\n  title = {y}\n}\n"
    assert bib_syntax_error(good) is None
    assert "expected" in bib_syntax_error(good.replace("{2020}\n}", "{2020}", 1))
