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


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO
