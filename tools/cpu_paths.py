"""Run the notebook tests as other CPUs would run them.

PyTorch, numpy and the BLAS libraries inside them choose vectorised code at run time,
by what the CPU offers: AVX-512, AVX2, or plain SSE. Different code paths add numbers in
a different order, so the last bits of a sum or a matrix product change with the
machine. A notebook that prints those bits passes only where it was recorded. This
script re-runs the strict nbval comparison (`pytest book solutions`) with the libraries
forced onto the code paths of other machines, through switches the libraries read at
start-up:

    variant        stands in for                       what is forced
    avx2           a laptop or desktop with AVX2,      PyTorch's kernels, oneDNN and MKL
                   four cores                          to AVX2; numpy without AVX-512;
                                                       OpenBLAS's Haswell kernels; 4 threads
    baseline       an x86-64 CPU without vector        PyTorch's portable kernels, oneDNN to
                   extensions beyond SSE, one core     SSE4.1, MKL to its conditional
                                                       numerical reproducibility path;
                                                       numpy's baseline loops; OpenBLAS's
                                                       Prescott (SSE3) kernels; 1 thread
    avx512-intel   an Intel server with AVX-512        OpenBLAS's SkylakeX kernels (Intel
                                                       AVX-512 CPUs take them, and so did
                                                       the AMD EPYC here, as threadpoolctl
                                                       reports); 4 threads. Needs AVX-512.

Each switch was checked to change results on the development machine (an AMD EPYC with
AVX-512): `python tools/cpu_paths.py --probe` prints a fingerprint of float64 and
float32 results (matrix products, reductions, exp/log/tanh, convolutions) under each
variant, so anyone can see which switches bite on their own machine. Switches that did
not change anything there (MKL_ENABLE_INSTRUCTIONS on an AMD CPU, whose MKL already
runs its AVX2 code) are still set, since they do on Intel CPUs.

No set of switches recreates every machine, so this is a test, not a guarantee: the
notebooks print numbers at the precision their lessons need, and this script checks
that the printed text does not move when the arithmetic underneath does.

    .venv/bin/python tools/cpu_paths.py                      # every variant, book and solutions
    .venv/bin/python tools/cpu_paths.py baseline             # one variant
    .venv/bin/python tools/cpu_paths.py avx2 -- tests/engine   # other tests, same switches
    .venv/bin/python tools/cpu_paths.py --probe              # which switches change results here

A variant that needs an instruction set this CPU lacks is skipped with a message (forcing
AVX-512 kernels on a CPU without AVX-512 would crash the process). Exit status: 0 when
every variant that ran passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# numpy 2.4 groups its run-time dispatch targets as X86_V3 (AVX2, FMA3), X86_V4
# (AVX-512 F/CD/VL/BW/DQ) and AVX512_ICL / AVX512_SPR; X86_V2 (SSE4.2) is its baseline
# and cannot be switched off.
NUMPY_AVX512 = ["X86_V4", "AVX512_ICL", "AVX512_SPR"]
NUMPY_AVX2 = ["X86_V3"]

VARIANTS: dict[str, dict[str, object]] = {
    "avx2": {
        "stands_for": "a CPU with AVX2 but no AVX-512, four cores",
        "requires": "avx2",
        "env": {
            "ATEN_CPU_CAPABILITY": "avx2",
            "ONEDNN_MAX_CPU_ISA": "AVX2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512,
            "OPENBLAS_CORETYPE": "Haswell",
            "OMP_NUM_THREADS": "4",
            "OPENBLAS_NUM_THREADS": "4",
        },
    },
    "baseline": {
        "stands_for": "an x86-64 CPU without vector extensions beyond SSE, one core",
        "requires": None,
        "env": {
            "ATEN_CPU_CAPABILITY": "default",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
            "MKL_CBWR": "COMPATIBLE",
            "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX2 + NUMPY_AVX512,
            "OPENBLAS_CORETYPE": "Prescott",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
        },
    },
    "avx512-intel": {
        "stands_for": "an Intel CPU with AVX-512, four cores",
        "requires": "avx512f",
        "env": {
            "OPENBLAS_CORETYPE": "SkylakeX",
            "OMP_NUM_THREADS": "4",
            "OPENBLAS_NUM_THREADS": "4",
        },
    },
}

DEFAULT_PATHS = ["book", "solutions"]


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty where /proc is missing)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def available_numpy_features() -> set[str]:
    """numpy's dispatch targets that this CPU supports (numpy refuses to disable others)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return {name for name in __cpu_dispatch__ if __cpu_features__.get(name)}


def native_environment() -> dict[str, str]:
    """os.environ without any of the switches, so the libraries choose for themselves."""
    switches = {key for variant in VARIANTS.values() for key in variant["env"]}
    return {key: value for key, value in os.environ.items() if key not in switches}


# How idle threads wait, set for every variant (a value already in the environment wins).
# A variant with four threads on a two-core machine has more threads than cores, and
# PyTorch's OpenMP threads and OpenBLAS's threads spin for a while after each parallel
# operation, taking the cores from the threads with work to do: the avx2 variant alone
# took 153 CPU-seconds for the notebooks on the development machine (2 cores), and 76
# with these two settings. They decide only whether a waiting thread spins or sleeps,
# not how the work is split, so no result changes (tests/book/test_cpu_paths.py checks
# that every variant's fingerprints are the same with and without them).
WAITING = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}

# The re-runs fork each notebook's kernel from a process that has imported PyTorch
# already, instead of importing it again in each (tests/forked_kernels.py, which says
# why a forked kernel shows a notebook what a fresh one would). The main test session
# starts its kernels the ordinary way. LABS_FORKED_KERNELS=0 in the environment wins.
FORKED = {"LABS_FORKED_KERNELS": "1"}


def environment(name: str) -> dict[str, str]:
    """The process environment for one variant: the native one plus its switches."""
    env = {**WAITING, **FORKED, **native_environment()}
    present = available_numpy_features()
    for key, value in VARIANTS[name]["env"].items():
        if isinstance(value, list):
            value = " ".join(feature for feature in value if feature in present)
            if not value:
                continue
        env[key] = value
    return env


def missing_requirement(name: str) -> str | None:
    """Why this CPU cannot run the variant, or None when it can."""
    required = VARIANTS[name]["requires"]
    flags = cpu_flags()
    if required and flags and required not in flags:
        return f"this CPU has no {required.upper()}"
    if required and not flags:
        return "cannot read the CPU's features (/proc/cpuinfo)"
    return None


PROBE = r"""
import hashlib, json
import numpy as np, torch, threadpoolctl
rng = np.random.default_rng(0)
a, b = rng.standard_normal((257, 333)), rng.standard_normal((333, 129))
x, w = rng.standard_normal((4, 3, 30, 30)), rng.standard_normal((5, 3, 3, 3))
ta, tx, tw = torch.from_numpy(a), torch.from_numpy(x), torch.from_numpy(w)
torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "2")))
results = {
    "numpy matmul f64": a @ b,
    "numpy matmul f32": a.astype(np.float32) @ b.astype(np.float32),
    "numpy exp, log": np.concatenate([np.exp(a), np.log(np.abs(a))]),
    "numpy tanh": np.tanh(a),
    "torch mm f64": (ta @ torch.from_numpy(b)).numpy(),
    "torch sum f64": ta.sum().numpy(),
    "torch softmax f64": ta.softmax(1).numpy(),
    "torch conv2d f64": torch.nn.functional.conv2d(tx, tw).numpy(),
    "torch conv2d f32": torch.nn.functional.conv2d(tx.float(), tw.float()).numpy(),
}
blas = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
print(json.dumps({
    "torch capability": torch.backends.cpu.get_cpu_capability(),
    "openblas kernels": blas[0].get("architecture") if blas else None,
    "fingerprints": {k: hashlib.sha1(np.ascontiguousarray(v).tobytes()).hexdigest()[:8]
                     for k, v in results.items()},
}))
"""


def fingerprints(env: dict[str, str]) -> dict:
    """Run PROBE in a fresh process with this environment; its JSON answer."""
    import json

    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def probe(names: list[str]) -> int:
    """Print which results each variant changes, compared with this machine's own paths."""
    native = fingerprints(native_environment())
    print(
        f"this machine: PyTorch kernels {native['torch capability']}, "
        f"OpenBLAS kernels {native['openblas kernels']}"
    )
    for name in names:
        reason = missing_requirement(name)
        if reason:
            print(f"{name}: skipped, {reason}")
            continue
        result = fingerprints(environment(name))
        changed = [
            key
            for key, value in result["fingerprints"].items()
            if native["fingerprints"][key] != value
        ]
        print(
            f"{name}: PyTorch kernels {result['torch capability']}, OpenBLAS kernels "
            f"{result['openblas kernels']}; results that change: "
            f"{', '.join(changed) if changed else 'none'}"
        )
    return 0


def _announce(name: str) -> None:
    env = environment(name)
    variant = VARIANTS[name]
    switches = " ".join(f"{key}={env[key]!r}" for key in variant["env"] if key in env)
    print(f"\n=== {name}: {variant['stands_for']}\n    {switches}", flush=True)


def _outcome(name: str, status: int, seconds: float) -> str:
    outcome = "passed" if status == 0 else f"FAILED (pytest exit {status})"
    print(f"=== {name}: {outcome} in {seconds:.0f} s", flush=True)
    return outcome


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Run strict nbval (or other tests) with PyTorch, numpy and OpenBLAS "
        "forced onto other CPUs' code paths."
    )
    parser.add_argument(
        "variants",
        nargs="*",
        metavar="variant",
        help=f"one or more of {', '.join(VARIANTS)} (default: all)",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="run the variants one after another (default: side by side, sharing "
        "the cores), each with its output as it comes",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="only show which results each variant changes on this machine",
    )
    if "--" in arguments:
        split = arguments.index("--")
        arguments, pytest_arguments = arguments[:split], arguments[split + 1 :]
    else:
        pytest_arguments = DEFAULT_PATHS
    options = parser.parse_args(arguments)
    names = options.variants or list(VARIANTS)
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(
            f"unknown variant {', '.join(unknown)}; choose from {', '.join(VARIANTS)}"
        )
    if options.probe:
        return probe(names)

    outcomes, runnable = {}, []
    for name in names:
        reason = missing_requirement(name)
        if reason:
            print(f"\n=== {name}: skipped, {reason}", flush=True)
            outcomes[name] = "skipped"
        else:
            runnable.append(name)
    # the project's pytest settings (nbval, strict, sanitizing) for any path given
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "-p",
        "no:cacheprovider",
    ]
    if options.serial or len(runnable) < 2:
        for name in runnable:
            _announce(name)
            start = time.monotonic()
            status = subprocess.run(
                [*command, *pytest_arguments], cwd=ROOT, env=environment(name)
            ).returncode
            outcomes[name] = _outcome(name, status, time.monotonic() - start)
    else:
        # Side by side, the cores shared out: each run is mostly kernels starting and
        # waiting, and one run's last notebook no longer leaves a core idle.
        workers = max(1, (os.cpu_count() or 1) // len(runnable))
        start, running = time.monotonic(), {}
        for name in runnable:
            log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed below
            process = subprocess.Popen(
                [*command, "-n", str(workers), *pytest_arguments],
                cwd=ROOT,
                env=environment(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            running[name] = (process, log)
        print(
            f"\nrunning {', '.join(runnable)} side by side, {workers} worker(s) each",
            flush=True,
        )
        for name, (process, log) in running.items():
            status = process.wait()
            _announce(name)
            log.seek(0)
            sys.stdout.write(log.read())
            log.close()
            outcomes[name] = _outcome(name, status, time.monotonic() - start)

    print(
        "\nother CPUs' code paths: "
        + ", ".join(f"{name} {outcome}" for name, outcome in outcomes.items())
    )
    return 0 if all(o in ("passed", "skipped") for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
