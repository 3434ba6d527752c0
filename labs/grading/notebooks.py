"""What a chapter asks, read from the chapter notebook, and what to run of a submission.

An exercise is laid out as CONTRIBUTING.md says: a markdown cell with an exercise block
(``:label: ex-...``), then code cells up to the next markdown cell. In those cells:

- an *answer* is a top-level function or class whose body raises
  ``NotImplementedError`` (the stub), or a name assigned ``None`` (a prediction to fill
  in, as in chapter 9);
- a *check* is a top-level statement calling a checker, ``check.NAME(...)`` (possibly
  followed by ``.raise_for_failure()``);
- everything else is *given*: code the chapter provides next to the stub (a function to
  differentiate, a reference implementation, a constant).

Nothing here is maintained by hand: adding an exercise to a chapter adds it to the
assignment.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import symtable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
LABEL = re.compile(r"^:label:\s*(ex-[\w-]+)\s*$", re.MULTILINE)
TITLE = re.compile(r"^:::+\{exercise\}\s*(.*?)\s*$", re.MULTILINE)
# names the kernel provides without any cell defining them
KERNEL_NAMES = set(dir(builtins)) | {
    "get_ipython",
    "display",
    "In",
    "Out",
    "exit",
    "quit",
}


class NotebookError(ValueError):
    """A file that cannot be read as a notebook; the message says why, for a person."""


@dataclass
class Check:
    """One checker call of an exercise, as the chapter writes it."""

    checker: str  # the checker's name in labs.check, e.g. "conv1d"
    source: str  # the statement, e.g. "check.conv1d(conv1d)"
    expression: str  # the checker call alone, without .raise_for_failure()


@dataclass
class Exercise:
    label: str  # "ex-transposed-numpy"
    title: str
    answers: list[str]  # names the student defines
    given: str  # source of the given statements, in order
    checks: list[Check]
    cell_ids: list[str]  # the chapter's code cells of this exercise


@dataclass
class Chapter:
    path: Path
    imports: str  # every top-level import statement of the chapter, in order
    exercises: list[Exercise]

    @property
    def name(self) -> str:
        return self.path.stem


# --- Reading Python out of cells ------------------------------------------------------


def python_source(cell_source: str) -> str:
    """A code cell's source as plain Python (IPython magics become function calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(cell_source)
    except (
        Exception
    ):  # a cell IPython itself cannot read: leave it, it will fail to parse
        return cell_source


def check_call(statement: ast.stmt) -> tuple[str, ast.expr] | None:
    """(checker name, call) if the statement is ``check.NAME(...)[.raise_for_failure()]``."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return None
    call = statement.value
    function = call.func
    if (
        isinstance(function, ast.Attribute)
        and function.attr == "raise_for_failure"
        and isinstance(function.value, ast.Call)
    ):
        call = function.value
        function = call.func
    if (
        isinstance(function, ast.Attribute)
        and isinstance(function.value, ast.Name)
        and function.value.id == "check"
    ):
        return function.attr, call
    return None


def _raises_not_implemented(node: ast.AST) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Raise) and inner.exc is not None:
            exc = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _answer_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name] if _raises_not_implemented(statement) else []
    if (
        isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Constant)
        and statement.value.value is None
    ):
        return [t.id for t in statement.targets if isinstance(t, ast.Name)]
    return []


def _segment(source: str, statement: ast.stmt) -> str:
    lines = source.splitlines()
    start = (
        statement.decorator_list[0].lineno
        if getattr(statement, "decorator_list", None)
        else statement.lineno
    )
    return "\n".join(lines[start - 1 : statement.end_lineno])


# --- The chapter ----------------------------------------------------------------------


def chapter_path(chapter: str) -> Path:
    """``04``, ``4``, ``04_transposed`` or a path: the chapter notebook in book/."""
    candidate = Path(chapter)
    if candidate.suffix == ".ipynb" and candidate.exists():
        return candidate.resolve()
    stem = candidate.stem
    if stem.isdigit():
        stem = f"{int(stem):02d}"
    matches = sorted((ROOT / "book").glob(f"{stem}*.ipynb"))
    if len(matches) != 1:
        known = ", ".join(p.stem for p in sorted((ROOT / "book").glob("[0-9]*.ipynb")))
        raise SystemExit(
            f"error: no single chapter matches {chapter!r}; chapters: {known}"
        )
    return matches[0]


def read_chapter(path: Path) -> Chapter:
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    imports, exercises = [], []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        source = python_source(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        imports += [
            _segment(source, s)
            for s in tree.body
            if isinstance(s, (ast.Import, ast.ImportFrom))
        ]
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        label = LABEL.search(cell.source)
        if label is None:
            continue
        title = TITLE.search(cell.source)
        exercise = Exercise(
            label.group(1), title.group(1) if title else label.group(1), [], "", [], []
        )
        given = []
        for code in cells[index + 1 :]:
            if code.cell_type != "code":
                break
            exercise.cell_ids.append(code.get("id", ""))
            source = python_source(code.source)
            tree = ast.parse(source)  # the chapter's own code: it must parse
            for statement in tree.body:
                found = check_call(statement)
                if found is not None:
                    exercise.checks.append(
                        Check(
                            found[0], _segment(source, statement), ast.unparse(found[1])
                        )
                    )
                elif names := _answer_names(statement):
                    exercise.answers += [n for n in names if n not in exercise.answers]
                elif not isinstance(statement, (ast.Import, ast.ImportFrom)):
                    given.append(_segment(source, statement))
        exercise.given = "\n\n".join(given)
        exercises.append(exercise)
    return Chapter(path, "\n".join(dict.fromkeys(imports)), exercises)


def solution_cells(chapter: Chapter) -> dict[str, list[str]]:
    """label -> the code cells of its worked solution, from solutions/ (for tests)."""
    path = ROOT / "solutions" / chapter.path.name
    notebook = nbformat.read(path, as_version=4)
    found, current = {"": []}, None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            start = re.search(r"\{solution-start\}\s*(ex-[\w-]+)", cell.source)
            if start:
                current = start.group(1)
                found[current] = []
            if "{solution-end}" in cell.source:
                current = None
        elif cell.cell_type == "code":
            found[current or ""].append(
                cell.source
            )  # "": code outside solutions (imports)
    return found


# --- A submission ---------------------------------------------------------------------


@dataclass
class Cell:
    """A code cell of a submission, analysed without running it."""

    index: int  # among all cells of the submission
    id: str
    source: str  # plain Python, checker calls removed
    defines: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    error: str | None = None  # why the cell cannot be analysed (a syntax error)
    star_import: bool = False


def read_submission(path: Path) -> nbformat.NotebookNode:
    """The notebook, or :class:`NotebookError` saying in plain words why it isn't one."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NotebookError(f"the file cannot be read ({error.strerror}).") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(
            "the file is not text (UTF-8): it is not a notebook."
        ) from None
    except json.JSONDecodeError as error:
        raise NotebookError(
            f"the file is not a valid notebook: its JSON breaks at line {error.lineno}, "
            f"column {error.colno} ({error.msg})."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(
            "the file is JSON but not a notebook (it has no list of cells)."
        )
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as error:  # nbformat's own reasons, e.g. an unknown major version
        raise NotebookError(
            f"the file is not a notebook nbformat can read: {error}"
        ) from None
    cells = []
    for cell in notebook.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in (
            "code",
            "markdown",
            "raw",
        ):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        if not isinstance(source, str):
            continue
        cell["source"] = source
        cells.append(cell)
    notebook.cells = cells
    return notebook


def analyse(notebook) -> list[Cell]:
    result = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        source = python_source(cell.source)
        info = Cell(index, str(cell.get("id", "")), source)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as error:
            info.error = f"{type(error).__name__}: {error}"
            result.append(info)
            continue
        lines = source.splitlines()
        for statement in tree.body:
            if check_call(statement) is not None:
                for line in range(statement.lineno - 1, statement.end_lineno):
                    lines[line] = ""
        info.source = "\n".join(lines)
        info.star_import = any(
            isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names)
            for s in ast.walk(tree)
        )
        try:
            info.defines, info.uses = _names(info.source)
        except (SyntaxError, ValueError) as error:
            info.error = f"{type(error).__name__}: {error}"
        result.append(info)
    return result


def _names(source: str) -> tuple[set[str], set[str]]:
    """(module-level names the code binds, module-level names it reads)."""
    top = symtable.symtable(source, "<cell>", "exec")
    defines, uses = set(), set()
    for symbol in top.get_symbols():
        if symbol.is_assigned() or symbol.is_imported():
            defines.add(symbol.get_name())
        if symbol.is_referenced():
            uses.add(symbol.get_name())

    def visit(table):
        for child in table.get_children():
            for symbol in child.get_symbols():
                if symbol.is_global() or (
                    child.get_type() == "class" and not symbol.is_local()
                ):
                    if symbol.is_referenced():
                        uses.add(symbol.get_name())
                    if symbol.is_declared_global() and symbol.is_assigned():
                        defines.add(symbol.get_name())
            visit(child)

    visit(top)
    return defines, uses - defines - KERNEL_NAMES


def select(cells: list[Cell], answers: list[str]) -> list[Cell]:
    """The cells to run: those defining an answer, and what they need, in notebook order.

    A cell is needed when it binds a name that a needed cell reads at module level or
    from inside a function (found with :mod:`symtable`), so the lesson's figures and
    animations are not re-run for every student.
    """
    chosen = {c.index for c in cells if c.defines & set(answers) or c.star_import}
    wanted = set()
    for cell in cells:
        if cell.index in chosen:
            wanted |= cell.uses
    while True:
        more = {c.index for c in cells if c.index not in chosen and c.defines & wanted}
        if not more:
            break
        chosen |= more
        for cell in cells:
            if cell.index in more:
                wanted |= cell.uses
    return [c for c in cells if c.index in chosen]


def renamed(cells: list[Cell], chapter_cell_ids: list[str], name: str) -> str | None:
    """A note for a missing answer: which names the exercise's cells define instead."""
    present = [cell for cell in cells if cell.id in chapter_cell_ids]
    if not present:
        return "the exercise's cells are not in the notebook: were they deleted?"
    defined = set().union(*(cell.defines for cell in present))
    if defined and name not in defined:
        others = ", ".join(f"`{n}`" for n in sorted(defined))
        return f"the exercise's cells define {others} instead: was `{name}` renamed?"
    return None


def solved(chapter: Chapter):
    """The chapter notebook with each exercise's cells replaced by its worked solution.

    This is what a student who solved everything would hand in; the grader's tests and
    ``tools/grade.py selftest`` use it.
    """
    notebook = nbformat.read(chapter.path, as_version=4)
    solutions = solution_cells(chapter)
    by_id = {e.cell_ids[0]: e for e in chapter.exercises if e.cell_ids}
    all_ids = {i for e in chapter.exercises for i in e.cell_ids}
    cells = [nbformat.v4.new_code_cell(source) for source in solutions.get("", [])]
    for cell in notebook.cells:
        exercise = by_id.get(cell.get("id"))
        if exercise is not None:
            for number, source in enumerate(solutions.get(exercise.label, [])):
                new = nbformat.v4.new_code_cell(source)
                if number < len(exercise.cell_ids):
                    new["id"] = exercise.cell_ids[number]
                cells.append(new)
        elif cell.get("id") not in all_ids:
            cells.append(cell)
    notebook.cells = cells
    return notebook
