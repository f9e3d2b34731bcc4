"""Tests for dlbook_utils.train: the loop's bookkeeping, regularization, early stopping, errors."""

import numpy as np
import pytest

from dlbook_utils import layers, losses, optim, regularizers, train


def small_clf(rng, dtype=np.float32, sizes=(4, 16, 3)):
    return layers.mlp(list(sizes), rng=rng, dtype=dtype)


def blobs(rng, n=150, dtype=np.float32):
    centres = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=float)
    y = np.arange(n) % 3
    X = centres[y] + 0.5 * rng.standard_normal((n, 4))
    return X.astype(dtype), y


class Spy:
    """Wraps a model and records every training batch it sees."""

    def __init__(self, model):
        self.model, self.batches, self.dtypes, self.addresses = model, [], [], []

    def forward(self, x):
        if getattr(self.model, "training", True):
            self.batches.append(x.copy())
            self.addresses.append(x.__array_interface__["data"][0])
        self.dtypes.append(x.dtype)
        return self.model.forward(x)

    def backward(self, dy):
        self.dtypes.append(dy.dtype)
        return self.model.backward(dy)

    def params(self):
        return self.model.params()

    def grads(self):
        return self.model.grads()

    @property
    def training(self):
        return self.model.training

    def train(self):
        self.model.train()

    def eval(self):
        self.model.eval()


def test_linear_regression_recovers_weights_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = X @ np.array([[1.5], [-2.0]]) + 0.3
    model = layers.Sequential([layers.Dense(2, 1, rng=rng)])
    hist = train.fit(model, losses.mse, optim.SGD(0.1), X, y, epochs=60, batch_size=20,
                     rng=rng, progress=False)
    np.testing.assert_allclose(model.params()["0.W"][:, 0], [1.5, -2.0], atol=1e-3)
    np.testing.assert_allclose(model.params()["0.b"], [0.3], atol=1e-3)
    assert hist["acc"] == [] and hist["loss"][-1] < 1e-5 < hist["loss"][0]


def test_every_row_once_per_epoch_in_a_new_order_and_step_count():
    rng = np.random.default_rng(1)
    X, y = blobs(rng, n=50)
    X[:, 0] = np.arange(50)  # row id in column 0
    spy = Spy(small_clf(rng))
    opt = optim.SGD(1e-3)
    train.fit(spy, losses.softmax_cross_entropy, opt, X, y, epochs=3, batch_size=16,
              rng=rng, progress=False)
    assert opt.t == 3 * 4  # ceil(50 / 16) = 4 batches per epoch
    assert [len(b) for b in spy.batches[:4]] == [16, 16, 16, 2]
    epochs = [np.concatenate(spy.batches[4 * e:4 * e + 4])[:, 0] for e in range(3)]
    for e, ids in enumerate(epochs):
        assert sorted(ids) == list(range(50))  # each row exactly once
        seen = np.concatenate(spy.batches[4 * e:4 * e + 4])
        np.testing.assert_array_equal(seen, X[ids.astype(int)])  # whole rows, not just ids
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled every epoch
    assert not np.array_equal(epochs[0], np.arange(50))


def test_float32_end_to_end():
    rng = np.random.default_rng(2)
    X, y = blobs(rng)
    spy = Spy(small_clf(rng))
    train.fit(spy, losses.softmax_cross_entropy, optim.Adam(1e-2), X, y, epochs=2,
              batch_size=32, rng=rng, progress=False)
    assert set(spy.dtypes) == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in spy.params().values())


def test_seeded_runs_repeat_and_classification_learns():
    def run(seed):
        rng = np.random.default_rng(seed)
        X, y = blobs(rng)
        model = small_clf(rng)
        return train.fit(model, losses.softmax_cross_entropy, optim.Adam(1e-2), X, y,
                         epochs=15, batch_size=32, rng=rng, val=(X, y), progress=False), model, X, y

    h1, model, X, y = run(0)
    h2 = run(0)[0]
    assert h1 == h2 and h1["loss"] != run(1)[0]["loss"]
    assert h1["acc"][-1] > 0.95 and h1["val_acc"][-1] == pytest.approx(train.accuracy(model, X, y))
    assert h1["loss"][-1] < h1["loss"][0]


@pytest.mark.checks("eq-regularized-loss", "eq-weight-decay-sgd", kind="closed form",
                    tol="rtol 1e-6")
def test_l2_regularizer_gradient_added_to_weights_only():
    rng = np.random.default_rng(3)
    X, y = blobs(rng, n=30)
    model = small_clf(rng)
    W0 = {k: v.copy() for k, v in model.params().items()}

    def zero_loss(out, yb):  # isolates the penalty's contribution to the update
        return 0.0, np.zeros_like(out)

    lam, lr = 0.01, 0.5
    train.fit(model, zero_loss, optim.SGD(lr), X, y, epochs=1, batch_size=30, rng=rng,
              regularizer=lambda W: regularizers.l2(W, lam), progress=False)
    for k, v in model.params().items():
        expected = W0[k] * (1 - lr * 2 * lam) if k.endswith(".W") else W0[k]
        np.testing.assert_allclose(v, expected, rtol=1e-6)


@pytest.mark.checks("eq-regularized-loss", kind="closed form", tol="rtol 1e-5")
def test_weight_penalty_object_and_reported_loss_include_penalty():
    rng = np.random.default_rng(4)
    X, y = blobs(rng, n=30)
    model = small_clf(rng)
    pen = regularizers.WeightPenalty("l2", 0.1)
    expected = pen(model.params())[0]
    hist = train.fit(model, lambda o, t: (0.0, np.zeros_like(o)), optim.SGD(1e-9), X, y,
                     epochs=1, batch_size=30, rng=rng, regularizer=pen, progress=False)
    assert hist["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(5)
    X, y = blobs(rng, n=60)
    Xv, yv = blobs(rng, n=60)
    yv = rng.permutation(yv)  # validation labels unrelated to X: val loss soon rises
    model = small_clf(rng, sizes=(4, 64, 3))
    hist = train.fit(model, losses.softmax_cross_entropy, optim.Adam(3e-2), X, y, epochs=200,
                     batch_size=10, rng=rng, val=(Xv, yv), patience=3, progress=False)
    assert hist.stopped_epoch is not None and hist.epochs < 200
    assert hist.epochs == hist.best_epoch + 3 + 1  # stopped after `patience` worse epochs
    assert hist.restored_best
    v_loss, _ = train.evaluate(model, losses.softmax_cross_entropy, Xv, yv)
    assert v_loss == pytest.approx(hist["val_loss"][hist.best_epoch], rel=1e-5)
    assert v_loss < hist["val_loss"][-1]
    assert "stopped_epoch" in repr(hist)


def test_dropout_off_in_predict_and_mode_restored():
    rng = np.random.default_rng(6)
    model = layers.Sequential([layers.Dense(4, 8, rng=rng, dtype=np.float32), layers.ReLU(),
                               layers.Dropout(0.5, rng=rng),
                               layers.Dense(8, 3, rng=rng, dtype=np.float32)])
    X, y = blobs(rng, n=40)
    model.train()
    p1, p2 = train.predict(model, X), train.predict(model, X, batch_size=7)
    np.testing.assert_allclose(p1, p2, rtol=1e-6)  # deterministic: dropout off, batching irrelevant
    assert model.training  # mode given back
    train.fit(model, losses.softmax_cross_entropy, optim.Adam(1e-2), X, y, epochs=1,
              batch_size=8, rng=rng, progress=False)
    assert not model.training


def test_binary_accuracy_from_logits():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((100, 2)).astype(np.float32)
    y = (X[:, :1] > 0).astype(np.float32)
    model = layers.Sequential([layers.Dense(2, 1, rng=rng, dtype=np.float32)])
    hist = train.fit(model, losses.binary_cross_entropy, optim.Adam(0.1), X, y, epochs=20,
                     batch_size=20, rng=rng, progress=False)
    assert hist["acc"][-1] > 0.95
    assert train.accuracy(model, X, y) > 0.95


def test_history_repr_is_stable_text():
    h = train.History()
    h["loss"] += [0.123456789, 0.0123456]
    assert repr(h) == "History(epochs=2, loss=0.01235)"
    assert h.best_epoch == 1
    with pytest.raises(ValueError, match="empty"):
        _ = train.History().best_epoch


def test_progress_false_prints_nothing(capsys):
    rng = np.random.default_rng(8)
    X, y = blobs(rng, n=30)
    train.fit(small_clf(rng), losses.softmax_cross_entropy, optim.SGD(0.1), X, y, epochs=2,
              batch_size=10, rng=rng, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize("kwargs,Xy,msg", [
    ({}, "short_y", "same number of rows"),
    ({}, "label_10", r"labels in \[0, 3\)"),
    ({}, "float_labels", "integer class labels"),
    ({"epochs": 0}, None, "epochs"),
    ({"batch_size": 2.5}, None, "batch_size"),
    ({"patience": 2}, None, "early stopping needs val"),
    ({"rng": 0}, None, "Generator"),
])
def test_fit_input_errors(kwargs, Xy, msg):
    rng = np.random.default_rng(9)
    X, y = blobs(rng, n=30)
    if Xy == "short_y":
        y = y[:-1]
    elif Xy == "label_10":
        y = y.copy()
        y[0] = 10
    elif Xy == "float_labels":
        y = y + 0.5
    args = {"epochs": 1, "batch_size": 10, "rng": rng, "progress": False} | kwargs
    with pytest.raises(ValueError, match=msg):
        train.fit(small_clf(rng), losses.softmax_cross_entropy, optim.SGD(0.1), X, y, **args)
