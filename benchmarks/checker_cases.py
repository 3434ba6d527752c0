"""Every checker, timed on a correct solution: the course's own worked solutions.

Rather than keep a second copy of the solutions here, this module runs the code cells
of every notebook in ``solutions/`` with each ``labs.check`` checker wrapped in a timer.
Each checker call a solution makes is repeated and its median time recorded. Some
solutions also show a checker rejecting a deliberately wrong answer; those calls are
timed too but reported apart, since the target is about correct solutions.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import nbformat

from labs import check

ROOT = Path(__file__).resolve().parents[1]


def _timed(name, checker, repeats, timings):
    def wrapper(*args, **kwargs):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = checker(*args, **kwargs)
            times.append(time.perf_counter() - start)
        timings.append((name, statistics.median(times), max(times), result.passed))
        return result

    return wrapper


def checker_timings(repeats: int = 3):
    """``[(notebook, checker, median seconds, slowest seconds, passed)]`` for every
    checker call made by the worked solutions, in order, and the checkers no solution
    calls."""
    matplotlib.use("Agg")  # the solutions' figures are drawn but not shown
    names = [name for name in check.__all__ if name not in ("Result", "CheckFailed")]
    originals = {name: getattr(check, name) for name in names}
    rows = []
    try:
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            timings = []
            for name in names:
                setattr(check, name, _timed(name, originals[name], repeats, timings))
            notebook = nbformat.read(path, as_version=4)
            namespace = {"__name__": "__main__"}
            # the solutions' printed output and figures are not wanted here
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for cell in notebook.cells:
                    if cell.cell_type == "code":
                        exec(compile(cell.source, path.name, "exec"), namespace)
            plt.close("all")
            rows += [(path.stem, *timing) for timing in timings]
    finally:
        for name, original in originals.items():
            setattr(check, name, original)
    missing = set(names) - {row[1] for row in rows}
    return rows, sorted(missing)
