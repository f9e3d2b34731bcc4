"""Multi-worker data parallelism on 127.0.0.1: same training as one process, and clean-up.

The TensorFlow runs start 5 processes in all (one reference, two pairs of workers); the clean-up
tests use tiny Python workers, which start in a fraction of a second, except one that kills a
real TensorFlow worker in the middle of its all-reduces. "No process left" is read from /proc:
nothing alive in the workers' process groups (``surviving_processes``).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from dlbook_utils import data_parallel as dp
from dlbook_utils.distributed import (
    WorkerError,
    WorkerGroup,
    WorkerTimeout,
    free_local_ports,
    run_workers,
    surviving_processes,
    tf_config,
)

pytestmark = pytest.mark.tf
RUNS = [{}, {"average_over": "local"}]  # 20 steps, global batch 64 split over the workers


@pytest.fixture(scope="module")
def runs():
    """(reference results, worker results) for RUNS: results[run] and results[run][worker].

    The reference starts beside the workers (3 TF start-ups on 2 cores: ~1/4 less wall time
    than one after the other); no test here compares their speeds.
    """
    return dp.run_side_by_side(RUNS, timeout=180)


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def script(tmp_path):
    """A worker script: 'file.py:function' targets for the clean-up tests."""
    path = tmp_path / "workers.py"
    path.write_text(textwrap.dedent("""
        import ctypes, json, os, signal, subprocess, time

        def index():
            return json.loads(os.environ["TF_CONFIG"])["task"]["index"]

        def hello(x):
            death_signal = ctypes.c_int()
            ctypes.CDLL(None).prctl(2, ctypes.byref(death_signal))  # PR_GET_PDEATHSIG
            return {"index": index(), "x": x, "pid": os.getpid(),
                    "tf_config": json.loads(os.environ["TF_CONFIG"]),
                    "death_signal": death_signal.value}

        def second_hangs(folder):
            # worker 1 starts a child of its own, ignores SIGTERM and disables its watchdog's
            # exit (as if stuck in C code), then never returns: only SIGKILL stops it
            if index() == 1:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                os._exit = lambda code: None
                child = subprocess.Popen(["sleep", "600"])
                with open(os.path.join(folder, "child.pid"), "w") as f:
                    f.write(str(child.pid))
                time.sleep(600)
            return index()

        def port_taken_once(folder):
            # the first worker 0 fails as TF does when its port was taken; its retry succeeds
            marker = os.path.join(folder, "failed-once")
            if index() == 0 and not os.path.exists(marker):
                open(marker, "w").close()
                raise SystemExit("UnknownError: Could not start gRPC server")
            return os.environ["TF_CONFIG"]

        def everyone_hangs():
            time.sleep(600)

        def fails():
            if index() == 1:
                raise ArithmeticError("planted failure in worker 1")
            time.sleep(600)
    """))
    return path


@pytest.mark.checks("eq-global-batch-loss", kind="reference value", tol="20 steps x 2^-23 x max|w|")
def test_two_workers_train_the_same_weights_as_one_process(runs):
    ref, workers = runs[0][0], runs[1][0]
    bound = dp.float32_bound(ref)  # 20 steps x 2**-23 x max|w|: ~1e-6
    for w in workers:
        assert w["conditions"]["workers"] == 2 and ref["conditions"]["workers"] == 1
        diff = dp.max_weight_difference(w, ref)
        print(f"worker {w['conditions']['task']} vs one process: max |Δw| = {diff:.1e}, "
              f"bound {bound:.1e}")
        assert diff <= bound
        assert dp.gradient_ratio(w, ref) == pytest.approx(1.0, abs=1e-6)
        np.testing.assert_allclose(w["losses"], ref["losses"], rtol=1e-6)
    # the all-reduce hands every worker the same sum: the replicas stay bit-identical
    assert dp.max_weight_difference(workers[0], workers[1]) == 0.0
    assert ref["losses"][-1] < ref["losses"][0] - 0.1  # it did train


@pytest.mark.checks("eq-local-mean-bug", kind="reference value", tol="ratio 2, abs 1e-6")
def test_the_missing_division_by_the_global_batch_is_caught(runs):
    """Planted bug: each worker averages over its own 32 rows; the all-reduce adds 2 means."""
    ref, buggy = runs[0][1], runs[1][1]
    assert ref["conditions"]["workers"] == 1  # one process: "local" = "global", no bug possible
    assert dp.max_weight_difference(ref, runs[0][0]) == 0.0
    for w in buggy:
        assert dp.gradient_ratio(w, ref) == pytest.approx(2.0, abs=1e-6)  # r = 2 times too large
        diff = dp.max_weight_difference(w, ref)
        assert diff > 1e4 * dp.float32_bound(ref), diff  # far outside float32 rounding
        np.testing.assert_allclose(w["losses"][0], 2 * ref["losses"][0], rtol=1e-6)


def test_step_times_report_numbers_and_their_conditions(runs):
    times = dp.step_times(runs[0][0], runs[1][0])
    print(times)
    assert times["single_ms"] > 0 and times["workers_ms"] > 0 and times["allreduce_ms"] > 0
    assert times["speedup"] == pytest.approx(times["single_ms"] / times["workers_ms"])
    assert times["best_speedup"] == pytest.approx(times["single_best_ms"] / times["workers_best_ms"])
    steps = runs[1][0][0]["step_seconds"][dp.WARMUP_STEPS:]
    assert times["workers_best_ms"] >= 1e3 * steps.min() and len(steps) == 18
    assert times["single_best_ms"] <= times["single_ms"]
    assert times["conditions"] == {"threads": 1, "deterministic": True, "oneDNN": False,
                                   "cores": len(os.sched_getaffinity(0)),
                                   "tensorflow": times["conditions"]["tensorflow"]}


def test_importing_the_helpers_does_not_import_tensorflow():
    code = ("import sys, dlbook_utils.data_parallel, dlbook_utils.distributed, "
            "dlbook_utils.mixed_precision; assert 'tensorflow' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_killed_tensorflow_worker_fails_the_run_and_leaves_no_process():
    with pytest.raises(WorkerError, match=r"worker 1 of 2 .* killed by signal SIGKILL"):
        with WorkerGroup(dp.TARGET, 2, kwargs={"runs": [{"steps": 3000}]}, timeout=150) as g:
            for i in (0, 1):
                g.wait_for_log(i, "training", timeout=120)
            time.sleep(0.5)  # inside the training loop, in the middle of the all-reduces
            g.kill(1)
            killed = time.monotonic()
            g.wait()  # worker 0 now waits for worker 1 forever; wait() must not
    assert time.monotonic() - killed < 15  # not the 150 s timeout: the kill is noticed
    assert surviving_processes(g.pids) == []


def test_workers_get_their_tf_config_and_return_results_in_order(script):
    results = run_workers(f"{script}:hello", 2, kwargs={"x": 7}, timeout=30)
    assert [r["index"] for r in results] == [0, 1] and results[0]["x"] == 7
    cluster = results[0]["tf_config"]["cluster"]["worker"]
    assert cluster == results[1]["tf_config"]["cluster"]["worker"] and len(set(cluster)) == 2
    assert all(address.startswith("127.0.0.1:") for address in cluster)
    assert [r["death_signal"] for r in results] == [signal.SIGKILL] * 2  # dies with its parent
    assert surviving_processes([r["pid"] for r in results]) == []


def test_a_port_taken_before_the_worker_binds_it_is_retried_once_on_new_ports(script, tmp_path):
    configs = run_workers(f"{script}:port_taken_once", 2, kwargs={"folder": str(tmp_path)},
                          timeout=30)
    assert (tmp_path / "failed-once").exists() and configs[0] != configs[1]


def test_a_failing_worker_raises_with_its_traceback(script):
    with pytest.raises(WorkerError, match=r"(?s)worker 1 of 2 .*exited with code 1.*"
                                          r"ArithmeticError: planted failure in worker 1"):
        with WorkerGroup(f"{script}:fails", 2, timeout=30) as g:
            g.wait()
    assert surviving_processes(g.pids) == []
    with WorkerGroup(f"{script}:fails", 2, timeout=30) as g:
        with pytest.raises(WorkerError, match="worker 1 did not print 'training'"):
            g.wait_for_log(1, "training")  # it exits without: no endless wait either


def test_the_timeout_fires_and_sigkill_stops_a_stubborn_worker_and_its_child(
        script, tmp_path):
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match=r"worker\(s\) \[1\] of 2 .* timeout of 2 s"):
        with WorkerGroup(f"{script}:second_hangs", 2, kwargs={"folder": str(tmp_path)},
                         timeout=2) as g:
            g.wait()
    elapsed = time.monotonic() - start
    assert 2 + 0.5 + 3 <= elapsed < 2 + 0.5 + 3 + 10  # timeout, stdin closed, SIGTERM, SIGKILL
    assert [p.returncode for p in g.processes] == [0, -signal.SIGKILL]
    child = int((tmp_path / "child.pid").read_text())
    assert surviving_processes(g.pids) == [] and not _pid_alive(child)


def test_an_exception_in_the_caller_leaves_no_worker(script):
    with pytest.raises(KeyError, match="the cell failed"):
        with WorkerGroup(f"{script}:everyone_hangs", 2, timeout=60) as g:
            assert len(surviving_processes(g.pids)) >= 2
            raise KeyError("the cell failed")
    assert surviving_processes(g.pids) == []


def test_workers_die_with_a_caller_that_is_killed(script, tmp_path):
    caller = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import json, time
        from dlbook_utils.distributed import WorkerGroup
        with WorkerGroup({str(script) + ':everyone_hangs'!r}, 2, timeout=600) as g:
            print(json.dumps(g.pids), flush=True)
            time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        pids = json.loads(caller.stdout.readline())
        assert len(surviving_processes(pids)) == 2
    finally:
        caller.kill()  # SIGKILL: the caller's clean-up code never runs
        caller.wait()
        caller.stdout.close()
    deadline = time.monotonic() + 10
    while surviving_processes(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert surviving_processes(pids) == []


def test_surviving_processes_sees_a_live_process_group():
    """The clean-up checks above would pass vacuously if this scan never found anything."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        assert surviving_processes([proc.pid]) == [proc.pid]
    finally:
        proc.kill()
        proc.wait()
    assert surviving_processes([proc.pid]) == []


def test_ports_and_tf_config():
    ports = free_local_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= p < 65536 for p in ports)
    config = json.loads(tf_config(ports, 2))
    assert config == {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                      "task": {"type": "worker", "index": 2}}
    with pytest.raises(ValueError, match=r"index in \[0, 3\), got 3"):
        tf_config(ports, 3)


def test_bad_arguments_are_refused_with_a_clear_message(script):
    def local_function():
        return 1

    with pytest.raises(ValueError, match="another process can import.*file.py:local_function"):
        WorkerGroup(local_function)
    with pytest.raises(ValueError, match="'module:function' or 'file.py:function', got 'train'"):
        WorkerGroup("train")
    with pytest.raises(ValueError, match="existing file"):
        WorkerGroup("no_such_file.py:train")
    with pytest.raises(ValueError, match="n_workers to be an integer >= 1, got 0"):
        WorkerGroup(dp.TARGET, 0)
    with pytest.raises(ValueError, match="timeout > 0 seconds, got -1"):
        WorkerGroup(dp.TARGET, timeout=-1)
    assert WorkerGroup(dp.train).target == dp.TARGET  # an importable function is named for us
    with pytest.raises(WorkerError, match="average_over 'global' or 'local'"):
        dp.run_data_parallel([{"average_over": "mean"}], timeout=60)  # refused before TF starts
