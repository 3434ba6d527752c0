"""Checker for chapter 5's exercise: the receptive field of a stack of layers.

The expected sizes are measured, not computed from a formula. Each stack is built as
``torch.nn.functional.conv1d`` layers whose weights are all ones, an input long enough
for a few outputs goes through it, and one output in the middle is differentiated with
respect to the input. With weights of ones every gradient counts paths, so nothing
can cancel: an input position gets a nonzero gradient exactly when that output depends
on it. The receptive field is the span from the first such position to the last. The
measurements are made once per session (a few hundredths of a second) and reused.

Each usual mistake (strides ignored, spans multiplied, dilation ignored, off by one,
...) is a recurrence of its own; it is named only when it gives the learner's answer on
every case.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

import numpy as np
import torch

from labs.check._compare import compare_int
from labs.check._core import Case, Exercise, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import type_phrase

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
    return check(_EXERCISE, fn, raise_on_failure=raise_on_failure)


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
    return tuple((stack, _measured_size(stack)) for stack in stacks)


# --- Comparing ------------------------------------------------------------------------


def _compare(got, case: Case) -> None:
    expected = case.expected
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


def _field(
    layers, *, span=None, strides=True, jump_first=False, start=1, reverse=False
) -> int:
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


def _mistake(name: str, hint: str, size: Callable) -> Mistake:
    """A mistaken recurrence: ``size(layers)`` is what it gives."""
    return Mistake(name, hint, lambda case: size(case["layers"]))


_MISTAKES = (
    _mistake("no-jump", _NO_JUMP_HINT, lambda layers: _field(layers, strides=False)),
    _mistake(
        "product-of-spans",
        _PRODUCT_HINT,
        lambda layers: _product_of_spans(layers, jumps=False),
    ),
    _mistake(
        "product-with-jumps",
        _PRODUCT_HINT,
        lambda layers: _product_of_spans(layers, jumps=True),
    ),
    _mistake(
        "dilation-ignored",
        "you used k instead of the dilated span d(k - 1) + 1: the taps of a layer with "
        "dilation d are d positions apart, so it widens the field by d(k - 1) steps.",
        lambda layers: _field(layers, span=lambda k, d: k - 1),
    ),
    _mistake(
        "d-times-k",
        "you took d·k for the span of a dilated kernel; it is d(k - 1) + 1 (k taps "
        "with d - 1 holes between neighbours), so a layer adds d(k - 1) steps.",
        lambda layers: _field(layers, span=lambda k, d: d * k - 1),
    ),
    _mistake("start-at-0", _OFF_BY_ONE_HINT, lambda layers: _field(layers, start=0)),
    _mistake("start-at-2", _OFF_BY_ONE_HINT, lambda layers: _field(layers, start=2)),
    _mistake(
        "whole-span-added",
        "you added each layer's whole span d(k - 1) + 1. The first tap of a window "
        "sits on a position the field already counts, so a layer adds d(k - 1) "
        "steps: r += d(k - 1)·jump, starting from r = 1.",
        lambda layers: _field(layers, span=lambda k, d: d * (k - 1) + 1),
    ),
    _mistake(
        "stride-applied-first",
        "a layer's stride spaces out its outputs, not its own taps: multiply the jump "
        "by s after adding this layer's d(k - 1)·jump, so that only later layers use "
        "it.",
        lambda layers: _field(layers, jump_first=True),
    ),
    _mistake(
        "layers-reversed",
        "you went through the layers last to first with the forward recurrence. The "
        "input goes through layers[0] first, so the jump grows from the first layer "
        "on. (Going backwards works too, with r = (r - 1)·s + d(k - 1) + 1.)",
        lambda layers: _field(layers, reverse=True),
    ),
)


_UNPACK = re.compile(r"values to unpack|cannot unpack|not subscriptable|not iterable")


def _explain_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        return "the checker calls `fn(layers)`, with the list of layers only."
    if isinstance(error, (TypeError, ValueError)) and _UNPACK.search(text):
        return (
            "each layer is a tuple of three ints, (k, s, d): `for k, s, d in layers:`."
        )
    if not case["layers"]:
        return "with no layers an output is one input position: return 1."
    return None


def _mutation_hint(name: str, original) -> str:
    return (
        "`layers.pop()`, `layers.reverse()` and `del layers[0]` change the caller's "
        "list. Read the layers with `for k, s, d in layers:` instead."
    )


_EXERCISE = Exercise(
    "receptive_field",
    lambda: [
        Case([("layers", [tuple(layer) for layer in layers])], expected=size)
        for layers, size in _cases()
    ],
    _compare,
    mistakes=_MISTAKES,
    explain_error=_explain_error,
    mutation_hint=_mutation_hint,
)
