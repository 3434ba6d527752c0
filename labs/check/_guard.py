"""Running the learner's code under known conditions, for a bounded time, quietly.

Three things stand between a checker and the learner's code:

- :func:`known_state`: the state every checker runs in, whatever the notebook left
  switched on. Gradient recording is on in torch (even inside ``torch.no_grad()``,
  ``torch.set_grad_enabled(False)`` or ``torch.inference_mode()``) and in ``labs``
  (even inside ``labs.no_grad()``); numpy's floating-point error handling and print
  options are numpy's defaults (not ``np.seterr(all="raise")``); torch runs on one
  thread (the checkers' tensors are tiny); the random generators of numpy, torch
  and Python are left as they were found; and the handler of the time limit's alarm is
  in place. Everything is restored on the way out.
- :func:`time_limit`: stops the code inside with :class:`TimeLimit` once its time is
  up. In the main thread of a POSIX process (a Jupyter kernel runs cells there) a
  ``SIGALRM`` timer raises it in the running frame; elsewhere a watcher thread
  raises it asynchronously in the checked thread. Either way the exception is
  raised again every 50 ms, in case the learner's code swallows it, and any timer or
  handler that was set before is restored.
- :class:`Output`: collects what the learner's code prints or warns, keeping only the
  first lines, so that a function with debugging prints cannot flood the notebook.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import random
import signal
import sys
import threading
import time
import warnings

import numpy as np
import torch

# numpy's own defaults (np.geterr() in a fresh interpreter).
_NUMPY_ERRORS = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
# numpy's default print options (np.get_printoptions() in a fresh interpreter).
_NUMPY_PRINT = {
    "precision": 8,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 75,
    "suppress": False,
    "nanstr": "nan",
    "infstr": "inf",
    "sign": "-",
    "floatmode": "maxprec",
    "legacy": False,
}


class TimeLimit(BaseException):
    """Raised inside the learner's code when its time is up.

    A ``BaseException``, like ``KeyboardInterrupt``, so that ``except Exception`` in the
    learner's code does not swallow it.
    """


# --- The known state --------------------------------------------------------------------


@contextlib.contextmanager
def known_state():
    """Grad mode on (torch and labs), numpy's default error state and print options,
    one torch thread; random states and every setting restored afterwards."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.inference_mode(False))
        stack.enter_context(torch.enable_grad())
        _labs_grad_mode(stack)
        stack.enter_context(np.errstate(**_NUMPY_ERRORS))
        printing = {k: v for k, v in _NUMPY_PRINT.items() if k in np.get_printoptions()}
        stack.enter_context(np.printoptions(**printing))
        stack.enter_context(_one_torch_thread())
        stack.enter_context(_random_states_kept())
        stack.enter_context(alarms_installed())
        yield


def _labs_grad_mode(stack: contextlib.ExitStack) -> None:
    """Switch the ``labs`` engine's gradient recording on, if the engine is loaded.

    ``labs.check`` never imports the engine (it checks answers against torch only), so
    the switches are looked up on the module the learner's notebook imported, and only
    used when they exist: ``enable_grad`` always, and ``inference_mode(False)`` when the
    engine has an inference mode and it is on.
    """
    engine = sys.modules.get("labs.autograd")
    if engine is None:
        return
    inference = getattr(engine, "inference_mode", None)
    is_inference = getattr(engine, "is_inference_mode_enabled", None)
    if inference is not None and is_inference is not None:
        try:
            if is_inference():
                stack.enter_context(inference(False))
        except Exception:  # an engine without inference_mode(False): nothing to switch
            pass
    enable_grad = getattr(engine, "enable_grad", None)
    if enable_grad is not None:
        stack.enter_context(enable_grad())


@contextlib.contextmanager
def _one_torch_thread():
    """Tiny tensors: waking torch's thread pool costs more than the arithmetic (on a
    busy machine, tens of milliseconds per call)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def _random_states_kept():
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


# --- Time limits ------------------------------------------------------------------------

_REPEAT = 0.05  # seconds between repeated TimeLimit exceptions


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`TimeLimit` in the code inside after ``seconds`` (None: no limit)."""
    if seconds is None:
        yield
    elif _can_use_alarm():
        with _alarm(max(seconds, 1e-3)):
            yield
    elif _can_raise_async():
        with _watcher(max(seconds, 1e-3)):
            yield
    else:  # neither mechanism exists here: run without a limit
        yield


def _can_use_alarm() -> bool:
    return (
        hasattr(signal, "setitimer")
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )


def _can_raise_async() -> bool:
    return hasattr(ctypes, "pythonapi") and hasattr(
        ctypes.pythonapi, "PyThreadState_SetAsyncExc"
    )


class _AlarmState:
    active = False  # whether an alarm now means TimeLimit
    installed = False  # whether alarms_installed() has set the handler for a run


def _on_alarm(signum, frame):
    if _AlarmState.active:
        raise TimeLimit()


@contextlib.contextmanager
def alarms_installed():
    """Install the SIGALRM handler once for a whole checker run, so that each call's
    :func:`time_limit` only sets a timer (a few microseconds instead of tens). A timer
    that was running waits until the run is over; the previous handler comes back."""
    if not _can_use_alarm():
        yield
        return
    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, 0)
    installed, _AlarmState.installed = _AlarmState.installed, True
    try:
        yield
    finally:
        _AlarmState.installed = installed
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


@contextlib.contextmanager
def _alarm(seconds: float):
    """The POSIX main-thread mechanism: an interval timer and a SIGALRM handler."""
    if _AlarmState.installed:  # inside a run: the handler is there, no timer runs
        was_active, _AlarmState.active = _AlarmState.active, True
        signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
        try:
            yield
        finally:
            _stop_alarm(was_active)
        return
    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, 0)
    was_active = _AlarmState.active
    if previous_delay:  # an outer limit comes first: keep it
        seconds = min(seconds, previous_delay)
    _AlarmState.active = True
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        yield
    finally:
        _stop_alarm(was_active)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


def _stop_alarm(was_active: bool) -> None:
    """Stop the timer; a last alarm may arrive meanwhile, and is ignored."""
    while True:
        try:
            _AlarmState.active = was_active
            signal.setitimer(signal.ITIMER_REAL, 0)
            return
        except TimeLimit:
            continue


@contextlib.contextmanager
def _watcher(seconds: float):
    """The fallback: a thread raises TimeLimit in this thread, asynchronously."""
    target = ctypes.c_ulong(threading.get_ident())
    stop = threading.Event()

    def watch():
        if stop.wait(seconds):
            return
        while not stop.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                target, ctypes.py_object(TimeLimit)
            )
            stop.wait(_REPEAT)

    watcher = threading.Thread(target=watch, name="labs.check time limit", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        while True:
            try:
                stop.set()
                watcher.join()
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, None)  # none pending
                break
            except TimeLimit:
                continue


# --- Output -------------------------------------------------------------------------------


class Output(io.TextIOBase):
    """What the learner's code printed or warned, call by call, first lines only.

    ``total`` counts every line; ``last`` holds the first lines of the latest call,
    ``first`` those of the first call that printed anything.
    """

    KEEP_LINES = 8
    KEEP_CHARS = 120  # per line

    def __init__(self):
        super().__init__()
        self.total = 0
        self.first: list[str] = []
        self.last: list[str] = []
        self._current: list[str] = []
        self._open = False  # whether the last line is still being written
        self._kept = False  # whether that line is one of those kept

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        for piece in text.splitlines(keepends=True):
            ended = piece.endswith(("\n", "\r"))
            piece = piece.rstrip("\r\n")
            if self._open:  # the rest of a line already counted
                if self._kept:
                    line = self._current[-1] + piece
                    self._current[-1] = line[: self.KEEP_CHARS + 1]
            else:
                self.total += 1
                self._kept = len(self._current) < self.KEEP_LINES
                if self._kept:
                    self._current.append(piece[: self.KEEP_CHARS + 1])
            self._open = not ended
        return len(text)

    def warn(self, message: warnings.WarningMessage) -> None:
        self._open = False
        self.write(f"{message.category.__name__}: {message.message}\n")

    @contextlib.contextmanager
    def capture(self):
        """Collect stdout, stderr and warnings of the code inside, as one call."""
        self._current, self._open = [], False
        lines_before, caught = self.total, []
        try:
            with contextlib.redirect_stdout(self), contextlib.redirect_stderr(self):
                with warnings.catch_warnings(record=True) as recorded:
                    warnings.simplefilter("always")
                    caught = recorded
                    yield
        finally:
            for message in caught:
                self.warn(message)
            self.last = self._lines(self.total - lines_before)
            if self.last and not self.first:
                self.first = self.last

    def _lines(self, count: int) -> list[str]:
        lines = [
            line if len(line) <= self.KEEP_CHARS else line[: self.KEEP_CHARS - 1] + "…"
            for line in self._current
        ]
        if count > len(lines):
            lines.append(f"… ({count - len(lines):,} more lines)")
        return lines
