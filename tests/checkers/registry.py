"""The registry of every checker, for the contract test (``test_contract.py``).

Each checker module has a file in ``planted/`` declaring, for each of its checkers, an
:class:`Entry`: how to run the checker on a learner's code that behaves in a given way
(for the hostile learners: a stub, code that raises, loops forever, returns garbage or
prints a lot), correct answers written here, and the planted wrong answers with the hint
each must get. The worked solutions come from the course itself: the code cells of every
notebook in ``solutions/``, run with every checker call recorded (:func:`worked_calls`),
so that the contract test replays exactly what the book's solutions do.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import io
import linecache
import pkgutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import labs
from labs import check
from labs.check import Result

ROOT = Path(__file__).resolve().parents[2]
CHECKERS = [name for name in check.__all__ if name not in ("Result", "CheckFailed")]


NO_HINT = "(no hint)"  # a planted answer whose verdict must name no mistake


@dataclass(frozen=True)
class Planted:
    """An answer written as a learner might, and what its verdict must say.

    ``call()`` runs the checker on it. ``hint`` is a phrase the hint must contain (None:
    no demand on the hint; :data:`NO_HINT`: there must be none, because no single
    mistake explains the answer); ``words`` phrases the verdict must contain; ``headline``
    what follows the checker's name ("failed", "not attempted", ...).
    """

    name: str
    call: Callable[[], Result]
    hint: str | None = None
    words: tuple[str, ...] = ()
    headline: str = "failed"


@dataclass(frozen=True)
class Entry:
    """One checker in the registry.

    ``learner(behaviour)`` runs the checker on learner code that calls
    ``behaviour(*arguments)`` where the exercise's own code would go (inside
    ``forward`` for a custom Function, as the builder for a network, ...).
    ``solutions`` are correct answers written in the tests, ``mistakes`` the planted
    wrong ones.
    """

    checker: str
    learner: Callable[[Callable], Result]
    solutions: tuple[tuple[str, Callable[[], Result]], ...] = ()
    mistakes: tuple[Planted, ...] = field(default=())


def planted(call: Callable[[object], Result], table: dict) -> tuple[Planted, ...]:
    """Planted answers from a table ``name -> (answer, hint, *words)``: each is checked
    with ``call(answer)``."""
    result = []
    for name, (answer, hint, *words) in table.items():
        words = (
            tuple(words[0]) if words and isinstance(words[0], tuple) else tuple(words)
        )
        result.append(Planted(name, functools.partial(call, answer), hint, words))
    return tuple(result)


@functools.cache
def entries() -> dict[str, Entry]:
    """Every entry of every module in ``planted/``, by checker name."""
    from . import planted as package

    found = {}
    for module in pkgutil.iter_modules(package.__path__):
        for entry in importlib.import_module(
            f"{package.__name__}.{module.name}"
        ).ENTRIES:
            assert entry.checker not in found, entry.checker
            found[entry.checker] = entry
    return found


def all_planted() -> list[tuple[str, Planted]]:
    return [(c, p) for c, entry in entries().items() for p in entry.mistakes]


def all_solutions() -> list[tuple[str, str, Callable]]:
    return [(c, n, s) for c, entry in entries().items() for n, s in entry.solutions]


# --- The hostile learner -----------------------------------------------------------------


def _loops_forever(*args, **kwargs):
    while True:
        pass


def _swallows_interrupts(*args, **kwargs):
    while True:
        try:
            while True:
                pass
        except Exception:  # the learner's broad except must not keep the cell alive
            pass


def _raises(*args, **kwargs):
    raise ValueError("something went wrong")


def _garbage(*args, **kwargs):
    return object()


def _chatty(*args, **kwargs):
    for line in range(5000):
        print("debug line", line, "`code`")
    return None


def _stub(*args, **kwargs):
    raise NotImplementedError


# name -> (behaviour, the verdict's status, a phrase of the verdict)
BEHAVIOURS = {
    "stub": (_stub, "not attempted", "not attempted yet"),
    "raises": (_raises, "failed", "something went wrong"),
    "loops-forever": (_loops_forever, "failed", "did not return within"),
    "swallows-the-time-limit": (
        _swallows_interrupts,
        "failed",
        "did not return within",
    ),
    "returns-garbage": (_garbage, "failed", "object"),
    "prints-5000-lines": (_chatty, "failed", "more lines"),
}


# --- Hostile conditions ------------------------------------------------------------------


@contextlib.contextmanager
def _torch_print_options(**options):
    saved = torch._tensor_str.PRINT_OPTS.__dict__.copy()
    torch.set_printoptions(**options)
    try:
        yield
    finally:
        torch._tensor_str.PRINT_OPTS.__dict__.update(saved)


@contextlib.contextmanager
def _odd_print_options():
    with np.printoptions(
        precision=1,
        threshold=2,
        edgeitems=1,
        linewidth=20,
        suppress=True,
        sign="+",
        floatmode="fixed",
        legacy="1.13",
    ):
        with _torch_print_options(precision=1, threshold=2, edgeitems=1, sci_mode=True):
            yield


@contextlib.contextmanager
def _everything_at_once():
    with torch.inference_mode(), torch.no_grad(), labs.no_grad():
        with np.errstate(all="raise"), _odd_print_options():
            yield


# name -> context manager factory: what a notebook may have left switched on
CONDITIONS = {
    "torch.no_grad": torch.no_grad,
    "torch.set_grad_enabled(False)": lambda: torch.set_grad_enabled(False),
    "torch.inference_mode": torch.inference_mode,
    "labs.no_grad": labs.no_grad,
    "np.seterr(all='raise')": lambda: np.errstate(all="raise"),
    "odd print options": _odd_print_options,
    "all at once": _everything_at_once,
}


def learner_state() -> tuple:
    """The state a checker must leave as it found it."""
    return (
        torch.is_grad_enabled(),
        torch.is_inference_mode_enabled(),
        labs.is_grad_enabled(),
        tuple(sorted(np.geterr().items())),
        tuple(sorted((k, str(v)) for k, v in np.get_printoptions().items())),
        torch.get_num_threads(),
    )


# --- The worked solutions --------------------------------------------------------------


@dataclass(frozen=True)
class WorkedCall:
    """The ``number``-th checker call (from 0) made by a solutions notebook."""

    notebook: str
    number: int
    checker: str

    @property
    def id(self) -> str:
        return f"{self.notebook}#{self.number}-{self.checker}"


def _code_cells(path: Path):
    import nbformat

    return [
        c.source
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
    ]


def _checker_calls(source: str) -> list[str]:
    """The names of the checkers a cell calls, in order (``check.conv1d(...)``)."""
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "check"
        and node.func.attr in CHECKERS
    ]
    return [c.func.attr for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]


def worked_call_list() -> list[WorkedCall]:
    """Every checker call of the solutions notebooks, read from their source (cheap:
    used to parametrize tests at collection)."""
    calls = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        names = [
            name for source in _code_cells(path) for name in _checker_calls(source)
        ]
        calls += [WorkedCall(path.stem, n, name) for n, name in enumerate(names)]
    return calls


@functools.cache
def worked_calls(notebook: str) -> list[tuple[str, tuple, dict, Result]]:
    """Run a solutions notebook's code cells, up to the last one that calls a checker,
    with every checker wrapped: ``(checker, args, kwargs, verdict)`` per call, in
    order. The cells' source is registered with ``linecache``, as Jupyter does."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    path = ROOT / "solutions" / f"{notebook}.ipynb"
    cells = _code_cells(path)
    last = max(n for n, source in enumerate(cells) if _checker_calls(source))
    recorded = []
    originals = {name: getattr(check, name) for name in CHECKERS}

    def recorder(name):
        def wrapper(*args, **kwargs):
            result = originals[name](*args, **kwargs)
            recorded.append((name, args, kwargs, result))
            return result

        return wrapper

    namespace = {"__name__": "__main__"}
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    try:
        for name in CHECKERS:
            setattr(check, name, recorder(name))
        with (
            contextlib.redirect_stdout(io.StringIO()),
            warnings.catch_warnings(),
            torch.random.fork_rng(devices=[]),
        ):
            warnings.simplefilter("ignore")
            for number, source in enumerate(cells[: last + 1]):
                filename = f"<{notebook} cell {number}>"
                linecache.cache[filename] = (
                    len(source),
                    None,
                    source.splitlines(True),
                    filename,
                )
                exec(compile(source, filename, "exec"), namespace)
        plt.close("all")
    finally:
        for name, original in originals.items():
            setattr(check, name, original)
        torch.set_num_threads(threads)  # what the notebooks change for themselves
        torch.set_default_dtype(dtype)
    return recorded
