"""The forced OpenBLAS core type never kills a kernel: tools/blas_coretype.py drops an unsafe one."""

import os
import platform

import pytest

from tools import blas_coretype
from tools.blas_coretype import probe_failure


@pytest.mark.skipif(not os.environ.get("OPENBLAS_CORETYPE"), reason="no core type forced (make sets one)")
def test_the_forced_core_type_runs_large_products():
    coretype = os.environ["OPENBLAS_CORETYPE"]
    assert probe_failure(coretype) is None, (
        f"OPENBLAS_CORETYPE={coretype} crashes float64 GEMMs here; the Makefile should have dropped it")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="core types are x86-64 names")
def test_main_prints_haswell_only_when_it_is_safe(capsys):
    blas_coretype.main(["Haswell"])
    out, err = capsys.readouterr()
    assert (out.strip(), bool(err)) in (("Haswell", False), ("", True))
    assert (out.strip() == "Haswell") == (probe_failure("Haswell") is None)


def test_probe_catches_a_planted_crash_and_a_wrong_product():
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    assert probe_failure("Haswell", probe=crash) == "the probe was killed by signal 11"
    wrong = "import numpy as np; assert (np.ones((2, 512)) @ np.ones((512, 2)) == 511).all()"
    assert probe_failure("Haswell", probe=wrong).startswith("the probe exited with 1")


def test_an_unsafe_core_type_is_not_printed(monkeypatch, capsys):
    monkeypatch.setattr(blas_coretype, "probe_failure", lambda coretype: "killed by signal 11")
    assert blas_coretype.main(["Haswell"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "OPENBLAS_CORETYPE=Haswell is unsafe" in err
    assert blas_coretype.main([]) == 0 and capsys.readouterr().out == ""
