"""Claims of chapter 6 (06_regularization) about Adam, L1 and AdamW, checked on small arrays.

Each check is a function that a planted bug makes fail: the tests below run it on the right
optimizer and on a wrong one.
"""

import numpy as np
import pytest

from dlbook_utils import optim
from dlbook_utils.regularizers import l1, l2

W0 = np.array([0.5, -0.2, 0.05, -1.0, 0.02])  # weights with no data gradient, shape (5,)


def penalty_steps(opt, penalty, steps):
    """Run ``steps`` updates whose only gradient is the penalty's; return all iterates."""
    w = W0.copy()
    path = [w.copy()]
    for _ in range(steps):
        opt.step({"W": w}, {"W": penalty(w)[1]})
        path.append(w.copy())
    return np.array(path)  # (steps + 1, 5)


def is_sign_step(path, lr):
    """Every weight moved by lr (within 3 %) towards 0 on each of the first 3 steps."""
    first = np.abs(np.diff(path[:4], axis=0))  # (3, 5)
    return bool(np.allclose(first, lr, rtol=0.03))


def test_adam_turns_the_l2_gradient_into_a_sign_step():
    lr = 3e-3
    path = penalty_steps(optim.Adam(lr), lambda w: l2(w, 1e-3), 5)
    assert is_sign_step(path, lr)  # the same step whatever |w| and lambda


def test_sign_step_check_catches_sgd():
    # planted bug: SGD scales the step by 2 lr lambda |w|, far below lr
    lr = 3e-3
    assert not is_sign_step(penalty_steps(optim.SGD(lr), lambda w: l2(w, 1e-3), 5), lr)


def exact_zeros(path):
    return int(np.sum(path[-1] == 0.0))


def test_subgradient_l1_reaches_zero_only_approximately():
    path = penalty_steps(optim.Adam(3e-3), lambda w: l1(w, 1e-4), 1500)
    assert np.max(np.abs(path[-1])) < 0.01  # close to zero ...
    assert exact_zeros(path) == 0  # ... but never exactly on it


def test_exact_zero_count_catches_the_proximal_step():
    # planted contrast: the soft threshold (proximal step) does give exact zeros
    w = np.sign(W0) * np.maximum(np.abs(W0) - 0.1, 0)
    assert exact_zeros(w[None]) == 2


def adamw_total_shrink_holds(opt, lr, wd, steps):
    """With no gradient but the decay, w_T = (1 - lr wd)^T w_0."""
    path = penalty_steps(opt, lambda w: (0.0, np.zeros_like(w)), steps)
    return bool(np.allclose(path[-1], (1 - lr * wd) ** steps * W0, rtol=1e-10, atol=0))


@pytest.mark.checks("eq-adamw", kind="closed form", tol="rtol 1e-10")
def test_adamw_shrinks_by_the_stated_total_factor():
    lr, wd, steps = 3e-3, 3.0, 500
    assert adamw_total_shrink_holds(optim.AdamW(lr, weight_decay=wd), lr, wd, steps)
    assert (1 - lr * wd) ** steps < 0.02  # the chapter's setting: a substantial shrink


def test_total_shrink_check_catches_a_missing_decay():
    # planted bug: weight_decay forgotten (plain Adam) -> the weights do not shrink
    lr, wd, steps = 3e-3, 3.0, 500
    assert not adamw_total_shrink_holds(optim.Adam(lr), lr, wd, steps)
