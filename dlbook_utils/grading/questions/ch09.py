"""Chapter 9 (TensorFlow at scale): cost arithmetic, the concepts behind tf.function, mixed
precision and MirroredStrategy, a replica's share of the loss and the choice of a loss scale.

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


# ---------------------------------------------------------------- 9.8 a replica's share of the loss
# eq-global-batch-loss: each of r replicas divides the sum of its B per-example losses by the
# GLOBAL batch size rB (tf.nn.compute_average_loss), so that the all-reduce's sum of the r
# gradients is the gradient of the global mean. r = global_batch / B varies over the cases.
def _replica_loss(per_example, global_batch):
    return float(np.sum(per_example) / global_batch)


def _replica_cases():
    r = np.random.default_rng(98)
    # (B, r): one replica (where the local mean is right), then 2, 4 and 8 replicas
    return [(r.uniform(0.1, 3.0, size=b), b * n) for b, n in ((6, 1), (5, 2), (8, 4), (3, 8))]


def _replica_random(rng):
    return [(rng.uniform(0.01, 5.0, size=b), b * n)
            for b, n in ((int(rng.integers(2, 33)), int(rng.integers(2, 9))) for _ in range(3))]


function_question(
    "9.8", "A replica's share of the global batch's loss", name="replica_loss",
    reference=_replica_loss, cases=_replica_cases(), random_cases=_replica_random,
    batch_size_of=lambda args: None, rtol=1e-6, atol=1e-9, section=SECTION + "#global-batch",
    mistakes=[
        Mistake("replica-local-mean", "Your loss, and so every replica's gradient, is r = "
                "global_batch / B times too large, and so is their sum after the all-reduce: "
                "you divided by the per-replica batch B (the mean over this replica's rows), "
                "not by the global batch size rB.",
                variant=lambda per_example, global_batch: float(np.mean(per_example))),
        Mistake("replica-sum-undivided", "You returned the sum of the B losses: divide it by "
                "the global batch size rB, or the summed gradient is rB times too large.",
                variant=lambda per_example, global_batch: float(np.sum(per_example))),
        Mistake("replica-divided-twice", "You divided twice: the mean over the replica's B "
                "rows, then by the global batch size. Divide the SUM of the B losses by rB, "
                "once.", variant=lambda per_example, global_batch:
                float(np.mean(per_example) / global_batch)),
        Mistake("replica-divided-by-r", "You divided the sum by the number of replicas r = "
                "global_batch / B. Divide it by the global batch size rB: r replicas of B rows.",
                variant=lambda per_example, global_batch:
                float(np.sum(per_example) * len(per_example) / global_batch)),
    ],
)


# ---------------------------------------------------------------- 9.9 choosing the loss scale S
# eq-loss-scale-limit: the largest power of two S with S * max|g| <= 65504 (float16's largest).
F16_MAX = 65504.0


def _safe_scale(grads):
    return float(2.0 ** np.floor(np.log2(F16_MAX / np.max(np.abs(grads)))))


def _scale_from_signed_max(grads):
    with np.errstate(invalid="ignore", divide="ignore"):  # max g <= 0 gives nan, as it would
        return float(2.0 ** np.floor(np.log2(F16_MAX / np.max(grads))))


def _scale_cases():
    r = np.random.default_rng(99)
    g = r.normal(size=50)
    return [(4 * g / np.abs(g).max(),),  # largest |g| 4: 65504 / 4 lies just below 2**14
            (np.array([2e-3, -0.7, 1e-6, 0.3]),),  # the largest |g| is negative
            (r.normal(scale=1e-4, size=(6, 5)),)]  # a 2-d gradient, far below 1


def _scale_random(rng):
    return [(rng.normal(scale=10.0 ** rng.uniform(-6, 1), size=int(rng.integers(5, 40))),)
            for _ in range(3)]


function_question(
    "9.9", "The largest loss scale S that overflows nothing", name="safe_loss_scale",
    reference=_safe_scale, cases=_scale_cases(), random_cases=_scale_random,
    batch_size_of=lambda args: None, rtol=0, atol=0, section=SECTION + "#mixed-precision",
    mistakes=[
        Mistake("scale-rounded-up", "Your S is twice too large: S * max|g| passes 65504 and "
                "the largest gradient overflows to inf. Round the exponent DOWN (floor).",
                variant=lambda g: float(2.0 ** np.ceil(np.log2(F16_MAX / np.max(np.abs(g)))))),
        Mistake("scale-ignores-sign", "A large negative gradient overflows too (to -inf): "
                "take the largest ABSOLUTE value, max |g|, not max g.",
                variant=_scale_from_signed_max),
        Mistake("scale-exponent-not-scale", "You returned the exponent k; the scale is "
                "S = 2**k.", variant=lambda g: float(np.floor(np.log2(F16_MAX / np.max(np.abs(g)))))),
        Mistake("scale-limit-65536", "65536 = 2**16 is not a float16 number: the largest is "
                "65504, and a scaled gradient from 65520 up rounds to inf. Bound S * max|g| "
                "by 65504, the book's (conservative) limit.",
                variant=lambda g: float(2.0 ** np.floor(np.log2(65536 / np.max(np.abs(g)))))),
        Mistake("scale-not-power-of-two", "S must be a power of two, so that scaling and "
                "unscaling change only the exponent and lose no bits: round log2 down.",
                variant=lambda g: float(F16_MAX / np.max(np.abs(g)))),
    ],
)
