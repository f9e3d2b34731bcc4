"""Sphinx glue for the PDF edition (``make pdf``) and the website's link to it.

Three jobs:

* **Explorers on paper.** An explorer's web view is a ``to_jshtml`` player: an HTML page whose
  frames are base64 PNGs. LaTeX cannot show HTML, so each such output gains an ``image/png``
  alternative holding the frame the website shows first (frame 1), with a note that the web edition
  plays them all. The HTML builder still prefers the player (``nb_mime_priority_overrides``).
* **Chapter numbers.** The site's chapter titles carry their number; LaTeX adds its own, so the
  PDF's titles drop theirs. The appendices are lettered (A, B, ...), not numbered on.
* **The link.** When ``_build/latex/dlbook.pdf`` exists next to the HTML output, the HTML build
  copies it to the site's root and sets the tag ``pdf_edition``, which shows the intro page's link
  to it (an ``{only}`` block). Without a PDF there is no link, so the site never links a missing
  file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

PDF_NAME = "dlbook.pdf"
APPENDICES_CAPTION = "Appendices"  # the last part of _toc.yml
# A chapter's title on the site carries its number ("7. Data augmentation").
CHAPTER_NUMBER = re.compile(r"\d+\. (?=[A-Z])")
# matplotlib's to_jshtml writes each frame as: frames[i] = "data:image/png;base64,<lines ending in \>"
FRAME = re.compile(r'frames\[(\d+)\] = "data:image/png;base64,([A-Za-z0-9+/=\\\s]+)"')


def first_frame(html: str) -> tuple[bytes, int] | None:
    """The PNG bytes of frame 0 of a ``to_jshtml`` player and its number of frames, or None."""
    frames = FRAME.findall(html)
    if not frames:
        return None
    _, data = min(frames, key=lambda f: int(f[0]))
    return base64.b64decode(re.sub(r"[\\\s]", "", data)), len(frames)


class ExplorerFrameForPaper(SphinxTransform):
    """Give every ``to_jshtml`` output an ``image/png`` alternative: its first frame."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        out = Path(self.app.outdir).parent / "jupyter_execute" / "explorer_frames"
        for bundle in self.document.findall(nodes.container):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            types = [child.get("mime_type") for child in bundle.children]
            if "text/html" not in types or "image/png" in types:
                continue
            html = "".join(raw.astext() for raw in bundle.children[types.index("text/html")]
                           .findall(nodes.raw))
            found = first_frame(html)
            if found is None:
                continue
            png, n_frames = found
            # Content-addressed: the same frame is one file, whichever build wrote it.
            path = out / f"{hashlib.sha256(png).hexdigest()[:16]}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_bytes(png)
            # Sphinx reads "/..." relative to the source folder (the output may lie outside it).
            uri = "/" + Path(os.path.relpath(path.resolve(), Path(self.app.srcdir).resolve())).as_posix()
            note = nodes.paragraph(text=f"Frame 1 of {n_frames} of an interactive explorer; "
                                        "the web edition plays them all.")
            note["classes"].append("explorer-note")
            bundle.append(nodes.container("", nodes.image(uri=uri), note, mime_type="image/png"))


class ChapterTitleWithoutNumber(SphinxPostTransform):
    """LaTeX numbers the chapters itself ("Chapter 7"), so on paper the title drops its number;
    otherwise the chapter page, the contents and every running head would show it twice."""

    default_priority = 200
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for title in self.document.findall(nodes.title):
            if (isinstance(title.parent, nodes.section) and title.children
                    and isinstance(title[0], nodes.Text) and CHAPTER_NUMBER.match(title[0])):
                title.replace(title[0], nodes.Text(CHAPTER_NUMBER.sub("", title[0], count=1)))


class AppendicesLettered(SphinxPostTransform):
    """On paper the appendices are lettered (Appendix A: Notation, ...) instead of numbered on
    from the chapters and the Exercises and Solutions parts ("Chapter 31"): a LaTeX
    ``\\appendix`` goes just before the part whose caption is ``APPENDICES_CAPTION``.
    sphinx_jupyterbook_latex turns the TOC's captions into parts at priority 700."""

    default_priority = 800
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for title in self.document.findall(nodes.title):
            part = title.parent
            if title.astext() == APPENDICES_CAPTION and isinstance(part, nodes.section):
                holder = part.parent.parent  # section < start_of_file < compound
                where = holder.parent.index(holder)
                holder.parent.insert(where, nodes.raw("", "\\appendix\n", format="latex"))
                return


def tag_when_pdf_exists(app) -> None:
    """Set the tag ``pdf_edition`` for HTML builds when the PDF has been built."""
    if app.builder.format == "html" and (Path(app.outdir).parent / "latex" / PDF_NAME).is_file():
        app.tags.add("pdf_edition")


def reread_root_page(app, env, added, changed, removed) -> list[str]:
    """The root page's link depends on whether the PDF exists, which Sphinx does not track: an
    incremental site build after `make pdf` would otherwise keep the page without its link."""
    return [app.config.root_doc] if app.builder.format == "html" else []


def copy_pdf(app, exception) -> None:
    """Copy the PDF to the site's root, where the intro page links it."""
    pdf = Path(app.outdir).parent / "latex" / PDF_NAME
    if exception is None and app.builder.format == "html" and pdf.is_file():
        shutil.copy2(pdf, Path(app.outdir) / PDF_NAME)


def setup(app):
    app.add_transform(ExplorerFrameForPaper)
    app.add_post_transform(ChapterTitleWithoutNumber)
    app.add_post_transform(AppendicesLettered)
    app.connect("builder-inited", tag_when_pdf_exists)
    app.connect("env-get-outdated", reread_root_page)
    app.connect("build-finished", copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
