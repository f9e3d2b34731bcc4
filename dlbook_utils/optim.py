"""Optimizers: ``step(params, grads)`` updates every array of ``params`` IN PLACE.

``params`` and ``grads`` are dicts with the same keys (e.g. ``model.params()`` and
``model.grads()``); ``state[key]`` holds that parameter's own arrays (velocity, moments). SGD
and RMSprop follow Keras 3 (``keras.optimizers``) operation for operation; Adam and AdamW do so
only with ``epsilon_hat=True`` (Keras's form), their default being Kingma & Ba's Algorithm 1.
Chapter 5 and the TF tests find them equal to Keras to float32 rounding; where a textbook
writes a formula differently the docstring says so.
``lr`` may be a number or a schedule ``step -> lr`` (see ``schedules``), called with the
0-based step count like Keras's ``LearningRateSchedule``.
"""

from __future__ import annotations

import numpy as np

from ._validate import checked_grads, in_unit_interval, positive

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW"]


class Optimizer:
    """Base class: checks the dicts, counts steps ``t``, and calls ``_update(w, g, state, lr)``
    for every key, with ``state`` that parameter's dict of arrays."""

    def __init__(self, lr):
        self.lr = lr if callable(lr) else positive(lr, type(self).__name__, "lr")
        self.t = 0  # number of steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def current_lr(self) -> float:
        """The learning rate the next step uses (a schedule is evaluated at step ``t``)."""
        return float(self.lr(self.t) if callable(self.lr) else self.lr)

    def step(self, params: dict, grads: dict) -> None:
        grads = checked_grads(params, grads, f"{type(self).__name__}.step")
        lr = self.current_lr()
        self.t += 1
        for key, w in params.items():
            self._update(w, grads[key], self.state.setdefault(key, {}), lr)

    def _update(self, w, g, state, lr):
        raise NotImplementedError(f"{type(self).__name__} must define _update(w, g, state, lr)")

    def _slot(self, state: dict, name: str, w: np.ndarray) -> np.ndarray:
        """``state[name]``, created as zeros shaped like w on first use. A parameter whose shape
        has changed since is refused: its velocity or moments would no longer fit it."""
        if name not in state:
            state[name] = np.zeros_like(w)
        elif state[name].shape != w.shape:
            raise ValueError(
                f"{type(self).__name__} expected a parameter of shape {state[name].shape} (its "
                f"state {name!r} has that shape), got {w.shape}; call reset() after changing "
                f"the model")
        return state[name]

    def reset(self) -> None:
        """Forget all state (velocities, moments, step count)."""
        self.t, self.state = 0, {}


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.

    momentum = 0:  w <- w - lr g                              Eq. (eq-sgd-update) in 05_optimizers
    momentum mu:   v <- mu v - lr g;  w <- w + v              Eq. (eq-momentum)
    nesterov:      v <- mu v - lr g;  w <- w + mu v - lr g    Eq. (eq-nesterov), Sutskever et
    al.'s (2013) look-ahead rewritten in terms of the current w. Shapes: state "v" like w.
    """

    def __init__(self, lr=0.01, momentum: float = 0.0, nesterov: bool = False):
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
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


class RMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop`` (centered=False, momentum=0), Eq. (eq-rmsprop).

    s <- rho s + (1 - rho) g^2;   w <- w - lr g / sqrt(s + eps).   Shapes: state "s" like w.
    eps sits INSIDE the square root, as in Keras (and Goodfellow et al., 2016, Alg. 8.5); texts
    that write sqrt(s) + eps differ only where s is of the order of eps.
    """

    def __init__(self, lr=0.001, rho: float = 0.9, eps: float = 1e-7):
        super().__init__(lr)
        self.rho = in_unit_interval(rho, "RMSprop", "rho")
        self.eps = positive(eps, "RMSprop", "eps")

    def _update(self, w, g, state, lr):
        s = self._slot(state, "s", w)  # the running average of g^2, Eq. (eq-rmsprop)
        s *= self.rho
        s += (1 - self.rho) * (g * g)
        w -= lr * g / np.sqrt(s + self.eps)

    def __repr__(self):
        return f"RMSprop(lr={self.lr}, rho={self.rho}, eps={self.eps})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), Eqs. in 05_optimizers as marked.

    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2     (eq-adam-m), (eq-adam-v)
    m_hat = m / (1 - beta1^t);      v_hat = v / (1 - beta2^t)          (eq-adam-bias)
    w <- w - lr m_hat / (sqrt(v_hat) + eps)                            (eq-adam-update)
    ``epsilon_hat=True`` is Keras's form (Kingma & Ba, Sec. 2), Eq. (eq-adam-keras): alpha_t =
    lr sqrt(1 - beta2^t) / (1 - beta1^t);  w <- w - alpha_t m / (sqrt(v) + eps). The same update
    with an eps scaled by sqrt(1 - beta2^t): it matters only where sqrt(v_hat) is comparable to eps.
    t = ``self.t``, which ``step`` raises before ``_update`` (t = 1 first). State "m", "v" like w.
    """

    def __init__(self, lr=0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7,
                 *, epsilon_hat: bool = False):
        super().__init__(lr)
        name = type(self).__name__
        self.beta1 = in_unit_interval(beta1, name, "beta1")
        self.beta2 = in_unit_interval(beta2, name, "beta2")
        self.eps = positive(eps, name, "eps")
        self.epsilon_hat = bool(epsilon_hat)

    def _update(self, w, g, state, lr):
        m, v = self._slot(state, "m", w), self._slot(state, "v", w)
        # Keras's form of the docstring's formula (equal in exact arithmetic, not always in the
        # last bit): beta m + (1 - beta) g = m - (1 - beta) m + (1 - beta) g = m + (1 - beta)(g - m)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        # In w's dtype, as Keras: float32's 0.999 (0.99900001) moves 1 - beta2^1 in digit 5.
        beta1, beta2, t = w.dtype.type(self.beta1), w.dtype.type(self.beta2), self.t
        if self.epsilon_hat:
            alpha = w.dtype.type(lr) * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            w -= m * alpha / (np.sqrt(v) + self.eps)
        else:
            w -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + self.eps)

    def __repr__(self):
        return (f"{type(self).__name__}(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, "
                f"eps={self.eps}, epsilon_hat={self.epsilon_hat})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), Eq. (eq-adamw).

    w <- w - lr weight_decay w, then the Adam step with the gradient g of the loss alone (the
    decay never enters m or v). As in ``keras.optimizers.AdamW`` the decay comes first, scaled
    by the learning rate, and by default applies to every parameter (biases too).
    ``exclude_from_decay=("b",)`` skips the parameters of those names (a key's part after its
    last "."; Keras: ``exclude_from_weight_decay``): biases undecayed, as under an L2 penalty.
    """

    def __init__(self, lr=0.001, weight_decay: float = 0.004, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7, *, epsilon_hat: bool = False,
                 exclude_from_decay: tuple[str, ...] = ()):
        super().__init__(lr, beta1, beta2, eps, epsilon_hat=epsilon_hat)
        self.weight_decay = positive(weight_decay, "AdamW", "weight_decay", allow_zero=True)
        if isinstance(exclude_from_decay, str):  # tuple("b") would split it into letters
            raise ValueError(f"AdamW expected a tuple of parameter names such as ('b',) for "
                             f"exclude_from_decay, got {exclude_from_decay!r}")
        self.exclude_from_decay = tuple(exclude_from_decay)

    def step(self, params: dict, grads: dict) -> None:
        # Which parameters decay depends on their names, which _update does not see.
        self._undecayed = {id(w) for key, w in params.items()
                           if key.rsplit(".", 1)[-1] in self.exclude_from_decay}
        super().step(params, grads)

    def _update(self, w, g, state, lr):
        if id(w) not in self._undecayed:
            w -= w * self.weight_decay * lr  # same order of operations as Keras
        super()._update(w, g, state, lr)

    def __repr__(self):
        return super().__repr__()[:-1] + f", weight_decay={self.weight_decay})"
