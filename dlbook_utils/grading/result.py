"""The outcome of grading one question: text for terminals, small HTML for notebooks.

Both representations are stable (no addresses, no timings), because stored notebook outputs are
compared by nbval.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import asdict, dataclass

from dlbook_utils import __version__

WIDTH = 75  # the book's column: a notebook's stored text output must not scroll sideways
# "submitted": a free-response answer recorded for the instructor; "graded": its score merged back
STATUSES = ("passed", "failed", "not attempted", "error", "submitted", "graded")
_SYMBOL = {"passed": "✓", "failed": "✗", "not attempted": "·", "error": "✗", "submitted": "✎",
           "graded": "✎"}
_COLOUR = {"passed": "#1a7f37", "failed": "#b35900", "not attempted": "#57606a", "error": "#cf222e",
           "submitted": "#0969da", "graded": "#0969da"}


@dataclass
class Result:
    """``check``'s answer: ``.passed``, ``.score`` (0 or 1), ``.status``, ``.hint``, ``.message``."""

    qid: str
    title: str
    status: str
    message: str = ""
    hint: str = ""
    mistake: str | None = None  # id of the recognised mistake, if any
    n_cases: int = 0
    n_passed: int = 0
    points: float = 1.0
    section: str = ""  # the book section to reread, shown with a failure
    rubric: str = ""  # free-response questions: shown once the learner has answered
    answer: str = ""  # free-response questions: the text, for the instructor's export

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def score(self) -> float:
        return 1.0 if self.passed else 0.0

    def __bool__(self) -> bool:
        return self.passed

    @property
    def version(self) -> str:
        """The dlbook_utils release that graded the answer (name it when reporting a problem)."""
        return __version__

    def to_dict(self) -> dict:
        d = asdict(self)
        d["score"] = self.score
        return d

    def __str__(self) -> str:
        head = f"{_SYMBOL[self.status]} {self.qid} {self.title}: {self.status}"
        if self.n_cases and self.status in ("passed", "failed", "error"):
            head += f" ({self.n_passed}/{self.n_cases} cases)"
        lines = [head]
        if self.message:
            lines.append(f"  {self.message}")
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        if self.rubric:
            lines.append(f"  Rubric: {self.rubric}")
        if self.section:
            lines.append(f"  See: {self.section}")
        return "\n".join(lines)

    __repr__ = __str__

    def wrapped(self, width: int = WIDTH) -> str:
        """``str(self)`` folded to lines of at most ``width`` characters (words are never split,
        so a single word longer than ``width`` stays whole); continuation lines are indented."""
        lines = []
        for line in str(self).split("\n"):
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            lines += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False) or [""]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        """The plain-text form a notebook stores (and a PDF prints): folded to the column. str()
        stays one line per part, for logs and the batch grader's feedback."""
        printer.text(self.wrapped())

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        head = html.escape(str(self).split("\n")[0])
        parts = [f'<div style="border-left:4px solid {colour};padding:2px 8px;margin:2px 0">',
                 f'<b style="color:{colour}">{head}</b>']
        if self.message:
            parts.append(f"<br>{html.escape(self.message)}")
        if self.hint:
            parts.append(f"<br><i>Hint:</i> {html.escape(self.hint)}")
        if self.rubric:
            parts.append(f"<br><i>Rubric:</i> {html.escape(self.rubric)}")
        if self.section:
            link = html.escape(self.section, quote=True)
            parts.append(f'<br><i>See:</i> <a href="{link}">{link}</a>')
        parts.append("</div>")
        return "".join(parts)
