"""Chapter 8 (code examples): linear regression by gradient descent, a two-layer MLP forward,
the "0 vs 1" data preparation, and the seeds' Keras bugs.

Conventions: batch-first rows, X (n, d), w (d, 1), b a float, targets y (n, 1); the loss is the
MEAN squared error, so its gradient carries the 1/n (``book/08_code_examples`` eq-linreg-grad).
"""

import numpy as np

from ..registry import Mistake, function_question, value_question

SECTION = "../book/08_code_examples.ipynb"


# ---------------------------------------------------------------- 8.1 linear-regression gradient
def _linreg_grad(X, y, w, b):
    r = X @ w + b - y  # residuals (n, 1)
    n = len(X)
    return 2 / n * X.T @ r, float(2 / n * r.sum())


def _linreg_per_sample(X, y, w, b):
    r = X @ w + b - y
    return 2 * r * X, 2 * r


def _linreg_no_2(X, y, w, b):
    r = X @ w + b - y
    return X.T @ r / len(X), float(r.mean())


def _linreg_case(r, n, d):
    return (r.normal(size=(n, d)), r.normal(size=(n, 1)), r.normal(size=(d, 1)),
            float(r.normal()))


_r = np.random.default_rng(81)
function_question(
    "8.1", "Vectorised gradient of the MSE for linear regression", name="linreg_grad",
    reference=_linreg_grad, outputs=("dw", "db"), section=SECTION + "#linreg-numpy",
    no_loops=True,  # the statement: no loop over examples
    cases=[_linreg_case(_r, 6, 3), _linreg_case(_r, 10, 2)],
    random_cases=lambda rng: [_linreg_case(rng, int(rng.integers(4, 12)), int(rng.integers(2, 5)))],
    mistakes=[
        Mistake("missing-1-over-n", "Your gradient is n times too large: you summed over the "
                "examples. The loss is the MEAN of the squared errors, so dw = (2/n) X.T @ r and "
                "db = (2/n) sum(r).", detector="ratio_n"),
        Mistake("wrong-sign", "With residuals r = X @ w + b - y the gradient is +(2/n) X.T @ r; "
                "you used y - prediction.", detector="sign"),
        Mistake("transposed-gradient", "dw must have the shape of w, (d, 1): X.T @ r, not "
                "r.T @ X.", detector="transposed"),
        Mistake("per-sample-gradient", "You returned one gradient per example (shape (n, d)), as "
                "the seed does. Sum over the examples with a matrix product: (2/n) X.T @ r.",
                variant=_linreg_per_sample),
        Mistake("mse-grad-missing-2", "d/dr of r**2 is 2 r: the factor 2 is missing.",
                variant=_linreg_no_2),
        Mistake("loop-over-examples", "Vectorise: one matrix product X.T @ r sums over all the "
                "examples at once, (2/n) X.T @ r, with no Python loop.", detector="loop"),
    ],
)


# ---------------------------------------------------------------- 8.2 a full gradient-descent run
def linreg_data():
    """The data of exercise 8.2, exactly as the notebook makes it."""
    data_rng = np.random.default_rng(8)
    X = data_rng.random((50, 1))
    y = 3 * X + 2 + 0.1 * data_rng.standard_normal((50, 1))
    return X, y


def _gd_fit(steps=100, lr=0.5, bias=True):
    """[slope, intercept] after ``steps`` full-batch steps from w = 0, b = 0; (2,)."""
    X, y = linreg_data()
    w, b = np.zeros((1, 1)), 0.0
    for _ in range(steps):
        dw, db = _linreg_grad(X, y, w, b)
        w, b = w - lr * dw, (b - lr * db if bias else 0.0)
    return np.array([w[0, 0], b])


def _least_squares_end_point():
    """Where gradient descent converges (np.polyfit's answer); (2,)."""
    X, y = linreg_data()
    A = np.hstack([X, np.ones_like(X)])  # columns: slope, intercept
    return np.linalg.lstsq(A, y[:, 0], rcond=None)[0]


# 100 steps, not 1000: after 1000 steps at lr 0.5 the run has converged to the least-squares
# point (within 4e-15), so no tolerance could tell gradient descent from np.polyfit. After 100
# steps the end point is 4.8e-3 away and a run at lr 0.3 is 0.047 away; one step more or less
# is 2.9e-4 away, and the same run in float32 is 1.7e-7 away (it passes at atol 1e-6).
_FIT = _gd_fit()
value_question(
    "8.2", "Gradient descent run: slope and intercept", name="slope_intercept",
    reference=_FIT, rtol=0, atol=1e-6, section=SECTION + "#linreg-lr",
    mistakes=[
        Mistake("gd-diverged", "Your parameters blew up (to inf/nan, or orders of magnitude too "
                "large): gradient descent diverged. Check linreg_grad: with the sum instead of "
                "the mean (no 1/n) each step is n times too large; with the wrong sign each "
                "step goes uphill.", detector="diverged"),
        Mistake("least-squares-end-point", "That is the least-squares end point, not the "
                "parameters after 100 steps: the exercise asks for the gradient-descent run "
                "itself (100 steps of lr 0.5 from w = 0, b = 0), not a closed-form fit such "
                "as np.polyfit or np.linalg.lstsq, nor a run long enough to converge.",
                value=_least_squares_end_point()),
        Mistake("forgot-bias", "Your intercept is 0: the model is y = w x + b, and b is "
                "trained too.", value=_gd_fit(bias=False)),
        Mistake("slope-intercept-swapped", "Give the slope first, then the intercept.",
                value=_FIT[::-1].copy()),
    ],
)


# ---------------------------------------------------------------- 8.3 two-layer MLP forward
def _mlp(X, W1, b1, W2, b2):
    return np.tanh(X @ W1 + b1) @ W2 + b2


def _mlp_case(r, n, d, h, k):
    return (r.normal(size=(n, d)), r.normal(size=(d, h)), r.normal(size=h),
            r.normal(size=(h, k)), r.normal(size=k))


_r = np.random.default_rng(83)
_MATMUL_HINT = ("The shapes do not broadcast: X (n, d) times W1 (d, h) is a matrix product, "
                "X @ W1 (shape (n, h)), not the element-wise X * W1.")
function_question(
    "8.3", "Two-layer MLP forward (tanh hidden layer, linear output)", name="mlp_forward",
    reference=_mlp, section=SECTION + "#mlp-numpy",
    cases=[_mlp_case(_r, 5, 2, 4, 1), _mlp_case(_r, 3, 4, 6, 2)],
    random_cases=lambda rng: [_mlp_case(rng, int(rng.integers(2, 7)), 3, 5, 2)],
    mistakes=[
        Mistake("elementwise-instead-of-matmul", _MATMUL_HINT,
                variant=lambda X, W1, b1, W2, b2: np.tanh(X * W1 + b1) @ W2 + b2),
        Mistake("tanh-on-output", "The output layer is linear (a regression output); apply "
                "tanh to the hidden layer only.",
                variant=lambda X, W1, b1, W2, b2: np.tanh(_mlp(X, W1, b1, W2, b2))),
        Mistake("forgot-activation", "Without tanh the two layers collapse into one linear "
                "map: H = tanh(X @ W1 + b1).",
                variant=lambda X, W1, b1, W2, b2: (X @ W1 + b1) @ W2 + b2),
        Mistake("forgot-bias", "Each layer adds its bias: X @ W1 + b1, then H @ W2 + b2.",
                variant=lambda X, W1, b1, W2, b2: np.tanh(X @ W1) @ W2),
    ],
)


# ---------------------------------------------------------------- 8.4 "0 vs 1" data
def _zero_one(x, y):
    keep = (y == 0) | (y == 1)
    return x[keep].reshape(int(keep.sum()), -1) / 255.0, y[keep]


def _digits_case(r, n, h):
    y = r.integers(0, 10, n)
    y[:2] = (0, 1)  # both classes always present
    return r.integers(0, 256, (n, h, h)).astype(np.uint8), y


_r = np.random.default_rng(84)
function_question(
    "8.4", "Keep the 0s and 1s, flattened and scaled", name="zero_vs_one",
    reference=_zero_one, outputs=("x", "y"), section=SECTION + "#zero-vs-one",
    cases=[_digits_case(_r, 12, 3), _digits_case(_r, 20, 4)],
    random_cases=lambda rng: [_digits_case(rng, int(rng.integers(10, 30)), 3)],
    batch_size_of=lambda args: None,
    mistakes=[
        Mistake("zero-vs-one-not-filtered", "You kept all ten classes (the seed's bug): select "
                "the rows with keep = (y == 0) | (y == 1), in x AND in y.",
                variant=lambda x, y: (x.reshape(len(x), -1) / 255.0, y)),
        Mistake("not-flattened", "A Dense layer takes vectors: flatten each image, "
                "x.reshape(m, -1), giving shape (m, h*w).",
                variant=lambda x, y: (x[(y == 0) | (y == 1)] / 255.0, y[(y == 0) | (y == 1)])),
        Mistake("forgot-scaling", "Scale the pixels from 0..255 to [0, 1]: divide by 255.",
                variant=lambda x, y: (_zero_one(x, y)[0] * 255.0, _zero_one(x, y)[1])),
    ],
)
