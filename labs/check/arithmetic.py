"""Checkers for chapter 3's exercises on sizes: a stack of layers, and "same" padding.

The expected answers come from PyTorch, not from a formula: a stack's output size is
the length of what ``torch.nn.functional.conv1d`` returns when a tiny tensor of zeros
goes through the stack, layer after layer; the padding that keeps a size is the one
for which conv1d's output has the input's length. Both are computed once per session
(a few hundredths of a second) and then reused.

Hints come from comparing a wrong answer with what common mistakes give on the same
case (ceil instead of floor, total instead of per-side padding, one formula applied to
the whole stack, ...).
"""

from __future__ import annotations

import functools
import itertools
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

__all__ = ["stack_output_size", "same_padding"]


# --- stack_output_size --------------------------------------------------------------


def stack_output_size(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's output size of a stack of layers against PyTorch.

    The learner writes ``fn(i, layers) -> int``: the size, along one spatial axis, of
    what comes out of a stack of convolution (or pooling) layers applied one after the
    other to an input of size ``i``. ``layers`` is a list of ``(k, s, p, d)`` tuples:
    kernel size, stride, zero padding on each side and dilation of each layer, first
    layer first (a pooling layer counts as its window's ``(k, s, p, d)``). Each layer
    applies ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1`` to the size the previous
    layer produced; an empty list leaves the size unchanged. Arguments are passed by
    position; the list must not be modified.

    Cases: 8 hand-picked stacks (one layer, no layer, a LeNet-like and a small CNN's
    stack, strided stacks where the floor matters at every layer, dilated layers, a
    stride larger than the kernel), then seeded random stacks of 1 to 4 layers up to
    40 in all (i ≤ 64, k ≤ 5, s ≤ 3, p ≤ 2, d ≤ 3), only stacks in which every
    layer's padded input is at least as long as its kernel's span. The expected size
    is the length of ``conv1d``'s output on a zero tensor sent through the stack. The
    answer must be an ``int``.
    """
    if not callable(fn):
        return finish(not_callable("stack_output_size", fn), raise_on_failure)
    cases = [
        Case([("i", i), ("layers", [tuple(layer) for layer in layers])], expected=size)
        for i, layers, size in _stack_cases()
    ]

    def diagnose(case: Case, got) -> str | None:
        return _diagnose_stack(fn, cases, case, got)

    def guarded(i, layers):
        mine = list(layers)  # the learner's function gets its own copy of the list
        answer = fn(i, mine)
        return _Modified(answer) if mine != layers else answer

    result = run_checker(
        "stack_output_size",
        guarded,
        cases,
        compare=_compare_stack,
        diagnose=diagnose,
        explain_error=_explain_stack_error,
    )
    return finish(result, raise_on_failure)


# Readable stacks first; each planted mistake in the tests is caught by one of them.
_HAND_PICKED_STACKS = (
    (32, ((3, 1, 1, 1),)),  # one "same" layer: 32 stays 32
    (10, ()),  # no layer at all: the size is unchanged
    (28, ((5, 1, 0, 1), (2, 2, 0, 1), (5, 1, 0, 1), (2, 2, 0, 1))),  # LeNet-like: 4
    (32, ((3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 1, 1), (2, 2, 0, 1))),  # small CNN: 8
    (15, ((3, 2, 0, 1), (2, 2, 0, 1), (3, 1, 0, 1))),  # 15 -> 7 -> 3 -> 1
    (23, ((3, 2, 1, 1), (3, 2, 1, 1), (3, 2, 1, 1))),  # 23 -> 12 -> 6 -> 3
    (20, ((3, 1, 2, 2), (3, 1, 0, 3), (2, 1, 1, 1))),  # dilated: 20 -> 20 -> 14 -> 15
    (17, ((1, 3, 0, 1), (4, 2, 2, 1))),  # stride larger than kernel: 17 -> 6 -> 4
)
_STACK_CASES = 40
_STACK_SEED = 3


def _torch_stack_size(i: int, layers) -> int | None:
    """The length of conv1d's output after the stack, or None if PyTorch refuses."""
    x = torch.zeros(1, 1, i)
    try:
        for k, s, p, d in layers:
            w = torch.zeros(1, 1, k)
            x = torch.nn.functional.conv1d(x, w, stride=s, padding=p, dilation=d)
    except RuntimeError:  # a layer's kernel spans more than its padded input
        return None
    return int(x.shape[-1])


@functools.cache
def _stack_cases() -> tuple:
    """(i, layers, size) for the hand-picked stacks, then seeded random ones."""
    cases = []
    for i, layers in _HAND_PICKED_STACKS:
        size = _torch_stack_size(i, layers)
        assert size is not None, (i, layers)
        cases.append((i, layers, size))
    rng = np.random.default_rng(_STACK_SEED)
    while len(cases) < _STACK_CASES:
        i = int(rng.integers(4, 65))
        depth = int(rng.integers(1, 5))
        layers = tuple(
            (
                int(rng.integers(1, 6)),
                int(rng.integers(1, 4)),
                int(rng.integers(0, 3)),
                int(rng.integers(1, 4)),
            )
            for _ in range(depth)
        )
        size = _torch_stack_size(i, layers)
        if size is not None:
            cases.append((i, layers, size))
    return tuple(cases)


class _Modified(NamedTuple):
    """What the checker records when the learner's function changed the list."""

    answer: object


def _compare_stack(got, expected: int) -> None:
    if isinstance(got, _Modified):
        raise Mismatch(
            "your function modified its argument `layers` in place.",
            got=got.answer,
            hint="`layers.pop()`, `layers.reverse()` and `del layers[0]` change the "
            "caller's list. Read the layers with `for k, s, p, d in layers:` instead.",
        )
    if isinstance(got, (list, tuple)):
        last = got[-1] if got else None
        hint = "return a single int, the size after the last layer."
        if isinstance(last, int) and last == expected:
            hint = (
                "your last element is right: return only the size after the last "
                "layer, as an int, not the list of every layer's size."
            )
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not an int.",
            details=[("expected", str(expected))],
            got=got,
            hint=hint,
        )
    compare_int(got, expected)


def _one_layer(i, k, s, p, d, *, ceil=False, per_side=True, dilation=True, plus=1):
    """One layer's size, as a (possibly mistaken) formula; None when there is none."""
    span = (d if dilation else 1) * (k - 1) + 1
    room = i + (2 * p if per_side else p) - span
    if s < 1 or room < 0:
        return None
    return (-(-room // s) if ceil else room // s) + plus


def _layer_by_layer(**mistake) -> Callable:
    def size(i, layers, order=(0, 1, 2, 3), reverse=False):
        for layer in reversed(layers) if reverse else layers:
            k, s, p, d = (layer[index] for index in order)
            i = _one_layer(i, k, s, p, d, **mistake)
            if i is None or i < 1:
                return None
        return i

    return size


def _summed(stride_of: Callable) -> Callable:
    """The whole stack as one layer: spans and paddings summed, strides combined."""

    def size(i, layers):
        if not layers:
            return i
        span = sum(d * (k - 1) + 1 for k, _, _, d in layers)
        padding = sum(p for _, _, p, _ in layers)
        stride = stride_of([s for _, s, _, _ in layers])
        room = i + 2 * padding - span
        return room // stride + 1 if room >= 0 else None

    return size


_SUMMED_HINT = (
    "you seem to have treated the whole stack as one layer, with summed kernel sizes, "
    "paddings or strides. The floor must be taken after every layer: apply the "
    "one-layer formula to the first layer, feed its output size to the second, and "
    "so on."
)


class _StackMistake(NamedTuple):
    size: Callable  # (i, layers) -> int or None: what the mistake gives
    hint: str


_STACK_MISTAKES = (
    _StackMistake(
        _layer_by_layer(ceil=True),
        "you rounded up. After each layer the number of strides is rounded down, "
        "floor((i + 2p - d(k - 1) - 1) / s) + 1: the last window must fit inside the "
        "padded input.",
    ),
    _StackMistake(
        _layer_by_layer(per_side=False),
        "you used p as the total padding. In PyTorch (and here) p is the padding on "
        "each side: a layer sees i + 2p positions.",
    ),
    _StackMistake(
        _layer_by_layer(dilation=False),
        "you ignored the dilation: a layer's kernel spans d(k - 1) + 1 positions.",
    ),
    _StackMistake(
        _layer_by_layer(plus=0),
        "you forgot the + 1 in the one-layer formula: a layer has one more output "
        "position than strides.",
    ),
    _StackMistake(
        lambda i, layers: _layer_by_layer()(i, layers, order=(0, 2, 1, 3)),
        "stride and padding are swapped: each layer is (k, s, p, d), in that order, "
        "like conv1d's kernel_size, stride, padding and dilation.",
    ),
    _StackMistake(
        lambda i, layers: _layer_by_layer()(i, layers, reverse=True),
        "you applied the layers last to first. The input goes through layers[0] "
        "first.",
    ),
    _StackMistake(_summed(sum), _SUMMED_HINT),
    _StackMistake(_summed(math.prod), _SUMMED_HINT),
    _StackMistake(_summed(max), _SUMMED_HINT),
    _StackMistake(
        lambda i, layers: _layer_by_layer()(i, layers[:1]) if layers else None,
        "you returned after the first layer: the loop over the layers should return "
        "only after the last one.",
    ),
)


def _diagnose_stack(fn: Callable, cases: list[Case], case: Case, got) -> str | None:
    """The hint of the mistake that gives ``got`` and agrees most with the learner."""
    arguments = (case["i"], case["layers"])
    matching = [m for m in _STACK_MISTAKES if m.size(*arguments) == int(got)]
    return likeliest_hint(
        fn, cases, matching,
        lambda mistake, answer, other: answer == mistake.size(other["i"], other["layers"]),
    )


_UNPACK = re.compile(r"values to unpack|cannot unpack|not subscriptable|not iterable")


def _explain_stack_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        return "the checker calls fn(i, layers), by position."
    if isinstance(error, (TypeError, ValueError)) and _UNPACK.search(text):
        return (
            "each layer is a tuple of four ints, (k, s, p, d): "
            "`for k, s, p, d in layers:`."
        )
    if isinstance(error, ZeroDivisionError):
        return (
            "no layer has stride 0: check the order in which you unpack each layer, "
            "(k, s, p, d), like conv1d's kernel_size, stride, padding, dilation."
        )
    if not case["layers"]:
        return "with no layers the size is unchanged: return i for an empty list."
    return None


# --- same_padding -------------------------------------------------------------------


def same_padding(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's "same" padding of a stride-1 convolution against PyTorch.

    The learner writes ``fn(k, d=1) -> int``: the zero padding ``p`` on *each* side
    with which ``torch.nn.functional.conv1d`` (stride 1, kernel size ``k``, dilation
    ``d``) returns an output as long as its input, for every input length. A stride-1
    layer maps ``i`` to ``i + 2p - d(k - 1)``, so ``p = d(k - 1) / 2``. When
    ``d(k - 1)`` is odd no per-side padding keeps the size, and the function must
    raise ``ValueError`` (PyTorch's ``padding='same'`` then pads one more zero on the
    right than on the left, which is not a per-side padding). Arguments are passed by
    position.

    Cases: every k in 1..7 with every d in 1..4 (28 cases), readable ones first
    (k = 3, 5, 1, then k = 4, which has no answer, then dilated ones, including an
    even kernel whose dilated span is odd). The expected answer is the p in
    0..d(k - 1) for which PyTorch's conv1d keeps the length of inputs of two different
    sizes, or ValueError when there is none.
    """
    if not callable(fn):
        return finish(not_callable("same_padding", fn), raise_on_failure)
    cases = [
        Case([("k", k), ("d", d)], expected=expected)
        for k, d, expected in _same_padding_cases()
    ]

    def guarded(k, d):
        try:
            return fn(k, d)
        except ValueError as error:
            return _Raised(error)

    result = run_checker(
        "same_padding",
        guarded,
        cases,
        compare=_compare_padding,
        diagnose=_diagnose_padding,
        explain_error=_explain_padding_error,
    )
    return finish(result, raise_on_failure)


class _Raised(NamedTuple):
    """What the checker records when the learner's function raised ValueError."""

    error: ValueError


class _NoPadding(NamedTuple):
    """The expected answer when no per-side padding keeps the size."""

    k: int
    d: int

    def __str__(self) -> str:
        return "ValueError"


_FIRST_KERNELS = ((3, 1), (5, 1), (1, 1), (4, 1), (3, 2), (2, 2), (2, 3))


def _keeps_size(k: int, d: int, p: int) -> bool:
    w = torch.zeros(1, 1, k)
    span = d * (k - 1) + 1
    for i in (span, span + 3):
        x = torch.zeros(1, 1, i)
        out = torch.nn.functional.conv1d(x, w, padding=p, dilation=d)
        if out.shape[-1] != i:
            return False
    return True


@functools.cache
def _same_padding_cases() -> tuple:
    """(k, d, expected) with expected an int p or a _NoPadding; readable ones first."""
    grid = list(_FIRST_KERNELS) + [
        (k, d)
        for d, k in itertools.product(range(1, 5), range(1, 8))
        if (k, d) not in _FIRST_KERNELS
    ]
    cases = []
    for k, d in grid:
        found = [p for p in range(d * (k - 1) + 1) if _keeps_size(k, d, p)]
        cases.append((k, d, found[0] if found else _NoPadding(k, d)))
    return tuple(cases)


def _compare_padding(got, expected) -> None:
    if isinstance(expected, _NoPadding):
        k, d = expected
        if isinstance(got, _Raised):
            return
        span = d * (k - 1) + 1
        shown = got if got is not None else "None"
        raise Mismatch(
            f"no per-side padding keeps the size here: the kernel spans {span} "
            f"positions, so a stride-1 layer maps i to i + 2p - {span - 1}, and 2p is "
            f"even while {span - 1} is odd. Your function should raise ValueError.",
            details=[("expected", "ValueError"), ("got", repr(shown))],
            got=got,
            diagnosable=True,
        )
    if isinstance(got, _Raised):
        raise Mismatch(
            f"your function raised ValueError ({got.error}), but p = {expected} keeps "
            "the size.",
            details=[("expected", str(expected)), ("got", "ValueError")],
            got=got,
            diagnosable=True,
        )
    if isinstance(got, (tuple, list)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not an int.",
            details=[("expected", str(expected))],
            got=got,
            hint="return p, the padding on each side, as one int.",
        )
    compare_int(got, expected, what="padding")


def _diagnose_padding(case: Case, got) -> str | None:
    k, d = case["k"], case["d"]
    total = d * (k - 1)
    if isinstance(got, _Raised):
        if k % 2 == 0:
            return (
                f"what must be even is d(k - 1), not k: with k={k} and d={d} the "
                f"kernel spans {total + 1} positions, an odd number, so p = "
                f"{total // 2} on each side keeps the size."
            )
        return None
    if total % 2:  # ValueError expected, a value came back
        pair = (total // 2, total - total // 2)
        if isinstance(got, (tuple, list)) and tuple(got) == pair:
            return (
                "that (before, after) pair is what PyTorch's padding='same' pads, but "
                "this exercise asks for one per-side padding p, and there is none: "
                "raise ValueError."
            )
        if got == k // 2 and d == 1:
            return (
                f"k // 2 keeps the size only for an odd kernel: with k={k}, padding "
                f"{k // 2} on each side turns a length i into i + 1."
            )
        return (
            f"{got!r} cannot keep the size: 2p would have to equal d(k - 1) = {total}, "
            "an odd number. Check whether d(k - 1) is odd, and raise ValueError if so."
        )
    if got == total and total:
        return (
            "that is the total padding d(k - 1). PyTorch's padding is per side: half "
            "of it goes on each side."
        )
    if d > 1 and got in ((k - 1) // 2, k // 2):
        return (
            "you ignored the dilation: a dilated kernel spans d(k - 1) + 1 positions, "
            "so the padding on each side is d(k - 1) / 2."
        )
    if d > 1 and got == (d * k) // 2:
        return (
            "a dilated kernel spans d(k - 1) + 1 positions, not d·k: the padding on "
            "each side is d(k - 1) / 2."
        )
    return None


def _explain_padding_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, TypeError) and "positional argument" in str(error):
        return "the checker calls fn(k, d), by position: define same_padding(k, d=1)."
    if isinstance(case.info["expected"], _NoPadding):
        return (
            f"right to refuse, but raise ValueError, not {type(error).__name__}: "
            "`raise ValueError(...)` with a message that says why."
        )
    return None
