"""The checkers inside a Jupyter kernel, where learners run them: a cell that checks
an endless loop ends with a verdict, within the time limit, and the kernel lives on."""

from __future__ import annotations

import time

import nbformat
from nbclient import NotebookClient

CELLS = [
    "from labs import check\nfrom labs.check import _core\n_core.CALL_LIMIT = 0.5",
    "def output_size(i, k, s=1, p=0, d=1):\n    while True:\n        pass",
    "result = check.output_size(output_size)\nprint(result.summary)\n"
    "print(result.message.splitlines()[2])",
    "print(check.output_size(lambda i, k, s=1, p=0, d=1: "
    "(i + 2 * p - d * (k - 1) - 1) // s + 1).summary)",
]


def test_an_endless_loop_in_a_notebook_cell_gets_a_verdict(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS]
    )
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    printed = [
        "".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells
    ]
    assert printed[2] == (
        "failed on case 1 of 2364.\n"
        "  problem:  your function did not return within 0.5 s.\n"
    )
    assert printed[3] == "passed all 2364 cases.\n"  # the kernel carries on
    assert time.perf_counter() - start < 120  # generous: a kernel starts in seconds
