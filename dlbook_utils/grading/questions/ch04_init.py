"""Chapter 4, assignments: weight initialisation (a judged question: the spread of random
weights is measured, not compared draw by draw) and a free-response question on gradient checks.
"""

import numpy as np

from ..free_response import text_question
from ..judged import judged_question
from ..registry import Mistake

SECTION = "../book/04_backprop.ipynb"
TOLERANCE = 0.05  # relative error allowed on each layer's std; its estimate is within ~1 %


def target_std(kind, fan_in, fan_out):
    """He: sqrt(2 / fan_in) (ReLU layers); Glorot: sqrt(2 / (fan_in + fan_out))."""
    return np.sqrt(2 / fan_in) if kind == "he" else np.sqrt(2 / (fan_in + fan_out))


def _explain(kind, fan_in, fan_out, std):
    """The mistake id whose scale the measured std matches, or None."""
    t = target_std(kind, fan_in, fan_out)
    other = target_std("glorot" if kind == "he" else "he", fan_in, fan_out)
    fan_out_he = np.sqrt(2 / fan_out) if kind == "he" else None
    for mistake, wrong in (("init-he-glorot-swapped", other),
                           ("init-fan-out", fan_out_he),
                           ("init-lecun", np.sqrt(1 / fan_in)),
                           ("init-variance-as-std", t**2),
                           ("init-uniform-limit", t / np.sqrt(3)),
                           ("init-fixed-small", 0.01)):
        if wrong is not None and abs(std / wrong - 1) < TOLERANCE:
            return mistake
    return None


def _judge(answer, args):
    sizes, kind = args[0], args[1]
    n = len(sizes) - 1
    if type(answer) is not list or len(answer) != n or any(
            type(p) is not list or len(p) != 2 for p in answer):
        return False, f"expected a list of {n} (W, b) pairs, one per layer", "init-format"
    for i, ((W, b), a, c) in enumerate(zip(answer, sizes[:-1], sizes[1:], strict=True)):
        if np.shape(W) != (a, c) or np.shape(b) != (c,):
            return (False, f"layer {i + 1}: expected W {(a, c)} and b {(c,)}, got "
                    f"{np.shape(W)} and {np.shape(b)}", "init-format")
        W, t = np.asarray(W, float), target_std(kind, a, c)
        if not np.all(np.isfinite(W)) or np.any(np.asarray(b) != 0):
            return False, f"layer {i + 1}: biases start at 0, weights are finite", \
                "init-bias-not-zero"
        std, mean = W.std(), W.mean()
        if abs(mean) > 5 * t / np.sqrt(W.size):
            return False, f"layer {i + 1}: the weights' mean is {mean:.3g}, not ~0", None
        if abs(std / t - 1) >= TOLERANCE:
            return (False, f"layer {i + 1} ({a} -> {c}, {kind}): std of W is {std:.4g}, the "
                    f"target is {t:.4g}", _explain(kind, a, c, std))
    return True, "every layer has the target spread", None


judged_question(
    "4.10", "He and Glorot initialisation", name="init_weights", judge=_judge,
    section=SECTION + "#ch4-init",
    cases=[([256, 128, 64], "he", 0), ([256, 128, 64], "glorot", 1),
           ([100, 300, 200], "he", 2), ([100, 300, 200], "glorot", 3)],
    random_cases=lambda rng: [([200, 150, 100], str(k), int(rng.integers(1 << 30)))
                              for k in ("he", "glorot")],
    mistakes=[
        Mistake("init-he-glorot-swapped", "That is the other scheme's std: He uses "
                "sqrt(2 / fan_in) (for ReLU), Glorot sqrt(2 / (fan_in + fan_out)).",
                detector="judge"),
        Mistake("init-fan-out", "He initialisation divides by fan_in, the number of inputs "
                "of each unit (W.shape[0] for W of shape (fan_in, fan_out)).", detector="judge"),
        Mistake("init-lecun", "sqrt(1 / fan_in) is LeCun's scale; the statement asks for He "
                "(sqrt(2 / fan_in)) or Glorot (sqrt(2 / (fan_in + fan_out))).",
                detector="judge"),
        Mistake("init-variance-as-std", "You used the variance as the standard deviation: "
                "np.random's scale is the std, the square root of 2 / fan_in.",
                detector="judge"),
        Mistake("init-uniform-limit", "A uniform U(-a, a) has std a / sqrt(3): for the "
                "target std s use a = sqrt(3) * s, not a = s.", detector="judge"),
        Mistake("init-fixed-small", "A fixed std of 0.01 ignores the layer's size: the "
                "activations then shrink from layer to layer.", detector="judge"),
        Mistake("init-bias-not-zero", "Initialise the biases to zeros (finite weights, zero "
                "biases).", detector="judge"),
        Mistake("init-format", "Return a list with one (W, b) pair per layer: W of shape "
                "(sizes[i], sizes[i + 1]), b of shape (sizes[i + 1],).", detector="judge"),
    ],
)

text_question(
    "4.12", "Reading a gradient check", name="answer_4_12", section=SECTION + "#ch4-gradcheck",
    min_words=25, points=2,
    rubric=("2 points: says that the error sits in the backward pass of the layers whose "
            "gradients disagree (W1 and b1 here: the code between dZ2 and dW1, the first "
            "layer's activation derivative), not in W2's; and names one reason a CORRECT "
            "gradient can show a large relative error: a ReLU kink between x - h and x + h, "
            "float32 round-off, or h too small (cancellation). 1 point: only one of the two. "
            "0: blames the gradient check itself without a reason."))
