"""Re-execute notebooks in place, top to bottom, so their committed outputs are current.

Maintainers run this after changing a notebook or anything in labs/ that a notebook
shows; `make test` (nbval) then compares a fresh run with exactly these outputs.

    .venv/bin/python tools/run_notebooks.py                 # every notebook
    .venv/bin/python tools/run_notebooks.py book/checks.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# The notebooks' kernels compute on one thread, as the grader's do: the chapters' tensors
# are tiny, and several kernels (or pytest's workers) share the cores. Nothing printed
# depends on it: tools/cpu_paths.py re-runs the notebooks with 1 and with 4 threads.
# An explicit OMP_NUM_THREADS (tools/cpu_paths.py sets one) wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {
    "name": "python3",
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
}


def run(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["kernelspec"] = KERNELSPEC
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps: noise in every diff
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            # A widget's saved view is useless without its kernel (and its model id
            # changes every run): its text stays ("run this cell to show the
            # sliders", labs.viz.EXPLORE_TEXT), and the sliders appear when the cell
            # is run.
            cell.outputs = merged_streams(cell.outputs)
            for output in cell.outputs:
                output.get("data", {}).pop(WIDGET_VIEW, None)
    # Saved widget state (sliders) has random ids and is useless without a kernel.
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    print(f"executed {path.relative_to(ROOT)}")


def merged_streams(outputs: list) -> list:
    """One output per run of stdout (or stderr) text: a busy machine may deliver a cell's
    printed text in several messages, which would otherwise be committed as several
    outputs and differ from run to run."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def main(arguments: list[str]) -> None:
    paths = [Path(a).resolve() for a in arguments] or sorted(
        p
        for folder in ("book", "solutions")
        for p in (ROOT / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    for path in paths:
        run(path)


if __name__ == "__main__":
    main(sys.argv[1:])
