"""Private cases for the batch grader (``--cases PATH``), kept out of the learners' package.

* A Python file defining ``CASES = {"5.3": [(w, g, m, v, 1, 0.1, 0.9, 0.999, 1e-3), ...]}``:
  each entry is a tuple of positional arguments, exactly as the question's fixed cases.
* A JSON file ``{"5.3": [[[1.0, 2.0], [0.5, 0.1], ...], ...]}``: each case is a list of
  arguments; a JSON list becomes a NumPy array (int64 if all entries are integers, else
  float64), a number stays a Python number.
The grader runs these after the built-in and random cases; unknown question ids are an error.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import numpy as np


def _from_json(arg):
    if isinstance(arg, list):
        arr = np.asarray(arg)
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"private case argument is not numeric: {arg!r:.60}")
        return arr.astype(np.int64 if arr.dtype.kind in "iu" else np.float64)
    if isinstance(arg, (int, float)):
        return arg
    raise ValueError(f"private case argument must be a number or a list, got {arg!r:.60}")


def load_private_cases(path) -> dict[str, list[tuple]]:
    """qid -> list of argument tuples, from a .py or .json file (see the module docstring)."""
    from . import registry

    path = Path(path)
    if path.suffix == ".py":
        raw = runpy.run_path(str(path)).get("CASES")
        if not isinstance(raw, dict):
            raise ValueError(f"{path.name} must define a dict CASES")
        cases = {str(k): [tuple(c) for c in v] for k, v in raw.items()}
    elif path.suffix == ".json":
        raw = json.loads(path.read_text())
        cases = {str(k): [tuple(_from_json(a) for a in c) for c in v] for k, v in raw.items()}
    else:
        raise ValueError(f"--cases expects a .py or .json file, got {path.name}")
    for qid in cases:
        q = registry.get(qid)  # KeyError names the known ids
        if q.kind != "function":
            raise ValueError(f"private cases only apply to function questions; {qid} is {q.kind}")
    return cases
