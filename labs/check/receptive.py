"""Checker for chapter 5's exercise: the receptive field of a stack of layers.

The expected sizes are measured, not computed from a formula. Each stack is built as
``torch.nn.functional.conv1d`` layers whose weights are all ones, an input long enough
for a few outputs goes through it, and one output in the middle is differentiated with
respect to the input. With weights of ones every gradient counts paths, so nothing
can cancel: an input position gets a nonzero gradient exactly when that output depends
on it. The receptive field is the span from the first such position to the last. The
measurements are made once per session (a few hundredths of a second) and reused.

Hints come from comparing a wrong answer with what common mistakes give on the same
case (strides ignored, spans multiplied, dilation ignored, off by one, ...); when
several fit, the one that agrees with the learner's function on most cases is named.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from labs.check._core import (
    Case,
    Mismatch,
    Result,
    compare_int,
    finish,
    likeliest_hint,
    not_callable,
    run_checker,
    type_phrase,
)

__all__ = ["receptive_field"]


def receptive_field(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's receptive-field calculator against gradients in PyTorch.

    The learner writes ``fn(layers) -> int``: the receptive field of one output of the
    last layer of a stack of 1-D convolutions, i.e. how many consecutive input
    positions lie between the first and the last input that this output depends on
    (both included). ``layers`` is a list of ``(k, s, d)`` tuples, first layer first:
    kernel size, stride and dilation of each layer (padding does not change the size
    of the field, only where it sits). Each layer widens the field by ``d(k - 1)`` of
    its own input steps, and one such step is ``jump`` input positions, the product of
    the strides of the layers before it::

        r = 1, jump = 1;  for each layer:  r += d(k - 1) * jump;  jump *= s

    An empty list is no layer at all: an output is one input, ``r = 1``. The argument
    is passed by position and must not be modified.

    Cases: 12 hand-picked stacks (one layer, three ordinary layers, WaveNet's
    dilations 1, 2, 4, 8 with kernels of 2 and of 3, repeated dilation 2, strided
    layers, a stride before a dilated layer, kernels of size 1, no layer, a mixed
    stack), then seeded random stacks up to 30 in all (1 to 5 layers, k ≤ 4, s ≤ 3,
    d ≤ 4). The expected size is measured from the gradient of a conv1d stack with
    weights of ones (see the module's docstring). The answer must be an ``int``.
    """
    if not callable(fn):
        return finish(not_callable("receptive_field", fn), raise_on_failure)
    cases = [
        Case([("layers", [tuple(layer) for layer in layers])], expected=size)
        for layers, size in _cases()
    ]

    def guarded(layers):
        mine = list(layers)  # the learner's function gets its own copy of the list
        answer = fn(mine)
        return _Modified(answer) if mine != layers else answer

    def diagnose(case: Case, got) -> str | None:
        return _diagnose(fn, cases, case, got)

    result = run_checker(
        "receptive_field",
        guarded,
        cases,
        compare=_compare,
        diagnose=diagnose,
        explain_error=_explain_error,
    )
    return finish(result, raise_on_failure)


# --- The cases, measured with PyTorch -------------------------------------------------

# Readable stacks first; each planted mistake in the tests is caught by one of them.
_HAND_PICKED = (
    ((3, 1, 1),),  # one ordinary layer: 3
    ((3, 1, 1), (3, 1, 1), (3, 1, 1)),  # three ordinary layers: 7
    ((2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)),  # WaveNet's dilations: 16
    ((3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)),  # the same with kernels of 3: 31
    ((3, 1, 2), (3, 1, 2), (3, 1, 2)),  # repeated dilation (with holes): 13
    ((3, 2, 1), (3, 2, 1), (3, 2, 1)),  # strided: 1 + 2 + 4 + 8 = 15
    ((2, 2, 1), (3, 1, 2)),  # a stride before a dilated layer: 10
    ((1, 1, 1),),  # a 1×1 "convolution": 1
    ((1, 2, 1), (3, 1, 1)),  # subsampling by a kernel of size 1: 5
    ((1, 1, 5), (3, 1, 1)),  # dilating a kernel of size 1 changes nothing: 3
    (),  # no layer at all: 1
    ((5, 3, 2), (2, 2, 3), (3, 1, 1)),  # mixed: 1 + 8 + 9 + 12 = 30
)
_CASES = 30
_SEED = 5


def _measured_size(layers) -> int:
    """The receptive field of a middle output, from the gradient of a conv1d stack."""
    strides = math.prod(s for _, s, _ in layers)
    length = strides * (sum(d * k for k, _, d in layers) + 3)  # room for 3 outputs
    while True:  # (a safety net: doubling until the stack gives 3 outputs)
        x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
        y = x
        try:
            for k, s, d in layers:
                w = torch.ones(1, 1, k, dtype=torch.float64)
                y = torch.nn.functional.conv1d(y, w, stride=s, dilation=d)
        except RuntimeError:  # a kernel spans more than its input
            length *= 2
            continue
        if y.shape[-1] >= 3:
            break
        length *= 2
    y[0, 0, y.shape[-1] // 2].backward()
    reached = torch.nonzero(x.grad[0, 0]).flatten()
    return int(reached[-1] - reached[0]) + 1


@contextlib.contextmanager
def _one_thread():
    """Tiny tensors: one thread is several times faster than coordinating several."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.cache
def _cases() -> tuple:
    """(layers, size) for the hand-picked stacks, then seeded random ones."""
    stacks = list(_HAND_PICKED)
    rng = np.random.default_rng(_SEED)
    while len(stacks) < _CASES:
        depth = int(rng.integers(1, 6))
        stack = tuple(
            (int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 5)))
            for _ in range(depth)
        )
        if stack not in stacks:
            stacks.append(stack)
    with _one_thread():
        return tuple((stack, _measured_size(stack)) for stack in stacks)


# --- Comparing ------------------------------------------------------------------------


class _Modified(NamedTuple):
    """What the checker records when the learner's function changed the list."""

    answer: object


def _compare(got, expected: int) -> None:
    if isinstance(got, _Modified):
        raise Mismatch(
            "your function modified its argument `layers` in place.",
            got=got.answer,
            hint="`layers.pop()`, `layers.reverse()` and `del layers[0]` change the "
            "caller's list. Read the layers with `for k, s, d in layers:` instead.",
        )
    if isinstance(got, (tuple, list)):
        hint = "return a single int, the size of the receptive field."
        if len(got) == 2 and got[0] == expected:
            hint = (
                "your first element is right: return only the size, as an int, not "
                "(size, jump)."
            )
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not an int.",
            details=[("expected", str(expected))],
            got=got,
            hint=hint,
        )
    compare_int(got, expected, what="receptive field")


# --- Common mistakes and their hints --------------------------------------------------


def _field(layers, *, span=None, strides=True, jump_first=False, start=1,
           reverse=False) -> int:
    """The recurrence, with one step changed to make a mistake."""
    size, jump = start, 1
    for k, s, d in reversed(layers) if reverse else layers:
        s = s if strides else 1
        if jump_first:
            jump *= s
        size += (d * (k - 1) if span is None else span(k, d)) * jump
        if not jump_first:
            jump *= s
    return size


def _product_of_spans(layers, *, jumps: bool) -> int:
    size, jump = 1, 1
    for k, s, d in layers:
        size *= d * (k - 1) * (jump if jumps else 1) + 1
        jump *= s
    return size


class _Mistake(NamedTuple):
    size: Callable  # layers -> what the mistake gives
    hint: str


_NO_JUMP_HINT = (
    "you forgot the jump. After a layer with stride s its outputs are s input "
    "positions apart, so every later step covers the product of the earlier strides: "
    "r += d(k - 1)·jump, then jump *= s."
)
_PRODUCT_HINT = (
    "you multiplied where you should add. Stacking a layer adds d(k - 1) steps to the "
    "field (its span minus the one position the previous field already has); it does "
    "not multiply the field: r += d(k - 1)·jump."
)
_OFF_BY_ONE_HINT = (
    "off by one. Start from r = 1 (with no layer, an output is one input position) and "
    "add d(k - 1)·jump per layer: a kernel spanning d(k - 1) + 1 positions adds "
    "d(k - 1) to the field, since its first tap sits on a position already counted."
)

_MISTAKES = (
    _Mistake(lambda layers: _field(layers, strides=False), _NO_JUMP_HINT),
    _Mistake(lambda layers: _product_of_spans(layers, jumps=False), _PRODUCT_HINT),
    _Mistake(lambda layers: _product_of_spans(layers, jumps=True), _PRODUCT_HINT),
    _Mistake(
        lambda layers: _field(layers, span=lambda k, d: k - 1),
        "you used k instead of the dilated span d(k - 1) + 1: the taps of a layer with "
        "dilation d are d positions apart, so it widens the field by d(k - 1) steps.",
    ),
    _Mistake(
        lambda layers: _field(layers, span=lambda k, d: d * k - 1),
        "you took d·k for the span of a dilated kernel; it is d(k - 1) + 1 (k taps "
        "with d - 1 holes between neighbours), so a layer adds d(k - 1) steps.",
    ),
    _Mistake(lambda layers: _field(layers, start=0), _OFF_BY_ONE_HINT),
    _Mistake(lambda layers: _field(layers, start=2), _OFF_BY_ONE_HINT),
    _Mistake(
        lambda layers: _field(layers, span=lambda k, d: d * (k - 1) + 1),
        "you added each layer's whole span d(k - 1) + 1. The first tap of a window "
        "sits on a position the field already counts, so a layer adds d(k - 1) "
        "steps: r += d(k - 1)·jump, starting from r = 1.",
    ),
    _Mistake(
        lambda layers: _field(layers, jump_first=True),
        "a layer's stride spaces out its outputs, not its own taps: multiply the jump "
        "by s after adding this layer's d(k - 1)·jump, so that only later layers use "
        "it.",
    ),
    _Mistake(
        lambda layers: _field(layers, reverse=True),
        "you went through the layers last to first with the forward recurrence. The "
        "input goes through layers[0] first, so the jump grows from the first layer "
        "on. (Going backwards works too, with r = (r - 1)·s + d(k - 1) + 1.)",
    ),
)


def _diagnose(fn: Callable, cases: list[Case], case: Case, got) -> str | None:
    """The hint of the mistake that gives ``got`` and agrees most with the learner."""
    layers = case["layers"]
    matching = [m for m in _MISTAKES if m.size(layers) == got]
    return likeliest_hint(
        fn, cases, matching,
        lambda mistake, answer, other: answer == mistake.size(other["layers"]),
    )


_UNPACK = re.compile(r"values to unpack|cannot unpack|not subscriptable|not iterable")


def _explain_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        return "the checker calls fn(layers), with the list of layers only."
    if isinstance(error, (TypeError, ValueError)) and _UNPACK.search(text):
        return (
            "each layer is a tuple of three ints, (k, s, d): `for k, s, d in layers:`."
        )
    if not case["layers"]:
        return "with no layers an output is one input position: return 1."
    return None
