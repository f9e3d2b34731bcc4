"""The training loop: mini-batch gradient descent with history and early stopping.

``fit`` is the loop every chapter writes by hand once (Eq. (eq-sgd-update) in 05_optimizers)::

    for epoch:                       shuffle with rng
        for batch:                   out = model.forward(xb)
                                     loss, delta = loss_fn(out, yb)   (+ weight penalty)
                                     model.backward(delta)
                                     optimizer.step(model.params(), model.grads())

A model is anything with ``forward``, ``backward``, ``params()``, ``grads()`` (and optionally
``train()`` / ``eval()`` for Dropout), e.g. ``dlbook_utils.layers.Sequential``.  A loss is a
function ``(output, y) -> (mean loss, d loss / d output)`` from ``dlbook_utils.losses``.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ._validate import float_array, generator, positive_int

__all__ = ["History", "fit", "evaluate", "predict", "accuracy"]


class History(dict):
    """Per-epoch metrics: ``loss``, ``acc``, ``val_loss``, ``val_acc`` (lists, one per epoch).

    Like Keras, ``loss`` is the mean over the epoch's batches of (data loss + weight penalty)
    and ``acc`` the accuracy on those batches as they were trained; ``val_*`` are measured at
    the end of each epoch in eval mode.  ``acc`` lists are empty when the loss is not a
    classification loss.
    """

    def __init__(self):
        super().__init__(loss=[], acc=[], val_loss=[], val_acc=[])
        self.stopped_epoch: int | None = None  # set when early stopping ended the run
        self.restored_best: bool = False
        self.monitor = "val_loss"  # what early stopping watched, and what best_epoch reads

    @property
    def epochs(self) -> int:
        return len(self["loss"])

    @property
    def best_epoch(self) -> int:
        """0-based best epoch of ``monitor``: lowest ``val_loss`` or highest ``val_acc``
        (the training loss when there was no validation set)."""
        key = self.monitor if self[self.monitor] else "loss"
        if not self[key]:
            raise ValueError("History is empty: no epoch has been trained")
        return int(np.argmax(self[key]) if key == "val_acc" else np.argmin(self[key]))

    def __repr__(self) -> str:
        # Rounded and address-free, so a stored notebook output stays the same run after run.
        parts = [f"epochs={self.epochs}"]
        parts += [f"{k}={v[-1]:.4g}" for k, v in self.items() if v]
        if self.stopped_epoch is not None:
            parts.append(f"stopped_epoch={self.stopped_epoch}, best_epoch={self.best_epoch}")
        return "History(" + ", ".join(parts) + ")"

    __str__ = __repr__


# ----------------------------------------------------------------------------- helpers
def _task(loss) -> str | None:
    """Which accuracy the loss implies: multi-class argmax, binary sign of the logit, or none."""
    name = getattr(loss, "__name__", "")
    if "softmax" in name or "categorical" in name:
        return "multiclass"
    if "binary" in name:
        return "binary"
    return None


def _n_correct(out: np.ndarray, y: np.ndarray, task: str | None) -> int:
    if task == "multiclass":
        return int(np.count_nonzero(out.argmax(axis=1) == y))
    if task == "binary":  # outputs are logits: p > 0.5 exactly when z > 0
        return int(np.count_nonzero((out > 0) == (y > 0.5)))
    return 0


def _check_xy(X, y, where: str):
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind == "f":  # the layers check types and shapes; finiteness is checked here, once
        float_array(X, where, "X")
    if X.ndim < 1 or y.ndim < 1:
        raise ValueError(f"{where} expected arrays with a batch axis, got X {X.shape}, y {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{where} expected X and y with the same number of rows, "
                         f"got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError(f"{where} expected at least one example, got 0")
    return X, y


def _check_labels(model, X, y, task, where: str) -> None:
    if task != "multiclass":
        return
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"{where} expected integer class labels of shape (n,), "
                         f"got dtype {y.dtype}, shape {y.shape}")
    k = predict(model, X[:1]).shape[1]  # number of classes = width of the output layer
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"{where} expected labels in [0, {k}) for a model with {k} outputs, "
                         f"got values in [{y.min()}, {y.max()}]")


def _set_mode(model, training: bool) -> None:
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def _state(model) -> dict:
    """Copies of everything that makes up the trained model: ``params()`` and, if the model has
    them, ``buffers()`` (BatchNorm's moving statistics). Restoring the parameters of the best
    epoch without its moving statistics would evaluate that epoch's weights with statistics
    of later ones."""
    arrays = dict(model.params())
    buffers = getattr(model, "buffers", None)
    if callable(buffers):
        arrays.update({f"buffer:{k}": v for k, v in buffers().items()})
    return arrays


def _penalty(regularizer, params: dict):
    """``(total penalty, {key: grad})`` for a per-matrix or a whole-model regularizer."""
    if regularizer is None:
        return 0.0, {}
    if getattr(regularizer, "per_model", False) or type(regularizer).__name__ == "WeightPenalty":
        return regularizer(params)
    total, grads = 0.0, {}
    for key, W in params.items():
        if key == "W" or key.endswith(".W"):  # weight matrices only, never biases
            p, grads[key] = regularizer(W)
            total += p
    return total, grads


# ----------------------------------------------------------------------------- public API
def predict(model, X, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for all rows of ``X`` in eval mode (Dropout off), in batches."""
    X = np.asarray(X)
    if X.dtype.kind == "f":
        float_array(X, "predict", "X")
    was_training = getattr(model, "training", False)
    _set_mode(model, False)
    try:
        outs = [model.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    finally:
        _set_mode(model, was_training)
    return np.concatenate(outs)


def accuracy(model, X, y, batch_size: int = 1024) -> float:
    """Fraction of rows whose arg-max output equals the integer label (binary: logit sign)."""
    X, y = _check_xy(X, y, "accuracy")
    out = predict(model, X, batch_size)
    task = "multiclass" if out.ndim == 2 and out.shape[1] > 1 else "binary"
    return _n_correct(out.reshape(y.shape) if task == "binary" else out, y, task) / len(y)


def evaluate(model, loss, X, y, *, batch_size: int = 1024, regularizer=None):
    """``(loss, accuracy)`` over the whole set in eval mode; accuracy is None for regression."""
    X, y = _check_xy(X, y, "evaluate")
    out = predict(model, X, batch_size)
    value = loss(out, y)[0] + _penalty(regularizer, model.params())[0]
    task = _task(loss)
    return float(value), (_n_correct(out, y, task) / len(y) if task else None)


def fit(model, loss, optimizer, X, y, *, epochs: int, batch_size: int,
        rng: np.random.Generator, val=None, regularizer=None, patience: int | None = None,
        restore_best: bool = True, monitor: str = "val_loss",
        progress: bool = True) -> History:
    """Train ``model`` by mini-batch gradient descent; return a :class:`History`.

    X (n, ...), y (n,) integer labels or (n, d) targets.  Each epoch visits the rows in a new
    order drawn from ``rng``; the last batch may be smaller.  ``val=(X_val, y_val)`` adds
    ``val_loss`` / ``val_acc``.  ``regularizer`` is ``W -> (penalty, grad)`` applied to every
    weight matrix (keys ending in ".W"), e.g. ``lambda W: l2(W, 1e-4)``, or a whole-model
    ``regularizers.WeightPenalty``.  ``patience`` enables early stopping on ``monitor``
    (``"val_loss"``, lower is better, or ``"val_acc"``, higher is better): stop after that many
    epochs without improvement and (``restore_best``) copy the best epoch's parameters and
    buffers (BatchNorm's moving statistics, like Keras's ``restore_best_weights``) back into
    the model.  Float32 data and a float32 model stay float32 throughout; the model is
    left in eval mode.
    """
    X, y = _check_xy(X, y, "fit")
    generator(rng, "fit")
    epochs = positive_int(epochs, "fit", "epochs")
    batch_size = positive_int(batch_size, "fit", "batch_size")
    if patience is not None and (val is None or patience < 1):
        raise ValueError("fit: early stopping needs val=(X_val, y_val) and patience >= 1, "
                         f"got val={'None' if val is None else 'given'}, patience={patience}")
    task = _task(loss)
    if monitor not in ("val_loss", "val_acc") or (monitor == "val_acc" and not task):
        raise ValueError("fit expected monitor='val_loss' or 'val_acc' (the latter with a "
                         f"classification loss), got {monitor!r}")
    _check_labels(model, X, y, task, "fit")
    if val is not None:
        Xv, yv = _check_xy(*val, "fit(val)")
        _check_labels(model, Xv, yv, task, "fit(val)")

    hist = History()
    hist.monitor = monitor
    sign = -1.0 if monitor == "val_acc" else 1.0  # minimise sign * monitored value
    n = len(X)
    best, best_state, waited = np.inf, None, 0
    bar = tqdm(range(epochs), desc="epochs", leave=False, disable=not progress)
    for epoch in bar:
        _set_mode(model, True)
        order = rng.permutation(n)
        total, correct = 0.0, 0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            xb, yb = X[rows], y[rows]  # gathered when needed: still in cache for the first matmul
            out = model.forward(xb)
            value, delta = loss(out, yb)
            model.backward(delta)
            params, grads = model.params(), model.grads()
            penalty, pgrads = _penalty(regularizer, params)
            for key, g in pgrads.items():
                grads[key] += g
            optimizer.step(params, grads)
            total += (value + penalty) * len(xb)
            correct += _n_correct(out, yb, task)
        hist["loss"].append(total / n)
        if task:
            hist["acc"].append(correct / n)
        if val is not None:
            v_loss, v_acc = evaluate(model, loss, Xv, yv, batch_size=max(batch_size, 1024),
                                     regularizer=regularizer)
            hist["val_loss"].append(v_loss)
            if task:
                hist["val_acc"].append(v_acc)
        bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in hist.items() if v}, refresh=False)
        if patience is not None:
            if sign * hist[monitor][-1] < best:
                best, waited = sign * hist[monitor][-1], 0
                best_state = {k: v.copy() for k, v in _state(model).items()}
            else:
                waited += 1
                if waited >= patience:
                    hist.stopped_epoch = epoch
                    break
    bar.close()
    if patience is not None and restore_best and best_state is not None:
        for key, arr in _state(model).items():
            np.copyto(arr, best_state[key])  # in place: the optimizer's references stay valid
        hist.restored_best = True
    _set_mode(model, False)
    return hist
