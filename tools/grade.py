"""Hand out a chapter's exercises and grade a class's notebooks with the course's checkers.

    .venv/bin/python tools/grade.py release 04 handout/            # the student version
    .venv/bin/python tools/grade.py release 04 course/ --nbgrader  # as an nbgrader assignment
    .venv/bin/python tools/grade.py grade submissions/ --chapter 04 --out grades/
    .venv/bin/python tools/grade.py selftest 04                   # stubs 0, solutions full

`grade` takes a folder of notebooks (one per student, named after the student) or
nbgrader's `submitted/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb` layout. Each submission runs in
a fresh kernel in its own temporary directory, with time limits; the checkers of
labs.check run in this process on stand-ins that call the student's functions in that
kernel. It writes grades/gradebook.csv (one row per student), grades/verdicts.csv (one
row per checker call), grades/results.json and grades/feedback/STUDENT.html. The page
for instructors, book/instructors.md, says more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from labs.grading import grader, notebooks, release, report


def submissions(folder: Path, chapter: notebooks.Chapter) -> list[tuple[str, Path]]:
    """(student, notebook) pairs: FOLDER/STUDENT.ipynb, or FOLDER/STUDENT/.../*.ipynb."""
    if not folder.is_dir():
        raise SystemExit(f"error: {folder} is not a folder of submissions")
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*.ipynb")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in parts):  # .ipynb_checkpoints and the like
            continue
        student = path.stem if len(parts) == 1 else parts[0]
        found.setdefault(student, []).append(path)
    pairs = []
    for student, paths in found.items():
        exact = [p for p in paths if p.name == chapter.path.name]
        pairs.append((student, (exact or paths)[0]))
        if len(paths) > 1:
            print(
                f"  {student}: {len(paths)} notebooks, grading {(exact or paths)[0].name}"
            )
    return pairs


def options(args) -> grader.Options:
    weights = {}
    for item in args.weight or []:
        label, _, points = item.partition("=")
        try:
            weights[label] = float(points)
        except ValueError:
            raise SystemExit(
                f"error: --weight {item!r}: expected LABEL=POINTS"
            ) from None
    return grader.Options(
        points=args.points,
        weights=weights,
        partial=not args.all_or_nothing,
        cell_timeout=args.cell_timeout,
        call_timeout=args.call_timeout,
        notebook_timeout=args.notebook_timeout,
    )


def grade(args) -> int:
    chapter = notebooks.read_chapter(notebooks.chapter_path(args.chapter))
    unknown = set(args.weight and [w.partition("=")[0] for w in args.weight] or []) - {
        e.label for e in chapter.exercises
    }
    if unknown:
        raise SystemExit(
            f"error: no exercise {', '.join(sorted(unknown))} in {chapter.name}"
        )
    pairs = submissions(Path(args.submissions), chapter)
    if not pairs:
        raise SystemExit(f"error: no notebooks in {args.submissions}")
    judge = grader.Grader(chapter, options(args))
    print(
        f"{chapter.name}: {len(chapter.exercises)} exercises, {judge.max_points:g} points; "
        f"{len(pairs)} submissions"
    )
    grades = []
    for student, path in pairs:
        result = judge.grade(path, student)
        grades.append(result)
        extra = f"  ({len(result.notes)} notes)" if result.notes else ""
        flag = "  FLAGGED" if result.flags else ""
        print(
            f"  {student:<24} {result.points:>6g} / {result.max_points:g}   "
            f"{result.seconds:5.1f} s{extra}{flag}"
        )
    out = Path(args.out)
    report.write(out, chapter, grades)
    print(
        f"wrote {out / 'gradebook.csv'}, {out / 'verdicts.csv'}, {out / 'results.json'} "
        f"and {len(grades)} pages in {out / 'feedback'}"
    )
    return 0


def do_release(args) -> int:
    chapter = notebooks.read_chapter(notebooks.chapter_path(args.chapter))
    assignment = args.assignment or chapter.name
    target = release.release(
        chapter, Path(args.outdir), assignment, nbgrader=args.nbgrader
    )
    print(
        f"{chapter.name}: {len(chapter.exercises)} exercises "
        f"({', '.join(e.label for e in chapter.exercises)})"
    )
    print(f"wrote {target}")
    return 0


def selftest(args) -> int:
    """Grade the chapter's stubs (expect 0) and its worked solutions (expect full marks)."""
    import nbformat

    chapter = notebooks.read_chapter(notebooks.chapter_path(args.chapter))
    judge = grader.Grader(chapter, options(args))
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        solved = Path(folder) / "solutions.ipynb"
        nbformat.write(notebooks.solved(chapter), solved)
        for name, path, expected in (
            ("stubs", chapter.path, 0.0),
            ("solutions", solved, judge.max_points),
        ):
            start = time.monotonic()
            result = judge.grade(path, name)
            ok = result.points == expected
            failures += not ok
            print(
                f"  {name:<10} {result.points:g} / {result.max_points:g} "
                f"(expected {expected:g}) {'ok' if ok else 'WRONG'}  "
                f"{time.monotonic() - start:.1f} s"
            )
            if not ok:
                for exercise in result.exercises:
                    for check in exercise.checks:
                        print(f"    {exercise.label}: {check.message}")
                for note in result.notes:
                    print(f"    note: {note}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("release", help="write the student version of a chapter")
    p.add_argument("chapter", help="04, 04_transposed, or a chapter notebook's path")
    p.add_argument("outdir")
    p.add_argument(
        "--assignment", help="the assignment's name (default: the chapter's)"
    )
    p.add_argument(
        "--nbgrader",
        action="store_true",
        help="OUTDIR is an nbgrader course directory: write source/ and run "
        "nbgrader generate_assignment (needs requirements-instructor.txt)",
    )
    p.set_defaults(run=do_release)

    for name, helptext in (
        ("grade", "grade a folder of submissions"),
        ("selftest", "grade the chapter's stubs and worked solutions"),
    ):
        p = commands.add_parser(name, help=helptext)
        if name == "grade":
            p.add_argument(
                "submissions", help="a folder of .ipynb files, or nbgrader's submitted/"
            )
            p.add_argument("--chapter", required=True)
            p.add_argument(
                "--out", required=True, help="folder for the gradebook and feedback"
            )
        else:
            p.add_argument("chapter")
        p.add_argument(
            "--points", type=float, default=10.0, help="points per exercise (10)"
        )
        p.add_argument(
            "--weight",
            action="append",
            metavar="LABEL=POINTS",
            help="points for one exercise, e.g. ex-transposed-numpy=20",
        )
        p.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="no partial credit for the cases passed before a failure",
        )
        p.add_argument(
            "--cell-timeout", type=float, default=60.0, help="seconds per cell (60)"
        )
        p.add_argument(
            "--call-timeout",
            type=float,
            default=20.0,
            help="seconds per call of a student's function by a checker (20)",
        )
        p.add_argument(
            "--notebook-timeout",
            type=float,
            default=600.0,
            help="seconds for everything of one submission (600)",
        )
        p.set_defaults(run=grade if name == "grade" else selftest)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
