"""Parameters that live in one contiguous buffer.

``fast.mlp`` moves the parameters of all its layers into one flat array (and their gradients
into another) and leaves each layer a *view* of its piece; the values do not change. An
optimizer that receives such a dict of views (``fast.FusedAdam``) can then update the whole
model with a dozen operations on two long vectors instead of a dozen per array: fewer passes
over memory and far fewer Python calls. PyTorch's fused optimizers and apex's "contiguous grad
buffer" rely on the same trick. Layers must then write their gradients INTO the views
(``out=``), never replace them; a dict that does not tile one buffer is updated one array at a
time, with bit-identical results.
"""

from __future__ import annotations

import math

import numpy as np


def views(flat: np.ndarray, shapes) -> list[np.ndarray]:
    """Consecutive pieces of the 1-D array ``flat``, reshaped to ``shapes`` (views, no copies)."""
    pieces, offset = [], 0
    for shape in shapes:
        size = math.prod(shape)
        pieces.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return pieces


def share_buffer(holders, attr: str) -> None:
    """Copy the arrays ``getattr(h, attr)[key]`` of every holder, in order, into one new flat
    array and replace each by a view of its piece. Does nothing unless all share one dtype."""
    # Only dicts: a nested Sequential (whose params() is a method) keeps its own buffer.
    arrays = [(d, key) for h in holders if isinstance(d := getattr(h, attr), dict) for key in d]
    if len({d[key].dtype for d, key in arrays}) != 1:
        return
    flat = np.concatenate([d[key].ravel() for d, key in arrays])
    for (d, key), view in zip(arrays, views(flat, [d[key].shape for d, key in arrays]),
                              strict=True):
        d[key] = view


def flat_buffer(arrays: dict) -> np.ndarray | None:
    """The 1-D array that the values of ``arrays`` tile exactly, in order, or None.

    True for ``fast.mlp(...).params()`` / ``.grads()`` as long as no layer has replaced an array
    by a new one (then the optimizer falls back to one array at a time).
    """
    values = list(arrays.values())
    base = values[0].base if values else None
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = base.ctypes.data
    for a in values:
        if a.base is not base or a.ctypes.data != address or not a.flags.c_contiguous:
            return None
        address += a.nbytes
    return base if address == base.ctypes.data + base.nbytes else None
