"""A question this course adds to chapter 3's notebooks. The reference answer lives only here,
never in the package that learners install."""

import numpy as np

from dlbook_utils.grading.free_response import text_question
from dlbook_utils.grading.registry import Mistake, function_question


def _leaky_relu(x, alpha):
    return np.where(x > 0, x, alpha * x)


def _max_form(x, alpha):  # right only while alpha <= 1
    return np.maximum(x, alpha * x)


_r = np.random.default_rng(391)
function_question(
    "3.91", "Leaky ReLU for any slope alpha >= 0", name="leaky_relu", reference=_leaky_relu,
    cases=[(_r.normal(size=(4, 3)), 0.01), (_r.normal(size=(2, 5)), 0.2),
           (np.array([[-2.0, 0.0, 3.0]]), 0.5), (np.array([[-2.0, 1.0, 3.0]]), 2.0)],
    mistakes=[Mistake("leaky-relu-max-form",
                      "np.maximum(x, alpha * x) is leaky ReLU only while alpha <= 1; "
                      "for alpha > 1 it picks alpha * x on the positive side too.",
                      variant=_max_form)],
    section="../book/03_forward_pass.ipynb")

text_question(
    "3.92", "Why a hidden layer's kinks move when its inputs are scaled", name="answer_3_92",
    rubric=("2 points: says that scaling the input by s scales w·x but not the bias b, so each "
            "unit's kink w·x + b = 0 moves (to x = -b/(s·w) along w), and concludes that the "
            "function's shape changes, not only its size. 1 point: says the kinks move without "
            "saying why. 0: says ReLU only rescales the output."),
    points=2, min_words=15, section="../book/03_forward_pass.ipynb")
