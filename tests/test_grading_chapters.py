"""Every chapter as an assignment: its stubs grade 0, its worked solutions full marks.

The exercises and their checker calls are read from each chapter notebook, and the
solutions from solutions/, so a new exercise, or a changed checker, is graded here
without any list to update. (tests/test_grading.py grades a whole synthetic class.)
"""

from __future__ import annotations

import nbformat
import pytest

from labs.grading import grader, notebooks

from .site import ROOT

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
    wrong = [(e.label, [c.message for c in e.checks]) for e in solutions.exercises if e.status != "passed"]
    assert not wrong
    assert solutions.points == judge.max_points == 10 * len(chapter.exercises)
    assert not solutions.notes and not solutions.flags
