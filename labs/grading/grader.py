"""Grade submissions: the student's code runs in a sandboxed kernel, the checkers here.

Where each part runs, for one submission:

- the grader's process (this module) reads the notebook as data, decides which cells
  to run, and runs the checkers of :mod:`labs.check`. It never runs the student's code;
- a fresh kernel (:mod:`sandbox`) runs the student's cells. The checker calls the
  student's function through a stand-in (:class:`Remote`): each call sends the
  checker's arguments into the kernel, runs the student's function there, and brings
  back the answer as plain data (:mod:`codec`). So the verdict is computed, and the
  expected answers are made, in a process the student's code never touched: redefining
  ``check``, patching ``labs.check``, torch or numpy in the notebook changes nothing
  here, and text the notebook prints is never read as a verdict.

Some checkers take things that cannot cross between processes as data: a
``torch.autograd.Function`` class (``check.function``, ``check.function_jvp``), a
network builder called with a library (``check.same_network``) and graphs of the
checker's own node objects (``check.topological_sort``); ``check.hvp`` watches the
tensors the student's function makes, which it can only do where that function runs.
For those (:data:`IN_KERNEL`) the chapter's checker call
runs inside the student's kernel, after the student's code; the verdict is then only as
trustworthy as that kernel, and it is marked so in the gradebook and flagged for review
when the notebook touches the checkers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import pickle
import re
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import codec, kernel_side
from .notebooks import Chapter, NotebookError, analyse, read_submission, renamed, select
from .sandbox import KernelDied, Outcome, Sandbox

IN_KERNEL = {
    "function",
    "function_jvp",
    "hvp",
    "same_network",
    "topological_sort",
    "gradient_norms",
    "checkpointed_forward",
    "sgd_step",
    "adam_step",
}
KERNEL_SIDE_SOURCE = Path(kernel_side.__file__).read_text()
RESTARTS = 3  # kernel restarts allowed per submission before the rest is not graded
LABS = Path(__file__).resolve().parents[2] / "labs"

# Statements that change the checker or the libraries it relies on.
TAMPERING = re.compile(
    r"""(^|[^\w.])check\s*=[^=]|^\s*(?:from\s+labs\.check|import\s+labs\.check)|\b_core\b
    |\bcheck\.\w+\s*=[^=]|\b(?:labs|torch|np|numpy|TF|F)\.[\w.]+\s*=[^=]|\bsetattr\s*\(
    |\bsys\.modules\b|\bbuiltins\b|\b__builtins__\b""",
    re.MULTILINE | re.VERBOSE,
)


@dataclass
class Options:
    points: float = 10.0  # per exercise, unless weights says otherwise
    weights: dict[str, float] = field(default_factory=dict)  # label -> points
    partial: bool = True  # credit by cases passed before the first failure
    cell_timeout: float = 60.0  # one cell of the notebook
    call_timeout: float = 20.0  # one call of the student's function by a checker
    notebook_timeout: float = 600.0  # everything for one submission


@dataclass
class CheckGrade:
    checker: str
    mode: str  # "isolated" (checker in the grader) or "in-kernel"
    status: str  # passed, failed, not attempted, missing, not graded
    points: float
    max_points: float
    cases: int = 0
    total: int = 0
    message: str = ""


@dataclass
class ExerciseGrade:
    label: str
    title: str
    points: float
    max_points: float
    status: str
    checks: list[CheckGrade]
    notes: list[str] = field(default_factory=list)


@dataclass
class StudentGrade:
    student: str
    file: str
    points: float
    max_points: float
    exercises: list[ExerciseGrade]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    cells_run: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


# --- Points ---------------------------------------------------------------------------


def fraction(status: str, cases: int, total: int, partial: bool) -> float:
    """The share of a check's points a verdict earns.

    All of them when every case passed. With partial credit, a failed verdict earns the
    cases passed before the first failing one, out of all the cases the checker plans
    (the checkers stop at the first failure, and run hand-picked edge cases first).
    "Not attempted" earns nothing, unless the function was finished enough to pass some
    cases before reaching an unfinished part.
    """
    if status == "passed":
        return 1.0
    if not partial or total <= 0 or cases <= 1:
        return 0.0
    return min(max((cases - 1) / total, 0.0), 1.0)


# --- The checker's stand-ins for the student's functions --------------------------------


class TimeLimit(Exception):
    """The student's function did not return in time."""


class GraderError(BaseException):
    """The grader itself could not do a step; a BaseException so checkers let it pass."""


class Session:
    """A submission's kernel, with the student's cells run and the grader's helper in it."""

    def __init__(self, workdir: Path, cells, options: Options, deadline: float):
        self.workdir = workdir
        self.cells = cells
        self.options = options
        self.deadline = deadline
        self.sandbox = Sandbox(workdir)
        self.restarts = 0
        self.notes: list[str] = []
        self.outcomes: dict[int, Outcome] = {}
        self.skip: set[int] = set()  # cells that stopped the kernel: not run again
        self.connection: socket.socket | None = None  # to the helper's request loop
        self.serving = ""  # the execution running that loop
        self.buffer = bytearray()
        (workdir / "grader").mkdir()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def open(self) -> None:
        self.sandbox.start()
        self._preload()
        self._run_cells()

    def _preload(self) -> None:
        """Import the course's libraries first, so that no cell's time limit pays for them.

        ``__import__`` binds no name: the student's cells still need their imports.
        """
        self.sandbox.execute(
            "for __m in ('numpy', 'torch', 'matplotlib.pyplot', 'labs', 'labs.check'):\n"
            "    __import__(__m)\n"
            "del __m",
            min(120, max(self.remaining(), 1)),
        )

    def close(self) -> list[int]:
        """Stop the kernel and whatever it started; the ids of leftover processes killed."""
        self._drop()
        self.sandbox.stop()
        return self.sandbox.kill_leftovers()

    def _run_cells(self) -> None:
        for cell in self.cells:
            if cell.index in self.skip:
                continue
            budget = min(self.options.cell_timeout, self.remaining())
            if budget <= 0:
                self.notes.append(
                    "the time limit for the whole notebook was reached while its cells ran."
                )
                break
            outcome = self.sandbox.execute(cell.source, budget)
            self.outcomes.setdefault(cell.index, outcome)
            if outcome.killed or outcome.status == "died":
                self.skip.add(cell.index)
                if not self.recover():
                    return
        self._install_helper()

    def _install_helper(self) -> None:
        code = (
            "import types as __t\n"
            "__labs_grader__ = __t.ModuleType('labs_grader')\n"
            f"exec(compile({KERNEL_SIDE_SOURCE!r}, 'labs_grader', 'exec'), "
            "__labs_grader__.__dict__)\n"
            "del __t"
        )
        self.sandbox.execute(code, 60)

    def recover(self) -> bool:
        """Start a new kernel and run the cells again (without those that stopped one)."""
        if self.restarts >= RESTARTS or self.remaining() <= 0:
            self.notes.append("the kernel stopped too often; the rest was not graded.")
            return False
        self.restarts += 1
        self._drop()
        try:
            self.sandbox.restart()
        except KernelDied as error:
            self.notes.append(str(error))
            return False
        self._preload()
        self._run_cells()
        return self.sandbox.alive

    # --- requests over the socket (see kernel_side.serve) ---------------------------

    def _serve(self) -> None:
        """Start the helper's request loop in the kernel, connected to a socket here."""
        if self.connection is not None:
            return
        if not self.sandbox.alive:
            raise KernelDied("the Python kernel running your notebook had stopped.")
        path = str(self.workdir / "grader" / f"{uuid.uuid4().hex[:8]}.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(path)
            server.listen(1)
            server.settimeout(30)
            self.serving = self.sandbox.submit(
                f"__labs_grader__.serve(globals(), {path!r})"
            )
            try:
                self.connection, _ = server.accept()
            except OSError:
                raise GraderError(
                    "the grader's helper in the kernel did not connect"
                ) from None
        finally:
            server.close()
        self.buffer = bytearray()

    def _stop_serving(self) -> None:
        if self.connection is None:
            return
        with contextlib.suppress(OSError):
            self.connection.sendall(b'{"op": "stop"}\n')
        self.connection.close()
        self.connection = None
        self.sandbox.wait(self.serving, 10)

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None

    def _readline(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while (end := self.buffer.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.connection.settimeout(remaining)
            try:
                chunk = self.connection.recv(1 << 20)
            except TimeoutError:
                raise TimeoutError from None
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if len(self.buffer) > 300 * 2**20:
                raise codec.DecodeError("the answer is too large")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        self.sandbox.drain()
        return line

    def _ask(self, request: dict, timeout: float) -> dict:
        self._serve()
        try:
            self.connection.sendall(json.dumps(request).encode() + b"\n")
            line = self._readline(timeout)
        except TimeoutError:
            where = self._interrupt()
            error = TimeLimit(
                f"your function did not return within {timeout:g} s, and was stopped."
            )
            codec.raise_from_student(error, where)  # where it was when it was stopped
        except (EOFError, OSError):
            self._drop()
            self.sandbox.wait(self.serving, 5)
            raise KernelDied(
                "the Python kernel running your notebook stopped while running your code "
                "(it called os._exit, exit(), crashed, or ran out of memory)."
            ) from None
        except BaseException:
            # Stopped from outside while the student's code runs, for instance by the
            # checker's own time limit: stop the call in the kernel too, so that the next
            # request does not wait behind it.
            self._interrupt()
            raise
        try:
            answer = json.loads(line)
        except ValueError:
            raise codec.DecodeError("the kernel's answer is not JSON") from None
        if type(answer) is not dict:
            raise codec.DecodeError("the kernel's answer is not a description")
        return answer

    def _interrupt(self):
        """Interrupt the running call in the kernel; where it was stopped, if it says."""
        self.sandbox.km.interrupt_kernel()  # KeyboardInterrupt in the student's code
        try:
            interrupted = json.loads(self._readline(5))  # the interrupted call's answer
            return interrupted.get("error", {}).get("where")
        except (TimeoutError, EOFError, OSError, ValueError, AttributeError):
            self._drop()
            self.sandbox._kill()
            return None

    def describe(self, name: str) -> dict:
        return self._ask({"op": "describe", "name": name}, timeout=30)

    def call(self, name: str, positional: tuple, keywords: dict):
        try:
            arguments = pickle.dumps(
                (tuple(positional), dict(keywords)), protocol=pickle.HIGHEST_PROTOCOL
            )
        except Exception as error:
            raise GraderError(
                f"the checker's arguments cannot be sent to the kernel ({error})"
            ) from None
        timeout = min(self.options.call_timeout, max(self.remaining(), 0.1))
        answer = self._ask(
            {
                "op": "call",
                "name": name,
                "arguments": base64.b64encode(arguments).decode(),
            },
            timeout,
        )
        changed = answer.get("changed", [])
        for item in changed if type(changed) is list else []:
            everything = list(positional) + list(keywords.values())
            if (
                type(item) is list
                and len(item) == 2
                and type(item[0]) is int
                and 0 <= item[0] < len(everything)
            ):
                _write_back(everything[item[0]], codec.decode(item[1]))
        if "error" in answer:
            codec.raise_from_student(
                codec.exception(answer["error"]), answer["error"].get("where")
            )
        return codec.decode(answer.get("answer"))

    def run_check(self, setup: str, expression: str) -> dict:
        self._stop_serving()
        outcome = self.sandbox.execute(setup, min(60, max(self.remaining(), 0.1)))
        if outcome.status != "ok":
            raise RuntimeError(f"{outcome.ename}: {outcome.evalue}")
        return self._request(
            f"__labs_grader__.run_check(globals(), {expression!r}, ANSWER)",
            max(self.remaining(), 0.1),
        )

    def _request(self, code: str, timeout: float) -> dict:
        """Run one helper function (``ANSWER`` is its answer file) and read its JSON answer."""
        path = self.workdir / "grader" / f"{uuid.uuid4().hex}.json"
        outcome = self.sandbox.execute(code.replace("ANSWER", repr(str(path))), timeout)
        try:
            if outcome.status == "timeout":
                raise TimeLimit(
                    f"your function did not return within {timeout:.0f} s, and was stopped."
                )
            if outcome.killed or outcome.status == "died":
                raise KernelDied(
                    "the Python kernel running your notebook stopped while running your code "
                    "(it called os._exit, exit(), crashed, or ran out of memory)."
                )
            if not path.exists() or path.stat().st_size > 256 * 2**20:
                detail = (
                    f" ({outcome.ename}: {outcome.evalue})" if outcome.ename else ""
                )
                raise codec.DecodeError(
                    f"the grader's helper in your kernel gave no answer{detail}"
                )
            answer = json.loads(path.read_text())
            if type(answer) is not dict:
                raise codec.DecodeError("not an answer")
            return answer
        finally:
            path.unlink(missing_ok=True)


def _write_back(argument, value) -> None:
    """Copy what the student's function left in an argument back into the checker's copy."""
    try:
        if (
            isinstance(argument, np.ndarray)
            and isinstance(value, np.ndarray)
            and value.shape == argument.shape
        ):
            np.copyto(argument, value, casting="unsafe")
        elif (
            isinstance(argument, torch.Tensor)
            and isinstance(value, torch.Tensor)
            and value.shape == argument.shape
        ):
            with torch.no_grad():
                argument.copy_(value.to(argument.dtype))
    except Exception:
        pass


class Remote:
    """Stands for the student's function in the grader: calling it calls the real one."""

    def __init__(self, session: Session, name: str, info: dict):
        self._session = session
        self._name = name
        self.__name__ = self.__qualname__ = str(info.get("name") or name)
        if info.get("signature"):
            try:
                import inspect

                parameters = [
                    inspect.Parameter(
                        p[0],
                        inspect._ParameterKind(p[1]),
                        default=inspect.Parameter.empty
                        if p[2] is None
                        else _Default(p[2]),
                    )
                    for p in info.get("parameters", [])
                ]
                self.__signature__ = inspect.Signature(parameters)
            except (TypeError, ValueError, IndexError):
                pass

    def __call__(self, *positional, **keywords):
        return self._session.call(self._name, positional, keywords)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


class _Default:
    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text


# --- Grading one submission -------------------------------------------------------------


class Grader:
    """Grades submissions of one chapter. The chapter's given code runs here, once."""

    def __init__(self, chapter: Chapter, options: Options | None = None):
        self.chapter = chapter
        self.options = options or Options()
        self.base = {}
        exec(compile(chapter.imports, f"<{chapter.name} imports>", "exec"), self.base)
        from labs import check

        self.base["check"] = check
        self.given = {}
        for exercise in chapter.exercises:
            namespace = dict(self.base)
            exec(compile(exercise.given, f"<{exercise.label}>", "exec"), namespace)
            self.given[exercise.label] = namespace
        self.labs_files = _snapshot(LABS)

    def weight(self, label: str) -> float:
        return float(self.options.weights.get(label, self.options.points))

    @property
    def max_points(self) -> float:
        return sum(self.weight(e.label) for e in self.chapter.exercises)

    def grade(self, path: Path, student: str | None = None) -> StudentGrade:
        start = time.monotonic()
        student = student or path.stem
        result = StudentGrade(student, str(path), 0.0, self.max_points, [])
        try:
            notebook = read_submission(path)
        except NotebookError as error:
            result.notes.append(str(error))
            result.exercises = [
                self._not_graded(e, "the notebook could not be read.")
                for e in self.chapter.exercises
            ]
            return result
        cells = analyse(notebook)
        result.flags += _tampering(cells)
        answers = [name for e in self.chapter.exercises for name in e.answers]
        chosen = select([c for c in cells if c.error is None], answers)
        result.cells_run = len(chosen)
        for cell in cells:
            if cell.error and cell.id in {
                i for e in self.chapter.exercises for i in e.cell_ids
            }:
                result.notes.append(
                    f"cell {cell.index + 1} cannot be read as Python: {cell.error}"
                )
        workdir = Path(tempfile.mkdtemp(prefix="labs-grade-"))
        session = Session(
            workdir, chosen, self.options, start + self.options.notebook_timeout
        )
        try:
            try:
                session.open()
            except (
                Exception
            ) as error:  # KernelDied, or the kernel could not be launched
                result.notes.append(
                    f"the notebook's kernel could not be started: {error}"
                )
                session.sandbox.stop()
            for exercise in self.chapter.exercises:
                result.exercises.append(
                    self._exercise(exercise, session, cells, result.flags)
                )
            result.notes += _cell_notes(session)
            result.notes += session.notes
        finally:
            if session.close():
                result.notes.append(
                    "processes the notebook started were still running after it; they were stopped."
                )
            shutil.rmtree(workdir, ignore_errors=True)
            changed = _restore(LABS, self.labs_files)
            if changed:
                result.flags.append(
                    "the notebook changed the course's own files ("
                    + ", ".join(changed)
                    + "); they were restored before the next submission."
                )
        result.points = round(sum(e.points for e in result.exercises), 2)
        result.seconds = round(time.monotonic() - start, 1)
        return result

    def _not_graded(self, exercise, note: str) -> ExerciseGrade:
        weight = self.weight(exercise.label)
        checks = [
            CheckGrade(
                c.checker,
                _mode(c.checker),
                "not graded",
                0.0,
                weight / len(exercise.checks),
            )
            for c in exercise.checks
        ]
        return ExerciseGrade(
            exercise.label, exercise.title, 0.0, weight, "not graded", checks, [note]
        )

    def _exercise(self, exercise, session: Session, cells, flags) -> ExerciseGrade:
        weight = self.weight(exercise.label)
        share = weight / max(len(exercise.checks), 1)
        grade = ExerciseGrade(exercise.label, exercise.title, 0.0, weight, "", [])
        if not session.sandbox.alive and not session.recover():
            return self._not_graded(
                exercise, "not graded: the kernel could not be started again."
            )
        described = {}
        for name in exercise.answers:
            try:
                described[name] = session.describe(name)
            except (KernelDied, TimeLimit, codec.DecodeError) as error:
                described[name] = {"kind": "missing", "why": str(error)}
            if described[name].get("kind") == "missing":
                why = renamed(cells, exercise.cell_ids, name)
                grade.notes.append(
                    f"your notebook does not define `{name}`"
                    + (f": {why}" if why else ".")
                )
        for check in exercise.checks:
            grade.checks.append(
                self._check(exercise, check, session, described, share, flags)
            )
        grade.points = round(sum(c.points for c in grade.checks), 2)
        statuses = [c.status for c in grade.checks]
        for status in ("missing", "not graded", "failed", "not attempted"):
            if status in statuses:
                grade.status = status
                break
        else:
            grade.status = "passed"
        if grade.status == "passed" and len(set(statuses)) > 1:
            grade.status = "failed"
        return grade

    def _check(
        self, exercise, check, session: Session, described, share, flags
    ) -> CheckGrade:
        mode = _mode(check.checker)
        grade = CheckGrade(check.checker, mode, "not graded", 0.0, share)
        if session.remaining() <= 0:
            grade.message = (
                "not graded: the time limit for the whole notebook was reached."
            )
            return grade
        if any(d.get("kind") == "missing" for d in described.values()):
            grade.status = "missing"
            missing = [n for n, d in described.items() if d.get("kind") == "missing"]
            grade.message = (
                "not checked: " + ", ".join(f"`{n}`" for n in missing) + " not defined."
            )
            return grade
        try:
            if mode == "isolated":
                verdict = self._isolated(exercise, check, session, described)
            else:
                verdict = self._in_kernel(exercise, check, session)
        except (
            Exception,
            GraderError,
        ) as error:  # the grader's own trouble, never the student's
            grade.message = (
                "not graded: the grader could not run this check "
                f"({type(error).__name__}: {error})."
            )
            verdict = None
        if not session.sandbox.alive:
            session.recover()
        if verdict is None:
            return grade
        grade.status, grade.cases, grade.total, grade.message = verdict
        grade.points = round(
            share
            * fraction(grade.status, grade.cases, grade.total, self.options.partial),
            2,
        )
        if mode == "in-kernel":
            grade.message += (
                "\n(checked inside the notebook's own kernel: this checker's arguments "
                "cannot be sent between processes.)"
            )
            if flags:
                grade.message += (
                    "\n(flagged for review: "
                    "the notebook changes checkers or libraries.)"
                )
        return grade

    def _isolated(self, exercise, check, session: Session, described) -> tuple:
        namespace = dict(self.given[exercise.label])
        for name, info in described.items():
            if info.get("kind") == "callable":
                namespace[name] = Remote(session, name, info)
            else:
                try:
                    namespace[name] = codec.decode(info.get("value"))
                except codec.DecodeError:
                    namespace[name] = codec.Opaque(
                        "<an answer the grader could not read>"
                    )
        with self._own_time_limits():
            result = eval(
                compile(check.expression, f"<{exercise.label}>", "eval"), namespace
            )
        return result.status, int(result.cases), int(result.total), result.message

    @contextlib.contextmanager
    def _own_time_limits(self):
        """Let the grader's limits decide, not the checker's (meant for a learner's cell).

        In a notebook a checker stops a call after a few seconds and checks a slow
        function on fewer cases. Here every call crosses to the student's kernel, the
        grader stops a call itself (and can say where it was stopped), and every case is
        graded: the checker's limits are set above the grader's for the check.
        """
        from labs.check import _core

        saved = _core.CALL_LIMIT, _core.BUDGET
        _core.CALL_LIMIT = self.options.call_timeout + 10
        _core.BUDGET = float("inf")
        try:
            yield
        finally:
            _core.CALL_LIMIT, _core.BUDGET = saved

    def _in_kernel(self, exercise, check, session: Session) -> tuple:
        setup = "\n".join(
            [self.chapter.imports, "from labs import check", exercise.given]
        )
        try:
            answer = session.run_check(setup, check.expression)
        except TimeLimit:
            return (
                "failed",
                0,
                0,
                f"✘ {check.checker}: failed: the check did not finish in time.",
            )
        except KernelDied as error:
            return "failed", 0, 0, f"✘ {check.checker}: failed: {error}"
        if "error" in answer:
            error = codec.exception(answer["error"])
            return (
                "failed",
                0,
                0,
                f"✘ {check.checker}: failed: running it raised {type(error).__name__}: {error}",
            )
        status = answer.get("status")
        cases, total, message = (
            answer.get("cases"),
            answer.get("total"),
            answer.get("message"),
        )
        if (
            status not in ("passed", "failed", "not attempted")
            or type(cases) is not int
            or type(total) is not int
            or type(message) is not str
        ):
            return (
                "failed",
                0,
                0,
                f"✘ {check.checker}: failed: the check gave no readable verdict.",
            )
        total = max(0, min(total, 10_000))
        return status, max(0, min(cases, total)), total, message[:20_000]


def _mode(checker: str) -> str:
    return "in-kernel" if checker in IN_KERNEL else "isolated"


def _tampering(cells) -> list[str]:
    found = []
    for cell in cells:
        for match in TAMPERING.finditer(cell.source):
            line = cell.source[: match.start()].count("\n")
            text = (
                cell.source.splitlines()[line].strip()
                if cell.source.splitlines()
                else ""
            )
            found.append(f"cell {cell.index + 1}: `{text[:100]}`")
            break
    if not found:
        return []
    return [
        "the notebook redefines or patches the checker, labs, torch or numpy ("
        + "; ".join(found[:5])
        + "). Checks run in the grader's process are not affected; checks run inside "
        "the kernel are flagged for review."
    ]


def _cell_notes(session: Session) -> list[str]:
    notes = []
    for index, outcome in sorted(session.outcomes.items()):
        where = f"cell {index + 1}"
        if outcome.status == "error":
            notes.append(f"{where} raised {outcome.ename}: {outcome.evalue[:300]}")
        elif outcome.status == "timeout":
            notes.append(
                f"{where} ran longer than the time limit and was stopped"
                + (
                    " (the kernel had to be restarted without it)."
                    if outcome.killed
                    else "."
                )
            )
        elif outcome.status == "died":
            notes.append(
                f"{where} stopped the Python kernel; the notebook was run again without it."
            )
        if outcome.output_chars > 1_000_000:
            notes.append(
                f"{where} printed {outcome.output_chars:,} characters; only the start was kept."
            )
    return notes


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))
    }


def _restore(root: Path, files: dict[str, bytes]) -> list[str]:
    """Put back any course file a submission changed or deleted; remove ones it added."""
    changed = []
    for name, data in files.items():
        path = root / name
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if not same:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            changed.append(f"labs/{name}")
    for path in root.rglob("*.py"):
        name = str(path.relative_to(root))
        if name not in files:
            path.unlink()
            changed.append(f"labs/{name} (added)")
    return changed
