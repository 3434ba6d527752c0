"""The one shape of every checker: an :class:`Exercise`, declared once, and the runner.

An exercise is declared once, as data:

- its **cases** (a list, or a :class:`Cases` built lazily), each a :class:`Case` that
  holds the arguments for the learner's function and the expected answer, computed
  with PyTorch;
- how to **compare** the learner's answer with the expected one (type, shape,
  finiteness, values, in that order), raising :class:`Mismatch`;
- its usual **mistakes**, each a :class:`Mistake`: a name, a hint, and the answer the
  mistake gives on a case.

:func:`check` does the rest, the same way for every checker:

1. it runs under :func:`~labs.check._guard.known_state` (grad mode on, numpy's default
   error state and print options, random states kept) and restores the learner's
   state afterwards;
2. it calls the learner's code on *copies* of each case's arguments, with a time limit
   per call (:data:`CALL_LIMIT`) and its printed output captured; an exception
   becomes a verdict (never a traceback), ``NotImplementedError`` means "not attempted
   yet", a modified argument is reported;
3. it compares, case by case, and stops at the first case that fails;
4. for a wrong shape or wrong values it names a mistake only when the mistake
   reproduces the learner's answers on **every** case (the answers already given are
   remembered, the others computed once); otherwise it says plainly what differs;
5. it keeps to a time budget (:data:`BUDGET`): a correct but slow function is checked
   on as many cases as fit, spread over all of them, and the verdict says so.

Floating-point answers are compared element by element as ``np.allclose`` does::

    |got - expected| <= ATOL + RTOL * |expected|,   RTOL = 1e-6, ATOL = 1e-8

Everything is float64, so a correct solution is off by about 1e-15; anything beyond the
tolerance is a real mistake, and an answer that agrees only to float32 precision was
computed in float32 somewhere (see :mod:`labs.check._compare`).
"""

from __future__ import annotations

import collections
import contextlib
import io
import linecache
import numbers
import os
import re
import sysconfig
import time
import tokenize
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from labs.check._guard import Output, TimeLimit, known_state, time_limit
from labs.check._result import Detail, Result, finish
from labs.check._text import (
    describe_exception,
    describe_value,
    first_line,
    literal,
    type_phrase,
)

# Seconds a single call of the learner's code may take before it is stopped.
CALL_LIMIT = 5.0
# Seconds of the learner's code per checker run; beyond, cases are thinned out.
BUDGET = 10.0
# Seconds of the learner's code spent, after a failure, to confirm a mistake's hint.
EVIDENCE_BUDGET = 3.0

NO_ANSWER = type("NoAnswer", (), {"__repr__": lambda self: "NO_ANSWER"})()
OUT_OF_TIME = type("OutOfTime", (), {"__repr__": lambda self: "OUT_OF_TIME"})()


# --- Cases ------------------------------------------------------------------------------


class Case:
    """One call of the learner's function.

    ``positional`` and ``keywords`` map argument names to values, in call order; the
    first are passed by position (so learners may name their parameters as they like),
    the second by keyword. ``info`` holds whatever else the checker needs (the expected
    answer as ``expected``, a seed, ...). ``label`` replaces the list of arguments in a
    verdict (a graph is described in words); ``headline`` replaces "failed on case n of
    N." when this case fails.
    """

    def __init__(
        self,
        positional=(),
        keywords=(),
        *,
        label: str | None = None,
        headline: str | None = None,
        **info,
    ):
        self.positional = dict(positional)
        self.keywords = dict(keywords)
        self.label = label
        self.headline = headline
        self.info = info

    @property
    def arguments(self) -> dict:
        return {**self.positional, **self.keywords}

    @property
    def expected(self):
        return self.info.get("expected")

    def __getitem__(self, name):
        return self.arguments[name]

    def get(self, name, default=None):
        return self.arguments.get(name, default)

    def __contains__(self, name) -> bool:
        return name in self.arguments

    def describe(self) -> str:
        if self.label is not None:
            return self.label
        return ", ".join(describe_value(name, v) for name, v in self.arguments.items())


class Cases(Sequence):
    """A checker's cases, built one at a time as the run reaches them.

    Each case may cost a PyTorch computation; a stub or an early mistake stops the run
    at the first case or so, and the others are never built. ``len`` is known in
    advance (for "case 3 of 16"); ``generate()`` yields at least ``count`` cases.
    """

    def __init__(self, count: int, generate: Callable[[], Iterable[Case]]):
        self.count = count
        self._generate = generate
        self._built: list[Case] = []
        self._source = None

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Case:
        if not 0 <= index < self.count:
            raise IndexError(index)
        if self._source is None:
            self._source = iter(self._generate())
        while len(self._built) <= index:
            self._built.append(next(self._source))
        return self._built[index]

    @property
    def built(self) -> int:
        """How many cases have been built so far."""
        return len(self._built)


# --- How a case can go wrong ------------------------------------------------------------


class Mismatch(Exception):
    """Internal: the learner's answer to one case is wrong. Never leaves a checker.

    ``problem`` is one sentence; ``details`` are extra labelled lines (expected, got,
    error). ``diagnosable`` marks a wrong shape or wrong values, for which the runner
    looks for a mistake that explains them; ``part`` says which part of a composite
    answer is wrong (the gradient of the second input: 1). ``timeout`` marks a call
    that was stopped by its time limit.
    """

    def __init__(
        self,
        problem: str,
        *,
        details: Iterable = (),
        expected=None,
        got=None,
        hint: str | None = None,
        diagnosable: bool = False,
        part: int | None = None,
        timeout: bool = False,
    ):
        super().__init__(problem)
        self.problem = problem
        self.details = list(details)
        self.expected = expected
        self.got = got
        self.hint = hint
        self.diagnosable = diagnosable
        self.part = part
        self.timeout = timeout
        self.mistake: str | None = None  # the usual mistake the hint names, if any


class NotAttempted(Exception):
    """Internal: the learner's code raised ``NotImplementedError``.

    ``where`` names the part that is missing when it is more specific than "your
    function" (e.g. "backward"); ``todo`` replaces the advice to remove the ``raise``
    when the missing part is a value rather than code (e.g. a prediction left as None).
    """

    def __init__(
        self,
        error: BaseException | None = None,
        where: str | None = None,
        todo: str | None = None,
    ):
        super().__init__(where)
        self.error = error
        self.where = where
        self.todo = todo


class Impossible(Exception):
    """Raised by a :class:`Mistake` that cannot be made on a case (no evidence there)."""


class Refused:
    """The answer of a function that refused, as the exercise asks, with an exception of
    one of the exercise's ``refusals`` types raised by a ``raise`` of its own."""

    def __init__(self, error: BaseException):
        self.error = error

    def __eq__(self, other) -> bool:
        return isinstance(other, Refused)

    def __hash__(self) -> int:
        return hash(Refused)

    def __repr__(self) -> str:
        return type(self.error).__name__


# --- Exercises and their mistakes -------------------------------------------------------


class Mistake:
    """A usual mistake: its ``name``, its ``hint``, and the answer it ``gives`` on a case.

    ``gives(case)`` computes what a learner making this mistake (and no other) would
    return; it raises :class:`Impossible` (or any exception) where the mistake cannot
    be made, and that case then gives no evidence either way. ``hint`` is a sentence,
    or a function of the failing case returning one. With ``part`` set, the mistake is
    about one part of a composite answer (``Exercise.parts(answer)[part]``), e.g. the
    gradient of one input.
    """

    __slots__ = ("name", "hint", "gives", "part")

    def __init__(
        self,
        name: str,
        hint,
        gives: Callable[[Case], object],
        *,
        part: int | None = None,
    ):
        self.name, self.hint, self.gives, self.part = name, hint, gives, part

    @classmethod
    def formula(cls, name: str, hint, formula: Callable, **keywords) -> Mistake:
        """A mistake in a formula: ``formula`` takes the case's positional arguments."""
        return cls(
            name, hint, lambda case: formula(*case.positional.values()), **keywords
        )

    def hint_for(self, case: Case) -> str:
        return self.hint(case) if callable(self.hint) else self.hint

    def __repr__(self) -> str:
        return f"Mistake({self.name!r})"


def _no_fact(case: Case, got, wrong: Mismatch) -> None:
    return None


class Exercise:
    """One exercise, declared once; :func:`check` runs it.

    ``name``
        the checker's name in verdicts.
    ``cases``
        a sequence of :class:`Case` (or a :class:`Cases`), or a function returning one.
    ``compare(answer, case)``
        raises :class:`Mismatch` unless ``answer`` is right for ``case``.
    ``mistakes``
        the usual mistakes: a sequence of :class:`Mistake`, or a function
        ``(case, answer) -> mistakes`` for mistakes fitted to the failing answer (a
        constant factor). Earlier ones are named first.
    ``describe(case, answer, mismatch)``
        a sentence about a wrong answer that holds on the failing case alone (its shape
        is one too long), used when no mistake is confirmed; or None.
    ``locate(case, answer, learner)``
        a sentence that says where a wrong answer goes wrong, put before the hint (the
        first layer of a network after which a shape differs); it may ask the learner
        more with ``learner.try_answer(case)``.
    ``explain_error(case, error)``
        a hint for an exception raised by the learner's code, or None.
    ``answer(learner, case)``
        how to get the learner's answer to a case; by default
        ``learner.call(case)``, i.e. ``fn(*positional, **keywords)`` on copies.
    ``prepare(case)``
        called before each case is answered; may raise :class:`Mismatch` when the
        exercise itself cannot be computed (a broken ``f`` given by the exercise).
    ``same(a, b)``
        whether two answers agree, to test a mistake (default :func:`same_answer`).
    ``parts(answer)``
        the parts of a composite answer, for mistakes with a ``part``.
    ``refusals``
        exception types that are a right answer when the exercise asks for them (a
        padding that does not exist); see :class:`Refused`.
    ``mutation_hint(name, original)``
        the hint when an argument was modified in place.
    ``validate(fn)``
        a :class:`Mismatch` when ``fn`` is not what the checker takes (default: it
        must be callable).
    ``passed(count)``
        the summary of a verdict that passed every one of ``count`` cases.
    """

    def __init__(
        self,
        name: str,
        cases,
        compare: Callable,
        *,
        mistakes=(),
        describe: Callable = _no_fact,
        locate: Callable | None = None,
        explain_error: Callable | None = None,
        answer: Callable | None = None,
        prepare: Callable | None = None,
        same: Callable | None = None,
        parts: Callable | None = None,
        refusals: tuple = (),
        mutation_hint: Callable | None = None,
        validate: Callable | None = None,
        passed: Callable | None = None,
        role: str = "your function",
    ):
        self.name = name
        self._cases = cases
        self.compare = compare
        self._mistakes = mistakes
        self.describe = describe
        self.locate = locate
        self.explain_error = explain_error
        self.answer = answer or (lambda learner, case: learner.call(case))
        self.prepare = prepare
        self.same = same or same_answer
        self.parts = parts or (lambda answer: answer)
        self.refusals = tuple(refusals)
        self.mutation_hint = mutation_hint or default_mutation_hint
        self.validate = validate or require_callable
        self.passed = passed or _passed_summary
        self.role = role

    def cases(self) -> Sequence[Case]:
        return self._cases() if callable(self._cases) else self._cases

    def mistakes(self, case: Case, answer) -> list[Mistake]:
        if callable(self._mistakes):
            return list(self._mistakes(case, answer) or ())
        return list(self._mistakes)


def _passed_summary(count: int) -> str:
    return "passed." if count == 1 else f"passed all {count} cases."


def require_callable(fn) -> Mismatch | None:
    """The usual validation: the learner passed a function (not its result)."""
    if callable(fn):
        return None
    return Mismatch(
        f"expected your function, got {type_phrase(fn)}.",
        got=fn,
        hint="pass the function itself, without calling it: `my_function`, not "
        "`my_function(...)`.",
    )


def same_answer(a, b) -> bool:
    """Whether two answers agree: numbers and arrays within the tolerance (shapes
    exactly), sequences element by element, refusals with refusals, else ``==``."""
    if isinstance(a, Refused) or isinstance(b, Refused):
        return isinstance(a, Refused) and isinstance(b, Refused)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, torch.Tensor):
        a = a.detach().numpy()
    if isinstance(b, torch.Tensor):
        b = b.detach().numpy()
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(map(same_answer, a, b))
    if isinstance(a, (tuple, list)) != isinstance(b, (tuple, list)):
        return False
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return bool(a == b)
    with np.errstate(all="ignore"):
        return x.shape == y.shape and bool(
            np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True)
        )


RTOL = 1e-6
ATOL = 1e-8


# --- The learner's code, called safely --------------------------------------------------


class Learner:
    """The learner's code as the runner calls it: safely, quietly, in bounded time.

    Every answer is remembered by case number, so that confirming a hint never runs
    the learner's function twice on a case. ``spent`` is the time spent in the
    learner's code, ``output`` what it printed.
    """

    def __init__(self, fn, exercise: Exercise):
        self.fn = fn
        self.exercise = exercise
        self.answers: dict[int, object] = {}
        self.spent = 0.0  # seconds in the learner's code, in all
        self.extra_spent = 0.0  # of which outside the run (to confirm a hint)
        self.output = Output()
        self.call_limit = CALL_LIMIT

    def run(
        self,
        thunk: Callable,
        *,
        case: Case | None = None,
        role: str | None = None,
        where: str | None = None,
    ):
        """Run ``thunk`` (the learner's code) with its time limit and output captured.

        ``NotImplementedError`` raises :class:`NotAttempted` (``where`` names the part
        that is missing, e.g. "backward"); a refusal the exercise asks for returns
        :class:`Refused`; any other exception, and running out of time, raise
        :class:`Mismatch`, with the exercise's hint for the error if it has one.
        KeyboardInterrupt and SystemExit pass.
        """
        role = role or self.exercise.role
        try:
            # grad mode on again for each call: the code before may have switched it
            # off for good (torch.set_grad_enabled(False)), and the oracle needs it
            with (
                self.output.capture(),
                torch.enable_grad(),
                time_limit(self.call_limit),
            ):
                start = time.perf_counter()  # the learner's time, not the set-up's
                try:
                    return thunk()
                finally:
                    self.spent += time.perf_counter() - start
        except TimeLimit:
            raise Mismatch(
                f"{role} did not return within {self.call_limit:g} s.",
                hint="look for a loop that never ends: a `while` loop whose condition "
                "stays true, or a search that keeps coming back to the same items.",
                timeout=True,
            ) from None
        except NotImplementedError as error:
            raise NotAttempted(error, where=where) from None
        except Exception as error:
            if isinstance(error, self.exercise.refusals) and raised_by_learner(error):
                return Refused(error)
            hint = None
            if self.exercise.explain_error is not None:
                hint = safe(self.exercise.explain_error, case, error)
            if hint is None and isinstance(error, self.exercise.refusals):
                hint = _accidental_refusal_hint(error)
            raise exception_mismatch(error, role, hint) from None

    def call(
        self,
        case: Case,
        fn: Callable | None = None,
        *,
        role: str | None = None,
        requires_grad: bool = False,
    ):
        """``fn(*positional, **keywords)`` (default: the learner's function) on copies of
        the case's arguments; a modified argument raises :class:`Mismatch`."""
        fn = self.fn if fn is None else fn
        role = role or self.exercise.role
        positional = {
            n: copy_value(v, requires_grad) for n, v in case.positional.items()
        }
        keywords = {n: copy_value(v, requires_grad) for n, v in case.keywords.items()}
        answer = self.run(
            lambda: fn(*positional.values(), **keywords), case=case, role=role
        )
        copies = {**positional, **keywords}
        for name, original in case.arguments.items():
            if not unchanged(copies[name], original):
                raise Mismatch(
                    f"{role} modified its argument `{name}` in place.",
                    got=answer,
                    hint=self.exercise.mutation_hint(name, original),
                )
        self.copies = copies
        return answer

    def extra_answer(self, case: Case):
        """The learner's answer to a case outside the run (to confirm a hint, or to
        locate a mistake), within what is left of :data:`EVIDENCE_BUDGET`.

        Returns :data:`NO_ANSWER` when the code raised, :data:`OUT_OF_TIME` when the
        budget is spent or the call was stopped.
        """
        left = EVIDENCE_BUDGET - self.extra_spent
        if left <= 0:
            return OUT_OF_TIME
        saved_limit, start = self.call_limit, self.spent
        self.call_limit = min(saved_limit, left)
        try:
            if self.exercise.prepare is not None:
                self.exercise.prepare(case)
            return self.exercise.answer(self, case)
        except Mismatch as stop:
            return OUT_OF_TIME if stop.timeout else NO_ANSWER
        except Exception:  # NotAttempted, or the case cannot be prepared
            return NO_ANSWER
        finally:
            self.call_limit = saved_limit
            self.extra_spent += self.spent - start

    def try_answer(self, case: Case):
        """The learner's answer to an extra case, or :data:`NO_ANSWER`."""
        answer = self.extra_answer(case)
        return NO_ANSWER if answer is OUT_OF_TIME else answer


def safe(function: Callable, *args):
    """Call a hint finder; a hint is a bonus, so failing to find one is no error (and
    the checker's arithmetic warns nobody)."""
    try:
        with no_warnings():
            return function(*args)
    except Exception:
        return None


def copy_value(value, requires_grad: bool = False):
    """A copy the learner may change without changing the case."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(requires_grad)
    if isinstance(value, (tuple, list)):
        return type(value)(copy_value(v, requires_grad) for v in value)
    return value


def unchanged(copy, original) -> bool:
    if isinstance(original, np.ndarray):
        return (
            isinstance(copy, np.ndarray)
            and copy.shape == original.shape
            and copy.dtype == original.dtype
            and np.array_equal(copy, original, equal_nan=True)
        )
    if isinstance(original, torch.Tensor):
        return (
            isinstance(copy, torch.Tensor)
            and copy.shape == original.shape
            and copy.dtype == original.dtype
            and torch.equal(copy.detach(), original.detach())
        )
    if isinstance(original, (tuple, list)):
        return (
            type(copy) is type(original)
            and len(copy) == len(original)
            and all(map(unchanged, copy, original))
        )
    try:
        return bool(copy == original)
    except Exception:  # values that cannot be compared: nothing to report
        return True


def default_mutation_hint(name: str, original) -> str:
    if isinstance(original, torch.Tensor):
        return (
            "compute new tensors instead of changing the input: e.g. `x.clamp(min=0)`, "
            "not `x.clamp_(min=0)`; `y = x * 2`, not `x *= 2`."
        )
    if isinstance(original, list):
        return (
            f"`{name}.pop()`, `{name}.reverse()` and `del {name}[0]` change the "
            f"caller's list. Read it without changing it, or work on a copy "
            f"(`list({name})`)."
        )
    return (
        "`x += ...`, `x[...] = ...` and `np.copyto` change the caller's array. Write "
        "the result into a new array (np.zeros(...)), or work on a copy "
        "(`x = x.copy()`)."
    )


# --- Exceptions from the learner's code -------------------------------------------------


def exception_mismatch(
    error: BaseException, role: str, hint: str | None = None
) -> Mismatch:
    """A :class:`Mismatch` naming the exception and the learner's line that raised."""
    details = []
    where = learner_line(error)
    if where:
        details.append(("where", where))
    if "Inference tensor" in str(error):
        hint = _INFERENCE_HINT
    return Mismatch(
        f"{role} raised {describe_exception(error)}", details=details, hint=hint
    )


_INFERENCE_HINT = (
    "a tensor used here was created inside `torch.inference_mode()`, and such a tensor "
    "can never take part in a gradient computation. Run the cell that creates it again "
    "outside inference mode (the checker itself always runs with gradients on)."
)


def _library_dirs() -> tuple[str, ...]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # labs
    dirs = [here, os.path.dirname(np.__file__), os.path.dirname(torch.__file__)]
    dirs += [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    return tuple(os.path.join(d, "") for d in dirs)


def _is_library(filename: str) -> bool:
    filename = os.path.abspath(filename)
    return filename.startswith(_library_dirs()) or filename.startswith("<frozen")


def _learner_frames(error: BaseException) -> list:
    frames, traceback = [], error.__traceback__
    while traceback is not None:
        if not _is_library(traceback.tb_frame.f_code.co_filename):
            frames.append(traceback)
        traceback = traceback.tb_next
    return frames


def learner_line(error: BaseException) -> str:
    """'in my_conv1d, line 7: out[n] = ...' for the innermost frame of learner code."""
    frames = _learner_frames(error)
    if not frames:
        return ""
    frame = frames[-1]
    code = frame.tb_frame.f_code
    source = linecache.getline(code.co_filename, frame.tb_lineno).strip()
    where = f"in {code.co_name}, line {frame.tb_lineno}"
    return f"{where}: {literal(source)}" if source else where


# The messages of exceptions Python and numpy raise by themselves.
_BUILTIN_MESSAGES = (
    "values to unpack",
    "cannot unpack",
    "invalid literal",
    "math domain error",
    "could not convert",
    "is not in list",
    "could not broadcast",
    "operands could not",
    "cannot reshape",
    "setting an array element",
)


def raised_by_learner(error: BaseException) -> bool:
    """Whether ``error`` comes from a ``raise`` statement in the learner's own code,
    rather than from Python or a library (an unpacking or conversion error)."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    filename = traceback.tb_frame.f_code.co_filename
    if _is_library(filename):
        return False
    line = linecache.getline(filename, traceback.tb_lineno).strip()
    if line:
        return _has_raise(line)
    message = str(error)
    return not any(text in message for text in _BUILTIN_MESSAGES)


def _has_raise(line: str) -> bool:
    """Whether a line of source holds a ``raise`` statement (not in a comment or a
    string): ``raise ValueError(...)``, ``if odd: raise ValueError``."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return bool(re.search(r"\braise\b", line.split("#")[0]))
    return any(t.type == tokenize.NAME and t.string == "raise" for t in tokens)


def _accidental_refusal_hint(error: BaseException) -> str:
    name = type(error).__name__
    return (
        f"this {name} does not come from a `raise {name}(...)` of yours: Python or a "
        f"library raised it while running your code. Refuse with an explicit "
        f"`raise {name}(...)` where the answer does not exist, and only there."
    )


# --- The runner ---------------------------------------------------------------------------


def check(exercise: Exercise, fn, *, raise_on_failure: bool = False) -> Result:
    """Run ``exercise`` on the learner's ``fn`` and return the verdict (see the module
    docstring); with ``raise_on_failure``, a verdict that did not pass raises
    :class:`~labs.check._result.CheckFailed`."""
    with known_state():
        result = _Run(exercise, fn).result()
    return finish(result, raise_on_failure)


class _Plan:
    """The order in which cases are run: all of them, unless time runs short.

    After each case, the time spent so far in the learner's code is extrapolated to
    the cases left; when that would exceed :data:`BUDGET`, only as many of the
    remaining cases as fit are kept, evenly spread over them (so that later kinds of
    cases are still checked).
    """

    def __init__(self, total: int):
        self.total = total
        self.queue = collections.deque(range(total))
        self.done = 0
        self.thinned = False

    def __iter__(self):
        while self.queue:
            yield self.queue.popleft()

    def after_case(self, spent: float) -> None:
        self.done += 1
        left = len(self.queue)
        if self.thinned or not left or spent + spent / self.done * left <= BUDGET:
            return
        self.thinned = True
        affordable = max(0, int((BUDGET - spent) / (spent / self.done)))
        if affordable < left:
            picks = np.linspace(0, left - 1, num=affordable).round().astype(int)
            remaining = list(self.queue)
            self.queue = collections.deque(remaining[i] for i in sorted(set(picks)))


class _Run:
    """One run of one exercise on one learner's function."""

    def __init__(self, exercise: Exercise, fn):
        self.exercise = exercise
        self.name = exercise.name
        self.fn = fn
        self.learner = Learner(fn, exercise)

    def result(self) -> Result:
        problem = self.exercise.validate(self.fn)
        if problem is not None:
            return failed(self.name, problem)
        try:
            cases = self.exercise.cases()
        except Mismatch as wrong:
            return failed(self.name, wrong)
        total = len(cases)
        plan = _Plan(total)
        for index in plan:
            outcome = self._case(cases, index, total)
            if outcome is not None:
                return outcome
            plan.after_case(self.learner.spent)
        return self._passed(total, plan)

    def _case(self, cases, index: int, total: int) -> Result | None:
        """Run case ``index``; None when it passed, else the verdict."""
        exercise, learner = self.exercise, self.learner
        number, answer = index + 1, NO_ANSWER
        try:
            case = cases[index]
        except NotAttempted as stop:
            return not_attempted(
                self.name, stop, number=number, total=total, case=Case()
            )
        except Mismatch as wrong:
            return failed(self.name, wrong, number=number, total=total)
        try:
            if exercise.prepare is not None:
                exercise.prepare(case)
        except NotAttempted as stop:
            return not_attempted(self.name, stop, number=number, total=total, case=case)
        except Mismatch as wrong:  # the exercise cannot be computed on this case
            return failed(
                self.name,
                wrong,
                number=number,
                total=total,
                case=case,
                summary=f"failed on case {number} of {total}."
                if total != 1
                else "failed.",
            )
        try:
            try:
                answer = exercise.answer(learner, case)
                learner.answers[index] = answer
                exercise.compare(answer, case)
            except (Mismatch, NotAttempted):
                raise
            except Exception as error:  # an answer too strange to be read
                what = "the answer" if answer is NO_ANSWER else type_phrase(answer)
                raise Mismatch(
                    f"the checker could not compare {what} from {exercise.role} with "
                    f"the expected answer ({describe_exception(error)}).",
                    hint="return the kind of value the exercise asks for.",
                ) from None
        except NotAttempted as stop:
            return not_attempted(self.name, stop, number=number, total=total, case=case)
        except Mismatch as wrong:
            printed = learner.output.last
            if wrong.expected is None:
                wrong.expected = case.expected
            if wrong.got is None and answer is not NO_ANSWER:
                wrong.got = answer
            if wrong.diagnosable and wrong.hint is None and answer is not NO_ANSWER:
                wrong.hint, wrong.mistake = self._hint(
                    cases, index, case, answer, wrong
                )
            return failed(
                self.name, wrong, number=number, total=total, case=case, printed=printed
            )
        return None

    # --- hints ---

    def _hint(self, cases, index: int, case: Case, answer, wrong: Mismatch):
        """(hint, the name of the mistake it names or None): where the answer goes
        wrong (if the exercise can tell), then the mistake's hint or a fact."""
        where = None
        if self.exercise.locate is not None:
            where = safe(self.exercise.locate, case, answer, self.learner)
        hint, mistake = self._mistake_hint(cases, index, case, answer, wrong)
        return " ".join(part for part in (where, hint) if part) or None, mistake

    def _mistake_hint(self, cases, index: int, case: Case, answer, wrong: Mismatch):
        """The hint of a mistake that reproduces the learner's answer on every case
        (and the mistake's name), else a statement about this answer alone."""
        exercise = self.exercise
        mistakes = safe(exercise.mistakes, case, answer) or []
        candidates = [
            m
            for m in mistakes
            if (m.part is None or m.part == wrong.part)
            and self._agrees(m, case, answer) is True
        ]
        if candidates:
            evidence = self._evidence(cases, index)
            if evidence is not None:
                for mistake in candidates:
                    if all(
                        self._agrees(mistake, other, given) is not False
                        for other, given in evidence
                    ):
                        return safe(mistake.hint_for, case), mistake.name
        return safe(exercise.describe, case, answer, wrong), None

    def _agrees(self, mistake: Mistake, case: Case, answer) -> bool | None:
        """Whether ``mistake`` gives ``answer`` on ``case``; None: no evidence."""
        if answer is NO_ANSWER:
            return None
        return safe(self._agreement, mistake, case, answer)

    def _agreement(self, mistake: Mistake, case: Case, answer) -> bool | None:
        predicted = mistake.gives(case)  # may raise: the mistake is impossible here
        if predicted is None:
            return None
        if mistake.part is not None:
            answer = self.exercise.parts(answer)[mistake.part]
        return bool(self.exercise.same(predicted, answer))

    def _evidence(self, cases, failing: int) -> list | None:
        """(case, learner's answer) for every other case, or None if time ran out.

        Answers already given are reused; the others are computed once each, with
        their output captured. A case the learner's code could not answer (it raised)
        holds :data:`NO_ANSWER`, which is evidence neither way.
        """
        learner, pairs = self.learner, []
        for index in range(len(cases)):
            if index == failing:
                continue
            try:
                case = cases[index]
            except Exception:  # the exercise cannot build this case: no evidence
                continue
            if index not in learner.answers:
                answer = learner.extra_answer(case)
                if answer is OUT_OF_TIME:
                    return None
                learner.answers[index] = answer
            pairs.append((case, learner.answers[index]))
        return pairs

    # --- verdicts ---

    def _passed(self, total: int, plan: _Plan) -> Result:
        details = []
        if plan.thinned:
            per_case = self.learner.spent / max(plan.done, 1)
            summary = (
                f"passed {plan.done} of {total} cases in the time budget "
                f"({BUDGET:g} s): your function takes {_duration(per_case)} per case."
            )
            details.append(
                (
                    "note",
                    f"checking all {total} cases would take about "
                    f"{_duration(per_case * total)}; the {plan.done} checked were spread "
                    "over all kinds of cases. Make your function faster to have every case "
                    "checked.",
                )
            )
        else:
            summary = self.exercise.passed(total)
        output = self.learner.output
        if output.total:
            lines = f"{output.total:,} line" + ("" if output.total == 1 else "s")
            details.append(
                Detail(
                    "printed",
                    [
                        f"(your code printed {lines} during the check; the first:)",
                        *output.first,
                    ],
                    block=True,
                )
            )
        return Result(
            self.name, "passed", summary, cases=plan.done, total=total, details=details
        )


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    milliseconds = seconds * 1000
    if milliseconds >= 1:
        return (
            f"{milliseconds:.2g} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"
        )
    return f"{seconds * 1e6:.2g} µs"


def failed(
    name: str,
    wrong: Mismatch,
    *,
    number: int | None = None,
    total: int | None = None,
    case: Case | None = None,
    summary: str | None = None,
    printed: list[str] | None = None,
) -> Result:
    """The verdict for a :class:`Mismatch` on case ``number`` (or before any case)."""
    if summary is None and case is not None and case.headline is not None:
        summary = case.headline
    if summary is None:
        summary = (
            f"failed on case {number} of {total}."
            if number and total != 1
            else ("failed.")
        )
    details = []
    if case is not None and (case.arguments or case.label):
        details.append(("case", case.describe()))
    details.append(("problem", wrong.problem))
    details.extend(wrong.details)
    if printed:
        details.append(Detail("printed", printed, block=True))
    return Result(
        name,
        "failed",
        summary,
        cases=number or 0,
        total=total or 0,
        details=details,
        case=None if case is None else case.arguments,
        expected=wrong.expected,
        got=wrong.got,
        hint=wrong.hint,
        mistake=wrong.mistake,
    )


def not_attempted(
    name: str, stop: NotAttempted, *, number: int, total: int, case: Case
) -> Result:
    """The verdict when the learner's code raised ``NotImplementedError``."""
    replace = stop.todo or (
        "replace the `raise NotImplementedError` with your code and run this cell "
        "again."
    )
    if number == 1 and stop.where is None:
        return Result(
            name, "not attempted", f"not attempted yet — {replace}", total=total
        )
    where = stop.where or "your code"
    problem = f"{where} raised NotImplementedError"
    message = first_line(stop.error) if stop.error is not None else ""
    if message:
        problem += f": {message}"
    details = []
    if case.arguments or case.label:
        details.append(("case", case.describe()))
    details.append(("problem", problem))
    return Result(
        name,
        "not attempted",
        f"not finished yet (case {number} of {total}) — {replace}",
        cases=number,
        total=total,
        details=details,
        case=case.arguments,
    )


@contextlib.contextmanager
def no_warnings():
    """Numpy errors and warnings ignored: for the checker's own arithmetic."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def is_integral(value) -> bool:
    """An int (Python's or numpy's), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )
