"""Optimizers: ``step(params, grads)`` updates the arrays of the dict
``params`` IN PLACE, in Keras 3's order of operations; equal to Keras to
float32 rounding (chapter 5). Adam and AdamW match Keras's own formula
only with ``epsilon_hat=True``.
"""

from __future__ import annotations

import numpy as np

from ._validate import checked_grads, in_unit_interval, positive

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """What every optimizer shares, none of it the update itself: the step
    count ``t``; ``lr``, a number or a schedule ``t -> lr`` (schedules);
    ``state[key]``: that parameter's own arrays (``_slot``); reset()."""

    def __init__(self, lr):
        name = type(self).__name__
        self.lr = lr if callable(lr) else positive(lr, name, "lr")
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:  # the next step's: lr(t), t from 0
        return float(self.lr(self.t) if callable(self.lr) else self.lr)

    def _slot(self, state: dict, name: str, w: np.ndarray) -> np.ndarray:
        """``state[name]`` itself (zeros like w at first), so that ``+=``
        on it stores the new value; refuses a w of a new shape."""
        if name not in state:
            state[name] = np.zeros_like(w)
        elif state[name].shape != w.shape:
            raise ValueError(f"{type(self).__name__} expected a parameter "
                             f"of shape {state[name].shape} (its state "
                             f"{name!r} has it), got {w.shape}; call "
                             "reset() after changing the model")
        return state[name]

    def reset(self) -> None:  # forget all state: moments, step count
        self.t, self.state = 0, {}

    def __repr__(self):  # the hyperparameters, e.g. SGD(lr=0.1, ...)
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items()
                         if k not in ("t", "state") and k[0] != "_")
        return f"{type(self).__name__}({args})"


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

    def step(self, params: dict, grads: dict) -> None:
        grads = checked_grads(params, grads, f"{type(self).__name__}.step")
        lr = self.current_lr()  # before t += 1, as in Adam.step
        self.t += 1
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _update(self, w, g, state, lr):
        if self.momentum == 0:
            w -= lr * g
            return
        v = self._slot(state, "v", w)  # state's own array: *= stores it
        v *= self.momentum
        v -= lr * g
        w += self.momentum * v - lr * g if self.nesterov else v


class RMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop`` (not centered, no momentum),
    Eq. (eq-rmsprop): s <- rho s + (1 - rho) g^2; w <- w - lr g /
    sqrt(s + eps), eps INSIDE the root as in Keras (and Goodfellow et al.,
    2016, Alg. 8.5). State "s", like w."""

    def __init__(self, lr=0.001, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho = in_unit_interval(rho, "RMSprop", "rho")
        self.eps = positive(eps, "RMSprop", "eps")

    def step(self, params: dict, grads: dict) -> None:
        grads = checked_grads(params, grads, f"{type(self).__name__}.step")
        lr = self.current_lr()  # before t += 1, as in Adam.step
        self.t += 1
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _update(self, w, g, state, lr):
        s = self._slot(state, "s", w)  # the running average of g^2
        s *= self.rho
        s += (1 - self.rho) * (g * g)
        w -= lr * g / np.sqrt(s + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Alg. 1; eps 1e-7 as Keras, the paper 1e-8),
    Eqs. (eq-adam-m) to (eq-adam-update) of ch. 5, state "m", "v" like w:
    m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2,
    m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t),  t = 1, 2, ...
    w <- w - lr m_hat / (sqrt(v_hat) + eps). ``epsilon_hat=True``: Keras's
    form (eq-adam-keras), w <- w - alpha_t m / (sqrt(v) + eps), alpha_t =
    lr sqrt(1 - beta2^t) / (1 - beta1^t); differs if sqrt(v_hat) ~ eps."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7, *,
                 epsilon_hat=False):
        super().__init__(lr)
        name = type(self).__name__
        self.beta1 = in_unit_interval(beta1, name, "beta1")
        self.beta2 = in_unit_interval(beta2, name, "beta2")
        self.eps = positive(eps, name, "eps")
        self.epsilon_hat = bool(epsilon_hat)

    def step(self, params: dict, grads: dict) -> None:
        grads = checked_grads(params, grads, f"{type(self).__name__}.step")
        lr = self.current_lr()  # before t += 1: schedules count from 0 as
        self.t += 1  # in Keras; the update sees t = 1 on the first step
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _update(self, w, g, state, lr):
        # state's own arrays (zeros at first): += stores m_t and v_t
        m, v = self._slot(state, "m", w), self._slot(state, "v", w)
        # Keras's order: m + (1 - beta)(g - m) = beta m + (1 - beta) g
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        # beta in w's dtype, as Keras: float32(0.999) = 0.99900001 moves
        # 1 - beta2^t by up to 1.3e-5 (relative), far above rounding
        beta1, beta2 = w.dtype.type(self.beta1), w.dtype.type(self.beta2)
        c1, c2 = 1 - beta1**self.t, 1 - beta2**self.t  # bias corrections
        if self.epsilon_hat:  # lr cast: NumPy 1 would make this float64
            alpha = w.dtype.type(lr) * np.sqrt(c2) / c1
            w -= m * alpha / (np.sqrt(v) + self.eps)
        else:  # lr and eps meet arrays: they take w's dtype themselves
            w -= lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


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
        checked_grads(params, grads, "AdamW.step")  # before changing w
        lr = self.current_lr()  # the lr Adam.step reads next
        for key, w in params.items():  # decay first, as Keras; "0.b": "b"
            if key.rsplit(".", 1)[-1] not in self.exclude_from_decay:
                w -= w * self.weight_decay * lr  # Keras's order of ops
        super().step(params, grads)
