"""Every numbered equation of the book, and the checks that execute it.

The book promises that every formula is checked by running code. This tool makes the promise
visible and testable. It reads

- every numbered equation ``$$ ... $$ (eq-name)`` of ``book/*.ipynb`` (chapter, section, LaTeX);
- every check cell: a code cell whose FIRST line is
  ``# checks: eq-a, eq-b | <kind> | <tolerance>``, with its nbval tags and whether it asserts;
- every test marked ``@pytest.mark.checks("eq-a", kind=..., tol=...)`` in ``tests/**/*.py``
  (read statically, so no test module is imported);

and writes the appendix page ``book/equations.md`` ("Equations and their checks").
``tests/platform/test_equation_checks.py`` fails when an equation has no valid check, when a check
names a label that does not exist, and when the committed page is stale.

    python tools/equations.py            # rewrite book/equations.md
    python tools/equations.py --report   # counts per chapter, unchecked equations, problems
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make dlbook_utils importable from the checkout
    sys.path.insert(0, str(REPO))

from dlbook_utils.project import blob_url  # noqa: E402

PAGE = "book/equations.md"
KINDS = ("finite differences", "TensorFlow", "closed form", "reference value", "property")

EQUATION = re.compile(r"\$\$(.*?)\$\$[ \t]*(?:\((eq-[\w-]+)\))?", re.S)
CHECKS_LINE = re.compile(r"^\s*#\s*checks\s*:", re.I)
CONTINUATION = re.compile(r"^#\s{2,}\S")
TARGET = re.compile(r"^\(([\w.:-]+)\)=\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
# A cell whose output nbval does not compare, or that is not run or expected to fail.
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception", "skip-execution"}
NBVAL_COMMENTS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION")
HIDDEN_TAGS = {"remove-cell", "remove-input"}  # a reader of the site could not see the check


@dataclass(frozen=True)
class Section:
    """Where something sits in a chapter: its heading, and the nearest labelled heading above.

    ``label`` is that heading's MyST label and ``label_title`` its text (the same heading when
    it has a label itself); links point there, since an unlabelled heading has no stable anchor.
    """

    title: str
    label: str | None = None
    label_title: str | None = None


@dataclass(frozen=True)
class Equation:
    label: str
    chapter: str  # notebook stem, e.g. "02_core_concepts"
    chapter_title: str
    section: Section
    latex: str


@dataclass(frozen=True)
class CellCheck:
    labels: tuple[str, ...]
    kind: str
    tol: str
    chapter: str
    cell: int  # index in the notebook's cell list
    number: int  # the n-th code cell shown in its section (1-based)
    section: Section
    tags: tuple[str, ...]
    asserts: bool
    nbval_ignores: bool

    def problems(self) -> list[str]:
        """Why this cell cannot count as a check (empty when it can)."""
        where = f"{self.chapter} cell {self.cell}"
        found = []
        if self.nbval_ignores:
            found.append(f"{where}: nbval does not compare its output (tags {list(self.tags)} "
                         "or an NBVAL_ comment); a check cell must be compared")
        if not self.asserts:
            found.append(f"{where}: never asserts; a check must fail when the equation is wrong "
                         '(e.g. `assert err < 1e-10; print("max |diff| < 1e-10")`)')
        if HIDDEN_TAGS & set(self.tags):
            found.append(f"{where}: tagged {sorted(HIDDEN_TAGS & set(self.tags))}, so the site "
                         "does not show the check it links to")
        return found


@dataclass(frozen=True)
class TestCheck:
    labels: tuple[str, ...]
    kind: str
    tol: str
    path: str  # repository-relative, e.g. "tests/core/test_core_tf.py"
    name: str  # "test_x" or "TestClass::test_x"


@dataclass
class Trace:
    equations: list[Equation] = field(default_factory=list)
    cells: list[CellCheck] = field(default_factory=list)
    tests: list[TestCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # malformed or dangling declarations
    unnumbered: dict[str, int] = field(default_factory=dict)  # chapter -> display equations

    def checks_of(self, label: str) -> list[CellCheck | TestCheck]:
        return [c for c in [*self.cells, *self.tests] if label in c.labels]

    def valid_checks_of(self, label: str) -> list[CellCheck | TestCheck]:
        return [c for c in self.checks_of(label)
                if isinstance(c, TestCheck) or not c.problems()]

    def unchecked(self, chapter: str | None = None) -> list[str]:
        """Labels (of ``chapter``, or of all chapters) without a single valid check."""
        return [e.label for e in self.equations
                if (chapter is None or e.chapter == chapter) and not self.valid_checks_of(e.label)]

    def all_problems(self) -> list[str]:
        """Declarations that are malformed, dangling or invalid (unchecked equations aside)."""
        known = {e.label for e in self.equations}
        found = list(self.problems)
        for c in self.cells:
            found += c.problems()
        for c in [*self.cells, *self.tests]:
            where = (f"{c.chapter} cell {c.cell}" if isinstance(c, CellCheck)
                     else f"{c.path}::{c.name}")
            found += [f"{where}: checks {label}, which no chapter defines"
                      for label in c.labels if label not in known]
        return found


# ---------------------------------------------------------------- declarations
def parse_declaration(line: str) -> tuple[tuple[str, ...], str, str]:
    """``"# checks: eq-a, eq-b | TensorFlow | atol 1e-7"`` -> ``(("eq-a", "eq-b"), kind, tol)``.

    Raises ValueError naming what was expected and what was got.
    """
    expected = "expected '# checks: eq-a, eq-b | <kind> | <tolerance>'"
    body = CHECKS_LINE.sub("", line, count=1)
    parts = [p.strip() for p in body.split("|")]
    if not CHECKS_LINE.match(line) or len(parts) != 3:
        raise ValueError(f"{expected}, got {line.strip()!r}")
    labels = tuple(x.strip() for x in parts[0].split(",") if x.strip())
    return _validated(labels, parts[1], parts[2], f"{line.strip()!r}")


def declaration(lines: list[str]) -> str:
    """The declaration of a cell: its first line, joined with the comment lines that continue it.

    A long declaration may go on over lines that start with ``#`` and at least two spaces, so
    that no code line is wider than the site's column::

        # checks: eq-nll, eq-gaussian-nll, eq-bce-logits, eq-softmax-ce
        #   | reference value | atol 1e-12
    """
    parts = [lines[0]]
    for line in lines[1:]:
        if not CONTINUATION.match(line):
            break
        parts.append(line.lstrip()[1:].strip())
    return " ".join(parts)


def _validated(labels, kind, tol, what: str) -> tuple[tuple[str, ...], str, str]:
    if not labels or not all(re.fullmatch(r"eq-[\w-]+", x) for x in labels):
        raise ValueError(f"expected labels like eq-name in {what}, got {list(labels)}")
    if kind not in KINDS:
        raise ValueError(f"expected a kind out of {list(KINDS)} in {what}, got {kind!r}")
    if not tol:
        raise ValueError(f"expected a tolerance (e.g. 'atol 1e-7', 'exact') in {what}, got none")
    return labels, kind, tol


def cell_asserts(source: str) -> bool:
    """Whether a code cell can fail by itself: an ``assert`` or a call of ``assert*``/``*.assert_*``."""
    code = "\n".join("pass" if ln.lstrip().startswith(("%", "!")) else ln
                     for ln in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return bool(re.search(r"^\s*assert\b", source, re.M))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name.startswith("assert"):
                return True
    return False


# ---------------------------------------------------------------- notebooks
def _markdown_lines(text: str):
    """The lines of a markdown cell outside code fences (a `# comment` in a fence is no heading)."""
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def scan_notebook(path: Path, trace: Trace) -> None:
    """Add the equations and check cells of one notebook to ``trace``."""
    chapter = path.stem
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    title, stack, pending = chapter, [], None  # stack: [(level, Section)] of open headings
    code_in_section = 0

    def section() -> Section:
        heading = stack[-1][1] if stack else Section(title)
        labelled = next((s for _, s in reversed(stack) if s.label), Section(""))
        return Section(heading.title, labelled.label, labelled.title or None)

    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            # An equation belongs to the last heading above it, also within one cell: buffer the
            # text between headings and read its equations before the next heading opens.
            buffer = []
            for line in _markdown_lines(source):
                if m := TARGET.match(line):
                    pending = m.group(1)
                elif m := HEADING.match(line):
                    _equations_of("\n".join(buffer), chapter, title, section, trace)
                    buffer = []
                    level = len(m.group(1))
                    if level == 1:
                        title, stack = m.group(2), []
                    else:
                        stack = [(lv, s) for lv, s in stack if lv < level]
                        stack.append((level, Section(m.group(2), pending, m.group(2))))
                    code_in_section = 0
                    pending = None
                    continue
                elif line.strip():
                    pending = None
                buffer.append(line)
            _equations_of("\n".join(buffer), chapter, title, section, trace)
            continue
        if cell["cell_type"] != "code":
            continue
        tags = tuple(cell.get("metadata", {}).get("tags", []))
        if not HIDDEN_TAGS & set(tags):
            code_in_section += 1
        lines = source.splitlines()
        declared = [i for i, ln in enumerate(lines) if CHECKS_LINE.match(ln)]
        if not declared:
            continue
        if declared != [0]:
            trace.problems.append(f"{chapter} cell {index}: the '# checks:' comment must be the "
                                  f"cell's first line and appear once, got it on lines "
                                  f"{[i + 1 for i in declared]}")
            continue
        try:
            labels, kind, tol = parse_declaration(declaration(lines))
        except ValueError as err:
            trace.problems.append(f"{chapter} cell {index}: {err}")
            continue
        ignores = bool(NBVAL_TAGS & set(tags)) or any(c in source for c in NBVAL_COMMENTS)
        trace.cells.append(CellCheck(labels, kind, tol, chapter, index, code_in_section,
                                     section(), tags, cell_asserts(source), ignores))


def _equations_of(text, chapter, title, section, trace) -> None:
    for m in EQUATION.finditer(text):
        latex, label = m.group(1).strip(), m.group(2)
        if label is None:
            trace.unnumbered[chapter] = trace.unnumbered.get(chapter, 0) + 1
            continue
        if label in {e.label for e in trace.equations}:
            trace.problems.append(f"{chapter}: {label} is defined twice")
            continue
        trace.equations.append(Equation(label, chapter, title, section(), latex))


# ---------------------------------------------------------------- tests
def _marks(decorators, where: str, problems: list[str]) -> list[tuple[tuple[str, ...], str, str]]:
    """The ``pytest.mark.checks(...)`` among ``decorators`` (AST nodes), validated."""
    found = []
    for node in decorators:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "checks"
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
            continue
        try:
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
                raise ValueError("expected the labels as string literals")
            kw = {k.arg: k.value for k in node.keywords}
            if set(kw) != {"kind", "tol"} or not all(
                    isinstance(v, ast.Constant) and isinstance(v.value, str) for v in kw.values()):
                raise ValueError(f"expected kind=... and tol=... as string literals, got "
                                 f"{sorted(k or '**' for k in kw)}")
            found.append(_validated(tuple(a.value for a in node.args), kw["kind"].value,
                                    kw["tol"].value, "the checks marker"))
        except ValueError as err:
            problems.append(f"{where} (line {node.lineno}): {err}")
    return found


def _module_marks(tree, where, problems):
    for node in tree.body:
        if (isinstance(node, ast.Assign)
                and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)):
            values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            return _marks(values, where, problems)
    return []


def scan_test_file(path: Path, relative: str, trace: Trace) -> None:
    """Add the marked tests of one file: functions, parametrized or not, and class methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_marks(tree, relative, trace.problems)

    def add(fn, name, inherited):
        marks = inherited + _marks(fn.decorator_list, f"{relative}::{name}", trace.problems)
        if marks and not fn.name.startswith("test"):
            trace.problems.append(f"{relative}::{name}: marked checks but pytest does not collect "
                                  "it (the name must start with 'test')")
            return
        for labels, kind, tol in marks:
            trace.tests.append(TestCheck(labels, kind, tol, relative, name))

    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, functions):
            add(node, node.name, module)
        elif isinstance(node, ast.ClassDef):
            inherited = module + _marks(node.decorator_list, f"{relative}::{node.name}",
                                        trace.problems)
            for item in node.body:
                if isinstance(item, functions) and node.name.startswith("Test"):
                    add(item, f"{node.name}::{item.name}", inherited)


def scan(repo: Path = REPO) -> Trace:
    """Everything: the chapters' equations and check cells, and the tests' markers."""
    trace = Trace()
    for nb in sorted((repo / "book").glob("[0-9][0-9]_*.ipynb")):
        scan_notebook(nb, trace)
    for py in sorted((repo / "tests").rglob("*.py")):
        scan_test_file(py, py.relative_to(repo).as_posix(), trace)
    return trace


# ---------------------------------------------------------------- the appendix page
def _section_link(s: Section, chapter: str) -> str:
    def plain(text):  # a role's text cannot hold backticks or angle brackets
        return re.sub(r"[`*<>]", "", text)

    if not s.label:
        return f"{plain(s.title)} ({{doc}}`{chapter}`)"
    link = f"{{ref}}`{plain(s.label_title)} <{s.label}>`"
    return link if s.label_title == s.title else f"{link} › {plain(s.title)}"


def _check_item(c: CellCheck | TestCheck) -> str:
    """One check as a list item (a list, not a table: long test names wrap in the PDF)."""
    if isinstance(c, CellCheck):
        where = f"code cell {c.number} of {_section_link(c.section, c.chapter)}"
        if c.problems():
            where += " (not counted: see the test's message)"
    else:
        where = f"test `{c.name}` in [{c.path}]({blob_url(c.path)})"
    return f"- {where}: {c.kind}, tolerance {c.tol}"


def render(trace: Trace) -> str:
    n_eq = len(trace.equations)
    n_checked = n_eq - len(trace.unchecked())
    by_cell = sum(any(isinstance(c, CellCheck) for c in trace.valid_checks_of(e.label))
                  for e in trace.equations)
    by_test = sum(any(isinstance(c, TestCheck) for c in trace.valid_checks_of(e.label))
                  for e in trace.equations)
    out = [
        "<!-- Generated by tools/equations.py from the chapters and tests; do not edit by hand:",
        "     rerun `python tools/equations.py` (a test fails while this page is stale). -->",
        "",
        "(equations-and-checks)=",
        "# Equations and their checks",
        "",
        "Every numbered equation of the book, where it is stated, and the code that checks it. A check",
        "executes the equation and compares it with something independent: finite differences,",
        "TensorFlow, a closed form, a reference value, or a property such as normalisation. A check",
        "is a code cell of a chapter (its first line reads `# checks: ...`; its stored output is",
        "compared on every test run) or a test in the repository's `tests/` folder. A cell is named",
        "by its position among the code cells of the linked section; its first line names the",
        "equations it checks.",
        "",
        f"{n_checked} of {n_eq} equations have at least one check: {by_cell} in a chapter's cell, "
        f"{by_test} in a test (some in both).",
    ]
    chapter = None
    for e in trace.equations:
        if e.chapter != chapter:
            chapter = e.chapter
            out += ["", f"## {e.chapter_title}"]
        # equation numbers restart on every page: the label names the equation across pages
        out += ["", f"**{{eq}}`{e.label}`** `{e.label}`, in {_section_link(e.section, e.chapter)}",
                "",
                "$$", e.latex, "$$", ""]
        checks = trace.checks_of(e.label)
        out += [_check_item(c) for c in checks]
        if not trace.valid_checks_of(e.label):
            out += [*([""] if checks else []), "*No check yet.*"]
    return "\n".join(out) + "\n"


def report(trace: Trace) -> str:
    lines = ["chapter               equations  checked  by cells  by tests  unnumbered display"]
    for ch in sorted({e.chapter for e in trace.equations} | set(trace.unnumbered)):
        eqs = [e for e in trace.equations if e.chapter == ch]
        valid = {e.label: trace.valid_checks_of(e.label) for e in eqs}
        lines.append(
            f"{ch:22s}{len(eqs):10d}{sum(bool(v) for v in valid.values()):9d}"
            f"{sum(any(isinstance(c, CellCheck) for c in v) for v in valid.values()):10d}"
            f"{sum(any(isinstance(c, TestCheck) for c in v) for v in valid.values()):10d}"
            f"{trace.unnumbered.get(ch, 0):20d}")
        if missing := trace.unchecked(ch):
            lines.append(f"    unchecked: {', '.join(missing)}")
    lines += [f"problem: {p}" for p in trace.all_problems()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    trace = scan(REPO)
    if "--report" in argv:
        print(report(trace))
        return 0
    (REPO / PAGE).write_text(render(trace), encoding="utf-8")
    print(f"wrote {PAGE}: {len(trace.equations)} equations, "
          f"{len(trace.unchecked())} without a check, {len(trace.all_problems())} problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
