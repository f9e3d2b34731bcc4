"""The benchmark's contenders must train the same model, or its ratios compare different work.

``benchmarks/run.py`` times the learner core (``CoreRun``), the fast path (``FastRun``), a
straightforward loop (``NaiveRun``) and the GEMMs alone (``GemmRun``). Timings are not tested;
what each contender computes is.
"""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load_bench()


def test_importing_the_bench_leaves_the_environment_alone():
    """Notebook kernels started later by the same test worker inherit os.environ: the bench's
    TF settings (oneDNN on) must only be made when it runs."""
    def tf_settings():
        return {k: v for k, v in os.environ.items() if k.startswith("TF_")}

    before = tf_settings()
    _load_bench()
    assert tf_settings() == before


def _data(d_in, n=600, seed=3):
    rng = np.random.default_rng(seed)
    return rng.random((n, d_in), dtype=np.float32), rng.integers(0, 10, n)


def _train_both(other_cls, lib_cls, sizes, batch, epochs=2):
    X, y = _data(sizes[0])
    lib, other = lib_cls(sizes, batch, X, y), other_cls(sizes, batch, X, y)
    start = {k: v.copy() for k, v in lib.model.params().items()}
    for _ in range(epochs):
        lib.epoch_seconds()
        other.epoch_seconds()
    return start, lib, other


def _planted(line, replacement):
    """The bench module with one line of its source replaced (the line must occur once)."""
    source = (ROOT / "benchmarks" / "run.py").read_text()
    assert source.count(line) == 1
    planted = {"__name__": "planted", "__file__": str(ROOT / "benchmarks" / "run.py")}
    exec(compile(source.replace(line, replacement), "planted_run.py", "exec"), planted)
    return planted


def _max_diff(lib, other):
    return max(np.abs(other.model.params()[k] - w).max() for k, w in lib.model.params().items())


def _fast_params(run):
    """The fast model's parameters under the core model's keys ("0.W", "2.W", ...)."""
    return {f"{2 * i}.{k}": v for i, lay in enumerate(run.model.layers) for k, v in lay.params.items()}


@pytest.mark.parametrize("sizes,batch", [([20, 16, 10], 64), ([30, 24, 16, 10], 128)])
def test_the_fast_path_trains_exactly_like_the_core(bench, sizes, batch):
    start, core, quick = _train_both(bench.FastRun, bench.CoreRun, sizes, batch)
    assert core.opt.t == quick.opt.t == 2 * -(-600 // batch)
    fast_params = _fast_params(quick)
    for key, w in core.model.params().items():
        assert np.abs(w - start[key]).max() > 5e-3, key  # both really trained
        np.testing.assert_array_equal(fast_params[key], w, err_msg=key)


def test_the_comparison_catches_a_fast_run_with_another_adam_form(bench):
    planted = _planted("self.opt = fast.FusedAdam(1e-3, epsilon_hat=True)",
                       "self.opt = fast.FusedAdam(1e-3)")
    _, core, quick = _train_both(planted["FastRun"], bench.CoreRun, [20, 16, 10], 64)
    fast_params = _fast_params(quick)
    assert any(not np.array_equal(fast_params[k], w) for k, w in core.model.params().items())


def test_gemm_run_performs_the_counted_gemms(bench):
    sizes, batch = [784, 256, 256, 10], 512
    gemms = bench.step_gemms(sizes, batch)
    assert len(gemms) == 3 + 3 + 2  # forward, dW for every layer, dx for all but the first
    run = bench.GemmRun(sizes, batch)
    assert [out.shape for _, _, out in run.ops] == [(m, n) for m, _, n, _, _ in gemms]
    assert bench.flops_per_step(sizes, batch) == 2 * batch * (
        2 * (784 * 256 + 256 * 256 + 256 * 10) + 256 * 256 + 256 * 10)


@pytest.mark.parametrize("sizes,batch", [([20, 16, 10], 64), ([30, 24, 16, 10], 128)])
def test_the_naive_loop_trains_like_the_library(bench, sizes, batch):
    """The straightforward loop computes the same training (same init, order and update), up to
    float32 rounding of the differently ordered formulas."""
    start, lib, naive = _train_both(bench.NaiveRun, bench.CoreRun, sizes, batch)
    assert lib.opt.t == naive.opt.t == 2 * -(-600 // batch)
    for key, w in lib.model.params().items():
        assert np.abs(w - start[key]).max() > 5e-3, key
        np.testing.assert_allclose(naive.model.params()[key], w, rtol=0, atol=1e-6, err_msg=key)


def test_the_comparison_catches_a_naive_loop_without_bias_correction(bench):
    planted = _planted("alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)", "alpha = lr")
    _, lib, naive = _train_both(planted["NaiveRun"], bench.CoreRun, [20, 16, 10], 64)
    assert _max_diff(lib, naive) > 1e-4
