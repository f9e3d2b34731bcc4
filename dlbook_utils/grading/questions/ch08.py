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
    "8.1", "Vectorised MSE gradient, linear regression", name="linreg_grad",
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
    "8.3", "Two-layer MLP forward (tanh hidden, linear out)", name="mlp_forward",
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


# ---------------------------------------------------------------- 8.7 two-layer MLP backward
def _mlp_backward(X, y, W1, b1, W2, b2):
    """The gradients of eq-mlp-backprop: dW1 (d, h), db1 (h,), dW2 (h, d_out), db2 (d_out,)."""
    A1 = np.tanh(X @ W1 + b1)              # (n, h)
    d2 = 2 * (A1 @ W2 + b2 - y) / y.size   # dL/dY_hat, the mean over all n * d_out entries
    d1 = (d2 @ W2.T) * (1 - A1**2)         # dL/dZ1, (n, h)
    return X.T @ d1, d1.sum(axis=0), A1.T @ d2, d2.sum(axis=0)


def _backward_variant(*, scale=None, tanh_prime=None, bias_sum=None, use_z1=False):
    """The reference with one step done wrong; each keyword names the step (None: right)."""
    def wrong(X, y, W1, b1, W2, b2):
        Z1 = X @ W1 + b1
        A1 = np.tanh(Z1)
        r = A1 @ W2 + b2 - y
        d2 = 2 * r / y.size if scale is None else scale(r, y)
        d1 = (d2 @ W2.T) * (1 - A1**2 if tanh_prime is None else tanh_prime(A1))
        total = bias_sum or (lambda d: d.sum(axis=0))
        return X.T @ d1, total(d1), (Z1 if use_z1 else A1).T @ d2, total(d2)
    return wrong


def _backward_case(r, n, d, h, d_out):
    return (r.normal(size=(n, d)), r.normal(size=(n, d_out)), r.normal(size=(d, h)),
            r.normal(size=h), r.normal(size=(h, d_out)), r.normal(size=d_out))


_r = np.random.default_rng(87)
function_question(
    "8.7", "Two-layer MLP backward pass (four gradients)", name="mlp_backward",
    reference=_mlp_backward, outputs=("dW1", "db1", "dW2", "db2"),
    section=SECTION + "#mlp-numpy",
    # the chapter's 2-4-1 network, then more outputs (the 1/(n d_out) matters) and other sizes
    cases=[_backward_case(_r, 5, 2, 4, 1), _backward_case(_r, 6, 3, 5, 2),
           _backward_case(_r, 4, 2, 3, 3)],
    random_cases=lambda rng: [_backward_case(rng, int(rng.integers(3, 9)), int(rng.integers(2, 5)),
                                             int(rng.integers(3, 7)), int(rng.integers(1, 4)))],
    mistakes=[
        Mistake("backward-missing-mean", "Every gradient is n * d_out times too large: the loss "
                "is the MEAN of the squared errors over all n * d_out entries, so "
                "delta2 = 2 * (Y_hat - y) / y.size.",
                variant=_backward_variant(scale=lambda r, y: 2 * r)),
        Mistake("backward-mean-over-rows-only", "With d_out > 1 outputs your gradients are "
                "d_out times too large: np.mean averages over all n * d_out entries, so divide "
                "by y.size, not by n = len(X).",
                variant=_backward_variant(scale=lambda r, y: 2 * r / len(y))),
        Mistake("tanh-derivative-1-minus-a", "The derivative of tanh is 1 - tanh(z)**2: "
                "delta1 = (delta2 @ W2.T) * (1 - A1**2). You wrote 1 - A1, as the seed does.",
                variant=_backward_variant(tanh_prime=lambda A1: 1 - A1)),
        Mistake("forgot-tanh-derivative", "The chain rule passes through tanh: multiply "
                "delta2 @ W2.T by tanh'(Z1) = 1 - A1**2 before the first layer's gradients.",
                variant=_backward_variant(tanh_prime=lambda A1: 1.0)),
        Mistake("pre-activation-in-dw2", "dW2 multiplies delta2 by the layer's input, the "
                "activations A1 = tanh(Z1): A1.T @ delta2, not Z1.T @ delta2.",
                variant=_backward_variant(use_z1=True)),
        Mistake("bias-grad-wrong-axis", "A bias gradient sums over the batch, axis 0, and has "
                "the shape of the bias: db1 = delta1.sum(axis=0), shape (h,). You summed over "
                "axis 1 (over the units).",
                variant=_backward_variant(bias_sum=lambda d: d.sum(axis=1))),
        Mistake("bias-grad-keepdims", "A gradient has the shape of its parameter: b1 is (h,), "
                "so db1 = delta1.sum(axis=0) without keepdims (yours is (1, h)).",
                variant=_backward_variant(bias_sum=lambda d: d.sum(axis=0, keepdims=True))),
        Mistake("transposed-product", "A weight gradient has the shape of its weight: "
                "dW1 = X.T @ delta1 is (d, h) and dW2 = A1.T @ delta2 is (h, d_out); you "
                "wrote the product the other way round (delta.T @ input).",
                detector="transposed"),
        Mistake("backward-wrong-sign", "All your gradients have the wrong sign: with "
                "delta2 = dL/dY_hat = 2 * (Y_hat - y) / y.size the residual is prediction "
                "minus target.", detector="sign"),
    ],
)
