"""Chapter 3 (forward pass): Dense layer, stable softmax, MLP forward, softmax cross-entropy."""

import numpy as np

from ..free_response import text_question
from ..registry import Mistake, function_question, value_question

SECTION = "../book/03_forward_pass.ipynb"

_MATMUL_HINT = ("The shapes do not broadcast: X (n, d_in) times W (d_in, d_out) is a matrix "
                "product, X @ W, not the element-wise X * W.")


def _dense_cases():
    r = np.random.default_rng(31)
    return [(r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=2)),
            (r.normal(size=(1, 5)), r.normal(size=(5, 3)), r.normal(size=3))]


def _dense_random(rng):
    n, d, k = (int(v) for v in rng.integers(2, 7, size=3))
    return [(rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=k))]


function_question(
    "3.1", "Dense layer forward", name="dense_forward", reference=lambda X, W, b: X @ W + b,
    cases=_dense_cases(), random_cases=_dense_random, section=SECTION,
    mistakes=[Mistake("elementwise-instead-of-matmul", _MATMUL_HINT,
                      variant=lambda X, W, b: X * W + b),
              Mistake("forgot-bias", "Add the bias: Z = X @ W + b.",
                      variant=lambda X, W, b: X @ W),
              Mistake("bias-as-column", "b has shape (d_out,): one bias per output unit, added "
                      "to every row. b[:, None] makes it a column, one bias per example.",
                      variant=lambda X, W, b: X @ W + b[:, None]),
              Mistake("transposed", "Rows are examples: Z = X @ W has shape (n, d_out); you "
                      "returned its transpose.", detector="transposed")],
)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


_LOGITS = np.array([[1.0, 2.0, 3.0, 0.5], [-1.0, 0.0, 1.0, 2.0], [0.3, 0.3, 0.3, 0.3]])
_HUGE = np.array([[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0]])
# rows far apart: shifting by the GLOBAL max underflows the second row to 0 / 0 = nan
_APART = np.array([[1000.0, 999.0, 1001.0], [-1000.0, -999.0, -1001.0]])


def _softmax_global_max(z):
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)

function_question(
    "3.2", "Numerically stable softmax", name="softmax", reference=_softmax,
    cases=[(_LOGITS,), (_APART,)], batch_size_of=lambda args: None, section=SECTION,
    random_cases=lambda rng: [(rng.normal(scale=5, size=(int(rng.integers(2, 6)), 5)),)],
    mistakes=[Mistake("unstable-softmax", "exp overflows at large logits (nan). Subtract each "
                      "row's max before exp: softmax is unchanged by that shift.",
                      detector="nonfinite"),
              Mistake("softmax-global-max", "You subtracted the max of the whole array. Rows "
                      "far apart then underflow to 0 / 0 = nan: subtract each row's max, "
                      "z.max(axis=-1, keepdims=True).", variant=_softmax_global_max),
              Mistake("softmax-missing-keepdims", "z.sum(axis=1) has shape (n,), which does "
                      "not broadcast against (n, k): keep the axis with keepdims=True.",
                      variant=lambda z: np.exp(z - z.max(axis=1, keepdims=True))
                      / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)),
              Mistake("softmax-wrong-axis", "You normalised over the batch (axis 0). Each ROW is "
                      "one example: normalise over the classes, axis=-1.",
                      variant=lambda z: np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0))],
)


def _mlp(X, params):
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:  # ReLU on hidden layers only; the output stays linear
            h = np.maximum(h, 0)
    return h


def _mlp_elementwise(X, params):
    h = X
    for i, (W, b) in enumerate(params):
        h = h * W + b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    return h


def _mlp_relu_out(X, params):
    return np.maximum(_mlp(X, params), 0)


def _mlp_params(rng, sizes):
    return [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


_r = np.random.default_rng(33)
function_question(
    "3.3", "MLP forward pass", name="mlp_forward", reference=_mlp, section=SECTION,
    cases=[(_r.normal(size=(5, 4)), _mlp_params(_r, [4, 6, 3])),
           (_r.normal(size=(2, 3)), _mlp_params(_r, [3, 5, 4, 2]))],
    random_cases=lambda rng: [(rng.normal(size=(4, 3)), _mlp_params(rng, [3, 4, 4, 2]))],
    mistakes=[Mistake("relu-on-output", "The output layer is linear (its logits go to the "
                      "loss); apply ReLU to the hidden layers only.", variant=_mlp_relu_out),
              Mistake("elementwise-instead-of-matmul", _MATMUL_HINT,
                      variant=lambda X, ps: _mlp_elementwise(X, ps)),
              Mistake("forgot-bias", "Each layer adds its bias: h = h @ W + b.",
                      variant=lambda X, ps: _mlp(X, [(W, 0 * b) for W, b in ps]))],
)


def _sce(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(labels)), labels])


def _sce_log_of_softmax(logits, labels):
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)  # stable softmax, but its log is -inf for a far class
    return -np.mean(np.log(p[np.arange(len(labels)), labels]))


function_question(
    "3.4", "Softmax cross-entropy (integer labels)", name="softmax_cross_entropy",
    reference=_sce, section=SECTION,
    cases=[(_LOGITS, np.array([2, 3, 0])), (_HUGE, np.array([0, 0]))],  # row 2: class far below
    random_cases=lambda rng: [(rng.normal(scale=3, size=(n, 4)), rng.integers(0, 4, n))
                              for n in rng.integers(2, 8, size=2)],
    mistakes=[Mistake("sum-instead-of-mean", "Your loss is the SUM over the batch; the loss is "
                      "the MEAN.", detector="ratio_n"),
              Mistake("unstable-softmax", "log(softmax) overflows at large logits. Use "
                      "log-softmax: z - max(z) - log(sum(exp(z - max(z)))).",
                      detector="nonfinite"),
              Mistake("log-of-softmax", "log(softmax(z)) gives log(0) = -inf when the true "
                      "class is far below the others, even with a stable softmax. Compute "
                      "log-softmax directly: z - max(z) - log(sum(exp(z - max(z)))).",
                      variant=_sce_log_of_softmax),
              Mistake("wrong-sign", "Cross-entropy is MINUS the mean log-probability of the "
                      "true class (it is >= 0).", detector="sign")],
)

# 3.5: x = [1, -1]; h = relu(x W1 + b1); y = h W2 + b2 (see the notebook)
value_question(
    "3.5", "A forward pass by hand", name="y_by_hand", reference=np.array([2.5]),
    section=SECTION, rtol=1e-9, atol=1e-9,
    mistakes=[Mistake("forgot-relu", "The hidden layer applies ReLU: negative pre-activations "
                      "become 0 before the output layer.", value=np.array([0.5]))],
)

text_question(
    "3.6", "Why depth needs a nonlinearity", name="answer_3_6",
    section=SECTION + "#ch3-mlp-forward", min_words=25, points=2,
    rubric=("2 points: shows that without an activation two Dense layers compose to ONE affine "
            "map (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2), so any depth computes only "
            "what a single layer can (a linear decision boundary); and says what ReLU changes: "
            "each unit bends the function along its own line, so the network is piecewise "
            "linear with many pieces. 1 point: only the collapse, or only 'ReLU makes it "
            "nonlinear' without why depth was useless. 0: says more layers always help."))
