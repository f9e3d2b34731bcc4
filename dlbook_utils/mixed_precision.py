"""float16 overflow, underflow and loss scaling, shown with NumPy on a CPU.

float16 keeps 10 bits of mantissa and 5 of exponent: its largest value is 65504, its smallest
normal value 2**-14 ≈ 6.1e-5 and its smallest subnormal 2**-24 ≈ 6.0e-8. Mixed-precision
training computes in float16 (fast on GPUs and some CPUs) and keeps float32 master weights.
Two things go wrong when values leave float16's range:

- **overflow**: a value above 65504 becomes ``inf``, and the update that uses it is garbage;
- **underflow**: a gradient below ~6e-8 becomes 0, and one below 6.1e-5 keeps fewer bits.

**Loss scaling** multiplies the loss by S before backpropagation, so every gradient is S times
larger while it lives in float16, and divides by S in float32 before the update. **Dynamic**
loss scaling (Keras's ``LossScaleOptimizer``) picks S by trial: a step whose gradients are not
finite is skipped and S halved; after ``growth_steps`` good steps in a row S is doubled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import float_array, positive

__all__ = ["FLOAT16", "CastReport", "cast_to_float16", "float16_roundtrip", "DynamicLossScale"]

FLOAT16 = np.finfo(np.float16)  # .max 65504, .smallest_normal 6.1e-05, .smallest_subnormal 6e-08


@dataclass(frozen=True)
class CastReport:
    """What casting ``n`` finite values to float16 did to them.

    ``overflow``: became ±inf. ``underflow``: nonzero, became 0. ``subnormal``: nonzero, now
    below the smallest normal float16 (fewer significant bits). ``max_rel_error``: the largest
    relative rounding error over the values that stayed finite and nonzero.
    """

    n: int
    overflow: int
    underflow: int
    subnormal: int
    max_rel_error: float

    def __str__(self):
        return (f"{self.n} values -> float16: {self.overflow} overflow to inf, "
                f"{self.underflow} underflow to 0, {self.subnormal} subnormal, "
                f"max relative error of the rest {self.max_rel_error:.1e}")


def cast_to_float16(x) -> tuple[np.ndarray, CastReport]:
    """``x`` rounded to float16, and a report of what was lost. Shapes: x (...) -> (...)."""
    x = float_array(x, "cast_to_float16", "x")
    with np.errstate(over="ignore", under="ignore"):  # overflow is what we are counting
        half = x.astype(np.float16)
    back = half.astype(np.float64)
    nonzero = x != 0
    kept = np.isfinite(back) & (back != 0) & nonzero
    rel = np.abs(back[kept] - x[kept]) / np.abs(x[kept])
    report = CastReport(
        n=int(x.size), overflow=int(np.count_nonzero(np.isinf(back))),
        underflow=int(np.count_nonzero(nonzero & (back == 0))),
        subnormal=int(np.count_nonzero(kept & (np.abs(back) < FLOAT16.smallest_normal))),
        max_rel_error=float(rel.max()) if rel.size else 0.0)
    return half, report


def float16_roundtrip(grads, scale: float = 1.0) -> tuple[np.ndarray, CastReport]:
    """Gradients as they survive float16 with loss scale ``scale``: (g·S in float16) / S.

    The scaled values live in float16 (as during a mixed-precision backward pass); the division
    by S happens in float32, as in the optimizer. Shapes: grads (...) -> float32 (...), and the
    report of the float16 cast of the scaled values.
    """
    scale = positive(scale, "float16_roundtrip", "scale")
    grads = float_array(grads, "float16_roundtrip", "grads")
    half, report = cast_to_float16(grads * scale)
    return half.astype(np.float32) / np.float32(scale), report


class DynamicLossScale:
    """Keras's dynamic loss scaling rule, in NumPy.

    ``update(scaled_grads)`` returns True when the step may be applied (every gradient finite)
    and adapts ``scale``: halved after a non-finite step (which is skipped), doubled after
    ``growth_steps`` finite steps in a row. ``keras.optimizers.LossScaleOptimizer`` follows the
    same rule, with defaults ``initial_scale=2**15`` and ``dynamic_growth_steps=2000``.
    """

    def __init__(self, initial_scale: float = 2.0**15, growth_steps: int = 2000):
        self.scale = positive(initial_scale, "DynamicLossScale", "initial_scale")
        if isinstance(growth_steps, bool) or not isinstance(growth_steps, int) or growth_steps < 1:
            raise ValueError(f"DynamicLossScale expected growth_steps to be an integer >= 1, "
                             f"got {growth_steps!r}")
        self.growth_steps, self.good_steps = growth_steps, 0

    def update(self, scaled_grads) -> bool:
        """Check one step's scaled gradients (a list of arrays); adapt the scale."""
        finite = all(np.isfinite(np.asarray(g)).all() for g in scaled_grads)
        if not finite:
            self.scale, self.good_steps = self.scale / 2, 0  # skip this step; try a smaller S
            return False
        self.good_steps += 1
        if self.good_steps == self.growth_steps:
            self.scale, self.good_steps = self.scale * 2, 0  # a while without trouble: try a larger S
        return True
