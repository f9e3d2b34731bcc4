"""The seed articles' code examples, corrected (chapter 8, "Code examples, made right").

Each function is the smallest correct version of one seed example; chapter 8 shows the same code
cell by cell and checks that its numbers equal these functions' numbers, and the test suite runs
them against their key results (recovered slope and intercept, gradient check, accuracy).

Shapes follow the book (batch-first): ``X`` is ``(n, d_in)``, ``W`` is ``(d_in, d_out)``,
``b`` is ``(d_out,)`` and ``Z = X @ W + b``.  Losses are means over the batch.
TensorFlow/Keras is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .gradcheck import numerical_grad, rel_error

__all__ = [
    "seed_regression_data",
    "fit_linear_regression",
    "product_data",
    "init_two_layer",
    "two_layer_loss_and_grads",
    "fit_two_layer",
    "two_layer_gradcheck",
    "load_digit_pair",
    "keras_mlp",
]


# ----------------------------------------------------------------------------- linear regression
def seed_regression_data(n: int = 100, *, noise: float = 0.1, rng: np.random.Generator):
    """The seed's data ``y = 3 x + 2 + eps`` with *zero-mean* noise ``eps ~ N(0, noise^2)``.

    Returns ``X`` of shape ``(n, 1)`` uniform on [0, 1) and ``y`` of shape ``(n, 1)``.
    """
    X = rng.random((n, 1))
    y = 3.0 * X + 2.0 + noise * rng.standard_normal((n, 1))
    return X, y


def fit_linear_regression(X, y, *, lr: float, epochs: int):
    """Full-batch gradient descent on the mean squared error (eq. ``eq-linreg-grad`` of ch. 8).

    ``X`` (n, d), ``y`` (n, 1).  Returns ``w`` (d, 1), ``b`` (1,) and the loss per epoch.
    """
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    if X.ndim != 2 or y.shape != (len(X), 1):
        raise ValueError(f"expected X (n, d) and y (n, 1), got {X.shape} and {y.shape}")
    n, d = X.shape
    w, b = np.zeros((d, 1)), np.zeros(1)
    losses = np.empty(epochs)
    for epoch in range(epochs):
        r = X @ w + b - y                 # residuals (n, 1)
        losses[epoch] = np.mean(r**2)
        w -= lr * (2.0 / n) * X.T @ r     # dL/dw (d, 1): averaged over the batch
        b -= lr * (2.0 / n) * r.sum(axis=0)
    return w, b, losses


# ----------------------------------------------------------------------------- two-layer MLP
def product_data(n: int = 200, *, rng: np.random.Generator):
    """A target a 2-4-1 tanh network can learn and a linear model cannot: ``y = x1 * x2``.

    Returns ``X`` (n, 2) uniform on [-1, 1] and ``y`` (n, 1).
    """
    X = rng.uniform(-1.0, 1.0, (n, 2))
    return X, (X[:, 0] * X[:, 1])[:, None]


def init_two_layer(d_in: int, d_hidden: int, d_out: int, *, rng: np.random.Generator):
    """LeCun-normal weights: zero mean, variance 1/fan_in (LeCun et al., 1998); zero biases.

    (Glorot/Xavier scaling would use 2/(fan_in + fan_out).)
    """
    return {
        "W1": rng.normal(0.0, np.sqrt(1.0 / d_in), (d_in, d_hidden)),
        "b1": np.zeros(d_hidden),
        "W2": rng.normal(0.0, np.sqrt(1.0 / d_hidden), (d_hidden, d_out)),
        "b2": np.zeros(d_out),
    }


def two_layer_loss_and_grads(params: dict, X, y):
    """Loss and gradients of ``tanh`` hidden layer -> linear output -> mean squared error.

    Forward: ``Z1 = X W1 + b1`` (n, h), ``A1 = tanh(Z1)``, ``Z2 = A1 W2 + b2`` (n, k),
    ``L = mean((Z2 - y)^2)`` over all n*k entries.
    Backward (ch. 8, ``eq-mlp-backprop``): ``d2 = 2 (Z2 - y) / (n k)``, ``dW2 = A1^T d2``,
    ``db2 = sum_rows d2``, ``d1 = (d2 W2^T) * (1 - A1^2)``, ``dW1 = X^T d1``, ``db1 = sum_rows d1``.
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    if X.ndim != 2 or X.shape[1] != W1.shape[0] or y.shape != (len(X), W2.shape[1]):
        raise ValueError(f"expected X (n, {W1.shape[0]}) and y (n, {W2.shape[1]}), "
                         f"got {X.shape} and {y.shape}")
    A1 = np.tanh(X @ W1 + b1)
    Z2 = A1 @ W2 + b2
    loss = float(np.mean((Z2 - y) ** 2))
    d2 = 2.0 * (Z2 - y) / y.size
    d1 = (d2 @ W2.T) * (1.0 - A1**2)
    grads = {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": A1.T @ d2, "b2": d2.sum(axis=0)}
    return loss, grads


def fit_two_layer(X, y, *, hidden: int = 4, lr: float = 0.2, epochs: int = 2000,
                  rng: np.random.Generator):
    """Full-batch gradient descent on :func:`two_layer_loss_and_grads`.

    Returns the trained ``params`` and the loss per epoch.
    """
    params = init_two_layer(X.shape[1], hidden, y.shape[1], rng=rng)
    losses = np.empty(epochs)
    for epoch in range(epochs):
        losses[epoch], grads = two_layer_loss_and_grads(params, X, y)
        for key in params:
            params[key] -= lr * grads[key]
    return params, losses


def two_layer_gradcheck(params: dict, X, y, eps: float = 1e-6) -> float:
    """Largest ``gradcheck.rel_error`` between the analytic and the centred-difference
    gradients of ``two_layer_loss_and_grads`` over all parameters (float64)."""
    _, grads = two_layer_loss_and_grads(params, X, y)

    def loss():
        return two_layer_loss_and_grads(params, X, y)[0]

    return max(rel_error(grads[key], numerical_grad(loss, p, eps)) for key, p in params.items())


# ----------------------------------------------------------------------------- Keras examples
def _mnist_cached() -> bool:
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return (home / "datasets" / "mnist.npz").exists()


def load_digit_pair(a: int = 0, b: int = 1, *, source: str = "auto"):
    """Images of two digit classes, flattened, scaled to [0, 1], labels mapped to 0 (a) / 1 (b).

    ``source="mnist"`` uses real MNIST (Keras downloads it once), ``"digits"`` uses
    scikit-learn's bundled 8x8 digits, and ``"auto"`` uses MNIST only if it is already on disk
    or ``DLBOOK_DOWNLOAD=1`` allows the download, else the digits: the book builds offline.
    Returns ``X_train, X_test, y_train, y_test, source_used``.
    """
    from dlbook_utils import data

    if source not in ("auto", "mnist", "digits"):
        raise ValueError(f"source must be 'auto', 'mnist' or 'digits', got {source!r}")
    if source == "auto":
        online = _mnist_cached() or os.environ.get("DLBOOK_DOWNLOAD") == "1"
        source = "mnist" if online else "digits"
    if source == "mnist":
        X_tr, X_te, y_tr, y_te = data.load_mnist(flatten=True)
    else:
        X_tr, X_te, y_tr, y_te = data.load_digits_split(test_size=0.25, seed=0)
    keep_tr, keep_te = np.isin(y_tr, (a, b)), np.isin(y_te, (a, b))
    return (X_tr[keep_tr], X_te[keep_te], (y_tr[keep_tr] == b).astype(np.int64),
            (y_te[keep_te] == b).astype(np.int64), source)


def keras_mlp(n_in: int, hidden, n_classes: int, *, learning_rate: float = 1e-3):
    """A compiled Keras MLP that outputs logits: ``Input(n_in) -> Dense(h, relu)... -> Dense(k)``.

    The loss is ``SparseCategoricalCrossentropy(from_logits=True)``: integer labels ``(n,)`` in
    ``[0, n_classes)``, softmax folded into a stable log-sum-exp.
    """
    import keras

    model = keras.Sequential(
        [keras.Input((n_in,))]
        + [keras.layers.Dense(h, activation="relu") for h in hidden]
        + [keras.layers.Dense(n_classes)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
