"""The gradebook (CSV), every verdict (CSV and JSON) and one feedback page per student."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

from .grader import StudentGrade
from .notebooks import Chapter

STATUS_WORD = {
    "passed": "passed",
    "failed": "failed",
    "not attempted": "not attempted",
    "missing": "missing",
    "not graded": "not graded",
}
COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "not attempted": "#757575"}


def safe_name(student: str) -> str:
    return re.sub(r"[^\w.-]", "_", student)[:100] or "student"


def _cell(text: str) -> str:
    """A CSV field that a spreadsheet will not read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _points(value: float) -> str:
    return f"{value:g}"


def write(out: Path, chapter: Chapter, grades: list[StudentGrade]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    labels = [e.label for e in chapter.exercises]
    with open(out / "gradebook.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "score", "max_score", *labels, "flags", "notes"])
        for grade in grades:
            by_label = {e.label: e for e in grade.exercises}
            notes = list(grade.notes) + [
                f"{e.label}: {n}" for e in grade.exercises for n in e.notes
            ]
            writer.writerow(
                [
                    _cell(grade.student),
                    _points(grade.points),
                    _points(grade.max_points),
                    *[
                        _points(by_label[label].points) if label in by_label else "0"
                        for label in labels
                    ],
                    _cell(" | ".join(grade.flags)),
                    _cell(" | ".join(notes)),
                ]
            )
    with open(out / "verdicts.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "student",
                "exercise",
                "checker",
                "mode",
                "status",
                "points",
                "max_points",
                "cases",
                "total",
            ]
        )
        for grade in grades:
            for exercise in grade.exercises:
                for check in exercise.checks:
                    writer.writerow(
                        [
                            _cell(grade.student),
                            exercise.label,
                            check.checker,
                            check.mode,
                            check.status,
                            _points(check.points),
                            _points(check.max_points),
                            check.cases,
                            check.total,
                        ]
                    )
    (out / "results.json").write_text(
        json.dumps(
            {"chapter": chapter.name, "students": [g.as_dict() for g in grades]},
            indent=1,
        )
    )
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for grade in grades:
        (feedback / f"{safe_name(grade.student)}.html").write_text(page(chapter, grade))


def page(chapter: Chapter, grade: StudentGrade) -> str:
    """A self-contained HTML page: the score, then every exercise's verdict and notes."""
    e = html.escape
    rows, sections = [], []
    for exercise in grade.exercises:
        colour = COLOUR.get(exercise.status, "#c62828")
        rows.append(
            f"<tr><td><a href='#{e(exercise.label)}'>{e(exercise.title)}</a></td>"
            f"<td style='color:{colour}'>"
            f"{e(STATUS_WORD.get(exercise.status, exercise.status))}</td>"
            f"<td class='n'>{_points(exercise.points)} / {_points(exercise.max_points)}</td></tr>"
        )
        body = []
        for note in exercise.notes:
            body.append(f"<p class='note'>{e(note)}</p>")
        for check in exercise.checks:
            text = check.message or check.status
            body.append(
                f"<p class='check'><code>check.{e(check.checker)}</code>: "
                f"{_points(check.points)} / {_points(check.max_points)} points"
                + (
                    f", {check.cases} of {check.total} cases reached"
                    if check.total and check.status != "passed"
                    else ""
                )
                + f"</p><pre>{e(text)}</pre>"
            )
        sections.append(
            f"<section id='{e(exercise.label)}' style='border-left: 0.3em solid {colour}'>"
            f"<h2>{e(exercise.title)} <small>({e(exercise.label)})</small></h2>"
            f"{''.join(body)}</section>"
        )
    general = "".join(f"<li>{e(n)}</li>" for n in grade.notes)
    flags = "".join(f"<li>{e(n)}</li>" for n in grade.flags)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(grade.student)}: {e(chapter.name)}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; }}
td, th {{ padding: 0.2em 1em; border-bottom: 1px solid #ddd; }}
.n {{ text-align: right; }} pre {{ background: #f6f6f6; padding: 0.5em; white-space: pre-wrap; }}
section {{ padding-left: 1em; margin: 1.5em 0; }} .note {{ font-style: italic; }}
</style></head><body>
<h1>{e(chapter.name)}: {e(grade.student)}</h1>
<p><strong>{_points(grade.points)} / {_points(grade.max_points)} points.</strong>
The grader ran {grade.cells_run} of your notebook's cells (those that define the
exercises' answers and what they use), each exercise's checker called your functions,
and the verdicts below are what it found.</p>
<table><tr><th>exercise</th><th>verdict</th><th>points</th></tr>{"".join(rows)}</table>
{f"<h2>About your notebook</h2><ul>{general}</ul>" if general else ""}
{f"<h2>Flagged for review</h2><ul>{flags}</ul>" if flags else ""}
{"".join(sections)}
</body></html>
"""
