"""Run notebooks top to bottom as "Run all" does on a fresh Colab runtime.

    python tools/run_like_colab.py WHEEL NOTEBOOK...      (what `make test-colab` runs)

Run it with the Python of a clean environment that lacks dlbook_utils. Each notebook is executed
in its own empty directory outside the repository (no book/ beside it, as on Colab), and
``DLBOOK_PIP_SPEC`` points the notebooks' install cell at ``WHEEL``: the first notebook installs
the package, the others find it installed. Exits non-zero if any notebook fails.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

PIP_SPEC_ENV = "DLBOOK_PIP_SPEC"  # dlbook_utils.project.PIP_SPEC_ENV; the package is not installed yet


def run_all(notebooks: list[Path], work: Path) -> list[str]:
    failures = []
    for path in notebooks:
        run_dir = work / f"{path.parent.name}-{path.stem}"
        run_dir.mkdir()
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        try:  # cells tagged raises-exception may raise, as in the book; any other error fails
            NotebookClient(nb, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(run_dir)}}).execute()
            status = "ok"
        except Exception as exc:  # report every notebook, then fail
            last = str(exc).strip().splitlines()[-1:] or [""]
            status = f"FAILED ({type(exc).__name__}: {last[0][:300]})"
            failures.append(f"{path.parent.name}/{path.name}")
        print(f"{path.parent.name}/{path.name}: {status} in {time.perf_counter() - start:.0f} s",
              flush=True)
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    wheel, notebooks = Path(argv[0]).resolve(), [Path(p).resolve() for p in argv[1:]]
    if not wheel.is_file():
        raise FileNotFoundError(f"expected a wheel file, got {wheel}")
    if importlib.util.find_spec("dlbook_utils") is not None:
        raise RuntimeError("expected an environment without dlbook_utils (a fresh runtime), "
                           "found it importable")
    os.environ[PIP_SPEC_ENV] = str(wheel)  # the kernels inherit it
    os.environ.pop("PYTHONPATH", None)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dlbook-colab-") as work:
        failures = run_all(notebooks, Path(work))
    print(f"{len(notebooks) - len(failures)}/{len(notebooks)} notebooks ran top to bottom "
          f"in {time.perf_counter() - start:.0f} s" + (f"; failed: {failures}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
