"""benchmarks/cnn.py trains the same CNN on both sides for the same epochs (timings untested)."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("bench_cnn", ROOT / "benchmarks" / "cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importing_the_cnn_bench_leaves_the_environment_alone():
    before = {k: v for k, v in os.environ.items() if k.startswith("TF_")}
    _load()
    assert {k: v for k, v in os.environ.items() if k.startswith("TF_")} == before


@pytest.mark.tf
def test_both_sides_train_for_the_same_epochs_and_learn():
    result = _load().run(epochs=2, batch=50, n_train=2000)  # 80 steps: BN stats settle
    for side in ("numpy", "keras"):
        assert len(result[side]["seconds"]) == 2, side
        assert result[side]["test_acc"] > 0.2, side  # chance is 0.10; here ~0.43 and ~0.34
    assert result["ratio"] == pytest.approx(sum(result["keras"]["seconds"])
                                            / sum(result["numpy"]["seconds"]))
