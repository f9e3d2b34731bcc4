"""Chapter 4, assignments: a Dense layer with a cache, the learner's own gradient check, an
N-layer MLP assembled from layers, and a debugging exercise (a planted backward bug).

The layer questions are called as forward/backward pairs (``call="layer"``/``"network"``, see
:mod:`dlbook_utils.grading.calls`): the backward pass is graded on the cache that the learner's
own forward pass made.
"""

import numpy as np

from ..calls import KNOWN_FUNCTIONS
from ..registry import Mistake, function_question

SECTION = "../book/04_backprop.ipynb"
_TRANSPOSED = Mistake("transposed-gradient", "dW must have W's shape (d_in, d_out): "
                      "dW = X.T @ dZ, with X taken from the cache.", detector="transposed")


# ---------------------------------------------------------------- 4.7 Dense layer with a cache
def _dense_layer(X, W, b, dZ):
    return X @ W + b, dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def _dense_cases():
    r = np.random.default_rng(47)
    return [(r.normal(size=(n, d)), r.normal(size=(d, k)), r.normal(size=k),
             r.normal(size=(n, k)) / n) for n, d, k in ((5, 3, 2), (2, 4, 6), (1, 2, 3))]


def _dense_random(rng):
    n, d, k = 6, int(rng.integers(2, 5)), int(rng.integers(5, 8))
    return [(rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=k),
             rng.normal(size=(n, k)) / n)]


function_question(
    "4.7", "Dense layer with a cache: forward and backward", name="dense_layer",
    reference=_dense_layer, call="layer", outputs=("Z", "dX", "dW", "db"),
    rtol=1e-5, atol=1e-9,  # a float32 layer is right
    cases=_dense_cases(), random_cases=_dense_random, section=SECTION + "#ch4-implementation",
    mistakes=[
        _TRANSPOSED,
        Mistake("forgot-bias", "The forward pass is Z = X @ W + b: the bias is missing.",
                variant=lambda X, W, b, dZ: (X @ W, dZ @ W.T, X.T @ dZ, dZ.sum(axis=0))),
        Mistake("missing-transpose", "dX = dZ @ W.T: dZ is (n, d_out) and W is (d_in, d_out).",
                variant=lambda X, W, b, dZ: (X @ W + b, dZ @ W, X.T @ dZ, dZ.sum(axis=0))),
        Mistake("db-mean-not-sum", "db sums dZ over the batch; dZ already carries the 1/n of "
                "the mean loss.",
                variant=lambda X, W, b, dZ: (X @ W + b, dZ @ W.T, X.T @ dZ, dZ.mean(axis=0))),
        Mistake("cache-holds-output", "dW needs the layer's INPUT X (keep it in the cache): "
                "dW = X.T @ dZ, not Z.T @ dZ.",
                variant=lambda X, W, b, dZ: (X @ W + b, dZ @ W.T, (X @ W + b).T @ dZ,
                                             dZ.sum(axis=0))),
    ],
)


# ---------------------------------------------------------------- 4.8 the learner's grad check
H = 1e-5  # the statement's step


def _exact_gradient(name, x):
    """The exact gradients of calls.KNOWN_FUNCTIONS (the grader's side of the question)."""
    if name == "cubic":
        return 3 * x**2 - 2
    if name == "sin_product":
        return np.sin(x) + x * np.cos(x)
    if name == "logsumexp":
        e = np.exp(x - x.max())
        return e / e.sum()
    v, g = x.ravel(), x.ravel().copy()  # "coupled"
    g[1:] += v[:-1]
    g[:-1] += v[1:]
    return g.reshape(x.shape)


def _numeric(name, x, diff):
    f, x, grad = KNOWN_FUNCTIONS[name], x.astype(float), np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        grad[i] = diff(f, x, i)
    return grad


def _central(f, x, i):
    old = x[i]
    x[i] = old + H
    fp = f(x)
    x[i] = old - H
    fm = f(x)
    x[i] = old
    return (fp - fm) / (2 * H)


def _forward_diff(f, x, i):
    old = x[i]
    x[i] = old + H
    fp = f(x)
    x[i] = old
    return (fp - f(x)) / H


def _no_restore(f, x, i):  # x[i] is left at old - h
    x[i] += H
    fp = f(x)
    x[i] -= 2 * H
    return (fp - f(x)) / (2 * H)


def _gc_cases():
    r = np.random.default_rng(48)
    return [("cubic", r.normal(size=(3, 2))), ("sin_product", r.normal(size=4)),
            ("logsumexp", r.normal(size=(2, 3))), ("coupled", r.normal(size=5)),
            ("cubic", np.array([0.0, 1.0, -2.0]))]


function_question(
    "4.8", "Your own gradient check", name="grad_check", reference=_exact_gradient,
    call="grad_check", cases=_gc_cases(), section=SECTION + "#ch4-gradcheck",
    random_cases=lambda rng: [(str(rng.choice(sorted(KNOWN_FUNCTIONS))),
                               rng.normal(size=(2, 3)))],
    rtol=1e-6, atol=1e-7, batch_size_of=lambda args: None,  # central differences: ~1e-10 off
    mistakes=[
        Mistake("gradcheck-forward-difference", "You used the one-sided difference "
                "(f(x+h) - f(x)) / h: its error is of order h (about 1e-5 here). The centred "
                "difference (f(x+h) - f(x-h)) / (2h) is off by order h**2 only.",
                variant=lambda name, x: _numeric(name, x, _forward_diff)),
        Mistake("gradcheck-divide-by-h", "The centred difference spans 2h: divide "
                "f(x+h) - f(x-h) by 2 * h, not by h.",
                variant=lambda name, x: 2 * _numeric(name, x, _central)),
        Mistake("gradcheck-no-restore", "Restore x[i] to its old value after both "
                "evaluations: otherwise every later entry is measured at a shifted point.",
                variant=lambda name, x: _numeric(name, x, _no_restore)),
    ],
)


# ---------------------------------------------------------------- 4.9 N-layer MLP from layers
def _mlp(X, params, dS, relu_last=False, mask=True, order=1, db=np.sum):
    hs, zs, h = [], [], X
    for i, (W, b) in enumerate(params):
        hs.append(h)
        z = h @ W + b
        zs.append(z)
        h = np.maximum(z, 0) if (i < len(params) - 1 or relu_last) else z
    d, grads = dS * (zs[-1] > 0) if relu_last else dS, []
    for i in reversed(range(len(params))):
        grads.append((hs[i].T @ d, db(d, axis=0)))
        if i:
            d = d @ params[i][0].T
            d = d * (zs[i - 1] > 0) if mask else d
    grads = grads[::-1] if order == 1 else grads
    return h, np.concatenate([g.ravel() for pair in grads for g in pair])


def _mlp_case(rng, sizes, n):
    params = [(rng.normal(size=(a, c)) / np.sqrt(a), 0.1 * rng.normal(size=c))
              for a, c in zip(sizes[:-1], sizes[1:], strict=False)]
    return rng.normal(size=(n, sizes[0])), params, rng.normal(size=(n, sizes[-1])) / n


function_question(
    "4.9", "An N-layer MLP assembled from layers", name="mlp", reference=_mlp,
    call="network", outputs=("scores", "grads"), section=SECTION + "#ch4-implementation",
    rtol=1e-5, atol=1e-6,  # a float32 network is right (gradients of order 0.01 to 1)
    cases=[_mlp_case(np.random.default_rng(49), s, n) for s, n in
           (([4, 5, 3], 6), ([3, 6, 4, 2], 5), ([2, 3], 4), ([3, 4, 5, 4, 2], 3))],
    random_cases=lambda rng: [_mlp_case(rng, [int(v) for v in rng.integers(2, 6, size=k)], 5)
                              for k in (3, 4)],
    mistakes=[
        Mistake("relu-on-output", "The last layer gives the scores (logits): no ReLU after it.",
                variant=lambda X, p, dS: _mlp(X, p, dS, relu_last=True)),
        Mistake("forgot-activation-derivative", "Backpropagate through every hidden ReLU: "
                "multiply by (Z > 0) of that layer before going further down.",
                variant=lambda X, p, dS: _mlp(X, p, dS, mask=False)),
        Mistake("grads-reversed", "You returned the gradients in backward order (last layer "
                "first); return them in the order of params: [(dW1, db1), (dW2, db2), ...].",
                variant=lambda X, p, dS: _mlp(X, p, dS, order=-1)),
        Mistake("db-mean-not-sum", "db sums the upstream gradient over the batch.",
                variant=lambda X, p, dS: _mlp(X, p, dS, db=np.mean)),
    ],
)


# ---------------------------------------------------------------- 4.11 debugging exercise
def _tanh_net(X, y, W1, b1, W2, b2, bug=None):
    """Two-layer tanh network, mean softmax cross-entropy: gradients of every parameter."""
    Z1 = X @ W1 + b1
    H1 = np.tanh(Z1)
    S = H1 @ W2 + b2
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    dS = P / len(y)
    dH = dS @ W2.T
    dZ1 = {None: dH * (1 - H1**2), "planted": dH * (1 - Z1**2), "none": dH,
           "twice": dH * (1 - np.tanh(H1) ** 2)}[bug]
    return X.T @ dZ1, dZ1.sum(axis=0), H1.T @ dS, dS.sum(axis=0)


def _tanh_case(rng, n, d, h, k):
    return (rng.normal(size=(n, d)), rng.integers(0, k, n), rng.normal(size=(d, h)),
            0.1 * rng.normal(size=h), rng.normal(size=(h, k)), 0.1 * rng.normal(size=k))


function_question(
    "4.11", "Debugging: find and fix the planted backward bug", name="tanh_net_grads",
    reference=_tanh_net, outputs=("dW1", "db1", "dW2", "db2"), section=SECTION + "#ch4-gradcheck",
    cases=[_tanh_case(np.random.default_rng(411), 6, 3, 4, 3),
           _tanh_case(np.random.default_rng(412), 4, 2, 5, 2)],
    random_cases=lambda rng: [_tanh_case(rng, 5, 3, 4, 3)],
    mistakes=[
        Mistake("debug-bug-still-there", "This is the given code, bug included: dW1 and db1 "
                "still disagree with your gradient check. Look at the tanh derivative: which "
                "cached value should it use?",
                variant=lambda *a: _tanh_net(*a, bug="planted")),
        Mistake("forgot-activation-derivative", "Removing the derivative is no fix: dZ1 = dH "
                "times tanh'(Z1) = 1 - tanh(Z1)**2 = 1 - H1**2.",
                variant=lambda *a: _tanh_net(*a, bug="none")),
        Mistake("tanh-applied-twice", "H1 is already tanh(Z1): the derivative is 1 - H1**2, "
                "not 1 - tanh(H1)**2.", variant=lambda *a: _tanh_net(*a, bug="twice")),
    ],
)
