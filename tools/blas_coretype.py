"""Print the OPENBLAS_CORETYPE that reproducible runs may force on this machine, or nothing.

    OPENBLAS_CORETYPE=$(python tools/blas_coretype.py Haswell)

The Makefile forces OpenBLAS's Haswell (AVX2) GEMM kernel so that stored outputs reproduce on any
x86-64 CPU. OpenBLAS 0.3.34, bundled with NumPy 2.5, breaks that on AMD CPUs with AVX-512 (Zen 4/5):
it sets the Zen 4 block size (inner dimension k up to 512) even when a core type is forced, and the
Haswell kernel copies its panel into a stack buffer sized for k <= 256. A float64 product with
k above ~300, e.g. (64, 512) @ (512, 2), then overruns the stack and kills the process: a Jupyter
kernel dies and nbval waits for its cell timeout. OpenBLAS 0.3.31 (NumPy 2.4) is not affected.

So a child process first runs such products under the requested core type. If it survives, the core
type is printed; if not, nothing is printed (OpenBLAS then picks its own kernel: no crash, but the
last digits of some outputs may differ) and the reason goes to stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys

# Inner dimensions on both sides of the 256-element buffer, plain and transposed (x.T @ dy, as in
# Dense.backward), with exact expected values so that a wrong kernel shows too.
PROBE = """
import numpy as np
for k in (64, 512, 1024, 4096):
    a, b = np.ones((64, k)), np.ones((k, 2))
    assert (a @ b == k).all() and (np.ones((k, 64)).T @ b == k).all(), k
"""


def probe_failure(coretype: str, python: str = sys.executable, probe: str = PROBE) -> str | None:
    """Why float64 GEMMs fail under ``OPENBLAS_CORETYPE=coretype`` in a child, or None if they work."""
    env = {**os.environ, "OPENBLAS_CORETYPE": coretype}
    try:
        run = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "the probe hung for 120 s"
    if run.returncode < 0:
        return f"the probe was killed by signal {-run.returncode}"
    if run.returncode:
        return f"the probe exited with {run.returncode}: {run.stderr.strip().splitlines()[-1:]}"
    return None


def main(argv: list[str]) -> int:
    coretype = argv[0] if argv else ""
    if not coretype:
        return 0  # nothing forced (not x86-64): nothing to check
    failure = probe_failure(coretype)
    if failure:
        print(f"OPENBLAS_CORETYPE={coretype} is unsafe with this OpenBLAS on this CPU ({failure}); "
              "not forcing it, so some last digits may differ from the stored outputs.",
              file=sys.stderr)
        return 0
    print(coretype)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
