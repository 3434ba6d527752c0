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

from labs.check._compare import compare_int
from labs.check._core import Case, Exercise, Mismatch, Mistake, Refused, check
from labs.check._result import Result
from labs.check._text import first_line, type_phrase

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
