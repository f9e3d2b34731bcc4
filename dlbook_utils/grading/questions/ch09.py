"""Chapter 9 (TensorFlow at scale): cost arithmetic and the concepts behind tf.function, mixed
precision and MirroredStrategy.

The exercises are NumPy/arithmetic only: the batch grader runs submissions without TensorFlow.
FLOP convention: a matrix product (n, a) @ (a, b) costs 2 n a b floating-point operations (one
multiply and one add per term); biases and activations are ignored; a training step costs three
products per Dense layer (forward Z = X W, backward dW = X.T delta and dX = delta W.T), i.e. three
times the forward pass (the first layer's dX is counted too, as the usual rule of thumb does).
"""

import numpy as np

from ..registry import Mistake, function_question, value_question

SECTION = "../book/09_tf_at_scale.ipynb"


# ---------------------------------------------------------------- 9.1 FLOPs of a training step
def _weights(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def _train_flops(sizes, batch):
    return 6 * batch * _weights(sizes)


function_question(
    "9.1", "FLOPs of one MLP training step", name="train_step_flops", reference=_train_flops,
    cases=[([784, 256, 10], 128), ([4, 3], 1), ([100, 50, 50, 10], 32)],
    random_cases=lambda rng: [([int(v) for v in rng.integers(2, 300, size=int(rng.integers(2, 5)))],
                               int(rng.integers(1, 256)))],
    batch_size_of=lambda args: None, rtol=0, atol=0.5, section=SECTION + "#speed",
    mistakes=[
        Mistake("flops-forward-only", "That is the forward pass only. Training also runs the "
                "backward pass: two more products per layer (dW and dX), so 3 x the forward cost.",
                variant=lambda s, n: 2 * n * _weights(s)),
        Mistake("flops-macs-not-flops", "You counted multiply-adds. Each multiply-add is two "
                "floating-point operations: a product (n, a) @ (a, b) costs 2 n a b FLOPs.",
                variant=lambda s, n: 3 * n * _weights(s)),
        Mistake("flops-per-example", "Your count is for one example: multiply by the batch "
                "size.", variant=lambda s, n: 6 * _weights(s)),
        Mistake("flops-backward-one-product", "The backward pass of a Dense layer needs TWO "
                "products, dW = X.T @ delta and dX = delta @ W.T: 3 x forward in total, not 2 x.",
                variant=lambda s, n: 4 * n * _weights(s)),
    ],
)

# ---------------------------------------------------------------- 9.2 one concrete network
_FLOPS = _train_flops([784, 256, 10], 128)
value_question(
    "9.2", "FLOPs per step: 784-256-10 MLP, batch 128", name="flops_784_256_10",
    reference=_FLOPS, rtol=0, atol=0.5, section=SECTION + "#speed",
    mistakes=[
        Mistake("flops-forward-only", "That is the forward pass only: training costs 3 x the "
                "forward FLOPs.", value=_FLOPS / 3),
        Mistake("flops-macs-not-flops", "You counted multiply-adds; each is 2 FLOPs.",
                value=_FLOPS / 2),
        Mistake("flops-per-example", "Multiply by the batch size, 128.", value=_FLOPS / 128),
    ],
)

# ---------------------------------------------------------------- 9.3 throughput from timings
# Wall-clock seconds of 20 training steps with batch 128 (the notebook prints them); the first
# step includes tracing the tf.function graph.
STEP_TIMES = [1.84, 0.051, 0.049, 0.050, 0.052, 0.048, 0.050, 0.051, 0.049, 0.050, 0.050, 0.053,
              0.047, 0.050, 0.051, 0.049, 0.050, 0.050, 0.052, 0.048]
BATCH = 128
_STEADY = float(np.sum(STEP_TIMES[1:]))
_SPS = BATCH * (len(STEP_TIMES) - 1) / _STEADY

value_question(
    "9.3", "Training throughput in samples per second", name="samples_per_second",
    reference=_SPS, rtol=1e-3, atol=0, section=SECTION + "#speed",
    mistakes=[
        Mistake("throughput-includes-warmup", "Leave out the first step: it includes tracing "
                "the graph (a one-off cost), not the steady-state speed.",
                value=BATCH * len(STEP_TIMES) / float(np.sum(STEP_TIMES))),
        Mistake("throughput-steps-not-samples", "That is steps per second; each step "
                "processes a batch of 128 samples.", value=_SPS / BATCH),
        Mistake("throughput-seconds-per-sample", "You computed seconds per sample; throughput "
                "is its reciprocal (samples per second).", value=1 / _SPS),
    ],
)

# ---------------------------------------------------------------- 9.4 achieved GFLOP/s
_GFLOPS = _FLOPS * (len(STEP_TIMES) - 1) / _STEADY / 1e9
value_question(
    "9.4", "Achieved GFLOP/s", name="achieved_gflops", reference=_GFLOPS, rtol=1e-3,
    atol=0.05,  # a value rounded to one decimal (3.1) is right
    section=SECTION + "#speed",
    mistakes=[
        Mistake("throughput-includes-warmup", "Leave out the first (tracing) step.",
                value=_FLOPS * len(STEP_TIMES) / float(np.sum(STEP_TIMES)) / 1e9),
        Mistake("gflops-unit", "Your number is in FLOP/s: divide by 1e9 for GFLOP/s.",
                value=_GFLOPS * 1e9),
        Mistake("flops-forward-only", "Use the FLOPs of the whole training step (exercise "
                "9.2), not the forward pass only.", value=_GFLOPS / 3),
    ],
)
