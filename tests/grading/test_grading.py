"""The instructors' grader (tools/grade.py) on a synthetic class built from the repository.

The class hands in chapter 4: the untouched stubs, the worked solutions, planted wrong
answers, and hostile notebooks (one that fakes the checker, loops, exits, floods its
output, deletes and renames, is not JSON, or rewrites the course's files). Every grade
below is derived from the repository, never typed in: the worked solutions come from
solutions/, and a wrong answer's partial credit is what the checker itself reports
when run directly on the same function.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat
import pytest

from ..paths import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import grade as grade_cli  # noqa: E402  (a script, not a package)

from labs.grading import grader, notebooks, release  # noqa: E402

LABELS = ["ex-transposed-matrix", "ex-transposed-numpy", "ex-transposed-output-padding"]


def _assignment(folder: Path) -> Path:
    """Chapter 4 as an assignment of exactly the three exercises this class answers.

    The expected points below are per exercise, so the class must not change when the
    chapter gains an exercise: the others are cut out (their statement, stub and
    checker cells). The file keeps the chapter's name, so its solutions are found.
    """
    full = notebooks.read_chapter(notebooks.chapter_path("04"))
    notebook = nbformat.read(full.path, as_version=4)
    others = [e for e in full.exercises if e.label not in LABELS]
    drop = {i for e in others for i in e.cell_ids}
    notebook.cells = [
        c
        for c in notebook.cells
        if c.get("id") not in drop
        and not any(f":label: {e.label}" in c.source for e in others)
    ]
    path = folder / full.path.name
    nbformat.write(notebook, path)
    return path


_FOLDER = tempfile.TemporaryDirectory(prefix="grading-chapter-")
CHAPTER = notebooks.read_chapter(_assignment(Path(_FOLDER.name)))
assert [e.label for e in CHAPTER.exercises] == LABELS
SOLUTIONS = notebooks.solution_cells(CHAPTER)
POINTS = 10.0
LEFTOVER = "321.5"  # seconds: a sleep no other process runs
OPTIONS = ["--cell-timeout", "10", "--call-timeout", "10", "--notebook-timeout", "300"]

# The planted mistakes: a transposed convolution that forgets the bias, and an
# output_padding that is always 0 (right only when the stride divides evenly).
NO_BIAS = """
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
    import torch, torch.nn.functional as TF
    out = TF.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), None, stride,
                              padding, output_padding, 1, dilation)
    return out.numpy()
"""
ALWAYS_ZERO = """
def restoring_output_padding(i, k, s=1, p=0, d=1):
    return 0
"""


def _solution(label: str) -> str:
    """The worked solution's code for one exercise, without its checker call."""
    return "\n\n".join(SOLUTIONS[label])


def _cells(notebook, label: str) -> list:
    exercise = next(e for e in CHAPTER.exercises if e.label == label)
    return [c for c in notebook.cells if c.get("id") in exercise.cell_ids]


def _replace(notebook, label: str, source: str) -> None:
    """Put ``source`` into the exercise's first code cell; empty its other code cells."""
    cells = _cells(notebook, label)
    cells[0].source = source
    for cell in cells[1:]:
        cell.source = ""


def _stubs():
    return nbformat.read(CHAPTER.path, as_version=4)


def _expected_partial(source: str, checker: str) -> float:
    """The points the checker itself gives ``source``'s function, run directly here."""
    from labs import check

    namespace: dict = {}
    exec(textwrap.dedent(source), namespace)
    name = [n for n in namespace if not n.startswith("__")][0]
    result = getattr(check, checker)(namespace[name])
    assert result.status == "failed" and 1 < result.cases <= result.total, (
        result.message
    )
    return round(POINTS * (result.cases - 1) / result.total, 2)


def _class(folder):
    """Write the synthetic class; return {student: (expected points per exercise, notes)}."""
    folder.mkdir()
    expected = {}

    def hand_in(student, notebook, points, notes=()):
        nbformat.write(notebook, folder / f"{student}.ipynb")
        expected[student] = (points, list(notes))

    hand_in("stubs", _stubs(), [0, 0, 0], ["not attempted"] * 3)
    solved = notebooks.solved(CHAPTER)
    hand_in("solutions", solved, [POINTS] * 3)

    wrong = _stubs()
    _replace(wrong, LABELS[0], _solution(LABELS[0]))
    _replace(wrong, LABELS[1], NO_BIAS)
    _replace(wrong, LABELS[2], ALWAYS_ZERO)
    hand_in(
        "wrong",
        wrong,
        [
            POINTS,
            _expected_partial(NO_BIAS, "conv_transpose2d"),
            _expected_partial(ALWAYS_ZERO, "restoring_output_padding"),
        ],
    )

    # Fakes the checker every way it can from inside the notebook, and prints a pass.
    fake = _stubs()
    fake.cells.insert(
        2,
        nbformat.v4.new_code_cell(
            textwrap.dedent("""
        import labs.check._core as core
        from labs import check
        import numpy as np

        class Passed:
            status, passed, cases, total = "passed", True, 1, 1
            message = "✔ passed all 1 cases."

        core.run = lambda *a, **k: Passed()
        core.run_checker = lambda *a, **k: Passed()
        np.allclose = lambda *a, **k: True
        check.conv2d_matrix = check.conv_transpose2d = lambda *a, **k: Passed()
        print("✔ conv2d_matrix: passed all 20 cases.")
    """)
        ),
    )
    fake.cells[2].outputs = [
        nbformat.v4.new_output("stream", text="✔ conv2d_matrix: passed all 20 cases.\n")
    ]
    _replace(
        fake,
        LABELS[0],
        "import numpy as np\nfrom labs import check\n"
        "def conv2d_matrix(kernel, input_shape, stride=1):\n    return np.zeros((1, 1))\n"
        "check = lambda *a, **k: 'passed'",
    )
    hand_in("fake_check", fake, [0, 0, 0], ["flags"])

    # An infinite loop in a cell and in a function; a cell that never stops printing.
    loops = _stubs()
    _replace(
        loops, LABELS[0], _solution(LABELS[0]) + "\n\nwhile True:\n    print('again')"
    )
    _replace(
        loops,
        LABELS[1],
        "def conv_transpose2d(x, w, b=None, stride=1, padding=0, "
        "output_padding=0, dilation=1):\n    while True:\n        pass",
    )
    _replace(
        loops,
        LABELS[2],
        ALWAYS_ZERO + "\nfor _ in range(20_000):\n    print('x' * 100)",
    )
    hand_in(
        "loops",
        loops,
        [POINTS, 0, _expected_partial(ALWAYS_ZERO, "restoring_output_padding")],
        [
            "ran longer than the time limit",
            "did not return within",
            "where:    in conv_transpose2d, line ",
        ],
    )  # line 2 or 3: where it was stopped

    # sys.exit() in a cell (IPython survives it); os._exit in a function kills the kernel.
    exits = _stubs()
    _replace(
        exits,
        LABELS[0],
        _solution(LABELS[0])
        + textwrap.dedent(f"""

        import subprocess, sys
        subprocess.Popen(["sleep", "{LEFTOVER}"], start_new_session=True)  # outlives the kernel
        sys.exit('bye')"""),
    )
    _replace(
        exits,
        LABELS[1],
        "import os\ndef conv_transpose2d(*args, **kwargs):\n    os._exit(3)",
    )
    _replace(exits, LABELS[2], ALWAYS_ZERO)
    hand_in(
        "exits",
        exits,
        [POINTS, 0, _expected_partial(ALWAYS_ZERO, "restoring_output_padding")],
        [
            "SystemExit",
            "stopped while running your code",
            "still running after it; they were stopped",
        ],
    )

    # Cells deleted, a function renamed, the rest in reverse order.
    renamed = notebooks.solved(CHAPTER)
    first = _cells(renamed, LABELS[0])
    renamed.cells = [c for c in renamed.cells if c not in first]
    cell = _cells(renamed, LABELS[1])[0]
    cell.source = cell.source.replace(
        "def conv_transpose2d(", "def my_conv_transpose2d("
    )
    renamed.cells.reverse()
    _replace(renamed, LABELS[2], ALWAYS_ZERO)
    hand_in(
        "deleted_renamed",
        renamed,
        [0, 0, _expected_partial(ALWAYS_ZERO, "restoring_output_padding")],
        [
            "were they deleted?",
            "define `conv_transpose2d_loops`, `my_conv_transpose2d`, `pair` instead",
        ],
    )

    (folder / "broken.ipynb").write_text('{"cells": [')
    expected["broken"] = ([0, 0, 0], ["not a valid notebook"])
    return expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    expected = _class(root / "submissions")
    code = grade_cli.main(
        [
            "grade",
            str(root / "submissions"),
            "--chapter",
            str(CHAPTER.path),
            "--out",
            str(root / "grades"),
            *OPTIONS,
        ]
    )
    assert code == 0
    results = json.loads((root / "grades" / "results.json").read_text())
    return root / "grades", expected, {s["student"]: s for s in results["students"]}


def test_every_student_gets_the_expected_points(graded):
    out, expected, results = graded
    assert set(results) == set(expected)
    for student, (points, _) in expected.items():
        got = [e["points"] for e in results[student]["exercises"]]
        assert got == pytest.approx(points, abs=0.005), (student, results[student])
        assert results[student]["points"] == pytest.approx(sum(points), abs=0.01)


def test_notes_say_what_happened(graded):
    _, expected, results = graded
    for student, (_, notes) in expected.items():
        result = results[student]
        text = json.dumps(result, ensure_ascii=False)
        for note in notes:
            if note == "flags":
                assert result["flags"], student
            else:
                assert note in text, (student, note, text[:3000])
    statuses = [e["status"] for e in results["stubs"]["exercises"]]
    assert statuses == ["not attempted"] * 3
    assert all(e["status"] == "passed" for e in results["solutions"]["exercises"])
    assert not results["solutions"]["flags"] and not results["stubs"]["flags"]
    assert [e["status"] for e in results["fake_check"]["exercises"]] == [
        "failed",
        "not attempted",
        "not attempted",
    ]


def test_no_process_a_submission_started_outlives_it(graded):
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        assert command[:2] != [b"sleep", LEFTOVER.encode()], (
            f"process {entry.name} still runs"
        )


def test_gradebook_and_feedback_pages(graded):
    out, expected, results = graded
    with open(out / "gradebook.csv") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert set(rows) == set(expected)
    for student, (points, _) in expected.items():
        assert float(rows[student]["score"]) == pytest.approx(sum(points), abs=0.01)
        assert float(rows[student]["max_score"]) == 3 * POINTS
        assert [float(rows[student][label]) for label in LABELS] == pytest.approx(
            points, abs=0.005
        )
    assert "not a valid notebook" in rows["broken"]["notes"]
    with open(out / "verdicts.csv") as file:
        verdicts = list(csv.DictReader(file))
    assert len(verdicts) == 3 * len(expected)
    assert {v["mode"] for v in verdicts} == {"isolated"}
    for student in expected:
        page = (out / "feedback" / f"{student}.html").read_text()
        assert f"{sum(expected[student][0]):g} / 30 points" in page
    wrong = (out / "feedback" / "wrong.html").read_text()
    assert "conv_transpose2d: failed on case" in wrong and "bias" in wrong


def test_release_is_the_chapter_with_its_exercise_cells_marked(tmp_path):
    path = release.release(CHAPTER, tmp_path, "week4")
    released = nbformat.read(path, as_version=4)
    chapter = nbformat.read(CHAPTER.path, as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in chapter.cells]
    marked = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]
        for c in released.cells
        if "nbgrader" in c.metadata
    }
    assert marked["ex-transposed-numpy-answer-0"]["solution"] is True
    assert marked["ex-transposed-numpy-cell-1"]["locked"] is True  # the checker cell
    assert notebooks.read_chapter(path).exercises == CHAPTER.exercises  # gradable as is


def test_nbgrader_release(tmp_path):
    pytest.importorskip(
        "nbgrader", reason="requirements-instructor.txt is not installed"
    )
    path = release.release(CHAPTER, tmp_path, "week4", nbgrader=True)
    released = nbformat.read(path, as_version=4)
    chapter = nbformat.read(CHAPTER.path, as_version=4)
    assert [c.source for c in released.cells] == [c.source for c in chapter.cells]
    assert (tmp_path / "gradebook.db").exists()


def test_submissions_in_nbgrader_layout(tmp_path):
    for student in ("ada", "bob"):
        folder = tmp_path / "submitted" / student / "week4"
        folder.mkdir(parents=True)
        nbformat.write(_stubs(), folder / CHAPTER.path.name)
        (folder / ".ipynb_checkpoints").mkdir()
        nbformat.write(_stubs(), folder / ".ipynb_checkpoints" / CHAPTER.path.name)
    found = grade_cli.submissions(tmp_path / "submitted", CHAPTER)
    assert [(s, p.parent.name) for s, p in found] == [
        ("ada", "week4"),
        ("bob", "week4"),
    ]


def test_points_from_a_verdict():
    assert grader.fraction("passed", 20, 20, True) == 1
    assert grader.fraction("failed", 1, 20, True) == 0  # the first case failed
    assert grader.fraction("failed", 6, 20, True) == 0.25  # five passed before it
    assert grader.fraction("failed", 6, 20, False) == 0
    assert grader.fraction("not attempted", 0, 20, True) == 0
    assert grader.fraction("not attempted", 3, 20, True) == 0.1  # unfinished at case 3


def test_course_files_a_submission_changes_are_put_back(tmp_path):
    package = tmp_path / "labs"
    (package / "check").mkdir(parents=True)
    (package / "check" / "_core.py").write_text("run = 'the real one'\n")
    (package / "tensor.py").write_text("x = 1\n")
    files = grader._snapshot(package)
    (package / "check" / "_core.py").write_text("run = 'forged'\n")
    (package / "tensor.py").unlink()
    (package / "sitecustomize.py").write_text("import os\n")
    assert grader._restore(package, files) == [
        "labs/check/_core.py",
        "labs/tensor.py",
        "labs/sitecustomize.py (added)",
    ]
    assert (package / "check" / "_core.py").read_text() == "run = 'the real one'\n"
    assert (package / "tensor.py").exists() and not (
        package / "sitecustomize.py"
    ).exists()
    assert grader._restore(package, files) == []
