"""Markers by where a test lives, so that one part of the suite can be selected:

    pytest -m engine          tests/engine/: labs against PyTorch, forward and backward
    pytest -m checkers        tests/checkers/: every checker, on right and planted answers
    pytest -m grading         tests/grading/: tools/grade.py on a synthetic class
    pytest -m book            tests/book/: the notebooks' structure, printed source, viz,
                              the CPU code-path switches
    pytest -m notebooks       book/*.ipynb and solutions/*.ipynb, re-run by nbval (strict)
    pytest -m site            tests/site/: the website build, and the browser tests
    pytest -m browser         the tests that drive Chromium (a part of ``site``)
    pytest -m "not site and not notebooks"   everything that needs neither

The markers are registered in pyproject.toml (pytest runs with --strict-markers).
This file sits at the repository's root so that it also marks the notebooks, which
nbval collects from book/ and solutions/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The notebooks' kernels compute on one thread, as the grader's do: the chapters' tensors
# are tiny, and pytest's workers (and their kernels) share the cores. Nothing printed
# depends on it: tools/cpu_paths.py re-runs the notebooks with 1 and with 4 threads.
# An explicit OMP_NUM_THREADS (tools/cpu_paths.py sets one) wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent
FOLDERS = {
    ROOT / "tests" / "engine": "engine",
    ROOT / "tests" / "checkers": "checkers",
    ROOT / "tests" / "grading": "grading",
    ROOT / "tests" / "book": "book",
    ROOT / "tests" / "site": "site",
    ROOT / "book": "notebooks",
    ROOT / "solutions": "notebooks",
}


# The longest files first. pytest-xdist hands each worker one whole file at a time
# (--dist loadfile), and by default the files with the most tests first; the website's
# file has 17 tests but takes a worker about four minutes, so it started late and ran
# alone at the end while the other core idled. pyproject.toml turns that reordering
# off (--no-loadscope-reorder) and this order applies instead: the files below, in
# this order, then every other file as collected. Seconds of one worker, measured with
# `pytest --durations` on the 2-core machine; add a file here when it takes as long.
LONGEST_FIRST = [
    "tests/site/test_website.py",  # about 200 s: the build, two browser passes
    "tests/checkers/test_contract.py",  # about 65 s (time limits expiring)
    "tests/grading/test_chapters.py",  # about 65 s: 20 notebooks graded
    "tests/grading/test_grading.py",  # about 45 s: a class of notebooks graded
    "tests/book/test_cpu_paths.py",  # about 25 s
    "tests/site/test_jupyterlab.py",  # about 25 s
    "tests/book/test_forked_kernels.py",  # about 17 s
]


RANKS = {ROOT / name: rank for rank, name in enumerate(LONGEST_FIRST)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    paths = {item: Path(item.path).resolve() for item in items}
    # a stable sort: each file keeps its own order, the files not listed theirs
    items.sort(key=lambda item: RANKS.get(paths[item], len(RANKS)))
    for item in items:
        path = paths[item]
        for folder, marker in FOLDERS.items():
            if path.is_relative_to(folder):
                item.add_marker(marker)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker("browser")


def pytest_configure(config: pytest.Config) -> None:
    # tools/cpu_paths.py's re-runs of the notebooks fork their kernels from a process
    # that has imported PyTorch already (tests/forked_kernels.py); this session does not
    from tests import forked_kernels

    if forked_kernels.enabled():
        forked_kernels.use_for_nbval()
