"""Benchmarks: labs against PyTorch, side by side in one process, on the CPU.

    .venv/bin/python benchmarks/run.py            # everything (about 12 minutes)
    .venv/bin/python benchmarks/run.py kernels    # only the convolution kernels
    .venv/bin/python benchmarks/run.py book tests # `make html` and `make test` times

Parts: ``kernels`` (each convolution's forward + backward, with the fraction of numpy's
own matrix-product speed it reaches and a profile), ``capstone`` (one training epoch),
``checkers`` (each checker on the worked solutions), ``book`` (a clean ``make html`` in
a copy of the repository, then a rebuild after editing one chapter) and ``tests`` (the
README's ``make test``, about 6 minutes).

Both libraries use the same number of threads (all cores by default, ``--threads N``
to change it): numpy's BLAS through threadpoolctl, PyTorch through
``torch.set_num_threads``. The two libraries are timed in alternating blocks of calls
(three rounds), each block run untimed for a quarter of a second first so that the
other library's idle threads have stopped spinning; each figure is the median of the
blocks' medians. Nothing here is a test: timings depend on the machine and on whatever
else it is doing, so they are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF
from threadpoolctl import threadpool_limits

import labs
import labs.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for benchmarks.capstone and the checker solutions

# (name, N, C_in, C_out, size, kernel, stride, padding): the shapes.
CONV2D_SHAPES = [
    ("conv2d 8, 1->6, 28x28, k5", 8, 1, 6, 28, 5, 1, 0),
    ("conv2d 64, 6->16, 14x14, k5", 64, 6, 16, 14, 5, 1, 0),
    ("conv2d 32, 3->16, 32x32, k3", 32, 3, 16, 32, 3, 1, 0),
    ("conv2d 64, 16->32, 16x16, k3", 64, 16, 32, 16, 3, 1, 0),
]


def machine() -> str:
    """The CPU and the code paths the libraries chose on it, for the record."""
    import platform

    import threadpoolctl

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine()):
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    vector = [
        name
        for name in (
            "avx512f",
            "avx512_bf16",
            "avx2",
            "fma",
            "avx",
            "sse4_2",
            "asimd",
            "sve",
        )
        if name in flags
    ]
    blas = [
        i
        for i in threadpoolctl.threadpool_info()
        if i.get("internal_api") == "openblas"
    ]
    kernels = blas[0].get("architecture") if blas else "?"
    return (
        f"{model} ({os.cpu_count()} cores; {', '.join(vector) or 'no vector flags read'});"
        f" PyTorch kernels {torch.backends.cpu.get_cpu_capability()}, numpy's OpenBLAS "
        f"kernels {kernels}"
    )


def gemm_throughput() -> float:
    """numpy's float32 matrix-product speed here, in FLOP/s: the physical reference."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    return 2 * 1024**3 / median_seconds(lambda: a @ b, repeats=7)


# How long each measurement first runs its function untimed. After a call, OpenBLAS's
# worker threads keep spinning for up to about 0.1 s and PyTorch's OpenMP threads for a
# shorter while; on a two-core machine a spinning thread of one library takes a core
# from the other. Timing the two libraries call by call, alternately, measured both at
# about 4 ms (the scheduler's time slice) on every small case, whatever the kernel did.
SETTLE_SECONDS = 0.25


def median_seconds(fn, repeats, settle=SETTLE_SECONDS):
    """The median time of ``fn()`` over ``repeats`` calls, after running it untimed for
    ``settle`` seconds (at least once), so that the threads of whatever ran before
    have gone to sleep and caches hold what ``fn`` uses."""
    end = time.perf_counter() + settle
    fn()
    while time.perf_counter() < end:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def side_by_side(ours, theirs, repeats, rounds=3):
    """Median times of two functions measured in alternating blocks, in one process.

    Each of ``rounds`` rounds times a block of calls of each function (each block
    settled first, see :func:`median_seconds`), so a change in the machine's load
    during the run reaches both; the result is the median of each function's block
    medians."""
    per_block = max(1, repeats // rounds)
    blocks = ([], [])
    for _ in range(rounds):
        for fn, record in zip((ours, theirs), blocks):
            record.append(median_seconds(fn, per_block))
    return statistics.median(blocks[0]), statistics.median(blocks[1])


def conv_flops(n, c_in, c_out, out_positions, kernel_taps, groups=1):
    """Multiply-adds x 2 of one convolution pass; forward and the two gradients are alike."""
    return 2 * n * c_out * out_positions * (c_in // groups) * kernel_taps


def _conv_pair(labs_layer, torch_layer, shapes, **kwargs):
    """Forward + backward (input, weight and bias gradients) in each library, float32."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]

    def run_labs():
        tensors = [labs.tensor(a, requires_grad=True) for a in arrays]
        out = labs_layer(*tensors, **kwargs)
        out.backward(np.ones(out.shape, np.float32))

    def run_torch():
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = torch_layer(*tensors, **kwargs)
        out.backward(torch.ones_like(out))

    return run_labs, run_torch


def kernel_cases():
    """(name, labs run, torch run, floating-point operations of forward + backward,
    the sizes (rows, inner, columns) of labs' forward matrix product)."""
    cases = []
    for name, n, c_in, c_out, size, k, stride, padding in CONV2D_SHAPES:
        shapes = [(n, c_in, size, size), (c_out, c_in, k, k), (c_out,)]
        out = ((size + 2 * padding - k) // stride + 1) ** 2
        cases.append(
            (
                name,
                *_conv_pair(
                    F.conv2d, TF.conv2d, shapes, stride=stride, padding=padding
                ),
                3 * conv_flops(n, c_in, c_out, out, k * k),
                (c_out, c_in * k * k, n * out),
            )
        )
    cases.append(
        (
            "conv1d 32, 2->16, 1024, k5",
            *_conv_pair(F.conv1d, TF.conv1d, [(32, 2, 1024), (16, 2, 5), (16,)]),
            3 * conv_flops(32, 2, 16, 1020, 5),
            (16, 2 * 5, 32 * 1020),
        )
    )
    # a transposed convolution runs a convolution's passes the other way round: the
    # same products, counted on its 16 x 16 input (the smaller side)
    cases.append(
        (
            "conv_transpose2d 16, 16->8, 16x16, k4 s2 p1",
            *_conv_pair(
                F.conv_transpose2d,
                TF.conv_transpose2d,
                [(16, 16, 16, 16), (16, 8, 4, 4), (8,)],
                stride=2,
                padding=1,
            ),
            3 * conv_flops(16, 8, 16, 256, 16),
            (16, 8 * 16, 16 * 256),
        )
    )
    return cases


def matrix_products(sizes, repeats=21):
    """Median time of the three matrix products of one forward + backward, in numpy.

    A convolution whose forward multiplies (rows x inner) by (inner x columns) needs
    that product, the weight gradient (rows x columns) by (columns x inner) and the
    input gradient (inner x rows) by (rows x columns). labs makes exactly these three
    calls, the weight gradient the other way round, (inner x columns) by (columns x
    rows), when inner is the larger, as :func:`labs.kernels.conv_weight_grad` does;
    the time numpy takes for them alone is as fast as labs' way can go.
    """
    rows, inner, columns = sizes
    rng = np.random.default_rng(0)

    def matrix(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    weight, cols, grad = (
        matrix(rows, inner),
        matrix(inner, columns),
        matrix(rows, columns),
    )

    def products():
        weight @ cols
        if inner > rows:
            cols @ grad.T
        else:
            grad @ cols.T
        weight.T @ grad

    return median_seconds(products, repeats)


def kernel_profile(run_labs, repeats=10):
    """Where labs spends one forward + backward: the top functions by own time."""
    import cProfile
    import pstats

    run_labs()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        run_labs()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    rows = sorted(
        ((entry[2], name) for (_, _, name), entry in stats.items()), reverse=True
    )
    return ", ".join(
        f"{name.strip('<>{}')} {seconds / total:.0%}" for seconds, name in rows[:4]
    )


# Why labs can fall behind PyTorch, printed under a table when a target is missed.
WHY = {
    "kernels": (
        "PyTorch runs these shapes through oneDNN kernels that compute the convolution\n"
        "directly, with no im2col copy. labs' three matrix products are long and thin\n"
        "(one side is a layer's few channels), a shape on which numpy's OpenBLAS runs\n"
        "well below its square-matrix speed (the 'products' figure below), so where\n"
        "PyTorch's whole pass is fast the products alone can take as long.\n"
        "labs makes an explicit im2col copy (C_in * k * k times the input), adds the input\n"
        "gradient's columns back one kernel tap at a time and copies results between\n"
        "layouts: each a separate pass over memory, which numpy cannot fuse. The floor\n"
        "below is what the matrix products alone cost; where it is near or above the\n"
        "target, no arrangement of the copies around them can reach it."
    ),
    "capstone": (
        "A step of the capstone is about 30 operations on batches of 32 images of 8 x 8\n"
        "pixels: the arithmetic is tiny, so the Python cost of recording and walking\n"
        "labs' graph, and numpy's fixed cost per call on arrays of a few thousand\n"
        "numbers, are a large share of the time (for the first max-pool layer, forward\n"
        "and backward: about 0.2 ms in labs, 0.04 ms in PyTorch)."
    ),
    "build": (
        "every notebook is executed in a fresh kernel that imports torch and labs\n"
        "(about 3 s before its first cell), one notebook per core at a time\n"
        "(tools/build_book.py); on a busy machine the two readers compete for the cores."
    ),
}


TARGET = 1.5  # labs time / torch time, for the kernels and the capstone epoch


def report(title, rows, target=TARGET, why=None):
    print(f"\n{title}")
    print(f"  {'case':<46} {'labs':>10} {'torch':>10} {'ratio':>7}")
    missed = []
    for name, ours, theirs in rows:
        ratio = ours / theirs if theirs else float("nan")
        flag = f"  over target by {ratio / target:.2f}x" if ratio > target else ""
        print(
            f"  {name:<46} {ours * 1e3:>8.2f}ms {theirs * 1e3:>8.2f}ms {ratio:>7.2f}{flag}"
        )
        missed += [name] if ratio > target else []
    if missed and why:
        print("  Why: " + WHY[why].replace("\n", "\n       "))


def bench_kernels(repeats):
    peak = gemm_throughput()
    rows, details = [], []
    for name, run_labs, run_torch, flops, sizes in kernel_cases():
        ours, theirs = side_by_side(run_labs, run_torch, repeats)
        rows.append((name, ours, theirs))
        details.append((name, flops, matrix_products(sizes), kernel_profile(run_labs)))
    report(
        f"Convolution forward + backward, float32 (target: ratio <= {TARGET})",
        rows,
        why="kernels",
    )
    print(
        f"\n  numpy's float32 matrix product here (1024 x 1024 x 1024): {peak / 1e9:.0f} "
        "GFLOP/s.\n  Each case's arithmetic (forward and both gradients) divided by its "
        "time, as a\n  fraction of that, for labs, torch and labs' three matrix products "
        "alone (labs\n  makes exactly these calls); the floor: the products' time over "
        "torch's whole\n  time, the ratio labs would reach if nothing else took any "
        "time; and where labs\n  spends its time:"
    )
    for (name, flops, products, profile), (_, labs_time, torch_time) in zip(
        details, rows
    ):
        print(
            f"  {name:<46} labs {flops / labs_time / peak:>4.0%}  torch "
            f"{flops / torch_time / peak:>4.0%}  products {flops / products / peak:>4.0%}"
            f"  floor {products / torch_time:.2f} ({products * 1e3:.2f} ms)"
        )
        rest = max(labs_time - products, 0.0)
        print(
            f"      labs {labs_time * 1e3:.2f} ms = matrix products {products * 1e3:.2f}"
            f" ms + the rest {rest * 1e3:.2f} ms (copies, additions, graph: "
            f"{rest / labs_time:.0%})"
        )
        print(f"      {profile}")
    return rows


def bench_capstone(repeats):
    from benchmarks import capstone

    labs_epoch, torch_epoch = capstone.epoch_runners()
    rows = [
        (
            "capstone epoch (digits, batch 32)",
            *side_by_side(labs_epoch, torch_epoch, repeats),
        )
    ]
    report(
        f"One training epoch of the capstone network (target: ratio <= {TARGET})",
        rows,
        why="capstone",
    )
    return rows


def bench_checkers(repeats):
    from benchmarks import checker_cases

    rows, missing = checker_cases.checker_timings(repeats=max(3, repeats // 5))
    print("\nChecker latency on the worked solutions (target: < 1 s each)")
    print(f"  {'solutions notebook':<28} {'checker':<26} {'median':>9} {'slowest':>9}")
    correct = [row for row in rows if row[4]]
    for notebook, name, median, slowest, _ in correct:
        flag = "  over 1 s" if slowest >= 1 else ""
        print(
            f"  {notebook:<28} {name:<26} {median * 1e3:>7.0f}ms {slowest * 1e3:>7.0f}ms{flag}"
        )
    over = sum(row[3] >= 1 for row in correct)
    print(
        f"  {len(correct)} calls on correct answers, {over} over 1 s; slowest median "
        f"{max(row[2] for row in correct) * 1e3:.0f} ms ({len(rows) - len(correct)} more "
        "calls on deliberately wrong answers not listed)"
    )
    if missing:
        print(f"  never called by a worked solution: {', '.join(missing)}")


BOOK_TARGETS = {"clean": 90, "rebuild": 20, "test": 360}  # seconds


def _copy_of_repository(folder: Path) -> Path:
    """The committed files (as they are in the working tree) in a fresh folder."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    copy = folder / "course"
    for name in filter(None, listed):
        source, target = ROOT / name, copy / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return copy


def _timed(command, cwd):
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, done


def _print_time(name, seconds, target, done, note=""):
    flag = "" if seconds <= target else f"  over target by {seconds - target:.0f} s"
    print(
        f"  {name:<52} {seconds:>7.1f}s  (target {target} s, exit {done.returncode})"
        f"{flag}{note}"
    )


def bench_book():
    """`make html` in a fresh copy of the repository, then again after editing a chapter."""
    print(
        "\nWebsite build, wall time (`make html`: notebooks run only when their code, "
        "labs or\nthe pins changed since the last build)"
    )
    python = str(Path(sys.executable))
    with tempfile.TemporaryDirectory() as folder:
        copy = _copy_of_repository(Path(folder))
        build = [
            python,
            str(copy / "tools" / "build_book.py"),
            "--execute",
            "cache",
            "--warningiserror",
            "--nitpick",
            "--keep-going",
            str(copy),
        ]
        seconds, done = _timed(build, copy)
        notebooks = len(
            list(copy.glob("book/*.ipynb")) + list(copy.glob("solutions/*.ipynb"))
        )
        _print_time(
            f"clean build (all {notebooks} notebooks executed)",
            seconds,
            BOOK_TARGETS["clean"],
            done,
        )
        if seconds > BOOK_TARGETS["clean"]:
            print("       Why: " + WHY["build"].replace("\n", "\n       "))
        # A learner's edit: one more line in chapter 3's first code cell.
        chapter = copy / "book" / "03_arithmetic.ipynb"
        notebook = json.loads(chapter.read_text())
        cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
        cell["source"] = "".join(cell["source"]) + "\n# edited"
        chapter.write_text(json.dumps(notebook, indent=1))
        seconds, done = _timed(build, copy)
        _print_time(
            "rebuild after editing a code cell of chapter 3",
            seconds,
            BOOK_TARGETS["rebuild"],
            done,
        )


def bench_tests():
    """The README's test command, as it is: `make test` in this repository."""
    print("\nThe test command, wall time")
    seconds, done = _timed(["make", "test"], ROOT)
    tail = [
        line
        for line in done.stdout.splitlines()
        if " passed" in line or "failed" in line
    ]
    _print_time("make test", seconds, BOOK_TARGETS["test"], done)
    for line in tail:
        print(f"      {line.strip('= ')}")


def _rerun_on_cpu_path(options) -> int:
    """This script again, in a process whose libraries start on another CPU's paths."""
    variant = options.cpu_path
    sys.path.insert(0, str(ROOT / "tools"))
    import cpu_paths

    if variant not in cpu_paths.VARIANTS:
        known = ", ".join(cpu_paths.VARIANTS)
        raise SystemExit(f"unknown CPU path {variant!r}; choose from {known}")
    env = cpu_paths.environment(variant)
    # the thread counts come from --threads, and threads wait as they do by default
    # (the variants' sleeping waits suit a test run with more threads than cores, not
    # a timing)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", *cpu_paths.WAITING):
        env.pop(key, None)
    arguments = [*options.parts, "--threads", str(options.threads)]
    arguments += ["--repeats", str(options.repeats)]
    print(
        f"(re-running on the {variant} code paths: "
        f"{cpu_paths.VARIANTS[variant]['stands_for']})",
        flush=True,
    )
    return subprocess.run([sys.executable, __file__, *arguments], env=env).returncode


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parts = ["kernels", "capstone", "checkers", "book", "tests"]
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="part",
        help=f"what to measure, any of {', '.join(parts)} (default: all)",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--cpu-path",
        metavar="VARIANT",
        help="re-run with PyTorch, numpy and OpenBLAS forced onto another CPU's code "
        "paths, e.g. avx2 on an AVX-512 machine (tools/cpu_paths.py's variants; their "
        "thread counts are left out, --threads decides)",
    )
    parser.add_argument("--repeats", type=int, default=31)
    options = parser.parse_args()
    unknown = sorted(set(options.parts) - set(parts))
    if unknown:
        parser.error(
            f"unknown part {', '.join(unknown)}; choose from {', '.join(parts)}"
        )
    options.parts = options.parts or parts
    if options.cpu_path:
        sys.exit(_rerun_on_cpu_path(options))
    torch.set_num_threads(options.threads)
    print(
        f"labs {labs.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
        f"{options.threads} thread(s)\n{machine()}"
    )
    with threadpool_limits(limits=options.threads):
        if "kernels" in options.parts:
            bench_kernels(options.repeats)
        if "capstone" in options.parts:
            bench_capstone(max(3, options.repeats // 5))
        if "checkers" in options.parts:
            bench_checkers(options.repeats)
    if "book" in options.parts:
        bench_book()
    if "tests" in options.parts:
        bench_tests()


if __name__ == "__main__":
    main()
