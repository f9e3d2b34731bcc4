"""Chapter 6, assignment: an inverted-dropout LAYER, forward and backward, its mask in the cache.

Called as a forward/backward pair (``call="layer"``, :mod:`dlbook_utils.grading.calls`): the
case is ``(x, p, training, seed, dout)``. The statement fixes how the mask is drawn (so that
answers are comparable): ``keep = np.random.default_rng(seed).random(x.shape) >= p``.
"""

import numpy as np

from ..free_response import text_question
from ..registry import Mistake, function_question

SECTION = "../book/06_regularization.ipynb#ch6-dropout"


def _keep(x, p, seed):
    return np.random.default_rng(seed).random(x.shape) >= p


def _layer(x, p, training, seed, dout, scale=None, bwd="mask", at_eval="identity"):
    """(out, dx) of inverted dropout; the keyword arguments plant the classic mistakes."""
    if not training:
        keep, s = _keep(x, p, seed), {"identity": 1.0, "scaled": 1 - p}.get(at_eval, 1.0)
        if at_eval == "mask":
            return x * keep / (1 - p), dout * keep / (1 - p)
        return x * s, dout * s
    keep = _keep(x, p, seed)
    s = 1 / (1 - p) if scale is None else scale(p)
    dx = {"mask": dout * keep * s, "no-mask": dout * s, "no-scale": dout * keep}[bwd]
    return x * keep * s, dx


def _cases():
    r = np.random.default_rng(67)
    x, d = r.normal(size=(4, 6)), r.normal(size=(4, 6))
    x2, d2 = r.normal(size=(3, 5)), r.normal(size=(3, 5))
    return [(x, 0.3, True, 7, d), (x, 0.3, False, 7, d), (x2, 0.5, True, 11, d2),
            (x2, 0.2, True, 12, d2), (x2, 0.5, False, 11, d2)]


def _random(rng):
    x = rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(3, 7))))
    p, seed = float(rng.uniform(0.1, 0.7)), int(rng.integers(1 << 30))
    return [(x, p, True, seed, rng.normal(size=x.shape)),
            (x, p, False, seed, rng.normal(size=x.shape))]


function_question(
    "6.7", "Dropout layer: forward and backward with the mask in the cache",
    name="dropout_layer", reference=_layer, call="layer", outputs=("out", "dx"),
    cases=_cases(), random_cases=_random, section=SECTION,
    mistakes=[
        Mistake("dropout-divided-by-p", "p is the DROP probability: the kept units are scaled "
                "by 1 / (1 - p), the inverse of the keep probability, not divided by p.",
                variant=lambda *a: _layer(*a, scale=lambda p: 1 / p)),
        Mistake("dropout-backward-no-mask", "The backward pass must reuse the forward pass's "
                "mask (keep it in the cache): a dropped unit did not affect the output, so its "
                "gradient is 0.", variant=lambda *a: _layer(*a, bwd="no-mask")),
        Mistake("dropout-backward-no-scale", "out = x * keep / (1 - p), so d out / d x = keep / "
                "(1 - p): the backward pass needs the same 1 / (1 - p).",
                variant=lambda *a: _layer(*a, bwd="no-scale")),
        Mistake("dropout-no-rescale", "In training the kept units are divided by (1 - p), "
                "in the forward and the backward pass.",
                variant=lambda *a: _layer(*a, scale=lambda p: 1.0)),
        Mistake("dropout-scaled-at-eval", "Inverted dropout does all its scaling in training; "
                "at evaluation (training=False) the layer is the identity, forward and "
                "backward.", variant=lambda *a: _layer(*a, at_eval="scaled")),
        Mistake("dropout-active-at-eval", "At evaluation (training=False) dropout is switched "
                "off: no mask, in either pass.", variant=lambda *a: _layer(*a, at_eval="mask")),
    ],
)

text_question(
    "6.9", "Choosing a regularizer from the curves", name="answer_6_9",
    section="../book/06_regularization.ipynb#ch6-under-overfitting", min_words=30, points=2,
    rubric=("2 points: reads the gap (training accuracy near 100 %, validation much lower) as "
            "overfitting; proposes two remedies of the chapter (e.g. L2/weight decay, "
            "dropout, early stopping, more or augmented data) and says what each changes (the "
            "size of the weights, co-adaptation of units, the number of steps); and says how "
            "to tell which helped: compare validation (not training) accuracy, several seeds, "
            "one change at a time. 1 point: remedies without a way to compare them. 0: "
            "proposes a bigger network or longer training."))
