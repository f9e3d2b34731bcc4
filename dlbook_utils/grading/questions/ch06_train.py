"""Chapter 6, assignment: a mini-batch training loop judged on held-out digits (how well the
weights generalise to data the training never saw).

``train_mlp(X, y, seed) -> params`` trains on the learner's part of the digits (passed in as
arguments) and returns plain arrays; the grader evaluates them on the held-out part, which only
this process loads (:mod:`dlbook_utils.grading.digits_task`).
"""

import numpy as np

from ..digits_task import heldout_digits, learner_digits
from ..judged import judged_question
from ..registry import Mistake

SECTION = "../book/05_optimizers.ipynb"
TARGET = 0.94  # held-out accuracy; a plain 64-64-10 ReLU MLP with SGD reaches ~0.97
CHANCE = 0.25  # below this, nothing was learned (10 classes: chance is 0.10)


def accuracy(params, X, y) -> float:
    """Accuracy of a ReLU MLP ``[(W1, b1), ...]`` (no ReLU after the last layer) on X, y."""
    h = X
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        h = np.maximum(h, 0) if i < len(params) - 1 else h
    return float(np.mean(np.argmax(h, axis=1) == y))


def _shapes_problem(params) -> str | None:
    if type(params) is not list or not params or any(
            type(p) is not list or len(p) != 2 for p in params):
        return "expected a list of (W, b) pairs, one per layer"
    d = 64
    for i, (W, b) in enumerate(params):
        if np.ndim(W) != 2 or np.shape(W)[0] != d or np.shape(b) != (np.shape(W)[1],):
            return (f"layer {i + 1}: expected W of shape ({d}, d_out) and b of shape "
                    f"(d_out,), got {np.shape(W)} and {np.shape(b)}")
        d = np.shape(W)[1]
    return None if d == 10 else f"the last layer has {d} outputs; expected 10 (one per digit)"


def _judge(params, args):
    problem = _shapes_problem(params)
    if problem:
        return False, problem, "train-params-format"
    params = [(np.asarray(W, float), np.asarray(b, float)) for W, b in params]
    if not all(np.all(np.isfinite(a)) and np.max(np.abs(a)) < 1e6 for p in params for a in p):
        return False, "the returned weights are inf/nan or huge", "train-diverged"
    acc = accuracy(params, *heldout_digits())
    text = f"held-out accuracy {acc:.1%} (target {TARGET:.0%})"
    if acc >= TARGET:
        return True, text, None
    return False, text, "train-chance-level" if acc < CHANCE else "train-below-target"


def _cases():
    X, y = learner_digits()
    return [(X, y, 0)]


judged_question(
    "6.8", "Mini-batch training to a target held-out accuracy", name="train_mlp", judge=_judge,
    cases=_cases(), section=SECTION + "#ch5-gd-variants",
    random_cases=lambda rng: [(*learner_digits(), int(rng.integers(1 << 30)))],
    mistakes=[
        Mistake("train-params-format", "Return the trained parameters as a list of (W, b) "
                "pairs: W of shape (d_in, d_out), b of shape (d_out,), 64 inputs, 10 outputs.",
                detector="judge"),
        Mistake("train-diverged", "The weights blew up: the learning rate is too large for "
                "this loss, or the gradient misses its 1/batch_size (a sum, not a mean).",
                detector="judge"),
        Mistake("train-chance-level", "Accuracy at chance level: nothing was learned. Are the "
                "updates applied to the arrays you return (W -= lr * dW)? Are X and y "
                "shuffled with the SAME permutation?", detector="judge"),
        Mistake("train-below-target", "It learns, but not enough: train for more epochs, use "
                "a larger learning rate or a hidden layer, and watch your validation "
                "accuracy in the notebook.", detector="judge"),
    ],
)
