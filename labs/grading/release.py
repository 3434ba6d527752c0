"""The student version of a chapter: the chapter itself, its exercise cells marked.

The released notebook is the chapter notebook from book/, stubs and all, so nothing is
written twice. Its exercise cells carry nbgrader's cell metadata (schema version 3): the
stub cells are answer cells ("solution"), the exercise text, the checker cells and any
given code are read-only ("locked", and not deletable in JupyterLab). With ``nbgrader``
set, the same notebook is also written as the source of an nbgrader assignment, with
each stub line inside nbgrader's solution delimiters, and ``nbgrader
generate_assignment`` makes the release from it (checksums, gradebook database), so the
assignment can go through nbgrader's release and collect steps.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from .notebooks import Chapter, _answer_names, check_call, python_source

SCHEMA = 3
# nbgrader replaces each solution region with this one stub, for every cell of the
# course: the chapters' stubs are written exactly so (a test holds them to it), so a
# released notebook reads as the chapter does.
CODE_STUB = "raise NotImplementedError  # your code here"


def _metadata(cell, grade_id: str, solution: bool) -> None:
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": SCHEMA,
        "solution": solution,
        "task": False,
    }
    if not solution:
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False


def student_notebook(chapter: Chapter):
    notebook = nbformat.read(chapter.path, as_version=4)
    ids = {i: e for e in chapter.exercises for i in e.cell_ids}
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and ":label: ex-" in cell.source:
            label = next(
                e.label
                for e in chapter.exercises
                if f":label: {e.label}" in cell.source
            )
            _metadata(cell, f"{label}-text", solution=False)
        elif cell.get("id") in ids:
            exercise = ids[cell.get("id")]
            number = exercise.cell_ids.index(cell.get("id"))
            tree = ast.parse(python_source(cell.source))
            answers = any(_answer_names(s) for s in tree.body)
            _metadata(
                cell,
                f"{exercise.label}-{'answer' if answers else 'cell'}-{number}",
                answers,
            )
    notebook.metadata["labs_assignment"] = {
        "chapter": chapter.name,
        "exercises": [e.label for e in chapter.exercises],
    }
    return notebook


def nbgrader_source(notebook):
    """The same notebook with every stub's ``raise`` between nbgrader's solution delimiters.

    nbgrader's release replaces each delimited region with its code stub, configured to
    be the course's own ``raise NotImplementedError  # your code here``.
    """
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in notebook.cells:
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        lines = cell.source.splitlines()
        wrap = set()
        for statement in ast.parse(cell.source).body:
            if check_call(statement) is not None or not _answer_names(statement):
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Raise):
                    wrap.add(node.lineno - 1)
        if (
            not wrap
        ):  # only predictions to fill in (x = None): nbgrader would blank the cell
            del cell.metadata["nbgrader"]
            continue
        out = []
        for number, line in enumerate(lines):
            if number in wrap:
                indent = line[: len(line) - len(line.lstrip())]
                out += [
                    f"{indent}### BEGIN SOLUTION",
                    line,
                    f"{indent}### END SOLUTION",
                ]
            else:
                out.append(line)
        cell.source = "\n".join(out)
    return notebook


def release(
    chapter: Chapter, out: Path, assignment: str, nbgrader: bool = False
) -> Path:
    """Write the student version; with ``nbgrader``, OUT is an nbgrader course directory."""
    notebook = student_notebook(chapter)
    if not nbgrader:
        target = out / assignment / chapter.path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        return target
    source = out / "source" / assignment / chapter.path.name
    source.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbgrader_source(notebook), source)
    config = out / "nbgrader_config.py"
    if not config.exists():
        config.write_text(
            "c = get_config()  # noqa: F821\n"
            "c.CourseDirectory.root = __file__.rsplit('/', 1)[0]\n"
            "# the course's stubs already say where to write: keep nbgrader's stub the same\n"
            f'c.ClearSolutions.code_stub = {{"python": "{CODE_STUB}"}}\n'
        )
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        assignment,
        "--force",
        "--create",
    ]
    # nbgrader runs alembic (its database migrations) as a command: find it beside python
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    done = subprocess.run(command, cwd=out, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(
            f"error: nbgrader generate_assignment failed:\n{done.stdout}{done.stderr}"
        )
    return out / "release" / assignment / chapter.path.name
