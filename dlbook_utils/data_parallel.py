"""Data-parallel training of one small MLP: the same run on 1 process or on r worker processes.

``train`` is what each process runs (through :func:`dlbook_utils.distributed.run_workers`). It
trains a 64-h-10 MLP on sklearn's digits with a custom ``GradientTape`` loop under a
``tf.distribute`` strategy, with SGD on a fixed sequence of *global* batches:

- with ``TF_CONFIG`` set (r workers), the strategy is ``MultiWorkerMirroredStrategy``; worker i
  takes rows ``[i*B, (i+1)*B)`` of each global batch of rB rows, and the optimizer sums the
  r workers' gradients (an all-reduce) before every update;
- without it, the default strategy: one process, the whole global batch.

Because the workers' gradients are *summed*, each worker must divide its loss by the **global**
batch size rB, which ``tf.nn.compute_average_loss(per_example_loss, global_batch_size=rB)``
does. Then the sum over workers is the mean over the global batch, and r workers follow the same
trajectory as one process, up to float32 rounding (the sums run in another order).
``average_over="local"`` plants the classic bug: each worker takes the *mean over its own* B
rows, the all-reduce adds r such means, and every gradient comes out r times too large (r replicas of B examples each).

TensorFlow is imported inside ``train`` only: importing this module stays cheap.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from .distributed import WorkerGroup, run_workers
from .parallel_checks import (  # re-exported: the chapter imports one module
    WARMUP_STEPS,
    fastest_ms,
    float32_bound,
    gradient_ratio,
    max_weight_difference,
    ms_per_step,
    round_ms,
    step_times,
    verdict,
)
from .turns import Turns, run_in_turns  # run_in_turns re-exported

__all__ = ["train", "replica_loss", "run_data_parallel", "run_side_by_side",
           "run_in_turns", "TARGET", "WARMUP_STEPS", "max_weight_difference", "float32_bound",
           "gradient_ratio", "ms_per_step", "step_times", "round_ms", "fastest_ms", "verdict"]

TARGET = "dlbook_utils.data_parallel:train"


def _initial_weights(hidden: int, seed: int) -> list[np.ndarray]:
    """Glorot-uniform W1 (64, h), b1 (h,), W2 (h, 10), b2 (10,), the same in every process."""
    rng = np.random.default_rng(seed)
    weights = []
    for d_in, d_out in [(64, hidden), (hidden, 10)]:
        limit = np.sqrt(6.0 / (d_in + d_out))
        weights += [rng.uniform(-limit, limit, (d_in, d_out)).astype(np.float32),
                    np.zeros(d_out, np.float32)]
    return weights


def global_batches(steps: int, batch: int, seed: int):
    """The digits' X (1347, 64) and y (1347,), and the rows of each global batch (steps, batch).

    The rows are reshuffled at every pass over the data, the same in every process (``seed``).
    """
    from .data import load_digits_split

    X, _, y, _ = load_digits_split(test_size=0.25, seed=0)  # X (1347, 64) float32, y (1347,)
    rng = np.random.default_rng(seed)
    passes = -(-steps * batch // len(X))  # ceil
    order = np.concatenate([rng.permutation(len(X)) for _ in range(passes)])
    return X, y, order[:steps * batch].reshape(steps, batch)


RUN_DEFAULTS = {"steps": 20, "global_batch": 64, "hidden": 32, "lr": 0.1, "seed": 0,
                "average_over": "global", "rounds": 0, "block_steps": 10}


def _start_tf(threads: int, deterministic: bool):
    """Import TF with this process's settings; the strategy and this worker's index."""
    import tensorflow as tf  # here: after TF_CONFIG is set, and never in the caller

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if "TF_CONFIG" not in os.environ:
        return tf, tf.distribute.get_strategy(), 0  # the default strategy: one process
    ring = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=ring)
    return tf, strategy, json.loads(os.environ["TF_CONFIG"])["task"]["index"]


def train(runs: list[dict] | None = None, *, threads: int = 1,
          deterministic: bool = True, turns: dict | None = None) -> list[dict]:
    """Each run of ``runs`` in turn, in this process; one result dict per run.

    A run's keys (all optional; defaults in RUN_DEFAULTS): ``steps``, ``global_batch`` rB,
    ``hidden`` h, ``lr``, ``seed``, ``average_over`` ("global", or "local" for the planted bug).
    Several runs share one start of TensorFlow and of the cluster, which takes seconds.

    A result holds ``weights`` [W1 (64, h), b1 (h,), W2 (h, 10), b2 (10,)] after training,
    ``first_gradient`` (the same shapes: the summed gradient of the first global batch, the one
    the optimizer applies), ``losses`` (steps,) the loss of each global batch (summed over the
    workers once, after training), ``step_seconds`` (steps,) the wall time of each step (the
    update and its gradient all-reduce, nothing else), ``allreduce_seconds`` the time of one all-reduce of a
    gradient (communication alone), ``setup_seconds`` (to the first step; for the first run
    this includes TF's import and the cluster's start) and ``conditions``.

    A run with ``rounds`` > 0 is also timed after all runs have trained, in ``rounds`` blocks of
    ``block_steps`` more steps, each block at this process's turn (``turns``: the keyword
    arguments of :class:`dlbook_utils.turns.Turns` but ``lead``; see ``run_in_turns``).
    ``round_seconds`` (rounds, block_steps) holds their step times; ``round_allreduce_seconds``
    (rounds,) the median of 5 all-reduces alone after each block.
    """
    begin = time.perf_counter()
    runs = [{**RUN_DEFAULTS, **run} for run in (runs if runs is not None else [{}])]
    for run in runs:
        if set(run) - set(RUN_DEFAULTS) or run["average_over"] not in ("global", "local"):
            raise ValueError(f"train expected runs with keys in {sorted(RUN_DEFAULTS)} and "
                             f"average_over 'global' or 'local', got {run}")
        if not all(isinstance(run[key], int) and run[key] >= 1
                   for key in ("steps", "global_batch", "hidden")):
            raise ValueError(f"train expected steps, global_batch and hidden to be integers "
                             f">= 1, got {run}")
    tf, strategy, task = _start_tf(threads, deterministic)
    n_replicas = strategy.num_replicas_in_sync
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    conditions = {"workers": n_replicas, "task": task, "threads": threads, "cores": cores,
                  "deterministic": deterministic, "tensorflow": tf.__version__,
                  "oneDNN": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") != "0"}
    results, timers = [], []
    for run in runs:
        result, timer = _train_one(tf, strategy, task, begin, **run)
        results.append({**result, "conditions": conditions})
        timers.append(timer)
        begin = time.perf_counter()
    if any(run["rounds"] for run in runs):  # timed blocks, one process at a time
        order = Turns(**turns, lead=task == 0)
        order.ready()
        for run, result, timer in zip(runs, results, timers, strict=True):
            blocks = [order.run(timer, run["block_steps"]) for _ in range(run["rounds"])]
            if blocks:  # (rounds, block_steps) and (rounds,)
                result["round_seconds"], result["round_allreduce_seconds"] = (
                    np.array(column) for column in zip(*blocks, strict=True))
    return results


def replica_loss(tf, model, xb, yb, *, average_over, global_batch):
    """This worker's share of a global batch's loss, a scalar.

    xb (B, 64), yb (B,): the worker's B rows of the global batch of rB.
    """
    logits = model(xb, training=True)  # (B, 10)
    per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
        yb, logits)  # (B,)
    if average_over == "global":  # eq-global-batch-loss: sum / (rB)
        return tf.nn.compute_average_loss(
            per_example, global_batch_size=global_batch)
    return tf.reduce_mean(per_example)  # eq-local-mean-bug: sum / B


def _train_one(tf, strategy, task, begin, *, steps, global_batch, hidden, lr, seed,
               average_over, rounds, block_steps):
    import keras

    n_replicas = strategy.num_replicas_in_sync  # one replica per worker on a CPU
    if global_batch % n_replicas:
        raise ValueError(f"train expected global_batch divisible by the {n_replicas} workers, "
                         f"got {global_batch}")
    local = global_batch // n_replicas  # B, this worker's share
    X, y, rows = global_batches(steps, global_batch, seed)
    mine = rows[:, task * local:(task + 1) * local]  # this worker's share of every global batch
    with strategy.scope():  # variables made here are mirrored: one copy per worker, kept equal
        model = keras.Sequential([keras.Input(shape=(64,)),
                                  keras.layers.Dense(hidden, activation="relu"),
                                  keras.layers.Dense(10)])
        model.set_weights(_initial_weights(hidden, seed))
        optimizer = keras.optimizers.SGD(learning_rate=lr)

    def replica_gradient(xb, yb):
        with tf.GradientTape() as tape:
            loss = replica_loss(tf, model, xb, yb, average_over=average_over,
                                global_batch=global_batch)
        return loss, tape.gradient(loss, model.trainable_variables)

    def replica_step(xb, yb):
        loss, grads = replica_gradient(xb, yb)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))  # all-reduce
        return loss

    def total(per_replica):  # the sum over workers, as the optimizer's all-reduce computes it
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    @tf.function
    def step(xb, yb):  # returns this worker's loss: no extra exchange inside the timed step
        return strategy.experimental_local_results(strategy.run(replica_step, args=(xb, yb)))[0]

    def sum_over_workers(values):  # one all-reduce, after training, of every step's local loss
        return total(strategy.experimental_distribute_values_from_function(lambda _: values))

    @tf.function
    def summed_gradient(xb, yb):
        return [total(g) for g in strategy.run(replica_gradient, args=(xb, yb))[1]]

    def replica_allreduce():  # what the optimizer does with the gradients, on zeros
        zeros = [tf.zeros_like(w) for w in model.trainable_variables]
        summed = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, zeros)
        return tf.add_n([tf.reduce_sum(g) for g in summed])

    @tf.function
    def allreduce_only():
        return strategy.experimental_local_results(strategy.run(replica_allreduce))[0]

    batches = [(tf.constant(X[r]), tf.constant(y[r].astype(np.int32))) for r in mine]
    first_gradient = [g.numpy() for g in summed_gradient(*batches[0])]
    setup_seconds = time.perf_counter() - begin
    print(f"worker {task} of {n_replicas}: set up in {setup_seconds:.1f} s; training {steps} steps",
          flush=True)  # a progress mark in the worker's log
    local_losses, step_seconds = [], []
    for xb, yb in batches:
        tic = time.perf_counter()
        local_losses.append(step(xb, yb).numpy())  # .numpy() waits for the step to finish
        step_seconds.append(time.perf_counter() - tic)
    losses = sum_over_workers(tf.constant(np.array(local_losses, np.float32))).numpy()
    allreduce_only()  # trace
    tic = time.perf_counter()
    for _ in range(10):
        allreduce_only().numpy()
    result = {"weights": [w.numpy() for w in model.trainable_variables],
              "first_gradient": first_gradient, "losses": losses.astype(np.float64),
              "step_seconds": np.array(step_seconds), "setup_seconds": setup_seconds,
              "allreduce_seconds": (time.perf_counter() - tic) / 10}

    def time_block(n_steps):  # more steps on the same batches, then 5 all-reduces alone
        seconds = []
        for i in range(n_steps + 5):
            tic = time.perf_counter()
            (step(*batches[i % len(batches)]) if i < n_steps else allreduce_only()).numpy()
            seconds.append(time.perf_counter() - tic)
        return np.array(seconds[:n_steps]), float(np.median(seconds[n_steps:]))
    return result, time_block


def run_data_parallel(runs: list[dict] | None = None, n_workers: int = 2, *,
                      threads: int = 1, deterministic: bool = True, timeout: float = 120.0,
                      env: dict | None = None) -> list[list[dict]]:
    """``train(runs)`` on ``n_workers`` worker processes: ``results[run][worker]``."""
    per_worker = run_workers(TARGET, n_workers, timeout=timeout, env=env,
                             kwargs={"runs": runs, "threads": threads,
                                     "deterministic": deterministic})
    return [list(by_run) for by_run in zip(*per_worker, strict=True)]


def run_side_by_side(runs: list[dict] | None = None, n_workers: int = 2, *, threads: int = 1,
                     deterministic: bool = True, timeout: float = 120.0,
                     env: dict | None = None) -> tuple[list[dict], list[list[dict]]]:
    """The reference process and the workers started together: ``(single[run], workers[run][w])``.

    Faster than one after the other (the processes share the start-up of TF between the
    cores), for comparing weights; their step times then measure a crowded machine, so time
    with ``run_in_turns`` instead.
    """
    kwargs = {"runs": runs, "threads": threads, "deterministic": deterministic}
    with WorkerGroup(TARGET, 1, kwargs=kwargs, timeout=timeout, env=env,
                     use_tf_config=False) as single, \
            WorkerGroup(TARGET, n_workers, kwargs=kwargs, timeout=timeout, env=env) as pair:
        reference, per_worker = single.wait()[0], pair.wait()
    return reference, [list(by_run) for by_run in zip(*per_worker, strict=True)]
