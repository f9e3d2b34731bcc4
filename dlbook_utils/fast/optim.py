"""``FusedAdam``: ``optim.Adam`` over a whole model at once, when its arrays tile flat buffers.

When params and grads are views tiling two flat buffers (``fast.mlp`` arranges this, see
``flat``), one pass over the buffers updates every parameter: a dozen NumPy calls per step
instead of a dozen per parameter, each writing into preallocated arrays. Each line keeps the
operation order of ``optim.Adam._update``, so the result is bit-identical to it (tested). Any
other dicts are updated by ``optim.Adam`` itself.
"""

from __future__ import annotations

import numpy as np

from ..optim import Adam
from . import flat

__all__ = ["FusedAdam"]


class FusedAdam(Adam):
    """Adam (same arguments, same results) with one fused update over flat buffers.

    ``state[key]`` holds views "m", "v" of the flat moment buffers, as ``Adam``'s state does;
    the two scratch buffers are private.
    """

    _arrays: tuple = ()  # the arrays of the last step's dicts, to notice a new layout

    def step(self, params: dict, grads: dict) -> None:
        pair = self._flat_pair(params, grads)
        if pair is None or not np.isfinite(pair[1]).all():
            return super().step(params, grads)  # per-key update, or the per-key error message
        w, g = pair
        m, v, tmp, step = self._m, self._v, self._tmp, self._step
        lr = self.current_lr()
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        np.subtract(g, m, out=tmp)          # m += (1 - b1) * (g - m)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)          # v += (1 - b2) * (g * g - v)
        tmp -= v
        tmp *= 1 - b2
        v += tmp
        dt = w.dtype.type  # bias corrections in the parameter dtype, as in Adam
        b1, b2 = dt(b1), dt(b2)
        if self.epsilon_hat:                # step = m * alpha / (sqrt(v) + eps)
            alpha = dt(lr) * np.sqrt(1 - b2**t) / (1 - b1**t)
            np.sqrt(v, out=tmp)
            np.multiply(m, alpha, out=step)
        else:                               # step = lr * m_hat / (sqrt(v_hat) + eps)
            np.divide(v, 1 - b2**t, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.divide(m, 1 - b1**t, out=step)
            step *= dt(lr)
        tmp += dt(self.eps)
        step /= tmp
        w -= step

    def _flat_pair(self, params: dict, grads: dict):
        """(flat params, flat grads) when both dicts tile one buffer each with the same keys,
        shapes and dtype; else None. Kept while the arrays stay the same objects."""
        arrays = (*params.values(), *grads.values())
        if len(self._arrays) == len(arrays) and all(
                a is b for a, b in zip(arrays, self._arrays, strict=True)):
            return self._pair
        w = flat.flat_buffer(params) if list(params) == list(grads) else None
        g = flat.flat_buffer(grads) if w is not None else None
        same = g is not None and w.dtype == g.dtype and w.dtype.kind == "f" and all(
            params[k].shape == grads[k].shape for k in params)
        self._arrays, self._pair = arrays, ((w, g) if same else None)
        if same:  # flat moments, with views for state[key] (moments kept if shapes match)
            self._m, self._v, self._tmp, self._step = (np.zeros_like(w) for _ in range(4))
            shapes = [p.shape for p in params.values()]
            for key, m, v in zip(params, flat.views(self._m, shapes), flat.views(self._v, shapes),
                                 strict=True):
                for name, new in (("m", m), ("v", v)):
                    old = self.state.get(key, {}).get(name)
                    if old is not None and old.shape == new.shape:
                        new[...] = old
                self.state[key] = {"m": m, "v": v}
        return self._pair

    def reset(self) -> None:
        super().reset()
        self._arrays = ()  # look at the layout afresh on the next step
