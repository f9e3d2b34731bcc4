"""Question registry: how an exercise question is declared.

Every question lives in ``dlbook_utils/grading/questions/chNN.py`` (chapter NN, two digits) and
is registered at import time with one of three constructors. Question ids are ``"N.M"`` (chapter
N, question M); ``get("5.3")`` imports ``questions/ch05.py`` on demand.

1. A function question -- the learner implements a function::

       def _adam_step(w, g, m, v, t, lr, beta1, beta2, eps):      # small, clear reference
           ...
           return w_new, m_new, v_new

       function_question(
           "5.3", "Adam step", name="adam_step", reference=_adam_step,
           outputs=("w", "m", "v"),                 # names of the returned arrays (tuple order)
           cases=[(w0, g0, m0, v0, 1, 0.1, 0.9, 0.999, 1e-3), ...],   # fixed positional args
           random_cases=_random_adam_cases,         # rng -> list of arg tuples (new each grading)
           mistakes=[
               Mistake("adam-no-bias-correction", "You used m and v directly; divide by ...",
                       variant=_adam_no_bias_correction),         # a wrong reference variant
               Mistake("loss-sum-not-mean", "...", detector="ratio_n", output="loss"),
           ],
           rtol=1e-6, atol=1e-9, section="../book/05_optimizers.ipynb#adam")

   * ``reference(*args)`` returns one array/number, or a tuple of them (then name them in
     ``outputs``). Arguments are NumPy arrays, Python floats/ints, or lists/tuples of those.
     Cases are called with fresh copies, so in-place edits by the learner do no harm.
   * ``random_cases(rng)`` draws new inputs from ``rng`` (a ``np.random.Generator``): the learner's
     ``check`` uses a fixed seed per question (stable notebook output); the batch grader draws a
     new seed per grading run, so answers cannot be memorised.
   * ``batch_size_of(args) -> int`` (default: first dimension of the first array argument) is
     the ``n`` used by the ratio detectors ("your answer is n times the expected one").
   * A ``Mistake`` names one known wrong answer. Either ``variant=`` (a function with the
     reference's signature computing the wrong answer; matched when the learner's output equals
     it on every case), or ``detector=`` naming a generic detector in ``feedback.DETECTORS``
     (``"transposed"``, ``"ratio_n"``, ``"ratio_inv_n"``, ``"sign"``, ``"nonfinite"``, ``"diverged"``,
     ``"warning"``, ``"loop"``; see :mod:`detectors`), optionally restricted to one named output;
     the declared ``hint`` then replaces the detector's generic hint. Undeclared generic
     detectors still run with their generic hints. A variant that raises (e.g. ``X * W`` where
     ``X @ W`` is meant) matches an answer that raises the same error on the same cases.
     Mistake ids are kebab-case and mean the same thing book-wide.
   * ``forbid_warnings=True``: a NumPy warning (overflow, ...) fails the case, as the statement
     says; ``no_loops=True``: a loop or comprehension in the answer's source fails it.
   * ``call=`` says how the answer is called: ``"function"`` (default), ``"layer"`` and
     ``"network"`` (a forward/backward pair graded on its own cache), ``"grad_check"``; see
     :mod:`calls`. A question judged by a criterion, not a reference: :mod:`judged`.

2. A value question -- the learner computes a number or array and assigns it to a variable::

       value_question("1.4", "Parameters of a 784-128-10 MLP", name="n_params_mlp",
                      reference=101770, mistakes=[Mistake("params-no-bias", "...",
                      value=101632)], rtol=0, atol=0.5)

   A value question's ``Mistake`` gives the wrong answer itself as ``value=``. Any form with the
   right numbers is accepted (a float, a 0-d array, a list, shape (1,) or (1, 1) for a scalar),
   and a wrong value is never told how far off it is.

3. A multiple-choice question -- the answer is one option letter (case-insensitive); and a
   free-response question, ``free_response.text_question`` (a string, graded by the instructor)::

       choice_question("1.1", "Who introduced the perceptron?", name="answer_1_1",
                       options={"A": "...", "B": "...", "C": "..."}, answer="B",
                       wrong={"A": "hint when A is chosen", "C": "..."})

   Each entry of ``wrong`` becomes a ``Mistake`` whose ``value`` is that letter.

The solutions notebook ``solutions/chNN_topic.ipynb`` is the single source of the exercises:

* cell 1: imports, ``from dlbook_utils.grading import check`` and ``rng =
  np.random.default_rng(0)``; cell 2 (tag ``remove-cell``): the Colab install cell;
* then per question: a markdown cell with the statement (``**Exercise N.M**``, shapes, a link to
  the chapter section), a code cell whose solution sits between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, and a cell ``check("N.M", name)``. The function or variable must be
  called exactly ``name``;
* ``python -m dlbook_utils.grading.generate solutions exercises`` replaces each solution region
  with a stub (``return None`` inside a function, ``x = None`` for each variable assigned at top
  level) so the exercise runs to the end and ``check`` reports "not attempted".
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("function", "value", "choice", "text", "judged")
_REGISTRY: dict[str, Question] = {}


@dataclass(frozen=True)
class Mistake:
    """One known wrong answer and the hint that names it: exactly one of ``variant``,
    ``value`` and ``detector`` says how to recognise it."""

    id: str
    hint: str
    variant: Callable | None = None  # a function computing the wrong answer (function questions)
    value: Any = None  # the wrong answer itself: a number/array, or a choice question's letter
    detector: str | None = None  # name of a generic detector in detectors.DETECTORS
    output: str | None = None  # restrict a detector to this named output

    def __post_init__(self):
        given = [k for k in ("variant", "value", "detector") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"Mistake {self.id!r}: give exactly one of variant=, value= or "
                             f"detector=, got {given or 'none'}")
        if self.variant is not None and not callable(self.variant):
            raise ValueError(f"Mistake {self.id!r}: variant= is a function; for a wrong value "
                             f"use value=, got {type(self.variant).__name__}")


def _first_dim(args) -> int | None:
    for a in args:
        shape = getattr(a, "shape", ())
        if len(shape) >= 1:
            return int(shape[0])
    return None


@dataclass
class Question:
    """A registered question; build it with the constructors below, not directly."""

    qid: str
    title: str
    kind: str
    name: str  # the function / variable name the notebook defines
    reference: Any
    cases: list = field(default_factory=list)
    random_cases: Callable | None = None
    mistakes: list = field(default_factory=list)
    outputs: tuple = ("output",)
    rtol: float = 1e-6
    atol: float = 1e-9
    points: float = 1.0
    section: str = ""
    options: dict = field(default_factory=dict)
    batch_size_of: Callable = _first_dim  # args -> n, for the ratio detectors
    forbid_warnings: bool = False  # the statement forbids NumPy warnings (e.g. overflow)
    no_loops: bool = False  # the statement forbids Python loops in the answer
    rubric: str = ""  # text questions: what the instructor grades against, shown after answering
    min_words: int = 0  # text questions: shorter answers are sent back
    call: str = "function"  # how the answer is called on a case (see calls.CALLS)

    @property
    def chapter(self) -> str:
        return f"{int(self.qid.split('.')[0]):02d}"

    def make_cases(self, rng=None) -> list[tuple]:
        """Fixed cases, then random ones drawn from ``rng`` (if given)."""
        cases = [tuple(c) for c in self.cases]
        if rng is not None and self.random_cases is not None:
            cases += [tuple(c) for c in self.random_cases(rng)]
        return cases


def _register(q: Question) -> Question:
    if q.kind not in KINDS:
        raise ValueError(f"question {q.qid}: kind must be one of {KINDS}, got {q.kind!r}")
    if not re.fullmatch(r"[1-9]\d*\.[1-9]\d*", q.qid):
        raise ValueError(f"question ids are 'N.M' (chapter N, number M), got {q.qid!r}")
    if q.qid in _REGISTRY:
        raise ValueError(f"question {q.qid} registered twice ({_REGISTRY[q.qid].title!r} "
                         f"and {q.title!r}): pick a number the book does not use")
    ids = [m.id for m in q.mistakes]
    if len(ids) != len(set(ids)):
        raise ValueError(f"question {q.qid}: duplicate mistake ids {ids}")
    _REGISTRY[q.qid] = q
    return q


def function_question(qid, title, *, name, reference, cases, random_cases=None, mistakes=(),
                      outputs=("output",), rtol=1e-6, atol=1e-9, points=1.0, section="",
                      batch_size_of=None, forbid_warnings=False, no_loops=False,
                      call="function") -> Question:
    """Register an "implement this function" question (see the module docstring)."""
    from .calls import CALLS

    if not cases:
        raise ValueError(f"question {qid}: at least one fixed case is required")
    if call not in CALLS:
        raise ValueError(f"question {qid}: call must be one of {CALLS}, got {call!r}")
    return _register(Question(qid, title, "function", name, reference, list(cases), random_cases,
                              list(mistakes), tuple(outputs), rtol, atol, points, section,
                              batch_size_of=batch_size_of or _first_dim,
                              forbid_warnings=forbid_warnings, no_loops=no_loops, call=call))


def value_question(qid, title, *, name, reference, mistakes=(), rtol=1e-6, atol=1e-9,
                   points=1.0, section="") -> Question:
    """Register a "compute this number/array" question; the single case has no arguments."""
    return _register(Question(qid, title, "value", name, reference, [()], None, list(mistakes),
                              ("value",), rtol, atol, points, section,
                              batch_size_of=lambda args: None))


def choice_question(qid, title, *, name, options, answer, wrong=None, points=1.0,
                    section="") -> Question:
    """Register a multiple-choice question; ``wrong`` maps a wrong letter to its hint."""
    answer = answer.strip().upper()
    if answer not in options:
        raise ValueError(f"question {qid}: answer {answer!r} is not among {sorted(options)}")
    mistakes = [Mistake(f"choice-{qid}-{k.lower()}", hint, value=k)
                for k, hint in (wrong or {}).items()]
    return _register(Question(qid, title, "choice", name, answer, [()], None, mistakes,
                              ("answer",), 0.0, 0.0, points, section, dict(options),
                              batch_size_of=lambda args: None))


def chapter_module(chapter: str) -> str:
    return f"dlbook_utils.grading.questions.ch{int(chapter):02d}"


def load_choices(chapter: str) -> None:
    """Register the chapter's multiple-choice questions, kept as data in ``chNN_choices.yml``."""
    from importlib import resources

    import yaml

    path = resources.files(__package__) / "questions" / f"ch{int(chapter):02d}_choices.yml"
    if not path.is_file():
        return
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        if entry["id"] not in _REGISTRY:
            choice_question(entry["id"], entry["title"], name=entry["name"],
                            options=entry["options"], answer=entry["answer"],
                            wrong=entry.get("wrong"), points=entry.get("points", 1.0),
                            section=entry.get("section", ""))


def load_chapter(chapter: str) -> list[Question]:
    """Import the chapter's question module and data; return its questions in id order."""
    importlib.import_module(chapter_module(chapter))
    load_choices(chapter)
    prefix = f"{int(chapter)}."
    qs = [q for qid, q in _REGISTRY.items() if qid.startswith(prefix)]
    return sorted(qs, key=lambda q: id_key(q.qid))


def id_key(qid: str) -> tuple[int, int]:
    """Sort key: "3.10" after "3.9"."""
    chapter, number = qid.split(".")
    return int(chapter), int(number)


def all_ids() -> list[str]:
    """The ids registered so far (chapters are loaded on demand; see :func:`load_book`)."""
    return sorted(_REGISTRY, key=id_key)


def load_book() -> None:
    """Register every chapter's questions."""
    from importlib import resources

    for path in resources.files(__package__).joinpath("questions").iterdir():
        m = re.fullmatch(r"ch(\d\d)\.py", path.name)
        if m:
            load_chapter(m.group(1))


def forget(qids) -> None:
    """Unregister ``qids`` (a course's own questions, once its grading is over)."""
    for qid in qids:
        _REGISTRY.pop(qid, None)


def get(qid: str) -> Question:
    """The question ``qid`` ("N.M"); raises KeyError naming the known ids if it does not exist."""
    qid = str(qid).strip()
    chapter = qid.split(".")[0]
    if qid not in _REGISTRY and chapter.isdigit():
        try:
            load_chapter(chapter)
        except ModuleNotFoundError as exc:
            if exc.name != chapter_module(chapter):
                raise  # the chapter exists but an import inside it fails: that is the error
    if qid not in _REGISTRY:
        raise KeyError(f"unknown question {qid!r}; known: {', '.join(sorted(_REGISTRY)) or 'none'}")
    return _REGISTRY[qid]
