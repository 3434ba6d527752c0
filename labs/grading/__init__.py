"""Release a chapter's exercises and grade a class's notebooks with the course's checkers.

This is the machinery behind ``tools/grade.py``; nothing in a chapter uses it. It lives
in the ``labs`` package so that the checkers treat its frames as library code: when a
student's function raises, the verdict names the student's line, not the grader's.

The command is ``tools/grade.py`` (``release`` and ``grade``); the page for instructors
is ``book/instructors.md``. The parts:

- :mod:`notebooks`: the exercises of a chapter, read from the chapter notebook itself
  (exercise blocks, their stub cells and checker calls), and what to run of a submission;
- :mod:`sandbox`: one fresh Jupyter kernel per submission, in its own temporary
  directory, with time limits and capped output;
- :mod:`kernel_side` and :mod:`codec`: the small protocol by which the grader calls a
  student's function in that kernel and gets back plain data, never objects;
- :mod:`grader`: runs the checkers of :mod:`labs.check` in the grader's own process on
  stand-ins for the student's functions, and turns verdicts into points and notes;
- :mod:`report`: the gradebook (CSV) and one feedback page per student (HTML);
- :mod:`release`: the student version of a chapter, with nbgrader's cell metadata.
"""
