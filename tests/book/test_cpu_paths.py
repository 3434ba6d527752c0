"""tools/cpu_paths.py, the test that notebook outputs do not depend on the CPU, is itself
tested: its switches must really move the arithmetic on this machine (in a fresh process
and in the forked kernels its re-runs use), and a notebook that prints the last bits of a
result must fail under it while one that rounds must pass.

`make test` runs tools/cpu_paths.py on the real notebooks after the main test session.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from .. import forked_kernels
from ..paths import ROOT
from .test_forked_kernels import Kernel

sys.path.insert(0, str(ROOT / "tools"))
import cpu_paths  # noqa: E402  (a script, not a package)

RUNNABLE = [
    name for name in cpu_paths.VARIANTS if not cpu_paths.missing_requirement(name)
]
EXPECTED_TORCH_KERNELS = {"avx2": "AVX2", "baseline": "DEFAULT"}


@pytest.fixture(scope="module")
def native():
    return cpu_paths.fingerprints(cpu_paths.native_environment())


@pytest.mark.parametrize("name", RUNNABLE)
def test_variant_switches_move_the_arithmetic(name, native):
    forced = cpu_paths.fingerprints(cpu_paths.environment(name))
    changed = [
        key
        for key, value in forced["fingerprints"].items()
        if native["fingerprints"][key] != value
    ]
    assert changed, (
        f"{name}: no result changed, so its switches do nothing on this machine "
        f"(PyTorch kernels {forced['torch capability']}, OpenBLAS "
        f"{forced['openblas kernels']})"
    )
    if name in EXPECTED_TORCH_KERNELS:
        assert forced["torch capability"] == EXPECTED_TORCH_KERNELS[name]
    # How idle threads wait (cpu_paths.WAITING, for speed) must not be what moves them.
    spinning = {
        key: value
        for key, value in cpu_paths.environment(name).items()
        if key not in cpu_paths.WAITING
    }
    assert cpu_paths.fingerprints(spinning) == forced, (
        f"{name}: the waiting settings {cpu_paths.WAITING} change results"
    )
    # The re-runs fork each notebook's kernel from a template that imported the
    # libraries under these switches (tests/forked_kernels.py): a forked kernel must
    # compute as this fresh process did.
    if not forked_kernels.possible():
        return  # the re-runs start ordinary kernels here
    kernel = Kernel(forked=True, env=cpu_paths.environment(name))
    try:
        assert kernel.forked
        assert json.loads(kernel.stdout(cpu_paths.PROBE)) == forced
    finally:
        kernel.close()


# A notebook cell that prints a digest of a matrix product and of exp: the last bits,
# which the baseline variant's OpenBLAS kernels and numpy loops change. The honest
# version prints the same numbers rounded to the precision a lesson would show.
FRAGILE = """
import hashlib
import numpy as np
rng = np.random.default_rng(0)
a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
values = np.concatenate([(a @ b).ravel(), np.exp(a).ravel()])
print(hashlib.sha1(values.tobytes()).hexdigest())
"""
ROUNDED = """
import numpy as np
rng = np.random.default_rng(0)
a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
print(f"{(a @ b)[0, :3].round(6)} {np.exp(a).sum():.6f}")
"""


def recorded_notebook(folder, name, source):
    """A one-cell notebook, executed here (its committed output is this machine's)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(notebook, kernel_name="python3").execute()
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def run_variant(name, notebook):
    command = [
        sys.executable,
        str(ROOT / "tools" / "cpu_paths.py"),
        name,
        "--",
        str(notebook),
        "-n",
        "0",
        "-q",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif("baseline" not in RUNNABLE, reason="needs an x86-64 CPU")
def test_printed_last_bits_fail_and_rounded_numbers_pass(tmp_path):
    fragile = run_variant("baseline", recorded_notebook(tmp_path, "fragile", FRAGILE))
    assert fragile.returncode == 1, fragile.stdout[-2000:]
    assert "mismatch 'stdout'" in fragile.stdout
    assert "baseline FAILED" in fragile.stdout

    rounded = run_variant("baseline", recorded_notebook(tmp_path, "rounded", ROUNDED))
    assert rounded.returncode == 0, rounded.stdout[-2000:]
    assert "baseline passed" in rounded.stdout
