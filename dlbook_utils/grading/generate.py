"""Generate learner notebooks from solution notebooks.

    python -m dlbook_utils.grading.generate solutions exercises [--no-execute]

Each region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a stub that keeps the
notebook runnable to the end (so ``check`` can say "not attempted" instead of a NameError):

* inside a function body: ``# YOUR CODE HERE`` + ``return None``;
* at top level: ``name = None`` for every variable the region assigns, and for a function it
  defines, the same signature with ``return None``.

Outputs are cleared, then (unless ``--no-execute``) the exercise is executed so that its stored
outputs (what nbval compares) show "not attempted".
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

from dlbook_utils.project import INSTALL_TAG, install_cell_source, is_install_cell

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_MARKER = re.compile(r"^\s*###\s*(BEGIN|END) SOLUTION\s*$")


class SolutionMarkerError(ValueError):
    """Unbalanced or malformed solution markers."""


def _toplevel_stub(region: list[str]) -> list[str]:
    try:
        tree = ast.parse("\n".join(region))
    except SyntaxError as exc:
        raise SolutionMarkerError(f"solution region does not parse: {exc}") from exc
    stub = ["# YOUR CODE HERE"]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub += [f"def {node.name}({ast.unparse(node.args)}):", "    return None"]
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            for name in ([t] if isinstance(t, ast.Name) else getattr(t, "elts", [])):
                if isinstance(name, ast.Name) and f"{name.id} = None" not in stub:
                    stub.append(f"{name.id} = None")
    return stub


def _stub(region: list[str], indent: str, before: list[str], after: list[str]) -> list[str]:
    if not indent:
        return _toplevel_stub(region)
    stub = [f"{indent}# YOUR CODE HERE", f"{indent}return None"]
    try:  # `return` is only valid inside a function; elsewhere fall back to `pass`
        compile("\n".join(before + stub + after), "<stub>", "exec")
    except SyntaxError:
        stub = [f"{indent}# YOUR CODE HERE", f"{indent}pass"]
    return stub


def strip_solutions(source: str) -> str:
    """``source`` with every solution region replaced by its stub."""
    lines, out, i = source.split("\n"), [], 0
    while i < len(lines):
        m = _MARKER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        if m.group(1) == "END":
            raise SolutionMarkerError(f"{END} without {BEGIN}")
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        j = i + 1
        while j < len(lines) and not _MARKER.match(lines[j]):
            j += 1
        if j == len(lines) or _MARKER.match(lines[j]).group(1) != "END":
            raise SolutionMarkerError(f"{BEGIN} without a matching {END}")
        region = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[i + 1: j]]
        out += _stub(region, indent, out, lines[j + 1:])
        i = j + 1
    return "\n".join(out)


def solution_regions(source: str) -> list[list[str]]:
    """The solution lines of each region (used by tests to prove they do not leak)."""
    regions, current = [], None
    for line in source.split("\n"):
        m = _MARKER.match(line)
        if m and m.group(1) == "BEGIN":
            current = []
        elif m:
            regions.append(current or [])
            current = None
        elif current is not None:
            current.append(line)
    return regions


def make_exercise(nb):
    """A new notebook: solutions stubbed, outputs cleared, the package's install cell first."""
    ex = nbformat.from_dict(nb)
    cells = [c for c in ex.cells if not is_install_cell(c)]
    install = nbformat.v4.new_code_cell(install_cell_source(), metadata={"tags": [INSTALL_TAG]})
    old = next((c for c in ex.cells if is_install_cell(c)), None)
    install.id = old.id if old is not None and "id" in old else f"install-{len(cells)}"
    # before any other code, so "Run all" on a fresh runtime installs before it imports
    cells.insert(next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells)), install)
    ex.cells = cells
    for cell in ex.cells:
        if cell.cell_type == "code":
            if "### BEGIN SOLUTION" in cell.source:  # folded on the solutions' page, not here
                cell.metadata.pop("mystnb", None)
                tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
                cell.metadata["tags"] = tags
                if not tags:
                    del cell.metadata["tags"]
            cell.source = strip_solutions(cell.source)
            cell.outputs, cell.execution_count = [], None
    ex.metadata.setdefault("dlbook", {})["exercise"] = True
    return ex


def execute(nb, cwd: Path):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def generate(src_dir: Path, dst_dir: Path, *, run: bool = True) -> list[Path]:
    """Write ``dst_dir/chNN_*.ipynb`` for every ``src_dir/chNN_*.ipynb``; return the paths."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(src_dir.glob("ch*.ipynb")):
        ex = make_exercise(nbformat.read(src, as_version=4))
        if run:
            execute(ex, dst_dir)
        dst = dst_dir / src.name
        nbformat.write(ex, dst)
        written.append(dst)
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("solutions", type=Path)
    p.add_argument("exercises", type=Path)
    p.add_argument("--no-execute", action="store_true", help="do not store executed outputs")
    a = p.parse_args(argv)
    for path in generate(a.solutions, a.exercises, run=not a.no_execute):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
