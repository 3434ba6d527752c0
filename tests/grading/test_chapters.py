"""Every chapter as an assignment: its stubs grade 0, its worked solutions full marks.

The exercises and their checker calls are read from each chapter notebook, and the
solutions from solutions/, so a new exercise, or a changed checker, is graded here
without any list to update. (tests/grading/test_grading.py grades a whole synthetic class.)
"""

from __future__ import annotations

import re

import nbformat
import pytest

from labs.grading import grader, notebooks, release

from ..paths import ROOT

CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", CHAPTERS)
def test_stubs_get_nothing_and_solutions_everything(name, tmp_path):
    chapter = notebooks.read_chapter(notebooks.chapter_path(name))
    assert chapter.exercises, "a chapter without exercises"
    judge = grader.Grader(chapter)
    solved = tmp_path / f"{name}.ipynb"
    nbformat.write(notebooks.solved(chapter), solved)

    stubs = judge.grade(chapter.path, "stubs")
    assert stubs.points == 0
    for exercise in stubs.exercises:
        assert exercise.status == "not attempted", (exercise.label, exercise.checks)
    assert not stubs.notes and not stubs.flags

    solutions = judge.grade(solved, "solutions")
    wrong = [
        (e.label, [c.message for c in e.checks])
        for e in solutions.exercises
        if e.status != "passed"
    ]
    assert not wrong
    assert solutions.points == judge.max_points == 10 * len(chapter.exercises)
    assert not solutions.notes and not solutions.flags


def test_a_check_run_inside_the_kernel_is_marked_and_a_patched_checker_flagged(
    tmp_path,
):
    """Chapter 8's checker takes a Function class, which cannot leave the kernel.

    Its verdict is computed inside the student's kernel, so a notebook that patches the
    checker there can change it: the grader cannot prevent that for these checkers, and
    says so instead, in the verdict's mode and as a flag for review.
    """
    chapter = notebooks.read_chapter(notebooks.chapter_path("08"))
    notebook = nbformat.read(chapter.path, as_version=4)
    first = chapter.exercises[0]
    stub = next(c for c in notebook.cells if c.get("id") == first.cell_ids[0])
    stub.source += "\n\nfrom labs import check\ncheck.function = lambda *a, **k: None\n"
    path = tmp_path / "patched.ipynb"
    nbformat.write(notebook, path)
    result = grader.Grader(chapter).grade(path, "patched")
    assert result.flags and "patches the checker" in result.flags[0]
    graded = result.exercises[0]
    assert [c.mode for c in graded.checks] == ["in-kernel"]
    assert "flagged for review" in graded.checks[0].message
    # the patched checker returned None, which is no verdict: no points for it
    assert graded.points == 0 and "raised AttributeError" in graded.checks[0].message


@pytest.mark.parametrize("name", CHAPTERS)
def test_an_nbgrader_release_reads_as_the_chapter(name):
    """nbgrader replaces each region between its solution delimiters with one stub for
    the whole course (release.CODE_STUB). A chapter stub written any other way (a bare
    raise, a comment of its own) would come out of nbgrader changed; this is what
    nbgrader's ClearSolutions does, done here without running nbgrader."""
    chapter = notebooks.read_chapter(notebooks.chapter_path(name))
    student = release.student_notebook(chapter)
    delimited = release.nbgrader_source(student)
    region = re.compile(
        r"^( *)### BEGIN SOLUTION\n.*?\n *### END SOLUTION$", re.DOTALL | re.MULTILINE
    )
    for before, after in zip(student.cells, delimited.cells, strict=True):
        cleared = region.sub(lambda m: m.group(1) + release.CODE_STUB, after.source)
        assert cleared == before.source, before.source
