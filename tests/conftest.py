"""Shared pytest configuration for dlbook.

The notebooks are collected by nbval (``--nbval``) from book/, solutions/ and exercises/; this file
only holds what every test needs. TF's C++ logging is silenced before anything imports TF.
MPLBACKEND is deliberately left alone: nbval's kernels inherit this environment, and a forced Agg
backend there would drop every figure from the notebooks' outputs.
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# `make test-latest` (DLBOOK_LATEST=1) runs the notebooks under the newest NumPy/TF, whose kernels
# round differently: a chaotic training run then ends elsewhere. Its decimals are masked
# (nbval_sanitize_latest.cfg) and its verdicts still compared; a cell tagged KERNEL_SENSITIVE
# prints an outcome that sits on a knife edge (a p-value near 0.05, the argmax of a flat curve,
# a tie between grid values) and is only executed there, not compared. `make test` compares it.
KERNEL_SENSITIVE = "kernel-sensitive"
if os.environ.get("DLBOOK_LATEST"):
    from nbval import plugin as _nbval

    _nbval.metadata_tags[KERNEL_SENSITIVE] = ("check", False)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO
