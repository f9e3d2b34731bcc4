"""Optimizers: ``step(params, grads)`` updates the arrays of the dict
``params`` IN PLACE, in Keras 3's order of operations (Adam, AdamW: with
``epsilon_hat=True``); equal to Keras to float32 rounding (chapter 5).
"""

from __future__ import annotations

import numpy as np

from ._validate import checked_grads, in_unit_interval, positive

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """Checks the dicts, counts steps ``t``, calls ``_update(w, g, state,
    lr)`` per key; ``state``: that parameter's arrays. ``lr``: a number or
    a schedule ``t -> lr`` (``schedules``), t from 0 as in Keras."""

    def __init__(self, lr):
        name = type(self).__name__
        self.lr = lr if callable(lr) else positive(lr, name, "lr")
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:  # the next step's
        return float(self.lr(self.t) if callable(self.lr) else self.lr)

    def step(self, params: dict, grads: dict) -> None:
        grads = checked_grads(params, grads, f"{type(self).__name__}.step")
        lr = self.current_lr()
        self.t += 1
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _update(self, w, g, state, lr):
        raise NotImplementedError(
            f"{type(self).__name__} must define _update(w, g, state, lr)")

    def _slot(self, state: dict, name: str, w: np.ndarray) -> np.ndarray:
        """``state[name]``, zeros like w at first; refuses a new shape."""
        if name not in state:
            state[name] = np.zeros_like(w)
        elif state[name].shape != w.shape:
            raise ValueError(
                f"{type(self).__name__} expected a parameter of shape "
                f"{state[name].shape} (its state {name!r} has it), "
                f"got {w.shape}; call reset() after changing the model")
        return state[name]

    def reset(self) -> None:  # forget all state: moments, step count
        self.t, self.state = 0, {}


class SGD(Optimizer):
    """SGD with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.
    momentum 0:   w <- w - lr g                    Eq. (eq-sgd-update)
    momentum mu:  v <- mu v - lr g;  w <- w + v    Eq. (eq-momentum)
    nesterov:     v <- mu v - lr g;  w <- w + mu v - lr g  (eq-nesterov),
    Sutskever et al.'s (2013) look-ahead at the current w. State "v"."""

    def __init__(self, lr=0.01, momentum: float = 0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = in_unit_interval(momentum, "SGD", "momentum")
        self.nesterov = bool(nesterov)

    def _update(self, w, g, state, lr):
        mu = self.momentum
        if mu == 0:
            w -= lr * g
            return
        v = self._slot(state, "v", w)
        v *= mu
        v -= lr * g
        w += mu * v - lr * g if self.nesterov else v

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, "
                f"nesterov={self.nesterov})")


class RMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop`` (not centered, no momentum),
    Eq. (eq-rmsprop): s <- rho s + (1 - rho) g^2; w <- w - lr g /
    sqrt(s + eps), eps INSIDE the root as in Keras (and Goodfellow et al.,
    2016, Alg. 8.5). State "s", like w."""

    def __init__(self, lr=0.001, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho = in_unit_interval(rho, "RMSprop", "rho")
        self.eps = positive(eps, "RMSprop", "eps")

    def _update(self, w, g, state, lr):
        s = self._slot(state, "s", w)  # the running average of g^2
        s *= self.rho
        s += (1 - self.rho) * (g * g)
        w -= lr * g / np.sqrt(s + self.eps)

    def __repr__(self):
        return f"RMSprop(lr={self.lr}, rho={self.rho}, eps={self.eps})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), Eqs. in 05_optimizers:
    m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t),  t from 1,
    w <- w - lr m_hat / (sqrt(v_hat) + eps): (eq-adam-m), (eq-adam-v),
    (eq-adam-bias), (eq-adam-update). ``epsilon_hat=True``: Keras's form,
    Eq. (eq-adam-keras): w <- w - alpha_t m / (sqrt(v) + eps), alpha_t =
    lr sqrt(1 - beta2^t) / (1 - beta1^t); differs where sqrt(v_hat) ~ eps.
    State "m", "v" like w.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7, *,
                 epsilon_hat=False):
        super().__init__(lr)
        name = type(self).__name__
        self.beta1 = in_unit_interval(beta1, name, "beta1")
        self.beta2 = in_unit_interval(beta2, name, "beta2")
        self.eps = positive(eps, name, "eps")
        self.epsilon_hat = bool(epsilon_hat)

    def _update(self, w, g, state, lr):
        m, v = self._slot(state, "m", w), self._slot(state, "v", w)
        # Keras's order: m + (1 - beta)(g - m) = beta m + (1 - beta) g
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        # In w's dtype, as Keras: float32's 0.999 changes 1 - beta2^t
        beta1, beta2 = w.dtype.type(self.beta1), w.dtype.type(self.beta2)
        c1, c2 = 1 - beta1**self.t, 1 - beta2**self.t  # bias corrections
        if self.epsilon_hat:
            alpha = w.dtype.type(lr) * np.sqrt(c2) / c1
            w -= m * alpha / (np.sqrt(v) + self.eps)
        else:
            w -= lr * (m / c1) / (np.sqrt(v / c2) + self.eps)

    def __repr__(self):
        return (f"{type(self).__name__}(lr={self.lr}, beta1={self.beta1}, "
                f"beta2={self.beta2}, eps={self.eps}, "
                f"epsilon_hat={self.epsilon_hat})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019),
    Eq. (eq-adamw): w <- w - lr weight_decay w first (as Keras), then Adam
    on the loss's gradient. ``exclude_from_decay=("b",)``: keys ending in
    ".b" do not decay (Keras: exclude_from_weight_decay)."""

    def __init__(self, lr=0.001, weight_decay=0.004, beta1=0.9,
                 beta2=0.999, eps=1e-7, *, epsilon_hat=False,
                 exclude_from_decay: tuple[str, ...] = ()):
        super().__init__(lr, beta1, beta2, eps, epsilon_hat=epsilon_hat)
        self.weight_decay = positive(weight_decay, "AdamW", "weight_decay",
                                     allow_zero=True)
        if isinstance(exclude_from_decay, str):  # tuple("b"): letters
            raise ValueError("AdamW expected a tuple of parameter names, "
                             f"e.g. ('b',), got {exclude_from_decay!r}")
        self.exclude_from_decay = tuple(exclude_from_decay)

    def step(self, params: dict, grads: dict) -> None:
        skip = self.exclude_from_decay  # by name: _update sees no keys
        self._undecayed = {id(w) for key, w in params.items()
                           if key.rsplit(".", 1)[-1] in skip}
        super().step(params, grads)

    def _update(self, w, g, state, lr):
        if id(w) not in self._undecayed:
            w -= w * self.weight_decay * lr  # Keras's order of operations
        super()._update(w, g, state, lr)

    def __repr__(self):
        decay = f", weight_decay={self.weight_decay})"
        return super().__repr__()[:-1] + decay
