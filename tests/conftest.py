"""Shared pytest configuration for dlbook.

The notebooks are collected by nbval (``--nbval``) from book/, solutions/ and exercises/; this file
only holds what every test needs. TF's C++ logging is silenced before anything imports TF.
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO
