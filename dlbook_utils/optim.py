"""Optimizers: ``step(params, grads)`` updates every array of ``params`` IN PLACE.

``params`` and ``grads`` are dicts with the same keys (e.g. ``model.params()`` and
``model.grads()``); each optimizer keeps its state (velocity, moments) per key. The formulas
follow Keras 3 (``keras.optimizers``) operation for operation, so trajectories agree to float32
rounding; where a textbook writes the formula differently the docstring says so.

``lr`` may be a number or a schedule ``step -> lr`` (see ``schedules``), called with the 0-based
step count like Keras's ``LearningRateSchedule``. Scalars are applied as Python floats, which
NumPy casts to the array's dtype: float32 parameters stay float32.
"""

from __future__ import annotations

import numpy as np

from . import _flat
from ._validate import float_array, in_unit_interval, positive

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """Base class: validates the dicts, counts steps (``t``), keeps per-key ``state``."""

    def __init__(self, lr):
        if not callable(lr):
            lr = positive(lr, type(self).__name__, "lr")
        self.lr = lr
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:
        """The learning rate the next step uses (a schedule is evaluated at step ``t``)."""
        lr = self.lr(self.t) if callable(self.lr) else self.lr
        return float(lr)

    def step(self, params: dict, grads: dict) -> None:
        where = f"{type(self).__name__}.step"
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise ValueError(f"{where} expected two dicts (params, grads), "
                             f"got {type(params).__name__}, {type(grads).__name__}")
        if set(params) != set(grads):
            raise ValueError(f"{where} expected grads with the keys of params {sorted(params)}, "
                             f"got {sorted(grads)}")
        checked = {}
        for key, w in params.items():
            if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
                raise ValueError(f"{where} expected params[{key!r}] to be a float ndarray "
                                 f"(updated in place), got {type(w).__name__}"
                                 f"{'' if not isinstance(w, np.ndarray) else ' ' + str(w.dtype)}")
            g = float_array(grads[key], where, f"grads[{key!r}]", finite=False)
            if g.shape != w.shape:
                raise ValueError(f"{where} expected grads[{key!r}] of shape {w.shape}, "
                                 f"got {g.shape}")
            checked[key] = g.astype(w.dtype, copy=False)
        # A NaN or inf gradient is refused before anything changes. A model's gradients that
        # tile one flat buffer are checked in one pass; the message names the key either way.
        flat = self._flat_buffers(params, checked)
        if flat is None or not np.isfinite(flat[1]).all():
            for key, g in checked.items():
                float_array(g, where, f"grads[{key!r}]")
        lr = self.current_lr()
        self.t += 1
        self._apply(params, checked, lr)

    def _flat_buffers(self, params: dict, grads: dict):
        """(flat params, flat grads) when each dict's arrays tile one flat buffer, as
        ``Sequential``'s do (see ``_flat``), else None. The answer is kept while the arrays stay
        the same objects, so the check costs nothing on later steps."""
        arrays = (*params.values(), *grads.values())
        cached = getattr(self, "_flat_arrays", ())
        if len(cached) != len(arrays) or any(a is not b for a, b in zip(arrays, cached, strict=True)):
            w, g = _flat.flat_buffer(params), _flat.flat_buffer(grads)
            ok = w is not None and g is not None and w.dtype == g.dtype
            self._flat_arrays, self._flat_pair = arrays, ((w, g) if ok else None)
            if ok:
                self._new_layout(params, w.dtype)
        return self._flat_pair

    def _new_layout(self, params: dict, dtype) -> None:
        """Called when the flat parameter layout changes; Adam lays out its moments here."""

    def _apply(self, params: dict, grads: dict, lr: float) -> None:
        """One update of every parameter; subclasses may fuse the loop (see Adam)."""
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _slot(self, state: dict, name: str, w: np.ndarray) -> np.ndarray:
        """A zero-initialised state array shaped like w (created on first use)."""
        if name not in state or state[name].shape != w.shape:
            state[name] = np.zeros_like(w)
        return state[name]

    def _update(self, w, g, state, lr):
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all state (velocities, moments, step count)."""
        self.t, self.state = 0, {}
        self._flat_arrays = ()  # look at the layout afresh on the next step


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as in ``keras.optimizers.SGD``.

    momentum = 0:  w <- w - lr g                              Eq. (eq-sgd-update) in 05_optimizers
    momentum m:    v <- m v - lr g;  w <- w + v               Eq. (eq-momentum) in 05_optimizers
    nesterov:      v <- m v - lr g;  w <- w + m v - lr g      Eq. (eq-nesterov) in 05_optimizers
    (the Nesterov line is Sutskever et al.'s (2013) look-ahead rewritten in terms of the current w).
    """

    def __init__(self, lr=0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(lr)
        self.momentum = in_unit_interval(momentum, "SGD", "momentum")
        self.nesterov = bool(nesterov)

    def _update(self, w, g, state, lr):
        m = self.momentum
        if m == 0:
            w -= lr * g
            return
        v = self._slot(state, "v", w)
        v *= m
        v -= lr * g
        if self.nesterov:
            w += m * v - lr * g
        else:
            w += v

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


class RMSprop(Optimizer):
    """RMSprop as in ``keras.optimizers.RMSprop`` (centered=False, momentum=0), Eq. (eq-rmsprop).

    v <- rho v + (1 - rho) g^2;   w <- w - lr g / sqrt(v + eps)

    eps sits INSIDE the square root, as in Keras (and Goodfellow et al., 2016, Alg. 8.5); texts
    that write sqrt(v) + eps differ only where v is of the order of eps.
    """

    def __init__(self, lr=0.001, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho = in_unit_interval(rho, "RMSprop", "rho")
        self.eps = positive(eps, "RMSprop", "eps")

    def _update(self, w, g, state, lr):
        v = self._slot(state, "v", w)
        v *= self.rho
        v += (1 - self.rho) * (g * g)
        w -= lr * g / np.sqrt(v + self.eps)

    def __repr__(self):
        return f"RMSprop(lr={self.lr}, rho={self.rho}, eps={self.eps})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), Eq. (eq-adam-update) in 05_optimizers.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2            (moment estimates)
    m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)              (bias correction)
    w <- w - lr m_hat / (sqrt(v_hat) + eps)                       (epsilon_hat=False, default)

    ``epsilon_hat=True`` gives Keras's form (the "epsilon hat" variant of Kingma & Ba, Sec. 2):
    alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t);   w <- w - alpha_t m / (sqrt(v) + eps).
    Both are algebraically the same update with a different epsilon: Keras's eps equals
    Algorithm 1's eps times sqrt(1 - b2^t). The difference matters only where sqrt(v_hat) is
    comparable to eps; with eps = 1e-7 and ordinary gradients it is below float32 rounding.
    """

    def __init__(self, lr=0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7,
                 *, epsilon_hat: bool = False):
        super().__init__(lr)
        name = type(self).__name__
        self.beta1 = in_unit_interval(beta1, name, "beta1")
        self.beta2 = in_unit_interval(beta2, name, "beta2")
        self.eps = positive(eps, name, "eps")
        self.epsilon_hat = bool(epsilon_hat)

    SLOTS = ("m", "v", "tmp", "step")

    def _apply(self, params, grads, lr):
        """When params and grads are views tiling two flat buffers (``Sequential`` arranges
        this, see ``_flat``), one pass over the buffers updates every parameter: a dozen NumPy
        calls per step instead of a dozen per parameter. Per-key ``state`` entries are views into
        flat moment buffers. The arithmetic is the same, so results are bit-identical."""
        flat = self._flat_pair  # what step() just found for these dicts (_flat_buffers)
        if flat is None or type(self)._update is not Adam._update:  # e.g. a subclass's own rule
            return super()._apply(params, grads, lr)
        w, g = flat
        state = self._flat
        self._adam_step(g, state["m"], state["v"], state["tmp"], state["step"], lr)
        self._decay(w, lr)
        w -= state["step"]

    def reset(self) -> None:
        super().reset()
        self._layout = None  # fresh (zero) flat moments on the next step

    def _new_layout(self, params, dtype) -> None:
        """Flat moment and scratch buffers for this layout (``self._flat``); ``state[key]``
        holds views of them. Called when the parameter arrays change, not on every step."""
        layout = tuple((key, w.shape) for key, w in params.items())
        if getattr(self, "_layout", None) != (layout, dtype):
            size = sum(w.size for w in params.values())
            flat = {name: np.zeros(size, dtype=dtype) for name in self.SLOTS}
            pieces = {name: _flat.views(flat[name], [w.shape for w in params.values()])
                      for name in self.SLOTS}
            for i, (key, w) in enumerate(params.items()):
                views = {name: pieces[name][i] for name in self.SLOTS}
                for name, old in self.state.get(key, {}).items():
                    if name in views and old.shape == w.shape:
                        views[name][...] = old  # keep moments across a layout change
                self.state[key] = views
            self._layout, self._flat = (layout, dtype), flat

    def _update(self, w, g, state, lr):
        m, v, tmp, step = (self._slot(state, name, w) for name in self.SLOTS)
        self._adam_step(g, m, v, tmp, step, lr)
        self._decay(w, lr)
        w -= step

    def _decay(self, w, lr):
        """Decoupled weight decay hook: nothing in Adam (see AdamW)."""

    def _adam_step(self, g, m, v, tmp, step, lr):
        """Update the moments m, v in place and write the parameter change into ``step``.

        Each line keeps the operation order of the plain formula, so the result is bit-identical
        to it, and nothing is allocated (``tmp`` is scratch).
        """
        b1, b2, t = self.beta1, self.beta2, self.t
        # The moving averages of the docstring, written as "move a fraction (1 - b) of the way
        # towards the new value" (the same order of operations as Keras):
        np.subtract(g, m, out=tmp)          # m += (1 - b1) * (g - m)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)          # v += (1 - b2) * (g * g - v)
        tmp -= v
        tmp *= 1 - b2
        v += tmp
        # Bias corrections in the parameter dtype, as Keras does: in float32, 0.999 is 0.99900001,
        # which moves 1 - b2^t in its 5th digit at t = 1 (enough to shift a trajectory by ~1e-6).
        dt = m.dtype.type
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

    def __repr__(self):
        return (f"{type(self).__name__}(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, "
                f"eps={self.eps}, epsilon_hat={self.epsilon_hat})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), Eq. (eq-adamw) in 05_optimizers.

    w <- w - lr * weight_decay * w, then the Adam step with the gradient g of the loss alone
    (the decay never enters m or v). Like ``keras.optimizers.AdamW`` the decay is applied first,
    scaled by the learning rate, and to every parameter (biases too); since the Adam step does
    not depend on w, the order changes nothing but rounding.
    """

    def __init__(self, lr=0.001, weight_decay: float = 0.004, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7, *, epsilon_hat: bool = False):
        super().__init__(lr, beta1, beta2, eps, epsilon_hat=epsilon_hat)
        self.weight_decay = positive(weight_decay, "AdamW", "weight_decay", allow_zero=True)

    def _decay(self, w, lr):
        w -= w * self.weight_decay * lr  # same order of operations as Keras

    def __repr__(self):
        return super().__repr__()[:-1] + f", weight_decay={self.weight_decay})"
