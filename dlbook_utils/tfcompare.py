"""The same computations in TensorFlow/Keras, to check the NumPy code against a reference.

Everything runs in float32 (the dtype Keras trains in) and returns a ``Comparison`` that prints
as one line, e.g. ``Adam (100 steps): max |Δ| ≤ tol 1e-05 ✓`` (the value only when it fails). ``max_abs`` is the
largest absolute difference over every compared array; ``max_rel`` divides it by the largest
|ours| + |theirs| (the ``gradcheck.rel_error`` measure). ``passed`` means ``max_abs <= tol``.

TensorFlow is imported on the first call only, so ``import dlbook_utils`` stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import activations as act
from . import losses as _losses
from . import optim, regularizers
from ._validate import float_array, positive
from .layers import Dense

__all__ = ["Comparison", "compare_dense", "compare_activation", "compare_loss",
           "compare_optimizer", "compare_regularizer"]


@dataclass(frozen=True)
class Comparison:
    """Result of one NumPy-vs-TF comparison."""

    name: str
    max_abs: float
    max_rel: float
    tol: float
    passed: bool

    def __str__(self):
        # A pass prints the bound, not float32 rounding digits that change with the TF release.
        if self.passed:
            return f"{self.name}: max |Δ| ≤ tol {self.tol:.0e} ✓"
        return f"{self.name}: max |Δ| = {self.max_abs:.1e} > tol {self.tol:.0e} ✗"


def _tf():
    """Import TensorFlow and Keras quietly (C++ logs off, oneDNN off for reproducibility)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    import tensorflow as tf

    return tf, keras


def _compare(name, ours, theirs, tol) -> Comparison:
    """Compare lists of arrays: the largest absolute and relative differences over all of them."""
    tol = positive(tol, name, "tol")
    max_abs, scale = 0.0, 0.0
    for a, b in zip(ours, theirs, strict=True):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            raise ValueError(f"{name}: expected the same shapes, got {a.shape} vs {b.shape}")
        if a.size:
            max_abs = max(max_abs, float(np.max(np.abs(a - b))))
            scale = max(scale, float(np.max(np.abs(a) + np.abs(b))))
    max_rel = max_abs / scale if scale > 0 else 0.0
    passed = bool(np.isfinite(max_abs) and max_abs <= tol)
    return Comparison(name, max_abs, max_rel, tol, passed)


def _f32(x, where, name, **kw):
    return float_array(x, where, name, **kw).astype(np.float32)


def compare_dense(W, b, x, delta, *, tol: float = 1e-5) -> Comparison:
    """``layers.Dense`` vs ``keras.layers.Dense`` (no activation): output, dx, dW, db.

    TF's gradients come from ``GradientTape`` with output gradient ``delta``.
    Shapes: W (d_in, d_out), b (d_out,), x (n, d_in), delta (n, d_out).
    """
    where = "compare_dense"
    W, b = _f32(W, where, "W", ndim=2), _f32(b, where, "b", ndim=1)
    x, delta = _f32(x, where, "x", ndim=2), _f32(delta, where, "delta", ndim=2)
    if b.shape != (W.shape[1],):
        raise ValueError(f"{where} expected b of shape ({W.shape[1]},), got {b.shape}")
    layer = Dense(*W.shape, rng=np.random.default_rng(0), dtype=np.float32)
    layer.params["W"][...], layer.params["b"][...] = W, b
    out = layer.forward(x)  # checks x's shape
    dx = layer.backward(delta)  # checks delta's shape
    ours = [out, dx, layer.grads["W"], layer.grads["b"]]

    tf, keras = _tf()
    ref = keras.layers.Dense(W.shape[1], dtype="float32")
    ref.build((None, W.shape[0]))
    ref.set_weights([W, b])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = ref(xt)
    grads = tape.gradient(yt, [xt, ref.kernel, ref.bias], output_gradients=tf.constant(delta))
    theirs = [yt.numpy()] + [np.asarray(g) for g in grads]
    return _compare("Dense forward/backward", ours, theirs, tol)


ELEMENTWISE = {"sigmoid": (act.sigmoid, act.sigmoid_grad), "tanh": (act.tanh, act.tanh_grad),
               "relu": (act.relu, act.relu_grad)}
VALUE_ONLY = {"softmax": act.softmax, "log_softmax": act.log_softmax}


def compare_activation(name: str, z, *, impl=None, tol: float = 1e-5) -> Comparison:
    """Activation values (and, for sigmoid/tanh/relu, derivatives) vs ``keras.activations``.

    ``impl=(f, f_grad)`` replaces our functions (e.g. to test a student's version); softmax and
    log_softmax compare values only (their gradients are checked through the losses).
    Shapes: z (...) -> compared arrays of the same shape.
    """
    if name not in ELEMENTWISE and name not in VALUE_ONLY:
        raise ValueError(f"compare_activation expected name in "
                         f"{tuple(ELEMENTWISE) + tuple(VALUE_ONLY)}, got {name!r}")
    z = _f32(z, "compare_activation", "z")
    tf, keras = _tf()
    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        at = getattr(keras.activations, name)(zt)
        total = tf.reduce_sum(at)
    if name in VALUE_ONLY:
        f = impl[0] if impl is not None else VALUE_ONLY[name]
        return _compare(f"{name} forward", [f(z)], [at.numpy()], tol)
    f, f_grad = impl if impl is not None else ELEMENTWISE[name]
    return _compare(f"{name} forward/derivative", [f(z), f_grad(z)],
                    [at.numpy(), tape.gradient(total, zt).numpy()], tol)


KERAS_LOSSES = {
    "mse": ("MeanSquaredError", {}),
    "binary_cross_entropy": ("BinaryCrossentropy", {"from_logits": True}),
    "softmax_cross_entropy": ("SparseCategoricalCrossentropy", {"from_logits": True}),
}


def compare_loss(name: str, pred, target, *, impl=None, tol: float = 1e-5) -> Comparison:
    """A loss and its gradient w.r.t. ``pred`` vs the Keras loss of the same name.

    name: "mse", "binary_cross_entropy" or "softmax_cross_entropy" (see ``losses``);
    ``impl(pred, target) -> (loss, grad)`` replaces ours. Shapes as in ``losses``.
    """
    if name not in KERAS_LOSSES:
        raise ValueError(f"compare_loss expected name in {tuple(KERAS_LOSSES)}, got {name!r}")
    pred = _f32(pred, "compare_loss", "pred")
    fn = impl if impl is not None else getattr(_losses, name)
    loss, grad = fn(pred, target)  # our function validates target
    tf, keras = _tf()
    cls, kwargs = KERAS_LOSSES[name]
    target_t = np.asarray(target, np.int64 if name == "softmax_cross_entropy" else np.float32)
    pt = tf.constant(pred)
    with tf.GradientTape() as tape:
        tape.watch(pt)
        lt = getattr(keras.losses, cls)(**kwargs)(tf.constant(target_t), pt)
    return _compare(f"{name} value/gradient", [np.float32(loss), grad],
                    [lt.numpy(), tape.gradient(lt, pt).numpy()], tol)


def compare_regularizer(kind: str, W, lam: float, *, tol: float = 1e-5) -> Comparison:
    """``regularizers.l1``/``l2`` penalty and gradient vs ``keras.regularizers.L1``/``L2``."""
    if kind not in regularizers.KINDS:
        raise ValueError(f"compare_regularizer expected kind in {tuple(regularizers.KINDS)}, "
                         f"got {kind!r}")
    W = _f32(W, "compare_regularizer", "W")
    penalty, grad = regularizers.KINDS[kind](W, lam)
    tf, keras = _tf()
    Wt = tf.constant(W)
    with tf.GradientTape() as tape:
        tape.watch(Wt)
        pt = getattr(keras.regularizers, kind.upper())(lam)(Wt)
    return _compare(f"{kind.upper()} penalty/gradient", [np.float32(penalty), grad],
                    [pt.numpy(), tape.gradient(pt, Wt).numpy()], tol)


KERAS_OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


def _keras_twin(opt, keras):
    """The Keras optimizer with the same hyperparameters as our ``opt``."""
    k = keras.optimizers
    if isinstance(opt, optim.AdamW):
        return k.AdamW(learning_rate=opt.lr, weight_decay=opt.weight_decay, beta_1=opt.beta1,
                       beta_2=opt.beta2, epsilon=opt.eps)
    if isinstance(opt, optim.Adam):
        return k.Adam(learning_rate=opt.lr, beta_1=opt.beta1, beta_2=opt.beta2, epsilon=opt.eps)
    if isinstance(opt, optim.RMSprop):
        return k.RMSprop(learning_rate=opt.lr, rho=opt.rho, epsilon=opt.eps)
    if isinstance(opt, optim.SGD):
        return k.SGD(learning_rate=opt.lr, momentum=opt.momentum, nesterov=opt.nesterov)
    raise ValueError(f"compare_optimizer expected an optimizer from dlbook_utils.optim, got {opt!r}")


def compare_optimizer(np_optimizer, keras_optimizer=None, *, steps: int = 100,
                      rng: np.random.Generator, tol: float = 1e-5, name: str | None = None,
                      **keras_kwargs) -> Comparison:
    """Run our optimizer and a Keras optimizer on the same least-squares problem and compare
    the parameter trajectories (every step, every entry), in float32.

    Problem: L(W, b) = mean((X W + b - Y)^2), X (32, 5), W (5, 3), b (3,), drawn from ``rng``,
    starting 2-3 away from the optimum in every coordinate (keep ``lr * steps`` below ~1 so the
    comparison ends before the optimum: see the comment in the code). Each side computes its gradients with NumPy from its own
    current parameters, so only the update rules differ. ``keras_optimizer``: None (the Keras
    twin with the same hyperparameters), a name ("sgd", "rmsprop", "adam", "adamw") plus
    ``keras_kwargs``, or a Keras optimizer instance. ``np_optimizer`` must be fresh (its state
    is used as is).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"compare_optimizer expected steps to be a positive integer, got {steps!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"compare_optimizer expected rng: np.random.Generator, "
                         f"got {type(rng).__name__}")
    if not isinstance(np_optimizer, optim.Optimizer):
        raise ValueError(f"compare_optimizer expected an optimizer from dlbook_utils.optim, "
                         f"got {np_optimizer!r}")
    tf, keras = _tf()
    if keras_optimizer is None:
        kopt = _keras_twin(np_optimizer, keras)
    elif isinstance(keras_optimizer, str):
        key = keras_optimizer.lower()
        if key not in KERAS_OPTIMIZERS:
            raise ValueError(f"compare_optimizer expected a name in {tuple(KERAS_OPTIMIZERS)}, "
                             f"got {keras_optimizer!r}")
        kopt = getattr(keras.optimizers, KERAS_OPTIMIZERS[key])(**keras_kwargs)
    else:
        kopt = keras_optimizer

    X = rng.standard_normal((32, 5)).astype(np.float32)
    W_true, b_true = rng.standard_normal((5, 3)), rng.standard_normal(3)
    Y = (X @ W_true + b_true + 0.1 * rng.standard_normal((32, 3))).astype(np.float32)
    # Start >= 2 away from the optimum in every coordinate. Near the optimum, methods that
    # normalise the step (RMSprop, Adam) oscillate, and an oscillation amplifies a 1-ulp
    # difference (TF rewrites some ops when tracing) into a visible one.
    away = {k: rng.choice([-1.0, 1.0], size=v.shape) * rng.uniform(2, 3, size=v.shape)
            for k, v in (("W", W_true), ("b", b_true))}
    start = {"W": (W_true + away["W"]).astype(np.float32),
             "b": (b_true + away["b"]).astype(np.float32)}

    def grads_at(W, b):
        r = (X @ W + b - Y) * np.float32(2 / Y.size)
        return {"W": X.T @ r, "b": r.sum(axis=0)}

    ours = {k: v.copy() for k, v in start.items()}
    kvars = [keras.Variable(start[k].copy(), dtype="float32") for k in ("W", "b")]
    if not kopt.built:
        kopt.build(kvars)
    # A traced step is ~20x faster than eager apply; it computes the same float32 operations.
    keras_step = tf.function(lambda gW, gb: kopt.apply([gW, gb], kvars))
    traj_ours, traj_keras = [], []
    for _ in range(steps):
        np_optimizer.step(ours, grads_at(ours["W"], ours["b"]))
        g = grads_at(*(np.asarray(v.numpy()) for v in kvars))
        keras_step(tf.constant(g["W"]), tf.constant(g["b"]))
        traj_ours += [ours["W"].copy(), ours["b"].copy()]
        traj_keras += [np.asarray(v.numpy()).copy() for v in kvars]
    label = name or f"{type(np_optimizer).__name__} ({steps} steps)"
    return _compare(label, traj_ours, traj_keras, tol)
