"""Checkers whose answer is a value (a prediction, a design) rather than a function.

A prediction or a design is checked once, on a single case: the learner writes a value
(or a function without arguments returning it), ``None`` is "not attempted yet", and
the verdict says what is wrong without giving the right answer away. Chapter 3's
``size_predictions`` and ``layer_design`` and chapter 4's ``upsampling_design`` and
``gradient_prediction`` are declared with :func:`check_value`; a design's
requirements are read with :func:`read_ints` and reported with
:func:`requirements_mismatch`.
"""

from __future__ import annotations

from collections.abc import Callable

from labs.check._compare import int_or_mismatch, none_mismatch
from labs.check._core import Case, Exercise, Mismatch, NotAttempted, check
from labs.check._result import Result
from labs.check._text import type_phrase


def missing(value) -> bool:
    """A stub's value: None (or ``...``) where the learner has written nothing yet."""
    return value is None or value is Ellipsis


def learner_value(learner, given, case: Case, role: str, todo: str):
    """The learner's value: itself, or what a function without arguments returns.

    A missing value is "not attempted yet", with ``todo`` saying what to write.
    """
    if missing(given):
        raise NotAttempted(todo=todo)
    if not callable(given):
        return given
    value = learner.run(given, case=case, role=role)
    if value is None:
        raise none_mismatch(role)
    return value


def check_value(
    name: str,
    value,
    compare: Callable,
    *,
    kind: str,
    todo: str,
    headline: str,
    passed: str,
    mistakes=(),
    parts: Callable | None = None,
    raise_on_failure: bool = False,
) -> Result:
    """Check ``value``, a ``kind`` ("prediction" or "design"), with ``compare``.

    ``todo`` says what to write in place of the ``None`` ("four ints"), ``headline``
    follows the checker's name in a failed verdict, ``passed`` in a passed one.
    """
    role = f"your {kind}"

    def answer(learner, case: Case):
        return learner_value(
            learner,
            value,
            case,
            role,
            f"write your {kind}, {todo}, in place of the `None` and run this cell "
            "again.",
        )

    exercise = Exercise(
        name,
        [Case(headline=headline)],
        compare,
        mistakes=mistakes,
        answer=answer,
        validate=lambda given: None,
        parts=parts,
        passed=lambda count: passed,
        role=role,
    )
    return check(exercise, value, raise_on_failure=raise_on_failure)


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def read_ints(value, names: tuple[str, ...], *, least: dict) -> tuple[int, ...]:
    """A design written as a tuple of ints, one per name, each at least ``least[name]``
    (a name not in ``least`` may be any int)."""
    count = _NUMBER_WORDS.get(len(names), str(len(names)))
    shape_hint = f"write a tuple of {count} ints: ({', '.join(names)})."
    if not isinstance(value, (list, tuple)) or len(value) != len(names):
        raise Mismatch(
            f"your design is {type_phrase(value)}, not {count} ints.",
            hint=shape_hint,
        )
    numbers = tuple(int_or_mismatch(v, name) for v, name in zip(value, names))
    too_small = [
        f"{name} at least {least[name]}"
        for name, number in zip(names, numbers)
        if name in least and number < least[name]
    ]
    if too_small:
        raise Mismatch(f"your design is {numbers}: {', '.join(too_small)}, please.")
    return numbers


def requirements_mismatch(
    failed: list[str], hints: list[str], *, names, numbers, expected: str
) -> Mismatch:
    """One verdict for every failed requirement of a design, with a hint for each."""
    got = ", ".join(f"{name}={number}" for name, number in zip(names, numbers))
    return Mismatch(
        "; ".join(failed) + ".",
        details=[("got", got)],
        hint=" ".join(hints[:1] + [h[0].upper() + h[1:] for h in hints[1:]]),
        expected=expected,
        got=tuple(numbers),
    )


def compare_numbers(answer, expected, names, *, hint: str) -> None:
    """A prediction of several ints, compared part by part without showing the right
    number: the first wrong part raises a :class:`Mismatch` naming it (``names``)."""
    if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
        count = _NUMBER_WORDS.get(len(expected), str(len(expected)))
        raise Mismatch(
            f"your prediction is {type_phrase(answer)}, not {count} numbers.",
            hint=hint,
        )
    numbers = [int_or_mismatch(value, name) for value, name in zip(answer, names)]
    first_wrong_part(numbers, expected, names)


def first_wrong_part(parts, expected, names) -> None:
    """Raise a :class:`Mismatch` naming the first part of a prediction that differs
    from ``expected``, without showing the right value; nothing when all agree."""
    for part, (got, right, name) in enumerate(zip(parts, expected, names)):
        if got != right:
            raise Mismatch(
                f"{name} is wrong.",
                details=[("got", str(got))],
                expected=right,
                got=got,
                diagnosable=True,
                part=part,
            )
