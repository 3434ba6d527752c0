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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path).resolve()
        for folder, marker in FOLDERS.items():
            if path.is_relative_to(folder):
                item.add_marker(marker)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker("browser")
