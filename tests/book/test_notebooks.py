"""The book as a whole: every notebook is listed, executed and committed clean.

The website build itself is tested in tests/site/test_website.py, next to the browser tests
that use it (one build per test run).

The notebooks themselves are also collected by nbval (see pytest's addopts in
pyproject.toml), which re-runs each one and compares every output with the committed one.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ..paths import NOTEBOOKS, ROOT, toc_files


def test_every_notebook_is_in_the_table_of_contents():
    listed = {str(Path(f).with_suffix("")) for f in toc_files()}
    for notebook in NOTEBOOKS:
        name = str(notebook.relative_to(ROOT).with_suffix(""))
        assert name in listed, (
            f"{name} is not in _toc.yml, so the website would not show it"
        )


def test_every_toc_entry_exists():
    for entry in toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), (
            f"_toc.yml lists {entry}, which does not exist"
        )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_executed_in_order(notebook):
    """Outputs are part of the lesson: every code cell ran, top to bottom, in one session."""
    cells = json.loads(notebook.read_text())["cells"]
    counts = [
        c.get("execution_count")
        for c in cells
        if c["cell_type"] == "code" and c["source"]
    ]
    assert None not in counts, f"{notebook.name}: a code cell was never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{notebook.name}: cells were not run once each from top to bottom: {counts}"
    )
    for cell in cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{notebook.name}: a cell raised"
            )
            assert output.get("name") != "stderr", (
                f"{notebook.name}: a cell wrote to stderr"
            )


LONG_DRAWING = 20  # lines: a figure's code longer than this is folded away


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_long_drawing_code_is_folded_in_both_places(notebook):
    """A cell that only draws a figure (it ends with plt.show() and asserts nothing)
    and is longer than LONG_DRAWING lines is folded: tagged ``hide-input`` (a "show
    code" toggle on the website) and ``source_hidden`` (collapsed in JupyterLab). Every
    folded cell is folded in both places."""
    for number, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]).rstrip()
        metadata = cell.get("metadata", {})
        on_website = "hide-input" in metadata.get("tags", [])
        in_jupyterlab = metadata.get("jupyter", {}).get("source_hidden", False)
        where = f"{notebook.name}, cell {number}"
        assert on_website == in_jupyterlab, (
            f"{where}: hide-input and jupyter.source_hidden must go together"
        )
        drawing = source.endswith("plt.show()") and "assert" not in source
        if drawing and source.count("\n") + 1 > LONG_DRAWING:
            assert on_website, f"{where}: long drawing code; fold it (hide-input)"


def test_no_merge_conflict_markers_are_committed():
    """A merge that left its markers in a file (a .bib, a glossary) breaks the build
    later and far from the cause; find them here, in every tracked text file."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    markers = ("<" * 7 + " ", "=" * 7 + "\n", ">" * 7 + " ")
    found = []
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".ico", ".jpg", ".svg"}:
            continue
        text = path.read_text(errors="ignore")
        for line_number, line in enumerate(text.splitlines(keepends=True), 1):
            if line.startswith(markers):
                found.append(f"{name}:{line_number}")
    assert not found, f"merge conflict markers: {found}"


def _prose(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    return "\n".join(
        "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
    )


def test_a_link_that_names_a_chapter_leads_into_that_chapter():
    """{ref}`chapter 3 <label>` must find its label in chapter 3's notebook (or its
    solutions): when a section moves to another chapter its label moves with it, so the
    link still resolves, and only this test notices that its text now lies."""
    pages = sorted((ROOT / "book").glob("*.ipynb")) + sorted(
        (ROOT / "book").glob("*.md")
    )
    pages += sorted((ROOT / "solutions").glob("*.ipynb"))
    chapter_of = {}
    for page in pages:
        number = int(page.name[:2]) if page.name[:2].isdigit() else None
        text = _prose(page)
        for label in re.findall(r"^\((.+?)\)=\s*$", text, re.MULTILINE):
            chapter_of[label] = number
        for label in re.findall(r":label: *(\S+)", text):
            chapter_of[label] = number
    wrong = []
    for page in pages:
        links = re.findall(r"\{ref\}`[Cc]hapter (\d+)[^<`]*<([^>]+)>`", _prose(page))
        for number, label in links:
            if chapter_of.get(label, "missing") != int(number):
                where = chapter_of.get(label, "missing")
                wrong.append(f"{page.name}: chapter {number} <{label}> is in {where}")
    assert not wrong, wrong
