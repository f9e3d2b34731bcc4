"""Build the website from the notebooks' stored outputs, with or without the solutions.

    python tools/build_site.py --out _build/nosolutions --no-solutions   # make book-nosolutions

The stored outputs are what nbval checks against a fresh run, so nothing is executed here. Every
Sphinx warning fails the build (``-W``), as in ``make book``.

Without the solutions (for a course whose graded exercises must not have their answers a click
away): the "Solutions" part of ``_toc.yml`` is dropped, so no solution page is built, and
``DLBOOK_NO_SOLUTIONS=1`` makes ``book/_ext/site_links.py`` remove each chapter's "Solution page"
line and fail the build on any other link to a solution page.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
NO_SOLUTIONS_ENV = "DLBOOK_NO_SOLUTIONS"  # read by book/_ext/site_links.py
SOLUTIONS_CAPTION = "Solutions"


def site_config(root: Path = REPO) -> dict:
    """``root/_config.yml`` set to render stored outputs, with extension folders made absolute."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"
    # Jupyter Book resolves local extensions' folders against the config file's folder.
    for name, folder in config["sphinx"].get("local_extensions", {}).items():
        config["sphinx"]["local_extensions"][name] = str((root / folder).resolve())
    return config


def toc_without_solutions(toc: dict) -> dict:
    """``toc`` without its "Solutions" part; an error if it has none (the TOC changed shape)."""
    parts = toc.get("parts", [])
    kept = [p for p in parts if p.get("caption") != SOLUTIONS_CAPTION]
    if len(kept) == len(parts):
        raise ValueError(f"_toc.yml: expected a part with caption {SOLUTIONS_CAPTION!r}, found "
                         f"{[p.get('caption') for p in parts]}")
    return {**toc, "parts": kept}


def build(out: Path, *, solutions: bool = True, root: Path = REPO) -> tuple[Path, str, int]:
    """Build ``root``'s book into ``out``; return (the HTML folder, the build log, exit code)."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = out / "_config.yml"
    cfg.write_text(yaml.safe_dump(site_config(root), allow_unicode=True, sort_keys=False))
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    if not solutions:
        toc = toc_without_solutions(toc)
    toc_file = out / "_toc.yml"
    toc_file.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False))
    env = {**os.environ, NO_SOLUTIONS_ENV: "" if solutions else "1"}
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", "-W", "--keep-going", "--config", str(cfg), "--toc", str(toc_file),
         "--path-output", str(out), str(root)],
        capture_output=True, text=True, cwd=root, env=env,
    )
    log = proc.stdout + proc.stderr
    (out / "build.log").write_text(log)
    return out / "_build" / "html", log, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "site")
    parser.add_argument("--no-solutions", action="store_true", help="publish without solution pages")
    args = parser.parse_args(argv)
    html, log, code = build(args.out.resolve(), solutions=not args.no_solutions)
    if code or "WARNING" in log:
        print(log[-6000:], file=sys.stderr)
        return code or 1
    print(f"Built {html}/index.html" + (" (without solutions)" if args.no_solutions else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
