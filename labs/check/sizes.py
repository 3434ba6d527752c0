"""Checkers for the output-size formulas of convolution and transposed convolution.

The expected sizes are not computed from a formula: they are the sizes of what PyTorch
returns, on tiny tensors, for every configuration of a grid that PyTorch accepts. The
grid is computed once per session (about 0.3 s) and then reused.

Each usual mistake is a formula; a mistake is named only when its formula gives the
learner's answer on every case of the grid.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import torch

from labs.check._compare import compare_int
from labs.check._core import Case, Exercise, Mistake, check
from labs.check._result import Result

__all__ = ["output_size", "transposed_output_size"]

_CONV_PARAMETERS = ("i", "k", "s", "p", "d")
_TRANSPOSED_PARAMETERS = ("i", "k", "s", "p", "d", "output_padding")


def output_size(
    fn: Callable, *, dilation: bool = True, raise_on_failure: bool = False
) -> Result:
    """Check a learner's output-size formula of a convolution against PyTorch.

    The learner writes ``fn(i, k, s=1, p=0, d=1) -> int``: the output size along one
    axis of ``torch.nn.functional.conv1d`` (and of every axis of conv2d) for input size
    ``i``, kernel size ``k``, stride ``s``, zero padding ``p`` on *each* side and
    dilation ``d`` (``d=1`` is an ordinary kernel)::

        o = floor((i + 2p - d(k - 1) - 1) / s) + 1

    With ``dilation=False`` the learner writes ``fn(i, k, s=1, p=0)`` instead and ``d``
    is never passed. Arguments are passed by position.

    Cases: every configuration with i in 1..12, k in 1..5, s in 1..4, p in 0..3 and
    d in 1..3 (d = 1 only without dilation) for which PyTorch gives an output of size at
    least 1; simple ones first (d = 1, s = 1, p = 0). The answer must be an ``int``
    equal to PyTorch's size.
    """
    exercise = _OUTPUT_SIZE if dilation else _OUTPUT_SIZE_NO_DILATION
    return check(exercise, fn, raise_on_failure=raise_on_failure)


def transposed_output_size(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's output-size formula of a transposed convolution.

    The learner writes ``fn(i, k, s=1, p=0, d=1, output_padding=0) -> int``: the output
    size along one axis of ``torch.nn.functional.conv_transpose1d`` (and of every axis
    of conv_transpose2d) for input size ``i``, kernel size ``k``, stride ``s``, padding
    ``p`` (cropped from each side), dilation ``d`` and ``output_padding`` (added on one
    side)::

        o = (i - 1)s - 2p + d(k - 1) + output_padding + 1

    Arguments are passed by position.

    Cases: every configuration with i in 1..8, k in 1..5, s in 1..4, p in 0..3,
    d in 1..3 and output_padding in 0..3 that PyTorch accepts (output_padding smaller
    than the stride or the dilation, output size at least 1), simple ones first. The
    answer must be an ``int`` equal to PyTorch's size.
    """
    return check(_TRANSPOSED_OUTPUT_SIZE, fn, raise_on_failure=raise_on_failure)


# --- The grids, computed by PyTorch ---------------------------------------------------
# Tiny CPU tensors are faster than meta tensors here, and unlike meta tensors they
# enforce PyTorch's rule on output_padding.


@functools.cache
def _conv_grid() -> tuple:
    """((i, k, s, p, d), size) for every valid configuration, simple ones first."""
    grid = []
    for d, s, p, k, i in itertools.product(
        range(1, 4), range(1, 5), range(0, 4), range(1, 6), range(1, 13)
    ):
        x, w = torch.zeros(1, 1, i), torch.zeros(1, 1, k)
        try:
            out = torch.nn.functional.conv1d(x, w, stride=s, padding=p, dilation=d)
        except RuntimeError:  # PyTorch rejects this configuration
            continue
        grid.append(((i, k, s, p, d), out.shape[-1]))
    return tuple(grid)


@functools.cache
def _transposed_grid() -> tuple:
    """((i, k, s, p, d, output_padding), size) for every valid configuration."""
    grid = []
    for d, s, p, a, k, i in itertools.product(
        range(1, 4), range(1, 5), range(0, 4), range(0, 4), range(1, 6), range(1, 9)
    ):
        x, w = torch.zeros(1, 1, i), torch.zeros(1, 1, k)
        try:
            out = torch.nn.functional.conv_transpose1d(
                x, w, stride=s, padding=p, output_padding=a, dilation=d
            )
        except RuntimeError:
            continue
        grid.append(((i, k, s, p, d, a), out.shape[-1]))
    return tuple(grid)


@functools.cache
def _conv_cases(dilation: bool) -> tuple:
    """The grid as cases, simple ones first; without dilation, d = 1 and not passed."""
    names = _CONV_PARAMETERS if dilation else _CONV_PARAMETERS[:4]
    return tuple(
        Case(zip(names, arguments), expected=size)
        for arguments, size in _conv_grid()
        if dilation or arguments[4] == 1
    )


@functools.cache
def _transposed_cases() -> tuple:
    return tuple(
        Case(zip(_TRANSPOSED_PARAMETERS, arguments), expected=size)
        for arguments, size in _transposed_grid()
    )


# --- Common mistakes and their hints ------------------------------------------------
# Integer arithmetic only: -(-a // b) is ceil(a / b).


def _span(k, d):  # the span of a dilated kernel
    return d * (k - 1) + 1


_CONV_MISTAKES = (
    Mistake.formula(
        "ceil",
        "you rounded up. The last window must fit inside the padded input, so the "
        "number of strides is rounded down: floor((i + 2p - d(k - 1) - 1) / s) + 1.",
        lambda i, k, s, p, d=1: -(-(i + 2 * p - _span(k, d)) // s) + 1,
    ),
    Mistake.formula(
        "forgot-plus-one",
        "you forgot the + 1: (i + 2p - d(k - 1) - 1) // s counts the strides, and "
        "there is one more position than strides (the starting one).",
        lambda i, k, s, p, d=1: (i + 2 * p - _span(k, d)) // s,
    ),
    Mistake.formula(
        "total-padding",
        "you used the total padding: in PyTorch `p` is the padding on each side, so "
        "the padded input has size i + 2p.",
        lambda i, k, s, p, d=1: (i + p - _span(k, d)) // s + 1,
    ),
    Mistake.formula(
        "dilation-ignored",
        "you ignored the dilation: a kernel of size k with dilation d spans "
        "d(k - 1) + 1 input elements.",
        lambda i, k, s, p, d=1: (i + 2 * p - k) // s + 1,
    ),
    Mistake.formula(
        "d-times-k",
        "you took d·k for the span of the dilated kernel; it is d(k - 1) + 1 (k taps, "
        "with d - 1 gaps between neighbours).",
        lambda i, k, s, p, d=1: (i + 2 * p - d * k) // s + 1,
    ),
    Mistake.formula(
        "dilation-as-gaps",
        "you treated d as the number of gaps between taps. In PyTorch d = 1 is an "
        "ordinary kernel and the span is d(k - 1) + 1.",
        lambda i, k, s, p, d=1: (i + 2 * p - _span(k, d + 1)) // s + 1,
    ),
    Mistake.formula(
        "stride-ignored",
        "you ignored the stride: divide the room left for the window by s and round "
        "down, floor((i + 2p - d(k - 1) - 1) / s) + 1.",
        lambda i, k, s, p, d=1: i + 2 * p - _span(k, d) + 1,
    ),
    Mistake.formula(
        "padding-ignored",
        "you ignored the padding: it adds p elements on each side of the input.",
        lambda i, k, s, p, d=1: (i - _span(k, d)) // s + 1,
    ),
)


def _full(i, k, s, d):  # a transposed convolution's output before padding is cropped
    return (i - 1) * s + d * (k - 1) + 1


_TRANSPOSED_MISTAKES = (
    Mistake.formula(
        "output-padding-ignored",
        "you forgot output_padding: it adds output_padding elements on one side, "
        "o = (i - 1)s - 2p + d(k - 1) + output_padding + 1.",
        lambda i, k, s, p, d, a: _full(i, k, s, d) - 2 * p,
    ),
    Mistake.formula(
        "plus-2p",
        "padding in a transposed convolution is removed from each side of the output: "
        "use - 2p, not + 2p.",
        lambda i, k, s, p, d, a: _full(i, k, s, d) + 2 * p + a,
    ),
    Mistake.formula(
        "minus-p",
        "padding is removed from each side of the output, p elements on each: - 2p in "
        "all, not - p.",
        lambda i, k, s, p, d, a: _full(i, k, s, d) - p + a,
    ),
    Mistake.formula(
        "dilation-ignored",
        "you ignored the dilation: the kernel spans d(k - 1) + 1 output elements.",
        lambda i, k, s, p, d, a: _full(i, k, s, 1) - 2 * p + a,
    ),
    Mistake.formula(
        "d-times-k",
        "you took d·k for the span of the dilated kernel; it is d(k - 1) + 1 (k taps, "
        "with d - 1 gaps between neighbours).",
        lambda i, k, s, p, d, a: (i - 1) * s + d * k - 2 * p + a,
    ),
    Mistake.formula(
        "conv-formula",
        "that is the output size of the ordinary convolution. The transposed one maps "
        "the other way: o = (i - 1)s - 2p + d(k - 1) + output_padding + 1.",
        lambda i, k, s, p, d, a: (i + 2 * p - d * (k - 1) - 1) // s + 1,
    ),
    Mistake.formula(
        "forgot-plus-one",
        "you forgot the + 1: the last input lands at position (i - 1)s and the kernel "
        "placed there reaches d(k - 1) further, so before cropping the output has "
        "(i - 1)s + d(k - 1) + 1 elements.",
        lambda i, k, s, p, d, a: _full(i, k, s, d) - 2 * p + a - 1,
    ),
    Mistake.formula(
        "i-times-s",
        "you used i·s: there are i - 1 strides between i input positions, so the term "
        "is (i - 1)s.",
        lambda i, k, s, p, d, a: i * s + d * (k - 1) + 1 - 2 * p + a,
    ),
)


def _explain_call(name: str, with_dilation: bool):
    def explain_error(case: Case, error: Exception) -> str | None:
        if not (isinstance(error, TypeError) and "positional argument" in str(error)):
            return None
        hint = f"the checker calls `fn({', '.join(case.positional)})`, by position."
        if name == "output_size" and with_dilation:
            hint += " Without dilation, use `check.output_size(fn, dilation=False)`."
        return hint

    return explain_error


def _exercise(name: str, cases, mistakes, with_dilation: bool = True) -> Exercise:
    return Exercise(
        name,
        cases,
        lambda answer, case: compare_int(answer, case.expected),
        mistakes=mistakes,
        explain_error=_explain_call(name, with_dilation),
    )


_OUTPUT_SIZE = _exercise("output_size", lambda: _conv_cases(True), _CONV_MISTAKES)
_OUTPUT_SIZE_NO_DILATION = _exercise(
    "output_size",
    lambda: _conv_cases(False),
    [
        m
        for m in _CONV_MISTAKES
        if m.name not in ("dilation-ignored", "d-times-k", "dilation-as-gaps")
    ],
    with_dilation=False,
)
_TRANSPOSED_OUTPUT_SIZE = _exercise(
    "transposed_output_size", _transposed_cases, _TRANSPOSED_MISTAKES
)
