"""The verdict type and the safe runner shared by every checker.

Every checker follows the same steps for each case, in this order:

1. compute the expected answer with PyTorch, in float64, on the original inputs;
2. call the learner's function on *copies* of the inputs. An exception becomes a
   verdict (never a traceback); ``NotImplementedError`` means "not attempted yet";
3. check that the copies were not modified in place;
4. check the answer's type, then its shape, then that it is finite, then its values;
5. on a wrong shape or wrong values, look for a hint: does the answer equal what a
   common mistake would give on the same case?

The first failing case stops the run and is reported exactly: its arguments, what was
expected, what came back, and the hint if one was recognised.

Floating-point answers are compared element by element as ``np.allclose`` does::

    |got - expected| <= ATOL + RTOL * |expected|,   RTOL = 1e-6, ATOL = 1e-8

Everything is float64, so a correct solution is off by about 1e-15; anything beyond the
tolerance is a real mistake. Integer answers (output sizes) must be exactly equal.
"""

from __future__ import annotations

import html
import linecache
import numbers
import os
import re
import sysconfig
import textwrap
from collections.abc import Callable, Iterable

import numpy as np
import torch

RTOL = 1e-6
ATOL = 1e-8
TOLERANCE = f"|got − expected| ≤ {ATOL:g} + {RTOL:g}·|expected|"

# Arrays with at most this many elements are shown value by value in a verdict.
TINY = 9

_SYMBOL = {"passed": "✔", "failed": "✘", "not attempted": "…"}
_WORD = {"passed": "Passed", "failed": "Failed", "not attempted": "Not attempted yet"}
_COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "not attempted": "#757575"}
_LABEL_WIDTH = 10
_TEXT_WIDTH = 88


class CheckFailed(AssertionError):
    """Raised by :meth:`Result.raise_for_failure` when a check did not pass."""


class Result:
    """The verdict of a checker: truthy only if every case passed.

    Attributes: ``passed`` (bool), ``status`` ("passed", "failed" or "not attempted"),
    ``name`` (the checker, e.g. "conv1d"), ``cases`` (cases run, all of them passed
    when ``passed``), ``total`` (cases planned) and ``message`` (the plain-text
    verdict). For a failure also ``case`` (the arguments of the first failing case),
    ``expected``, ``got`` (the learner's answer, or None) and ``hint`` (str or None).
    """

    def __init__(
        self,
        name: str,
        status: str,
        summary: str,
        *,
        cases: int = 0,
        total: int = 0,
        details: Iterable[tuple[str, str]] = (),
        case: dict | None = None,
        expected=None,
        got=None,
        hint: str | None = None,
    ):
        if status not in _SYMBOL:
            raise ValueError(f"unknown status {status!r}")
        self.name = name
        self.status = status
        self.summary = summary
        self.cases = cases
        self.total = total
        self.details = tuple(details)
        self.case = case
        self.expected = expected
        self.got = got
        self.hint = hint

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def _lines(self) -> list[tuple[str, str]]:
        lines = list(self.details)
        if self.hint:
            lines.append(("hint", self.hint))
        return lines

    @property
    def message(self) -> str:
        """The plain-text verdict: a summary line, then one labelled line per detail."""
        text = [f"{_SYMBOL[self.status]} {self.name}: {self.summary}"]
        for label, value in self._lines():
            text.append(_labelled(label, value))
        return "\n".join(text)

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        head = (
            f"<strong>{_SYMBOL[self.status]} {_WORD[self.status]}</strong> "
            f"&middot; {html.escape(self.name)}: {html.escape(self.summary)}"
        )
        rows = "".join(
            f'<tr><td style="padding: 0 1em 0 0; vertical-align: top; border: none">'
            f"<em>{html.escape(label)}</em></td>"
            f'<td style="text-align: left; border: none; white-space: pre-wrap">'
            f"{html.escape(value)}</td></tr>"
            for label, value in self._lines()
        )
        table = f'<table style="margin: 0.3em 0 0 0">{rows}</table>' if rows else ""
        return (
            f'<div style="border-left: 0.3em solid {colour}; padding: 0.3em 0.8em; '
            f'margin: 0.3em 0; font-family: monospace">{head}{table}</div>'
        )

    def raise_for_failure(self) -> Result:
        """Raise :class:`CheckFailed` with the verdict unless every case passed."""
        if not self.passed:
            raise CheckFailed(self.message)
        return self


def _labelled(label: str, value: str) -> str:
    """One detail line, ``  label:   value``, wrapped with a hanging indent."""
    indent = " " * (2 + _LABEL_WIDTH)
    first = f"  {label + ':':<{_LABEL_WIDTH}}"
    return textwrap.fill(
        value,
        width=_TEXT_WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def finish(result: Result, raise_on_failure: bool) -> Result:
    """Return ``result``, or raise :class:`CheckFailed` if asked to and it failed."""
    return result.raise_for_failure() if raise_on_failure else result


# --- Cases and the two ways a case can stop a run -----------------------------------


class Case:
    """One call of the learner's function.

    ``positional`` and ``keywords`` map argument names to values, in call order; the
    first are passed by position (so learners may name their parameters as they like),
    the second by keyword. ``info`` holds whatever else the checker needs (the
    expected answer, a seed).
    """

    def __init__(self, positional=(), keywords=(), **info):
        self.positional = dict(positional)
        self.keywords = dict(keywords)
        self.info = info

    @property
    def arguments(self) -> dict:
        return {**self.positional, **self.keywords}

    def __getitem__(self, name):
        return self.arguments[name]

    def get(self, name, default=None):
        return self.arguments.get(name, default)

    def __contains__(self, name) -> bool:
        return name in self.arguments

    def describe(self) -> str:
        return ", ".join(describe_value(name, v) for name, v in self.arguments.items())


class Mismatch(Exception):
    """Internal: the learner's answer to one case is wrong. Never leaves a checker.

    ``problem`` is one sentence; ``details`` are extra labelled lines (expected, got,
    error). ``diagnosable`` marks a wrong shape or wrong values, for which the checker
    looks for a hint by comparing with common mistakes.
    """

    def __init__(
        self,
        problem: str,
        *,
        details: Iterable[tuple[str, str]] = (),
        expected=None,
        got=None,
        hint: str | None = None,
        diagnosable: bool = False,
    ):
        super().__init__(problem)
        self.problem = problem
        self.details = list(details)
        self.expected = expected
        self.got = got
        self.hint = hint
        self.diagnosable = diagnosable


class NotAttempted(Exception):
    """Internal: the learner's code raised ``NotImplementedError``.

    ``where`` names the part that is missing when it is more specific than "your
    function" (e.g. "backward"); ``todo`` replaces the advice to remove the ``raise``
    when the missing part is a value rather than code (e.g. a prediction left as None).
    """

    def __init__(self, error: BaseException | None = None, where: str | None = None,
                 todo: str | None = None):
        super().__init__(where)
        self.error = error
        self.where = where
        self.todo = todo


# --- The runner ---------------------------------------------------------------------


def run(name: str, cases: list[Case], check_case: Callable[[Case], None]) -> Result:
    """Run ``check_case`` on each case in order; stop at the first one that fails.

    ``check_case`` returns nothing when the case passed and raises :class:`Mismatch` or
    :class:`NotAttempted` otherwise.
    """
    total = len(cases)
    for number, case in enumerate(cases, start=1):
        try:
            check_case(case)
        except NotAttempted as stop:
            return not_attempted(name, stop, number=number, total=total, case=case)
        except Mismatch as wrong:
            return failed(name, wrong, number=number, total=total, case=case)
    summary = "passed." if total == 1 else f"passed all {total} cases."
    return Result(name, "passed", summary, cases=total, total=total)


def run_checker(
    name: str,
    fn: Callable,
    cases: list[Case],
    *,
    compare: Callable,
    diagnose: Callable | None = None,
    explain_error: Callable | None = None,
) -> Result:
    """The usual checker: call ``fn`` safely on each case and compare with the oracle.

    Each case carries its expected answer in ``case.info["expected"]``.
    ``compare(got, expected)`` checks type, shape, finiteness and values, raising
    :class:`Mismatch`. ``diagnose(case, got)`` returns a hint for a wrong shape or
    wrong values (or None); ``explain_error(case, error)`` a hint for an exception.
    """
    if not callable(fn):
        return not_callable(name, fn)

    def check_case(case: Case) -> None:
        expected, got = case.info["expected"], None
        try:
            got, _ = call_learner(fn, case, explain_error=explain_error)
            compare(got, expected)
        except Mismatch as wrong:
            wrong.expected = expected if wrong.expected is None else wrong.expected
            wrong.got = got if wrong.got is None else wrong.got
            if wrong.diagnosable and wrong.hint is None and diagnose is not None:
                wrong.hint = safe_hint(diagnose, case, wrong.got)
            raise

    return run(name, cases, check_case)


def not_callable(name: str, fn) -> Result:
    """The verdict when a checker is given something other than a function."""
    wrong = Mismatch(
        f"expected your function, got {type_phrase(fn)}.",
        got=fn,
        hint="pass the function itself, without calling it: `my_function`, not "
        "`my_function(...)`.",
    )
    return failed(name, wrong)


def safe_hint(diagnose: Callable, *args) -> str | None:
    """Call a hint finder; a hint is a bonus, so failing to find one is no error."""
    try:
        return diagnose(*args)
    except Exception:
        return None


def failed(
    name: str,
    wrong: Mismatch,
    *,
    number: int | None = None,
    total: int | None = None,
    case: Case | None = None,
    summary: str | None = None,
) -> Result:
    """The verdict for a :class:`Mismatch` on case ``number`` (or before any case)."""
    if summary is None:
        summary = f"failed on case {number} of {total}." if number else "failed."
    details = []
    if case is not None:
        details.append(("case", case.describe()))
    details.append(("problem", wrong.problem))
    details.extend(wrong.details)
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
    details = [
        ("case", case.describe()),
        ("problem", f"{where} raised NotImplementedError"),
    ]
    message = _first_line(stop.error) if stop.error is not None else ""
    if message:
        details[-1] = ("problem", f"{details[-1][1]}: {message}")
    return Result(
        name,
        "not attempted",
        f"not finished yet (case {number} of {total}) — {replace}",
        cases=number,
        total=total,
        details=details,
        case=case.arguments,
    )


# --- Calling the learner's code safely ----------------------------------------------


def call_learner(
    fn: Callable,
    case: Case,
    *,
    explain_error: Callable | None = None,
    role: str = "your function",
    requires_grad: bool = False,
) -> tuple[object, dict]:
    """Call ``fn`` on copies of the case's arguments; return (answer, the copies).

    The copies of torch tensors require grad when ``requires_grad`` is set. Raises
    :class:`NotAttempted` for ``NotImplementedError``, :class:`Mismatch` for any other
    exception and for a modified argument. KeyboardInterrupt and SystemExit pass.
    """
    positional = {name: _copy(v, requires_grad) for name, v in case.positional.items()}
    keywords = {name: _copy(v, requires_grad) for name, v in case.keywords.items()}
    try:
        answer = fn(*positional.values(), **keywords)
    except NotImplementedError as error:
        raise NotAttempted(error) from None
    except Exception as error:
        hint = safe_hint(explain_error, case, error) if explain_error else None
        raise exception_mismatch(error, role, hint) from None
    copies = {**positional, **keywords}
    for name, original in case.arguments.items():
        if not _unchanged(copies[name], original):
            raise Mismatch(
                f"{role} modified its argument `{name}` in place.",
                got=answer,
                hint=_mutation_hint(original),
            )
    return answer, copies


def learner_answer(fn: Callable, case: Case):
    """The learner's answer on ``case``, or None when the call raises or is refused."""
    try:
        return call_learner(fn, case)[0]
    except Exception:  # includes Mismatch and NotAttempted: this case gives no evidence
        return None


def likeliest_hint(
    fn: Callable, cases: list[Case], matching: list, agrees: Callable
) -> str | None:
    """The hint of the mistake in ``matching`` that best explains the learner's function.

    ``matching`` holds the common mistakes (objects with a ``hint``) that give the
    learner's wrong answer on the failing case. When several do, the learner's function
    is run on every case, and the mistake for which ``agrees(mistake, answer, case)``
    holds on the most cases is named (the first of equals). A case where ``agrees``
    raises counts as no agreement.
    """
    if len(matching) <= 1:
        return matching[0].hint if matching else None
    answers = [learner_answer(fn, other) for other in cases]

    def agreement(mistake) -> int:
        total = 0
        for answer, other in zip(answers, cases):
            try:
                total += bool(agrees(mistake, answer, other))
            except Exception:  # this mistake cannot be computed on this case
                continue
        return total

    return max(matching, key=agreement).hint


def exception_mismatch(
    error: Exception, role: str, hint: str | None = None
) -> Mismatch:
    """A :class:`Mismatch` naming the exception and the learner's line that raised."""
    details = []
    where = _learner_line(error)
    if where:
        details.append(("where", where))
    return Mismatch(
        f"{role} raised {describe_exception(error)}", details=details, hint=hint
    )


def describe_exception(error: BaseException) -> str:
    """``ValueError: the first line of the message`` without memory addresses."""
    message = _first_line(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    message = re.sub(r" at 0x[0-9a-fA-F]+", "", lines[0] if lines else "")
    return message if len(message) <= 200 else message[:199] + "…"


def _library_dirs() -> tuple[str, ...]:
    here = os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))
    )  # the labs package
    dirs = [here, os.path.dirname(np.__file__), os.path.dirname(torch.__file__)]
    dirs += [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    return tuple(os.path.join(d, "") for d in dirs)


def _learner_line(error: BaseException) -> str:
    """ "in my_conv1d, line 7: out[n] = ..." for the innermost frame of learner code."""
    libraries = _library_dirs()
    frame, traceback = None, error.__traceback__
    while traceback is not None:
        filename = os.path.abspath(traceback.tb_frame.f_code.co_filename)
        if not filename.startswith(libraries) and not filename.startswith("<frozen"):
            frame = traceback
        traceback = traceback.tb_next
    if frame is None:
        return ""
    code = frame.tb_frame.f_code
    source = linecache.getline(code.co_filename, frame.tb_lineno).strip()
    where = f"in {code.co_name}, line {frame.tb_lineno}"
    return f"{where}: {source}" if source else where


def _copy(value, requires_grad: bool = False):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(requires_grad)
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v, requires_grad) for v in value)
    return value


def _unchanged(copy, original) -> bool:
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
        return len(copy) == len(original) and all(map(_unchanged, copy, original))
    return True


def _mutation_hint(original) -> str:
    if isinstance(original, torch.Tensor):
        return (
            "compute new tensors instead of changing the input: e.g. `x.clamp(min=0)`, "
            "not `x.clamp_(min=0)`; `y = x * 2`, not `x *= 2`."
        )
    return (
        "`x += ...`, `x[...] = ...` and `np.copyto` change the caller's array. Write "
        "the result into a new array (np.zeros(...)), or work on a copy "
        "(`x = x.copy()`)."
    )


# --- Type, shape, finiteness, values -------------------------------------------------


def type_phrase(value) -> str:
    """'a float', 'a list', 'a torch.Tensor': a type named without any repr."""
    kind = type(value)
    if value is None:
        return "None"
    if kind.__module__ == "builtins":
        name = kind.__name__
    elif isinstance(value, torch.Tensor):
        name = "torch.Tensor"
    elif isinstance(value, np.ndarray):
        name = "numpy array"
    else:
        name = f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name}"


def none_mismatch(role: str = "your function") -> Mismatch:
    return Mismatch(
        f"{role} returned None.",
        hint="did you forget `return`? A function without `return` gives None.",
    )


def require_ndarray(got) -> np.ndarray:
    """Check that a numpy exercise returned a float64 numpy array."""
    if got is None:
        raise none_mismatch()
    if isinstance(got, (list, tuple)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not a numpy array.",
            got=got,
            hint="convert with np.asarray(...), or better, create the output with "
            "np.zeros(shape) and fill it in.",
        )
    if isinstance(got, torch.Tensor):
        raise Mismatch(
            "your function returned a torch.Tensor, not a numpy array.",
            got=got,
            hint="this exercise is about numpy: compute with numpy and return an "
            "np.ndarray (a tensor converts with `.numpy()`).",
        )
    if not isinstance(got, np.ndarray):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not a numpy array.", got=got
        )
    if got.dtype != np.float64:
        raise Mismatch(
            f"your output has dtype {got.dtype}; it should be float64, like the "
            "inputs.",
            got=got,
            hint=_dtype_hint(got.dtype),
        )
    return got


def _dtype_hint(dtype: np.dtype) -> str:
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return (
            "values stored in an integer array are rounded. Create the output with "
            "np.zeros(shape) (float64 by default), not with dtype=int or np.zeros_like "
            "of an integer array."
        )
    if dtype == np.float32:
        return "drop dtype=np.float32 (or .astype(np.float32)): keep float64 all along."
    return "create the output with np.zeros(shape), which is float64."


def index_text(label: str, index: tuple) -> str:
    return f"{label}[{', '.join(map(str, index))}]" if index else label


def number_text(value) -> str:
    return f"{float(value):.8g}"


def array_text(array: np.ndarray) -> str:
    """A small array on one line, e.g. ``[[1, 2.5], [-3, 4]]``, 4 significant digits."""
    array = np.asarray(array)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return "[" + ", ".join(array_text(row) for row in array) + "]"


def shape_text(shape: tuple) -> str:
    return str(tuple(int(n) for n in shape))


def describe_value(name: str, value) -> str:
    """How one argument appears in a verdict: tiny arrays by value, others by shape."""
    if isinstance(value, torch.Tensor):
        value = value.detach().numpy()
    if isinstance(value, np.ndarray):
        if value.size <= TINY:
            return f"{name}={array_text(value)}"
        return f"{name} of shape {shape_text(value.shape)}"
    return f"{name}={value!r}"


def compare_values(
    got: np.ndarray, expected: np.ndarray, *, what: str, label: str
) -> None:
    """Shape, then NaN/inf, then values within the tolerance; raise :class:`Mismatch`.

    ``what`` names the answer in sentences ("output"), ``label`` in element indices
    (``out[0, 1, 2]``).
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise Mismatch(
            f"the {what} has the wrong shape.",
            details=[
                ("expected", f"shape {shape_text(expected.shape)}"),
                ("got", f"shape {shape_text(got.shape)}"),
            ],
            diagnosable=True,
        )
    broken = ~np.isfinite(got) & np.isfinite(expected)
    if broken.any():
        index = tuple(int(i) for i in np.argwhere(broken)[0])
        kind = "NaN" if np.isnan(got[index]) else "inf"
        raise Mismatch(
            f"the {what} contains NaN or inf ({int(broken.sum())} of {got.size} "
            "elements).",
            details=[
                (
                    "expected",
                    f"{index_text(label, index)} = {number_text(expected[index])}",
                ),
                ("got", f"{index_text(label, index)} = {kind}"),
            ],
            hint="NaN and inf come from uninitialised memory (np.empty / torch.empty "
            "keep whatever was there: use zeros when you accumulate), 0/0, log of a "
            "non-positive number, or overflow.",
        )
    with np.errstate(invalid="ignore"):
        close = np.isclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
        error = np.where(close, 0.0, np.abs(got - expected))
    if close.all():
        return
    error = np.nan_to_num(error, nan=np.inf)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
    where = index_text(label, index)
    worst = f"max abs error {float(error[index]):.3g} at {where}; allowed {TOLERANCE}."
    if got.size <= TINY:
        details = [("expected", array_text(expected)), ("got", array_text(got))]
    else:
        details = [
            (
                "expected",
                f"{where} = {number_text(expected[index])} (the worst element)",
            ),
            ("got", f"{where} = {number_text(got[index])}"),
        ]
    wrong = int((~close).sum())
    problem = f"the {what} is wrong at {wrong} of {got.size} elements."
    if got.size == 1:
        problem = f"the {what} has the wrong value."
    raise Mismatch(problem, details=[*details, ("error", worst)], diagnosable=True)


def compare_int(got, expected: int, *, what: str = "size") -> None:
    """An exact integer answer: type first (``int``, not float or bool), then value."""
    if got is None:
        raise none_mismatch()
    if isinstance(got, bool) or isinstance(got, np.bool_):
        raise Mismatch(f"your function returned a bool, not an int {what}.", got=got)
    if isinstance(got, numbers.Integral):
        if int(got) != expected:
            raise Mismatch(
                f"wrong {what}.",
                details=[("expected", str(expected)), ("got", str(int(got)))],
                got=got,
                diagnosable=True,
            )
        return
    if isinstance(got, numbers.Real):
        raise Mismatch(
            f"your function returned a float ({float(got)!r}); a {what} is an integer.",
            details=[("expected", str(expected))],
            got=got,
            hint="sizes are integers; use // (floor division) instead of /. np.floor "
            "and np.ceil also return floats (math.floor and math.ceil return ints).",
        )
    if isinstance(got, (np.ndarray, torch.Tensor)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not an int.",
            got=got,
            hint="return a plain Python int, e.g. int(value) (or value.item()).",
        )
    raise Mismatch(f"your function returned {type_phrase(got)}, not an int.", got=got)
