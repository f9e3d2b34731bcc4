"""Hidden cases: extra inputs the grader runs after a question's own cases. Learners never see
them. This one is a batch of 9 rows, a size that the book's cases never draw."""

import numpy as np

_r = np.random.default_rng(2026)
CASES = {
    "3.1": [(_r.normal(size=(9, 4)), _r.normal(size=(4, 3)), _r.normal(size=3))],
}
