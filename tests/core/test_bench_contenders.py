"""The benchmark's contenders must train the same model, or its ratios compare different work.

``benchmarks/run.py`` times the library (``NumpyRun``), a stripped-down loop (``BareRun``), a
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


@pytest.mark.parametrize("sizes,batch", [([20, 16, 10], 64), ([30, 24, 16, 10], 128)])
def test_the_bare_loop_trains_like_the_library(bench, sizes, batch):
    start, lib, bare = _train_both(bench.BareRun, bench.NumpyRun, sizes, batch)
    assert lib.opt.t == bare.opt.t == 2 * -(-600 // batch)
    for key, w in lib.model.params().items():
        assert np.abs(w - start[key]).max() > 5e-3, key  # both really trained
        # They differ only in how softmax is rounded (exp(log p) vs e / sum e): about 6e-8.
        np.testing.assert_allclose(bare.model.params()[key], w, rtol=0, atol=1e-6, err_msg=key)


def test_the_comparison_catches_a_bare_loop_without_the_relu_mask(bench):
    planted = _planted("d *= masks[i - 1]", "pass")
    _, lib, bare = _train_both(planted["BareRun"], bench.NumpyRun, [20, 16, 10], 64)
    assert _max_diff(lib, bare) > 1e-4


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
    start, lib, naive = _train_both(bench.NaiveRun, bench.NumpyRun, sizes, batch)
    assert lib.opt.t == naive.opt.t == 2 * -(-600 // batch)
    for key, w in lib.model.params().items():
        assert np.abs(w - start[key]).max() > 5e-3, key
        np.testing.assert_allclose(naive.model.params()[key], w, rtol=0, atol=1e-6, err_msg=key)


def test_the_comparison_catches_a_naive_loop_without_bias_correction(bench):
    planted = _planted("alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)", "alpha = lr")
    _, lib, naive = _train_both(planted["NaiveRun"], bench.NumpyRun, [20, 16, 10], 64)
    assert _max_diff(lib, naive) > 1e-4
