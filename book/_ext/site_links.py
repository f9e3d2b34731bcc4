"""Sphinx glue: links to the book's own website become local links, and a book without solutions.

**Links that work everywhere.** An exercise or solution notebook is mostly read alone, on Colab,
where a relative link such as ``../book/04_backprop.ipynb`` leads nowhere. So its links to a
chapter (and a chapter's links to its exercise and solution pages) are absolute URLs of the
published site, ``https://OWNER.github.io/NAME/book/04_backprop.html#label``, written by
``tools/sync_links.py``. When the site itself is built, each such link becomes a relative link
to the page just built, so the site works offline and links nothing outside. A link whose page is
not in the book, or whose ``#label`` is not a label of that page, is a warning (the build runs with
``-W``, so it fails).

**A book without solutions.** With ``DLBOOK_NO_SOLUTIONS=1`` (``make book-nosolutions``, which
also drops the "Solutions" part of the table of contents), a paragraph whose only links go to
solution pages is removed (the chapters' "Solutions:" line). Any other link to a solution page is
a warning, so a solution link inside running text cannot slip through.
"""

from __future__ import annotations

import os
from urllib.parse import urldefrag

from docutils import nodes
from sphinx.util import logging

from dlbook_utils.project import site_url

logger = logging.getLogger(__name__)
SOLUTIONS = "solutions/"
NO_SOLUTIONS_ENV = "DLBOOK_NO_SOLUTIONS"
SOLUTION_LINE = "Solution page:"  # how tools/sync_links.py starts a chapter's link to its solutions


def no_solutions() -> bool:
    return os.environ.get(NO_SOLUTIONS_ENV, "") not in ("", "0")


def site_target(uri: str) -> tuple[str, str] | None:
    """``(docname, label)`` of a link to a page of the book's website, or None for any other URI."""
    base = site_url("")
    if not uri.startswith(base):
        return None
    path, label = urldefrag(uri[len(base):])
    return path.removesuffix(".html"), label


def _warn(node, message: str) -> None:
    logger.warning(message, location=node, type="dlbook", subtype="site_link")


def _drop_solution_paragraphs(doctree) -> None:
    """Remove each "Solution page: ..." paragraph."""
    for par in list(doctree.findall(nodes.paragraph)):
        if par.astext().startswith(SOLUTION_LINE):
            par.parent.remove(par)


def localise_site_links(app, doctree, fromdocname: str) -> None:
    """Rewrite links to the published site as links within this build (HTML builds only)."""
    if app.builder.format != "html":
        return  # on paper the published site is the right target
    if no_solutions():
        _drop_solution_paragraphs(doctree)
    labels = app.env.domaindata["std"]["labels"]  # label -> (docname, anchor id, title)
    for ref in doctree.findall(nodes.reference):
        target = site_target(ref.get("refuri", ""))
        if target is None:
            continue
        docname, label = target
        if no_solutions() and docname.startswith(SOLUTIONS):
            _warn(ref, f"a link to {docname} in a book without solutions (remove its sentence)")
            continue
        if docname not in app.env.all_docs:
            _warn(ref, f"a link to {ref['refuri']}: no page {docname!r} in this book")
            continue
        uri = app.builder.get_relative_uri(fromdocname, docname)
        if label:
            if labels.get(label, ("",))[0] != docname:
                _warn(ref, f"a link to {ref['refuri']}: no label {label!r} in {docname}")
                continue
            uri += "#" + labels[label][1]
        ref["refuri"] = uri
        ref["internal"] = True
        ref["classes"] = [c for c in ref.get("classes", []) if c != "external"] + ["internal"]


def tag_solutions(app) -> None:
    """Set the tag ``solutions`` unless the book is built without them (``{only} solutions``)."""
    if not no_solutions():
        app.tags.add("solutions")


def setup(app):
    app.connect("builder-inited", tag_solutions)
    app.connect("doctree-resolved", localise_site_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
