"""A small 1-D CNN for MNIST-1D, built from the book's own layers (and the same model in Keras).

Three convolution blocks (Conv1D -> BatchNorm -> ReLU) see ever wider stretches of the
signal while stride 2 halves its length, then one Dense layer reads the flattened features:

    (n, 40, 1) -> conv 5, same -> (n, 40, C) -> conv 3, stride 2, same -> (n, 20, C)
               -> conv 3, stride 2, same -> (n, 10, C) -> flatten (n, 10 C) -> dense -> (n, 10)

With C = 32 this is 9802 parameters; trained with Adam(0.01), batch 100, for 15 epochs on
4000 examples it reaches ~0.95 test accuracy (the paper's CNN: ~0.94). The convolution biases
followed by BatchNorm get no gradient (BN subtracts any constant); they are kept so that every
Conv1D is the same layer, as in Keras's default ``use_bias=True``.
"""

from __future__ import annotations

import numpy as np

from .batchnorm import BatchNorm
from .conv import Conv1D, Flatten
from .layers import Dense, ReLU, Sequential

__all__ = ["mnist1d_cnn", "keras_mnist1d_cnn"]

# (kernel_size, stride) of each convolution block
BLOCKS = ((5, 1), (3, 2), (3, 2))


def _out_length(length: int) -> int:
    for _, stride in BLOCKS:
        length = -(-length // stride)  # 'same' padding: ceil(length / stride)
    return length


def mnist1d_cnn(*, rng: np.random.Generator, channels: int = 32, batchnorm: bool = True,
                bn_momentum: float = 0.99, length: int = 40, n_classes: int = 10,
                dtype=np.float64) -> Sequential:
    """The CNN above as a ``Sequential``: x (n, length, 1) -> logits (n, n_classes).

    ``batchnorm=False`` leaves out the BatchNorm layers (for the chapter's comparison).
    ``bn_momentum`` is their moving-average momentum: Keras's 0.99 averages over ~100 steps,
    too slow for a short run (a few hundred steps), where 0.9 (~10 steps) keeps the statistics
    used at evaluation in step with the weights. The first layer skips dL/dx
    (``need_input_grad=False``), which training never uses.
    """
    layers, c_in = [], 1
    for kernel_size, stride in BLOCKS:
        layers.append(Conv1D(c_in, channels, kernel_size, rng=rng, stride=stride,
                             padding="same", dtype=dtype))
        if batchnorm:
            layers.append(BatchNorm(channels, momentum=bn_momentum, dtype=dtype))
        layers.append(ReLU())
        c_in = channels
    layers += [Flatten(), Dense(_out_length(length) * channels, n_classes, rng=rng, dtype=dtype)]
    return Sequential(layers, need_input_grad=False)


def keras_mnist1d_cnn(*, channels: int = 32, batchnorm: bool = True, length: int = 40,
                      n_classes: int = 10, seed: int = 0):
    """The same CNN in Keras (logits out, no softmax), for comparisons of speed and accuracy.

    Same layers, shapes and parameter count; the initial weights are drawn differently (Keras's
    ``he_normal`` is a truncated normal; its Dense uses Glorot). Imports Keras on call and
    returns an uncompiled ``keras.Sequential``.
    """
    import keras

    keras.utils.set_random_seed(seed)
    layers = [keras.Input((length, 1))]
    for kernel_size, stride in BLOCKS:
        layers.append(keras.layers.Conv1D(channels, kernel_size, strides=stride, padding="same",
                                          kernel_initializer="he_normal"))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.ReLU())
    layers += [keras.layers.Flatten(), keras.layers.Dense(n_classes)]
    return keras.Sequential(layers)
