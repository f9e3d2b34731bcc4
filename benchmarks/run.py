"""Training speed of the book's NumPy MLP: the learner core, the fast path, a straightforward
loop, the GEMM bound, and Keras as the reference.

Run from the repository root:  ``python benchmarks/run.py``  (``make bench``).

Contenders, all training the same MLP (ReLU, He init, float32, Adam in Keras's "epsilon hat"
form, softmax cross-entropy from logits, shuffled every epoch, training accuracy tracked) on
the same data at the same batch size, on this CPU:

* ``core``: the public API a learner reads: ``layers.mlp`` + ``optim.Adam`` + ``train.fit``.
* ``fast``: the opt-in fast path: ``fast.mlp`` + ``fast.FusedAdam`` + ``fast.fit``; it trains
  to the same weights bit for bit (tests/core/test_fast.py).
* ``naive``: a straightforward NumPy loop (fresh arrays, ``X[rows]``), the yardstick the core
  is held to.
* ``keras``: the same MLP in Keras 3, ``model.fit`` at its defaults: oneDNN on,
  ``jit_compile="auto"`` (no XLA on a CPU). Its Adam computes the same update as ours, in
  another order of float32 operations: the two agree to float32 rounding (relative difference
  below 1e-6 over 100 steps; tests/core/test_core_tf.py), not bit for bit.

(a) Throughput ratio fast / Keras, in training samples per second.
(b) The fast path's FLOP rate divided by the float32 GEMM rate of ``np.matmul`` measured in the
    same run on exactly the GEMMs one training epoch performs (same shapes, same transposed
    views, same count), i.e. GEMM-only epoch time / training epoch time. FLOPs per step:
    2*m*k*n for every GEMM: the forward pass, dW = x^T delta for every layer, dx = delta W^T
    for every layer but the first (``mlp`` skips that one; nothing uses it). Elementwise work
    (bias, ReLU, softmax, Adam) is not counted, so 1.0 is the bound.
core/naive: epoch time of the learner core over that of the straightforward loop.

Each throughput is the best of several timed epochs (the best epoch is the one least disturbed
by other processes); the NumPy contenders take turns epoch by epoch, so the ratios compare
epochs run under the same machine load (see ``measure``). Each is timed with 1 and with 2 BLAS
threads and the faster counts; (b) uses the GEMM rate at the fast path's thread count.
Timings are not tests.

More sections (e.g. a CNN against Keras) go into modules of their own that add a
``(title, function)`` pair to ``SECTIONS``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # works without `pip install -e .`

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from dlbook_utils import fast, layers, losses, optim, train  # noqa: E402

N_SAMPLES = 16_384
ROUNDS, BLOCK = 5, 3  # 5 rounds of (1 warm-up + 3 timed epochs) per contender (see measure)
CONFIGS = [  # (name, layer sizes, batch size)
    ("small 64-64-10", [64, 64, 10], 64),
    ("small 64-64-10", [64, 64, 10], 512),
    ("MNIST 784-256-256-10", [784, 256, 256, 10], 64),
    ("MNIST 784-256-256-10", [784, 256, 256, 10], 512),
]
GOALS = {"small": 5.0, "MNIST": 1.5, "gemm": 0.7, "core/naive": 1.15}


def make_data(d_in: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((N_SAMPLES, d_in), dtype=np.float32)
    y = rng.integers(0, 10, N_SAMPLES)
    return X, y


# ----------------------------------------------------------------------------- GEMM bound
def step_gemms(sizes, batch):
    """(m, k, n, transpose_a, transpose_b) of every GEMM in one training step of ``mlp``."""
    gemms = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        gemms.append((batch, d_in, d_out, False, False))  # z = x @ W
        gemms.append((d_in, batch, d_out, True, False))  # dW = x.T @ dy
        if i > 0:
            gemms.append((batch, d_out, d_in, False, True))  # dx = dy @ W.T
    return gemms


def flops_per_step(sizes, batch) -> int:
    return sum(2 * m * k * n for m, k, n, _, _ in step_gemms(sizes, batch))


class GemmRun:
    """The GEMMs alone: one step's GEMMs (``step_gemms``) repeated as often as an epoch of
    training performs them, on operands with the model's memory layout (x.T, W.T are views).
    Timed per epoch like the contenders, so it sees the same machine load."""

    def __init__(self, sizes, batch):
        rng = np.random.default_rng(1)
        self.ops = []
        for m, k, n, ta, tb in step_gemms(sizes, batch):
            a = rng.random((k, m) if ta else (m, k), dtype=np.float32)
            b = rng.random((n, k) if tb else (k, n), dtype=np.float32)
            self.ops.append((a.T if ta else a, b.T if tb else b, np.empty((m, n), np.float32)))
        self.steps = -(-N_SAMPLES // batch)  # ceil: the last batch of an epoch may be smaller

    def epoch_seconds(self) -> float:
        t0 = time.perf_counter()
        for _ in range(self.steps):
            for a, b, out in self.ops:
                np.matmul(a, b, out=out)
        return time.perf_counter() - t0


# ----------------------------------------------------------------------------- contenders
class CoreRun:
    """The learner core: the public API a learner uses, one epoch per call."""

    def __init__(self, sizes, batch, X, y):
        self.rng = np.random.default_rng(0)
        self.model = layers.mlp(sizes, rng=self.rng, dtype=np.float32)
        self.opt = optim.Adam(1e-3, epsilon_hat=True)  # Keras's form of the update
        self.batch, self.X, self.y = batch, X, y

    def dense_layers(self):
        return [lay for lay in self.model.layers if isinstance(lay, layers.Dense)]

    def epoch_seconds(self) -> float:
        t0 = time.perf_counter()
        train.fit(self.model, losses.softmax_cross_entropy, self.opt, self.X, self.y, epochs=1,
                  batch_size=self.batch, rng=self.rng, progress=False)
        return time.perf_counter() - t0


class FastRun(CoreRun):
    """The opt-in fast path (``dlbook_utils.fast``): same model, data order and update."""

    def __init__(self, sizes, batch, X, y):
        self.rng = np.random.default_rng(0)
        self.model = fast.mlp(sizes, rng=self.rng, dtype=np.float32)
        self.opt = fast.FusedAdam(1e-3, epsilon_hat=True)
        self.batch, self.X, self.y = batch, X, y

    def epoch_seconds(self) -> float:
        t0 = time.perf_counter()
        fast.fit(self.model, losses.softmax_cross_entropy, self.opt, self.X, self.y, epochs=1,
                 batch_size=self.batch, rng=self.rng)
        return time.perf_counter() - t0


class NaiveRun(CoreRun):
    """A straightforward NumPy loop, the kind the goals are set against: the same MLP, data
    order and update (Keras's form of Adam), float32 throughout, but written as the formulas
    read, with a fresh array for every intermediate and ``X[rows]`` for the batch. The
    learner core is held to within 15 % of it."""

    def __init__(self, sizes, batch, X, y):
        super().__init__(sizes, batch, X, y)
        dense = self.dense_layers()
        self.Ws, self.bs = [d.params["W"] for d in dense], [d.params["b"] for d in dense]
        self.ms = [np.zeros_like(p) for p in self.Ws + self.bs]
        self.vs = [np.zeros_like(p) for p in self.Ws + self.bs]

    def epoch_seconds(self) -> float:
        t0 = time.perf_counter()
        b1, b2, eps, lr = 0.9, 0.999, 1e-7, self.opt.lr
        order, total, correct = self.rng.permutation(len(self.X)), 0.0, 0
        for start in range(0, len(self.X), self.batch):
            rows = order[start:start + self.batch]
            xb, yb = self.X[rows], self.y[rows]
            hs = [xb]
            for i, (W, b) in enumerate(zip(self.Ws, self.bs, strict=True)):
                z = hs[-1] @ W + b
                hs.append(np.maximum(z, 0) if i < len(self.Ws) - 1 else z)
            logits = hs.pop()
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p = p / p.sum(axis=1, keepdims=True)
            total += -np.log(p[np.arange(len(yb)), yb]).mean()
            correct += (logits.argmax(axis=1) == yb).sum()
            d = p.copy()
            d[np.arange(len(yb)), yb] -= 1
            d = d / len(yb)
            dWs, dbs = [None] * len(self.Ws), [None] * len(self.Ws)
            for i in reversed(range(len(self.Ws))):
                dWs[i], dbs[i] = hs[i].T @ d, d.sum(axis=0)
                if i:
                    d = (d @ self.Ws[i].T) * (hs[i] > 0)
            self.opt.t += 1
            t = self.opt.t
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            for w, g, m, v in zip(self.Ws + self.bs, dWs + dbs, self.ms, self.vs, strict=True):
                m[...] = b1 * m + (1 - b1) * g
                v[...] = b2 * v + (1 - b2) * g * g
                w -= alpha * m / (np.sqrt(v) + eps)
        return time.perf_counter() - t0


class KerasRun:
    """The same MLP in Keras, trained with ``model.fit``; the epoch is timed by a callback."""

    def __init__(self, sizes, batch, X, y):
        import keras

        keras.utils.set_random_seed(0)
        self.model = keras.Sequential(
            [keras.Input((sizes[0],))]
            + [keras.layers.Dense(h, activation="relu") for h in sizes[1:-1]]
            + [keras.layers.Dense(sizes[-1])])
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3),
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds = time.perf_counter() - self.t0

        self.timer = EpochTimer()
        self.batch, self.X, self.y = batch, X, y

    def epoch_seconds(self) -> float:
        self.model.fit(self.X, self.y, batch_size=self.batch, epochs=1, shuffle=True, verbose=0,
                       callbacks=[self.timer])
        return self.timer.seconds


CONTENDERS = {"core": CoreRun, "fast": FastRun, "naive": NaiveRun}


def measure(sizes, batch):
    """Best epoch times {name: seconds}: Keras, and core, fast, naive and GEMM-only with 1 and
    2 BLAS threads ("core1", "core2", ...).

    This host's speed changes by up to a third for seconds at a time (other tenants), so the
    contenders whose times form a ratio take turns epoch by epoch: at each BLAS thread count,
    core, fast, naive and GEMM-only run one epoch each, ``BLOCK`` times over, and meet the same
    machine states. Keras runs in blocks of ``BLOCK`` epochs between them. Every block starts
    with one untimed epoch per contender (it wakes the thread pools of the library that just
    got the CPU back). ``ROUNDS`` rounds of this; the best epoch of each contender counts.
    """
    X, y = make_data(sizes[0])
    keras = KerasRun(sizes, batch, X, y)
    numpy_side = {threads: {**{name: cls(sizes, batch, X, y) for name, cls in CONTENDERS.items()},
                            "gemm": GemmRun(sizes, batch)} for threads in (1, 2)}
    best = {}

    def keep(name, seconds):
        best[name] = min(best.get(name, np.inf), seconds)

    for _ in range(ROUNDS):
        for seconds in [keras.epoch_seconds() for _ in range(BLOCK + 1)][1:]:
            keep("keras", seconds)
        for threads, runs in numpy_side.items():
            with threadpool_limits(threads, user_api="blas"):
                for run in runs.values():
                    run.epoch_seconds()
                for _ in range(BLOCK):
                    for name, run in runs.items():
                        keep(f"{name}{threads}", run.epoch_seconds())
    return best


# ----------------------------------------------------------------------------- report
def mlp_section() -> None:
    """The MLP table: core, fast path, naive loop and GEMM bound against Keras."""
    head = (f"{'model':22} {'batch':>5} {'core/s':>8} {'fast/s':>8} {'naive/s':>8} "
            f"{'Keras/s':>8} {'thr':>3} {'(a) fast/Keras':>14} {'goal':>5} {'GEMM GF/s':>9} "
            f"{'(b) fast':>8} {'core/naive':>10}")
    print(head)
    print("-" * len(head))
    results = []
    for name, sizes, batch in CONFIGS:
        best = measure(sizes, batch)
        rate = {who: N_SAMPLES / min(best[f"{who}1"], best[f"{who}2"]) for who in CONTENDERS}
        rate["keras"] = N_SAMPLES / best["keras"]
        threads = 1 if best["fast1"] <= best["fast2"] else 2
        flops, steps = flops_per_step(sizes, batch), -(-N_SAMPLES // batch)
        r = {"name": name, "batch": batch, "threads": threads, "goal": GOALS[name.split()[0]],
             "a": rate["fast"] / rate["keras"],
             "b": best[f"gemm{threads}"] / best[f"fast{threads}"],
             "b_other": best[f"gemm{3 - threads}"] / best[f"fast{3 - threads}"],
             "core/naive": rate["naive"] / rate["core"]}  # > 1: the core is slower
        results.append(r)
        print(f"{name:22} {batch:5d} {rate['core']:8.0f} {rate['fast']:8.0f} "
              f"{rate['naive']:8.0f} {rate['keras']:8.0f} {threads:3d} {r['a']:14.2f} "
              f"{r['goal']:5.1f} {steps * flops / best[f'gemm{threads}'] / 1e9:9.1f} "
              f"{r['b']:8.3f} {r['core/naive']:10.3f}", flush=True)
    print(f"\n(a) goals: >= {GOALS['small']} (small MLP), >= {GOALS['MNIST']} (MNIST-size MLP);  "
          f"(b) goal: >= {GOALS['gemm']} (MNIST-size MLP, batch 512);  "
          f"core/naive goal: <= {GOALS['core/naive']}")
    for r in results:
        line = (f"  {r['name']}, batch {r['batch']}: (a) {r['a']:.3f} "
                f"{'met' if r['a'] >= r['goal'] else 'NOT met'}")
        if r["name"].startswith("MNIST") and r["batch"] == 512:
            line += (f"; (b) {r['b']:.3f} {'met' if r['b'] >= GOALS['gemm'] else 'NOT met'}"
                     f" ({r['threads']} BLAS thread(s); with {3 - r['threads']}: "
                     f"{r['b_other']:.3f})")
        ok = r["core/naive"] <= GOALS["core/naive"]
        line += f"; core/naive {r['core/naive']:.3f} {'met' if ok else 'NOT met'}"
        print(line)


def cnn_section() -> None:
    """The from-scratch MNIST-1D CNN against the same model in Keras (benchmarks/cnn.py)."""
    import cnn  # benchmarks/ is sys.path[0] when this file runs as a script

    cnn.report()


SECTIONS = [("MLP: learner core, fast path and a straightforward loop against Keras", mlp_section),
            ("CNN: the from-scratch MNIST-1D CNN against the same model in Keras", cnn_section)]


def main() -> None:
    # Set before TF is imported, and only when the benchmark runs (importing this module, as
    # its tests do, must not change the environment of later processes). Keras at its
    # defaults, oneDNN included (5-20 % faster here): the Makefile turns oneDNN off elsewhere
    # only to keep its start-up log line out of notebook outputs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    import keras
    import tensorflow as tf

    blas = [f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"NumPy {np.__version__} with {', '.join(blas)}; TF {tf.__version__}, "
          f"Keras {keras.__version__}")
    print(f"{N_SAMPLES} samples, float32, Adam(1e-3); best of {ROUNDS * BLOCK} timed epochs; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    for title, section in SECTIONS:
        print(f"\n{title}\n")
        section()
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
