"""Checkers for chapter 3's exercises on sizes: a stack of layers, and "same" padding.

The expected answers come from PyTorch, not from a formula: a stack's output size is
the length of what ``torch.nn.functional.conv1d`` returns when a tiny tensor of zeros
goes through the stack, layer after layer; the padding that keeps a size is the one
for which conv1d's output has the input's length. Both are computed once per session
(a few hundredths of a second) and then reused.

Each usual mistake (ceil instead of floor, total instead of per-side padding, one
formula applied to the whole stack, ...) computes the answer it gives; it is named only
when it gives the learner's answer on every case. For "same" padding, refusing with
``ValueError`` is the right answer where no padding exists, but only a ``raise
ValueError(...)`` of the learner's own counts: an unpacking error is not a refusal.
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

from labs.check._answers import (
    check_value,
    compare_numbers,
    read_ints,
    requirements_mismatch,
)
from labs.check._compare import compare_int
from labs.check._core import Case, Exercise, Mismatch, Mistake, Refused, check
from labs.check._result import Result
from labs.check._text import first_line, type_phrase

__all__ = ["stack_output_size", "same_padding", "size_predictions", "layer_design"]


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
    return check(_STACK, fn, raise_on_failure=raise_on_failure)


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


def _compare_stack(got, case: Case) -> None:
    expected = case.expected
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


def _summed(stride_of: Callable, kernels_summed: bool = False) -> Callable:
    """The whole stack as one layer: spans (or kernel sizes, with the largest
    dilation) and paddings summed, strides combined by ``stride_of``."""

    def size(i, layers):
        if not layers:
            return i
        span = sum(d * (k - 1) + 1 for k, _, _, d in layers)
        if kernels_summed:
            span = max(d for *_, d in layers) * (sum(k for k, *_ in layers) - 1) + 1
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


def _stack_mistake(name: str, hint: str, size: Callable) -> Mistake:
    """A mistaken way through the stack: ``size(i, layers)`` is what it gives."""
    return Mistake(name, hint, lambda case: size(case["i"], case["layers"]))


_STACK_MISTAKES = (
    _stack_mistake(
        "ceil",
        "you rounded up. After each layer the number of strides is rounded down, "
        "floor((i + 2p - d(k - 1) - 1) / s) + 1: the last window must fit inside the "
        "padded input.",
        _layer_by_layer(ceil=True),
    ),
    _stack_mistake(
        "total-padding",
        "you used p as the total padding. In PyTorch (and here) p is the padding on "
        "each side: a layer sees i + 2p positions.",
        _layer_by_layer(per_side=False),
    ),
    _stack_mistake(
        "dilation-ignored",
        "you ignored the dilation: a layer's kernel spans d(k - 1) + 1 positions.",
        _layer_by_layer(dilation=False),
    ),
    _stack_mistake(
        "forgot-plus-one",
        "you forgot the + 1 in the one-layer formula: a layer has one more output "
        "position than strides.",
        _layer_by_layer(plus=0),
    ),
    _stack_mistake(
        "stride-padding-swapped",
        "stride and padding are swapped: each layer is (k, s, p, d), in that order, "
        "like conv1d's kernel_size, stride, padding and dilation.",
        lambda i, layers: _layer_by_layer()(i, layers, order=(0, 2, 1, 3)),
    ),
    _stack_mistake(
        "layers-reversed",
        "you applied the layers last to first. The input goes through layers[0] first.",
        lambda i, layers: _layer_by_layer()(i, layers, reverse=True),
    ),
    _stack_mistake("summed", _SUMMED_HINT, _summed(sum)),
    _stack_mistake("summed-product-of-strides", _SUMMED_HINT, _summed(math.prod)),
    _stack_mistake("summed-largest-stride", _SUMMED_HINT, _summed(max)),
    *(
        _stack_mistake(
            f"kernels-summed-{how.__name__}",
            _SUMMED_HINT,
            _summed(how, kernels_summed=True),
        )
        for how in (sum, math.prod, max)
    ),
    _stack_mistake(
        "first-layer-only",
        "you returned after the first layer: the loop over the layers should return "
        "only after the last one.",
        lambda i, layers: _layer_by_layer()(i, layers[:1]) if layers else i,
    ),
)


_UNPACK = re.compile(r"values to unpack|cannot unpack|not subscriptable|not iterable")


def _explain_stack_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        return "the checker calls `fn(i, layers)`, by position."
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
    return check(_SAME_PADDING, fn, raise_on_failure=raise_on_failure)


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


def _compare_padding(got, case: Case) -> None:
    expected = case.expected
    if isinstance(expected, _NoPadding):
        k, d = expected
        if isinstance(got, Refused):
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
    if isinstance(got, Refused):
        raise Mismatch(
            f"your function raised ValueError ({first_line(got.error)}), but p = {expected} "
            "keeps the size.",
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


def _padding(rule: Callable, refuse_when: Callable) -> Callable:
    """What a learner's function gives: ``rule(k, d)``, or a refusal where
    ``refuse_when(k, d)``."""

    def gives(case: Case):
        k, d = case["k"], case["d"]
        return Refused(ValueError()) if refuse_when(k, d) else rule(k, d)

    return gives


def _odd_span(k, d):
    return d * (k - 1) % 2 == 1


def _never(k, d):
    return False


def _never_raises_hint(case: Case) -> str:
    k, d = case["k"], case["d"]
    total = d * (k - 1)
    return (
        f"{total // 2} cannot keep the size: 2p would have to equal d(k - 1) = "
        f"{total}, an odd number. Check whether d(k - 1) is odd, and raise ValueError "
        "if so."
    )


def _even_k_hint(case: Case) -> str:
    k, d = case["k"], case["d"]
    total = d * (k - 1)
    return (
        f"what must be even is d(k - 1), not k: with k={k} and d={d} the kernel spans "
        f"{total + 1} positions, an odd number, so p = {total // 2} on each side keeps "
        "the size."
    )


_SAME_PADDING_MISTAKES = (
    Mistake(
        "k-floor-half",
        "k // 2 keeps the size only for an odd kernel without dilation: with an even "
        "k, padding k // 2 on each side turns a length i into i + 1. In general "
        "p = d(k - 1) / 2, and there is none (raise ValueError) when d(k - 1) is odd.",
        _padding(lambda k, d: k // 2, _never),
    ),
    Mistake(
        "never-raises",
        _never_raises_hint,
        _padding(lambda k, d: d * (k - 1) // 2, _never),
    ),
    Mistake(
        "pytorch-pair",
        "that (before, after) pair is what PyTorch's padding='same' pads, but this "
        "exercise asks for one per-side padding p, and there is none: raise "
        "ValueError.",
        lambda case: (
            _pair(case["k"], case["d"])
            if _odd_span(case["k"], case["d"])
            else case["d"] * (case["k"] - 1) // 2
        ),
    ),
    Mistake(
        "raises-for-even-k",
        _even_k_hint,
        _padding(lambda k, d: d * (k - 1) // 2, lambda k, d: k % 2 == 0),
    ),
    Mistake(
        "total-padding",
        "that is the total padding d(k - 1). PyTorch's padding is per side: half of it "
        "goes on each side.",
        _padding(lambda k, d: d * (k - 1), _odd_span),
    ),
    Mistake(
        "dilation-ignored",
        "you ignored the dilation: a dilated kernel spans d(k - 1) + 1 positions, so "
        "the padding on each side is d(k - 1) / 2.",
        _padding(lambda k, d: (k - 1) // 2, lambda k, d: (k - 1) % 2 == 1),
    ),
    Mistake(
        "d-times-k",
        "a dilated kernel spans d(k - 1) + 1 positions, not d·k: the padding on each "
        "side is d(k - 1) / 2.",
        _padding(lambda k, d: d * k // 2, _odd_span),
    ),
)


def _pair(k: int, d: int) -> tuple[int, int]:
    total = d * (k - 1)
    return total // 2, total - total // 2


def _explain_padding_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, TypeError) and "positional argument" in str(error):
        return (
            "the checker calls `fn(k, d)`, by position: define `same_padding(k, d=1)`."
        )
    if isinstance(case.expected, _NoPadding) and not isinstance(error, ValueError):
        return (
            f"right to refuse, but raise ValueError, not {type(error).__name__}: "
            "`raise ValueError(...)` with a message that says why."
        )
    return None


_STACK = Exercise(
    "stack_output_size",
    lambda: [
        Case([("i", i), ("layers", [tuple(layer) for layer in layers])], expected=size)
        for i, layers, size in _stack_cases()
    ],
    _compare_stack,
    mistakes=_STACK_MISTAKES,
    explain_error=_explain_stack_error,
    mutation_hint=lambda name, original: (
        "`layers.pop()`, `layers.reverse()` and `del layers[0]` change the caller's "
        "list. Read the layers with `for k, s, p, d in layers:` instead."
    ),
)

_SAME_PADDING = Exercise(
    "same_padding",
    lambda: [
        Case([("k", k), ("d", d)], expected=expected)
        for k, d, expected in _same_padding_cases()
    ],
    _compare_padding,
    mistakes=_SAME_PADDING_MISTAKES,
    explain_error=_explain_padding_error,
    refusals=(ValueError,),
)


# --- size_predictions ---------------------------------------------------------------

# The exercise's input, x = torch.zeros(1, 1, 20), and what is asked about it.
PREDICTION_LENGTH = 20
_PREDICTION_NAMES = (
    "the strided convolution's output size",
    "the pooling layer's output size",
    "the dilated convolution's output size",
    "the number of cells never read",
)


def size_predictions(predictions, *, raise_on_failure: bool = False) -> Result:
    """Check four predicted numbers about layers on ``x = torch.zeros(1, 1, 20)``.

    ``predictions`` is a tuple of four ints, or a function without arguments
    returning it; None is "not attempted yet":

    1. ``TF.conv1d(x, torch.zeros(1, 1, 5), stride=3, padding=2).shape[-1]``;
    2. ``TF.max_pool1d(x, 4).shape[-1]`` (the stride defaults to the window);
    3. ``TF.conv1d(x, torch.zeros(1, 1, 4), dilation=2).shape[-1]``;
    4. how many cells of ``x`` ``TF.conv1d(x, torch.zeros(1, 1, 3), stride=4)`` never
       reads (counted by PyTorch: the zeros of the gradient of the summed output
       under a kernel of ones).

    A wrong number is reported without the right one, so that the prediction can be
    tried again; the hints recognise rounding up, padding on one side only or left
    out, a forgotten + 1, pooling with stride 1, dilation ignored or taken as d·k,
    and unread cells counted only at the end or only between windows.
    """
    return check_value(
        "size_predictions",
        predictions,
        _compare_predictions,
        kind="prediction",
        todo="four ints",
        headline="wrong prediction.",
        passed="your prediction is right.",
        mistakes=_PREDICTION_MISTAKES,
        parts=list,
        raise_on_failure=raise_on_failure,
    )


def _never_read(length: int, k: int, s: int = 1, p: int = 0) -> int:
    """How many input cells conv1d never reads: zero gradient under a kernel of ones."""
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    weight = torch.ones(1, 1, k, dtype=torch.float64)
    torch.nn.functional.conv1d(x, weight, stride=s, padding=p).sum().backward()
    return int((x.grad == 0).sum())


@functools.cache
def _predicted() -> tuple[int, int, int, int]:
    """The four numbers, computed by PyTorch."""
    tf = torch.nn.functional
    x = torch.zeros(1, 1, PREDICTION_LENGTH)
    return (
        tf.conv1d(x, torch.zeros(1, 1, 5), stride=3, padding=2).shape[-1],
        tf.max_pool1d(x, 4).shape[-1],
        tf.conv1d(x, torch.zeros(1, 1, 4), dilation=2).shape[-1],
        _never_read(PREDICTION_LENGTH, 3, s=4),
    )


def _prediction_mistake(name: str, part: int, hint: str, value: int) -> Mistake:
    return Mistake(name, hint, lambda case: value, part=part)


_ROOM = "(20 + 2·2 - 5) = 19 cells of room"
_PREDICTION_MISTAKES = (
    _prediction_mistake(
        "ceil",
        0,
        f"you rounded up. With {_ROOM} and stride 3 the window takes 6 whole "
        "steps; a partial step buys no output: floor(19/3) + 1.",
        math.ceil(19 / 3) + 1,
    ),
    _prediction_mistake(
        "one-short",
        0,
        "that is one short. Padding 2 adds 2 zeros on each side (i + 2p = 24), and "
        "the first window counts too: floor((i + 2p - k)/s) + 1.",
        (20 + 2 - 5) // 3 + 1,
    ),
    _prediction_mistake(
        "stride-ignored",
        0,
        "you ignored the stride: the window moves 3 cells at a time, so divide "
        "the room by 3 and round down.",
        20 + 4 - 5 + 1,
    ),
    _prediction_mistake(
        "pool-stride-1",
        1,
        "a pooling layer's stride defaults to its window, not to 1: max_pool1d(x, 4) "
        "uses non-overlapping windows of 4.",
        20 - 4 + 1,
    ),
    _prediction_mistake(
        "dilation-ignored",
        2,
        "you ignored the dilation: 4 taps 2 cells apart span d(k - 1) + 1 = 7 cells.",
        20 - 4 + 1,
    ),
    _prediction_mistake(
        "d-times-k",
        2,
        "you took d·k = 8 for the span; 4 taps 2 cells apart span d(k - 1) + 1 = 7.",
        20 - 8 + 1,
    ),
    _prediction_mistake(
        "dilation-as-gaps",
        2,
        "in PyTorch dilation=2 puts the taps 2 cells apart (one gap), not 3: the "
        "span is d(k - 1) + 1 = 7.",
        20 - 10 + 1,
    ),
    _prediction_mistake(
        "all-read",
        3,
        "with a stride larger than the kernel, the windows do not touch: the cells "
        "between them are never read, as well as any left over at the end.",
        0,
    ),
    _prediction_mistake(
        "only-the-end",
        3,
        "you counted only the cells left over at the end. With stride 4 and a "
        "kernel of 3, one cell between each pair of windows is skipped too.",
        (20 - 3) % 4,
    ),
    _prediction_mistake(
        "only-the-gaps",
        3,
        "you counted the cells between windows, but not the ones left over after "
        "the last window: list where each window starts and ends.",
        4,
    ),
)


def _compare_predictions(answer, case: Case) -> None:
    compare_numbers(
        answer,
        _predicted(),
        _PREDICTION_NAMES,
        hint="write a tuple of four ints: (strided convolution, pooling, dilated "
        "convolution, cells never read).",
    )


# --- layer_design -------------------------------------------------------------------

# The design problem: one Conv1d layer (dilation 1) for which exactly the input sizes
# 97 to 100 give 25 outputs, reading every input cell.
LAYER_TARGET = {"sizes": (97, 98, 99, 100), "output": 25, "neighbours": (96, 101)}
_LAYER_NAMES = ("kernel_size", "stride", "padding")
_LAYER_LEAST = {"kernel_size": 1, "stride": 1, "padding": 0}


def layer_design(layer, *, raise_on_failure: bool = False) -> Result:
    """Check a design of one convolution layer against the exercise's requirements.

    ``layer`` is a tuple ``(kernel_size, stride, padding)`` of ints (dilation 1), or a
    function without arguments returning it; None is "not attempted yet". With
    ``TF.conv1d`` on inputs of zeros, the layer must

    - give 25 outputs for each input size 97, 98, 99 and 100, and not for 96 or 101;
    - read every cell of each of those four inputs (no cell with a zero gradient of
      the summed output under a kernel of ones).

    The verdict lists every requirement that fails, with the numbers.
    """
    return check_value(
        "layer_design",
        layer,
        _compare_layer,
        kind="design",
        todo="a (kernel_size, stride, padding) tuple",
        headline="the design does not meet the requirements.",
        passed="your design meets every requirement.",
        raise_on_failure=raise_on_failure,
    )


def _compare_layer(answer, case: Case) -> None:
    k, s, p = read_ints(answer, _LAYER_NAMES, least=_LAYER_LEAST)
    target = LAYER_TARGET
    sizes = {
        i: _torch_stack_size(i, ((k, s, p, 1),))
        for i in target["sizes"] + target["neighbours"]
    }
    if any(size is None for size in sizes.values()):
        raise Mismatch(
            f"PyTorch refuses the layer: the kernel ({k}) is longer than the padded "
            f"input.",
            hint="a kernel must fit in i + 2p cells.",
        )
    failed, hints = [], []
    wrong = {i: o for i, o in sizes.items() if i in target["sizes"] and o != 25}
    shared = [i for i in target["neighbours"] if sizes[i] == 25]
    if wrong or shared:
        parts = [f"{i} gives {o}" for i, o in wrong.items()]
        parts += [f"{i} gives 25 too" for i in shared]
        failed.append("input size " + ", ".join(parts))
        hints.append(
            "a stride s puts s consecutive input sizes on each output size, so four "
            "sizes and no more need s = 4; then floor((i + 2p - k)/4) + 1 must be "
            "25 for i = 97 and for i = 100."
        )
    unread = {
        i: _never_read(i, k, s, p) for i in target["sizes"] if sizes[i] is not None
    }
    unread = {i: n for i, n in unread.items() if n}
    if unread:
        failed.append(
            "cells are never read: "
            + ", ".join(f"{n} of {i}" for i, n in unread.items())
        )
        if s > k:
            hints.append(
                "with a stride larger than the kernel, the cells between windows "
                "are skipped: the kernel must be at least as long as the stride."
            )
        else:
            hints.append(
                "the last r = (i + 2p - k) mod s cells of the padded input are "
                "never read, and only the padding among them is harmless: the "
                "padding must be at least the largest leftover r."
            )
    if failed:
        raise requirements_mismatch(
            failed,
            hints,
            names=_LAYER_NAMES,
            numbers=(k, s, p),
            expected="25 outputs for sizes 97 to 100 only, every cell read",
        )
