"""The opt-in fast path: the book's MLP training with the speed machinery that the learner
core (``layers``, ``optim``, ``train``) leaves out so that it reads in minutes.

``fast.mlp`` (in-place ReLU fused into Dense, parameters and gradients in flat buffers),
``fast.FusedAdam`` (one Adam update over the flat buffers) and ``fast.fit`` (a reused batch
buffer) train to the same weights, bit for bit, as ``layers.mlp`` + ``optim.Adam`` +
``train.fit``; ``make bench`` compares the two. Chapter 9 uses it to show where the time goes
(allocation, memory traffic, GEMM).
"""

from .layers import DenseReLU, mlp
from .optim import FusedAdam
from .train import fit

__all__ = ["DenseReLU", "FusedAdam", "fit", "mlp"]
