"""Checkers for the output-size formulas of convolution and transposed convolution.

The expected sizes are not computed from a formula: they are the sizes of what PyTorch
returns, on tiny tensors, for every configuration of a grid that PyTorch accepts. The
grid is computed once per session (about 0.3 s) and then reused.

Hints come from comparing the learner's function with the formulas of common mistakes:
among the mistakes that give the learner's answer on the failing case, the one that
agrees with the learner's function on most of the grid is named.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import NamedTuple

import torch

from labs.check._core import (
    Case,
    Result,
    compare_int,
    finish,
    likeliest_hint,
    run_checker,
)

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
    grid = _conv_grid() if dilation else [c for c in _conv_grid() if c[0][4] == 1]
    names = _CONV_PARAMETERS if dilation else _CONV_PARAMETERS[:4]
    cases = [Case(zip(names, arguments), expected=size) for arguments, size in grid]
    mistakes = [m for m in _CONV_MISTAKES if dilation or not m.uses_dilation]
    return finish(_check("output_size", fn, cases, mistakes), raise_on_failure)


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
    cases = [
        Case(zip(_TRANSPOSED_PARAMETERS, arguments), expected=size)
        for arguments, size in _transposed_grid()
    ]
    return finish(
        _check("transposed_output_size", fn, cases, _TRANSPOSED_MISTAKES),
        raise_on_failure,
    )


def _check(name: str, fn: Callable, cases: list[Case], mistakes: list) -> Result:
    def diagnose(case: Case, got) -> str | None:
        return _diagnose(fn, cases, mistakes, case, got)

    def explain_error(case: Case, error: Exception) -> str | None:
        if not (isinstance(error, TypeError) and "positional argument" in str(error)):
            return None
        call = f"fn({', '.join(case.positional)})"
        hint = f"the checker calls {call}, by position."
        if name == "output_size" and "d" in case:
            hint += " Without dilation, use check.output_size(fn, dilation=False)."
        return hint

    return run_checker(
        name, fn, cases, compare=compare_int, diagnose=diagnose,
        explain_error=explain_error,
    )


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


# --- Common mistakes and their hints ------------------------------------------------
# Integer arithmetic only: -(-a // b) is ceil(a / b).


class _Mistake(NamedTuple):
    formula: Callable  # the size the mistake gives, from the same arguments
    hint: str
    uses_dilation: bool = False  # left out when the exercise has no dilation


def _conv_mistake_formulas():
    def eff(k, d):  # the span of a dilated kernel
        return d * (k - 1) + 1

    return [
        (
            lambda i, k, s, p, d=1: -(-(i + 2 * p - eff(k, d)) // s) + 1,
            "you rounded up. The last window must fit inside the padded input, so the "
            "number of strides is rounded down: floor((i + 2p - d(k - 1) - 1) / s) + "
            "1.",
            False,
        ),
        (
            lambda i, k, s, p, d=1: (i + 2 * p - eff(k, d)) // s,
            "you forgot the + 1: (i + 2p - d(k - 1) - 1) // s counts the strides, and "
            "there is one more position than strides (the starting one).",
            False,
        ),
        (
            lambda i, k, s, p, d=1: (i + p - eff(k, d)) // s + 1,
            "you used the total padding: in PyTorch `p` is the padding on each side, "
            "so the padded input has size i + 2p.",
            False,
        ),
        (
            lambda i, k, s, p, d=1: (i + 2 * p - k) // s + 1,
            "you ignored the dilation: a kernel of size k with dilation d spans "
            "d(k - 1) + 1 input elements.",
            True,
        ),
        (
            lambda i, k, s, p, d=1: (i + 2 * p - d * k) // s + 1,
            "you took d·k for the span of the dilated kernel; it is d(k - 1) + 1 (k "
            "taps, with d - 1 gaps between neighbours).",
            True,
        ),
        (
            lambda i, k, s, p, d=1: (i + 2 * p - eff(k, d + 1)) // s + 1,
            "you treated d as the number of gaps between taps. In PyTorch d = 1 is an "
            "ordinary kernel and the span is d(k - 1) + 1.",
            True,
        ),
        (
            lambda i, k, s, p, d=1: i + 2 * p - eff(k, d) + 1,
            "you ignored the stride: divide the room left for the window by s and "
            "round down, floor((i + 2p - d(k - 1) - 1) / s) + 1.",
            False,
        ),
        (
            lambda i, k, s, p, d=1: (i - eff(k, d)) // s + 1,
            "you ignored the padding: it adds p elements on each side of the input.",
            False,
        ),
    ]


def _transposed_mistake_formulas():
    def full(i, k, s, d):  # the output before padding is cropped
        return (i - 1) * s + d * (k - 1) + 1

    return [
        (
            lambda i, k, s, p, d, a: full(i, k, s, d) - 2 * p,
            "you forgot output_padding: it adds output_padding elements on one side, "
            "o = (i - 1)s - 2p + d(k - 1) + output_padding + 1.",
        ),
        (
            lambda i, k, s, p, d, a: full(i, k, s, d) + 2 * p + a,
            "padding in a transposed convolution is removed from each side of the "
            "output: use - 2p, not + 2p.",
        ),
        (
            lambda i, k, s, p, d, a: full(i, k, s, 1) - 2 * p + a,
            "you ignored the dilation: the kernel spans d(k - 1) + 1 output elements.",
        ),
        (
            lambda i, k, s, p, d, a: (i + 2 * p - d * (k - 1) - 1) // s + 1,
            "that is the output size of the ordinary convolution. The transposed one "
            "maps the other way: o = (i - 1)s - 2p + d(k - 1) + output_padding + 1.",
        ),
        (
            lambda i, k, s, p, d, a: full(i, k, s, d) - 2 * p + a - 1,
            "you forgot the + 1: the last input lands at position (i - 1)s and the "
            "kernel placed there reaches d(k - 1) further, so before cropping the "
            "output has (i - 1)s + d(k - 1) + 1 elements.",
        ),
        (
            lambda i, k, s, p, d, a: i * s + d * (k - 1) + 1 - 2 * p + a,
            "you used i·s: there are i - 1 strides between i input positions, so the "
            "term is (i - 1)s.",
        ),
    ]


_CONV_MISTAKES = [_Mistake(*m) for m in _conv_mistake_formulas()]
_TRANSPOSED_MISTAKES = [_Mistake(*m) for m in _transposed_mistake_formulas()]


def _diagnose(
    fn: Callable, cases: list[Case], mistakes: list[_Mistake], case: Case, got
) -> str | None:
    """The hint of the mistake giving ``got`` that agrees most with the learner."""
    matching = [m for m in mistakes if m.formula(*case.positional.values()) == int(got)]
    return likeliest_hint(
        fn, cases, matching,
        lambda mistake, answer, other: answer == mistake.formula(*other.positional.values()),
    )
