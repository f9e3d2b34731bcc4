"""Docstrings of dlbook_utils cite the book's equations; every citation must point at a real one."""

import json
import re

from tests.platform.test_notebook_coverage import REPO

LABEL = re.compile(r"\$\$\s*\((eq-[\w-]+)\)")
CITATION = re.compile(r"(eq-[a-z0-9-]+)\)?`*(?:\s+of ch\. \d+|\s+in\s+(\d\d_[a-z_]+))?")


def defined_equations() -> dict[str, str]:
    """label -> chapter stem, from every ``$$ ... $$ (label)`` in the book."""
    found = {}
    for nb in sorted((REPO / "book").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "markdown":
                for label in LABEL.findall("".join(cell["source"])):
                    assert label not in found, f"{label} defined in {found.get(label)} and {nb.stem}"
                    found[label] = nb.stem
    return found


def citations(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in CITATION.finditer(text)]


def test_every_cited_equation_exists_where_it_is_said_to_be():
    defined = defined_equations()
    wrong = []
    for py in sorted((REPO / "dlbook_utils").rglob("*.py")):
        for label, chapter in citations(py.read_text(encoding="utf-8")):
            if label not in defined:
                wrong.append(f"{py.name}: {label} is defined nowhere in the book")
            elif chapter and defined[label] != chapter:
                wrong.append(f"{py.name}: {label} is in {defined[label]}, not {chapter}")
    assert not wrong, "\n".join(wrong)


def test_citation_parser_reads_the_chapter():
    assert citations("Eq. (eq-adam-update) in 05_optimizers.") == [("eq-adam-update", "05_optimizers")]
    assert citations("see (eq-chain-rule)).") == [("eq-chain-rule", None)]
