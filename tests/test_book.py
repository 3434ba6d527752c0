"""The book as a whole: every notebook is listed, executed and committed clean, and the
website builds with warnings treated as errors.

The notebooks themselves are also collected by nbval (see pytest's addopts in
pyproject.toml), which re-runs each one and compares every output with the committed one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for folder in ("book", "solutions") for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def toc_files():
    """Every document named in _toc.yml, as paths relative to the repository root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return found


def test_every_notebook_is_in_the_table_of_contents():
    listed = {str(Path(f).with_suffix("")) for f in toc_files()}
    for notebook in NOTEBOOKS:
        name = str(notebook.relative_to(ROOT).with_suffix(""))
        assert name in listed, f"{name} is not in _toc.yml, so the website would not show it"


def test_every_toc_entry_exists():
    for entry in toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_executed_in_order(notebook):
    """Outputs are part of the lesson: every code cell ran, top to bottom, in one session."""
    cells = json.loads(notebook.read_text())["cells"]
    counts = [c.get("execution_count") for c in cells if c["cell_type"] == "code" and c["source"]]
    assert None not in counts, f"{notebook.name}: a code cell was never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{notebook.name}: cells were not run once each from top to bottom: {counts}"
    )
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"{notebook.name}: a cell raised"
            assert output.get("name") != "stderr", f"{notebook.name}: a cell wrote to stderr"


@pytest.mark.slow
def test_website_builds_with_warnings_as_errors(tmp_path):
    """The README's `make html`, into a scratch folder: any warning or failing cell is fatal."""
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(jupyter_book), "build", "--all", "--warningiserror", "--nitpick", "--keep-going",
        "--path-output", str(tmp_path), str(ROOT),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, f"the website build failed:\n{log}"
    html = tmp_path / "_build" / "html"
    for entry in toc_files():
        page = html / f"{entry}.html"
        assert page.exists(), f"{page} was not built"
