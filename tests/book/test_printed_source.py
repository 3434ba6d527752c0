"""The engine functions the book prints fit the website's code box.

Chapters 3, 7 and 9 print functions of the installed package with
``labs.notebook.show_source`` (the list is in CONTRIBUTING.md, "Printed functions").
The package is formatted to 88 columns, the book's code box holds 76: a printed line
longer than that would make its output box scroll. This test finds every
``show_source(...)`` call in the notebooks and measures what it prints, so it fails
before a notebook is re-executed, and in ``make check``'s time.
"""

from __future__ import annotations

import inspect
import re
import textwrap

import nbformat
import pytest

import labs
from labs import capstone, notebook, small_engine

from ..paths import NOTEBOOKS, ROOT

LIMIT = 76  # tests/site/test_website.py, CODE_LINE_LIMIT
NAMESPACE = {
    "labs": labs,
    "capstone": capstone,
    "small_engine": small_engine,
    **vars(notebook),
}


def printed():
    found = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for name in re.findall(r"^show_source\(([\w.]+)\)", cell.source, re.M):
                    found.append((path.relative_to(ROOT), name))
    return found


PRINTED = printed()


def test_the_book_prints_engine_functions():
    assert len(PRINTED) >= 15, PRINTED


@pytest.mark.parametrize("where, name", PRINTED, ids=[f"{p}:{n}" for p, n in PRINTED])
def test_printed_function_fits_the_code_box(where, name):
    source = textwrap.dedent(inspect.getsource(eval(name, NAMESPACE)))
    long = [line for line in source.splitlines() if len(line) > LIMIT]
    assert not long, f"{where} prints {name}, whose lines must fit {LIMIT} columns"
