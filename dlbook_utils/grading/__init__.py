"""Exercises and autograding.

* Learners: ``from dlbook_utils.grading import check`` then ``check("5.3", adam_step)``.
* Authors: declare questions in ``questions/chNN.py`` (see :mod:`dlbook_utils.grading.registry`)
  and regenerate the exercises with ``python -m dlbook_utils.grading.generate solutions
  exercises``.
* Instructors: ``python -m dlbook_utils.grading grade SUBMISSIONS_DIR --out OUTDIR`` (see
  :mod:`dlbook_utils.grading.batch`).

Importing this package is light: no question module is loaded until ``check`` needs it.
"""

from .learner import check
from .result import Result

__all__ = ["Result", "check"]
