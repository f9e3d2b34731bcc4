"""The wheel is a real package: installed into a clean virtual environment, outside the repository,
it checks answers and grades notebooks with nothing but what it ships (question data, book data).

Slow-ish (a venv and an install from pip's cache, versions constrained to requirements.txt).
"""

import csv
import os
import shutil
import subprocess
import sys
import venv

import pytest

import dlbook_utils
from tests.platform.test_notebook_coverage import REPO

CHECKS = '''
import numpy as np
import dlbook_utils
from dlbook_utils.grading import check
from dlbook_utils.bookdata import load_errata, load_glossary

def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)

def sigmoid_grad_wrong(z):
    return sigmoid(z)

ok, bad = check("2.2", sigmoid_grad), check("2.2", sigmoid_grad_wrong)
print("file", dlbook_utils.__file__)
print("version", ok.version)
print("ok", ok.passed)
print("bad", bad.passed, bad.mistake, bool(bad.hint))
print(bad)
print("records", len(load_errata()) > 0, len(load_glossary()) > 0)
'''


def _run(cmd, cwd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)
    assert run.returncode == 0, f"{cmd[:3]} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return run.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a clean venv with the freshly built wheel, a working directory outside the repo)."""
    tmp = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(REPO)], tmp,
         timeout=600)
    wheel = next((tmp / "dist").glob("dlbook_utils-*.whl"))
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(tmp / "venv")
    python = tmp / "venv" / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "requirements.txt"), str(wheel)],
         tmp, timeout=900)
    work = tmp / "outside"
    work.mkdir()
    return python, work


def test_the_wheel_is_named_by_the_package_version(installed):
    assert list((installed[0].parents[2] / "dist").glob(f"dlbook_utils-{dlbook_utils.__version__}-*.whl"))


def test_check_passes_and_fails_with_a_hint_from_the_installed_wheel(installed):
    python, work = installed
    out = _run([str(python), "-c", CHECKS], work, timeout=300)
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert "site-packages" in lines["file"] and str(REPO) not in lines["file"], lines["file"]
    assert lines["version"] == dlbook_utils.__version__
    assert lines["ok"] == "True"
    assert lines["bad"] == "False sigmoid-grad-as-sigmoid True", out
    assert "Hint:" in out
    assert lines["records"] == "True True"


def test_the_cli_grades_two_notebooks(installed):
    python, work = installed
    subs = work / "subs"
    subs.mkdir()
    shutil.copy(REPO / "solutions" / "ch02_core_concepts.ipynb", subs / "solution.ipynb")
    shutil.copy(REPO / "exercises" / "ch02_core_concepts.ipynb", subs / "exercise.ipynb")
    _run([str(python), "-m", "dlbook_utils.grading", "grade", "subs", "--out", "out"], work, timeout=600)
    with open(work / "out" / "scores.csv") as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"solution", "exercise"}, rows
    assert float(rows["solution"]["total"]) == float(rows["solution"]["max"]) > 0
    assert float(rows["exercise"]["total"]) == 0
