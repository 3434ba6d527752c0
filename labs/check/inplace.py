"""Chapter 7's prediction about in-place changes: which programs does backward refuse?

Each of six short programs builds a small graph in PyTorch, changes a tensor in place,
then calls ``backward()``. PyTorch refuses (a ``RuntimeError`` about an in-place
operation) exactly when an array that the backward pass needs was changed after it
was saved, as the version counter records. The learner predicts, for each program,
whether its ``backward()`` raises. The programs are plain functions (in
``labs/check/_inplace_programs.py``), reached as ``check.inplace_errors.programs`` so
that the chapter prints them with ``show_source`` without importing from the checker's
modules (which the grader flags), and the checker runs the very code the learner read.
"""

from __future__ import annotations

import numpy as np

from labs.check._answers import learner_value
from labs.check._core import Case, Exercise, Mismatch, Mistake, check
from labs.check._inplace_programs import INPLACE_PROGRAMS
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = ["inplace_errors"]


# Why each program does what it does: the hint for a wrong prediction about it.
_WHY = {
    "step_before_backward": "`w * x` saved w (the gradient for x is w), and `w -= 0.1` "
    "changed w in place after that, so backward finds w at version 1 instead of 0: "
    "step after backward, never before.",
    "exp_then_add": "exp saves its output (the derivative of exp is exp itself), and "
    "`y.add_(1.0)` changed that output in place before backward needed it.",
    "scale_then_add": "multiplying by the number 3.0 saves no tensor (the derivative "
    "is the constant 3.0), and add_ needs nothing saved either: PyTorch records the "
    "in-place add and differentiates through it.",
    "change_through_detach": "tanh saves its output, and `y.detach()` is a view of "
    "the same memory with the same version counter, so zeroing it counts as a change "
    "of y.",
    "change_through_data": "`.data` is the one way round the version counter: nothing "
    "records the change, backward runs, and it computes tanh's gradient 1 − y² from "
    "the zeroed y: no error, a silently wrong gradient.",
    "change_a_clone": "clone() copies into new memory with its own version counter: "
    "changing z leaves y, which exp saved, untouched.",
}


def _raises(program) -> bool:
    """Whether the program's backward() raises PyTorch's in-place error."""
    try:
        program()
    except RuntimeError as error:
        if "modified by an inplace operation" in str(error):
            return True
        raise
    return False


def _predictions(value) -> list[bool]:
    count = len(INPLACE_PROGRAMS)
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise Mismatch(
            f"your prediction is {type_phrase(value)}"
            + (f" of {len(value)}" if isinstance(value, (list, tuple)) else "")
            + f", not a list of {count} booleans.",
            hint=f"write a list of {count} booleans, one per program in the order "
            "shown: True where backward() raises, False where it runs.",
        )
    for index, item in enumerate(value):
        if not isinstance(item, (bool, np.bool_)):
            raise Mismatch(
                f"prediction {index + 1} is {type_phrase(item)} ({item!r}), not "
                "True or False.",
                hint="True where backward() raises, False where it runs.",
            )
    return [bool(item) for item in value]


def _compare(answer, case: Case) -> None:
    predicted = _predictions(answer)
    truth = case.info["truth"]
    wrong = [i for i, (p, t) in enumerate(zip(predicted, truth)) if p != t]
    if not wrong:
        return
    first = wrong[0]
    name = INPLACE_PROGRAMS[first].__name__
    said = "raises" if predicted[first] else "runs"
    others = len(wrong) - 1
    raise Mismatch(
        f"{len(wrong)} of your {len(truth)} predictions "
        f"{'is' if len(wrong) == 1 else 'are'} wrong. The first: you said that "
        f"{name}'s backward() {said}."
        + (f" ({others} more after it.)" if others else ""),
        expected=truth[first],
        got=predicted[first],
        diagnosable=True,
        part=first,
    )


def _prepare(case: Case) -> None:
    if "truth" not in case.info:
        case.info["truth"] = [_raises(program) for program in INPLACE_PROGRAMS]


def _mistake(index: int) -> Mistake:
    program = INPLACE_PROGRAMS[index]
    return Mistake(
        program.__name__,
        _WHY[program.__name__],
        lambda case: not case.info["truth"][index],
        part=index,
    )


def inplace_errors(prediction, *, raise_on_failure: bool = False) -> Result:
    """Check a prediction of which of :data:`INPLACE_PROGRAMS` raise in ``backward()``.

    ``prediction`` is a list of booleans, one per program in the order of
    ``INPLACE_PROGRAMS`` (True: its ``backward()`` raises PyTorch's "modified by an
    inplace operation" error), or a function without arguments returning it; None is
    "not attempted yet". The checker runs every program and compares. A wrong verdict
    names the first program predicted wrongly and says why that program behaves as it
    does; it says how many others are wrong without naming them.
    """

    def answer(learner, case: Case):
        return learner_value(
            learner,
            prediction,
            case,
            "your prediction",
            "write your prediction, a list of booleans, in place of the `None` and "
            "run this cell again.",
        )

    exercise = Exercise(
        "inplace_errors",
        [Case(headline="wrong prediction.")],
        _compare,
        mistakes=[_mistake(i) for i in range(len(INPLACE_PROGRAMS))],
        answer=answer,
        prepare=_prepare,
        validate=lambda value: None,
        parts=lambda answer: _predictions(answer),
        passed=lambda count: "every prediction is right.",
        role="your prediction",
    )
    return check(exercise, prediction, raise_on_failure=raise_on_failure)


# the programs, in order, for the chapter to print
inplace_errors.programs = INPLACE_PROGRAMS
