"""Conv1D and BatchNorm against their Keras counterparts (see :mod:`dlbook_utils.tfcompare`).

Each function takes one of OUR layers (so a learner's variant can be checked too), builds the
Keras layer with the same settings and weights, runs both on the same float32 input and
compares outputs and gradients (Keras's from ``tf.GradientTape``). Returns a
:class:`~dlbook_utils.tfcompare.Comparison`, which prints as one line.
"""

from __future__ import annotations

import numpy as np

from .batchnorm import BatchNorm
from .conv import Conv1D
from .tfcompare import Comparison, _compare, _f32, _tf

__all__ = ["compare_conv1d", "compare_batchnorm"]


def _grads(tf, tape, out, sources, delta):
    return [np.asarray(g) for g in tape.gradient(out, sources, output_gradients=tf.constant(delta))]


def compare_conv1d(layer: Conv1D, x, delta, *, tol: float = 1e-5) -> Comparison:
    """``layer`` vs ``keras.layers.Conv1D`` with its kernel size, stride, padding and weights.

    Compares the output and dx, dW, db for the output gradient ``delta``.
    Shapes: x (n, length, c_in), delta (n, out_length, c_out).
    """
    where = "compare_conv1d"
    if not isinstance(layer, Conv1D):
        raise ValueError(f"{where} expected a Conv1D layer, got {type(layer).__name__}")
    x, delta = _f32(x, where, "x", ndim=3), _f32(delta, where, "delta", ndim=3)
    layer.need_input_grad = True
    out = layer.forward(x)  # checks x's shape
    dx = layer.backward(delta)  # checks delta's shape
    ours = [out, dx, layer.grads["W"], layer.grads["b"]]

    tf, keras = _tf()
    ref = keras.layers.Conv1D(layer.c_out, layer.kernel_size, strides=layer.stride,
                              padding=layer.padding, dtype="float32")
    ref.build((None, x.shape[1], layer.c_in))
    ref.set_weights([layer.params["W"].astype(np.float32), layer.params["b"].astype(np.float32)])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        yt = ref(xt)
    theirs = [yt.numpy(), *_grads(tf, tape, yt, [xt, ref.kernel, ref.bias], delta)]
    name = f"Conv1D(k={layer.kernel_size}, stride={layer.stride}, {layer.padding})"
    return _compare(name, ours, theirs, tol)


def compare_batchnorm(layer: BatchNorm, batches, eval_batch, *, rng: np.random.Generator,
                      tol: float = 1e-5) -> Comparison:
    """``layer`` vs ``keras.layers.BatchNormalization`` (same momentum, eps and weights).

    Runs a training step on each array of ``batches`` (comparing the output, dx, dgamma, dbeta
    and then the moving mean and variance), then, in eval mode, the output and gradients on
    ``eval_batch``. Output gradients are drawn from ``rng``. Leaves ``layer`` in eval mode.
    Shapes: every batch (n, ..., n_features).
    """
    where = "compare_batchnorm"
    if not isinstance(layer, BatchNorm):
        raise ValueError(f"{where} expected a BatchNorm layer, got {type(layer).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{where} expected rng: np.random.Generator, got {type(rng).__name__}")
    batches = [_f32(b, where, "batches[i]") for b in batches]
    eval_batch = _f32(eval_batch, where, "eval_batch")
    tf, keras = _tf()
    ref = keras.layers.BatchNormalization(momentum=layer.momentum, epsilon=layer.eps,
                                          dtype="float32")
    ref.build((None, *eval_batch.shape[1:]))
    # Keras's weights: gamma, beta, moving_mean, moving_variance.
    ref.set_weights([a.astype(np.float32) for a in (layer.params["gamma"], layer.params["beta"],
                                                    layer.moving_mean, layer.moving_var)])
    layer.need_input_grad = True
    ours, theirs = [], []
    for training, x in [(True, b) for b in batches] + [(False, eval_batch)]:
        layer.train() if training else layer.eval()
        delta = rng.standard_normal(x.shape).astype(np.float32)
        out = layer.forward(x)
        # Copies: the gradients and moving statistics are updated in place at the next step.
        ours += [np.array(a, copy=True) for a in (out, layer.backward(delta), layer.grads["gamma"],
                                                  layer.grads["beta"], layer.moving_mean,
                                                  layer.moving_var)]
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            yt = ref(xt, training=training)
        theirs += [yt.numpy(), *_grads(tf, tape, yt, [xt, ref.gamma, ref.beta], delta),
                   ref.moving_mean.numpy(), ref.moving_variance.numpy()]
    return _compare(f"BatchNorm ({len(batches)} training steps, then eval)", ours, theirs, tol)
