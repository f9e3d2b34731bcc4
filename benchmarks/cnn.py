"""Training time of the book's from-scratch 1-D CNN on MNIST-1D, next to the same model in Keras.

Run from the repository root:  ``python benchmarks/cnn.py``  (``run.py`` may call ``main()``).

Both sides train ``cnn.mnist1d_cnn`` / ``cnn.keras_mnist1d_cnn`` (three Conv1D -> BatchNorm ->
ReLU blocks, Flatten, Dense; 9802 parameters) in float32 on the same 4000 training examples
of ``load_mnist1d_splits(seed=0)``, with Adam(0.01), softmax cross-entropy from logits, batch
100, shuffled every epoch, for the same number of epochs, and are then scored on the same test
split. NumPy trains with the public API a learner uses (``train.fit``) and one BLAS thread (its
GEMMs are at most 2000 x 96 x 32: a second thread only adds synchronisation); Keras with
``model.fit`` at its defaults (all cores, oneDNN on).

The figure is the ratio of the two training times from ONE run of each (total over all epochs,
Keras's graph tracing in its first epoch included; the median epoch is printed as well). This
machine may be shared: the load average is printed before and after. Timings are not tests.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # works without `pip install -e .`

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from dlbook_utils import cnn, losses, optim, train  # noqa: E402
from dlbook_utils.mnist1d_data import load_mnist1d_splits  # noqa: E402

EPOCHS, BATCH, LR = 15, 100, 0.01


def time_numpy(splits, epochs: int, batch: int) -> dict:
    """Train the from-scratch CNN; {"seconds": [per epoch], "test_acc": float}."""
    (X, y), _, (Xt, yt) = splits
    model = cnn.mnist1d_cnn(rng=np.random.default_rng(0), dtype=np.float32)
    opt, rng = optim.Adam(LR), np.random.default_rng(1)
    seconds = []
    with threadpool_limits(1, user_api="blas"):
        for _ in range(epochs):  # one fit call per epoch, so that each epoch is timed alone
            t0 = time.perf_counter()
            train.fit(model, losses.softmax_cross_entropy, opt, X, y, epochs=1,
                      batch_size=batch, rng=rng, progress=False)
            seconds.append(time.perf_counter() - t0)
        acc = train.accuracy(model, Xt, yt)
    return {"seconds": seconds, "test_acc": acc}


def time_keras(splits, epochs: int, batch: int) -> dict:
    """Train the same CNN in Keras; {"seconds": [per epoch], "test_acc": float}."""
    import keras

    (X, y), _, (Xt, yt) = splits
    model = cnn.keras_mnist1d_cnn(seed=0)
    model.compile(optimizer=keras.optimizers.Adam(LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.t0)

    timer = EpochTimer()
    model.fit(X, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    logits = model.predict(Xt, batch_size=1000, verbose=0)
    return {"seconds": timer.seconds, "test_acc": float(np.mean(logits.argmax(axis=1) == yt))}


def run(epochs: int = EPOCHS, batch: int = BATCH, n_train: int = 4000) -> dict:
    """Train both once; {"numpy": {...}, "keras": {...}, "ratio": Keras time / NumPy time}.

    A ratio above 1 means the from-scratch CNN trained faster than Keras.
    """
    splits = load_mnist1d_splits(n_train=n_train, seed=0, dtype=np.float32)
    results = {"numpy": time_numpy(splits, epochs, batch),
               "keras": time_keras(splits, epochs, batch)}
    results["ratio"] = sum(results["keras"]["seconds"]) / sum(results["numpy"]["seconds"])
    return results


def report() -> None:
    """Train the CNN once in NumPy and once in Keras and print the times and their ratio."""
    import keras

    print(f"MNIST-1D CNN (9802 parameters), {EPOCHS} epochs, batch {BATCH}, Adam({LR}), "
          f"float32, 4000 training examples; one run each")
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"NumPy {np.__version__} (1 BLAS thread), Keras {keras.__version__}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    r = run()
    print(f"{'':8} {'total s':>8} {'median epoch s':>15} {'test acc':>9}")
    for name in ("numpy", "keras"):
        s = r[name]["seconds"]
        print(f"{name:8} {sum(s):8.2f} {np.median(s):15.3f} {r[name]['test_acc']:9.3f}")
    median_ratio = np.median(r["keras"]["seconds"]) / np.median(r["numpy"]["seconds"])
    print(f"ratio Keras time / NumPy time (> 1: the from-scratch CNN is faster): "
          f"{r['ratio']:.2f} over the whole training, {median_ratio:.2f} per median epoch "
          f"(Keras's first epoch traces its graph); load average after: "
          f"{os.getloadavg()[0]:.2f}")


def main() -> None:
    # Keras at its defaults, oneDNN included; set before TF is imported, and only when the
    # benchmark runs (the Makefile turns oneDNN off only to keep a log line out of notebooks).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    report()

if __name__ == "__main__":
    main()
