"""Checkers for chapter 5's exercises: dilated convolutions and their receptive fields.

- ``dilated_stack_prediction``: a prediction, written before running anything, of the
  span of a dilated kernel, the receptive field of a stack, how many inputs of that
  field one output depends on, and the output's length.
- ``dilated_conv1d``: the fixed version of a dilated convolution with a bug (the
  exercise gives one that dilates the input instead of the kernel), compared with
  ``torch.nn.functional.conv1d``.
- ``dilation_design``: a choice of dilations for four 3-tap layers whose receptive
  field must reach a target with no holes.
- ``field_offsets``: a function listing the inputs one output of a stack depends on,
  holes included, computed without autograd.

Every number the checkers expect is measured in PyTorch, not computed from a formula:
lengths are the shapes ``conv1d`` returns, and which inputs an output depends on is
where its gradient is nonzero, in a stack whose weights are all ones (every gradient
counts paths, so none can cancel). Each usual mistake computes the answer it gives and
is named only when it gives the learner's answer on every case.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._answers import check_value, compare_numbers
from labs.check._compare import compare_values, int_or_mismatch, require_ndarray
from labs.check._core import Case, Cases, Exercise, Impossible, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = [
    "dilated_stack_prediction",
    "dilated_conv1d",
    "dilation_design",
    "field_offsets",
]


def _dependence(layers, length: int | None = None) -> tuple[np.ndarray, int]:
    """For a stack of conv1d layers ``(k, s, d)`` with weights of ones and no padding:
    the input offsets one middle output depends on (from its gradient, relative to
    the first one) and the stack's output length."""
    field, jump = 1, 1
    for k, s, d in layers:
        field, jump = field + d * (k - 1) * jump, jump * s
    length = length or 2 * field + 4 * jump + 8  # room for a few outputs
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in layers:
        ones = torch.ones(1, 1, k, dtype=torch.float64)
        y = TF.conv1d(y, ones, stride=s, dilation=d)
    y[0, 0, y.shape[-1] // 2].backward()
    positions = np.flatnonzero(x.grad[0, 0].numpy())
    return positions - positions[0], y.shape[-1]


def _reached(dilations, k: int, length: int | None = None) -> tuple[np.ndarray, int]:
    """:func:`_dependence` for a stride-1 stack of ``k``-tap layers."""
    return _dependence([(k, 1, d) for d in dilations], length)


# --- dilated_stack_prediction ---------------------------------------------------------

# The exercise's stack: Conv1d layers with kernel size 2, dilations 1, 3, 9, stride 1,
# no padding, on a signal of length 100.
PREDICTION_SETTING = {"length": 100, "k": 2, "dilations": (1, 3, 9)}
_PREDICTION_NAMES = (
    "the span of the last layer's kernel",
    "the receptive field",
    "the number of inputs the output depends on",
    "the output length",
)


def dilated_stack_prediction(prediction, *, raise_on_failure: bool = False) -> Result:
    """Check a predicted span, receptive field, dependence count and output length.

    The stack is three ``nn.Conv1d`` layers with kernel size 2 and dilations 1, 3 and
    9 (stride 1, no padding) on a signal of length 100. ``prediction`` is a tuple of
    four ints, ``(span of the last layer's kernel, receptive field of one output,
    number of inputs in that field the output depends on, output length)``, or a
    function without arguments returning it; None is "not attempted yet". The
    expected numbers are measured in PyTorch: the span and the field from the gradient
    of one output of a stack with weights of ones (the last layer alone, then the
    whole stack), the count from the same gradient's nonzero entries, the length from
    the output's shape. A wrong number is reported without the right one, so that the
    prediction can be tried again; the hints recognise a span of d·k or of k, spans
    added or multiplied, the field off by one, holes ignored, and a length computed
    from the last layer alone or off by one.
    """
    return check_value(
        "dilated_stack_prediction",
        prediction,
        _compare_prediction,
        kind="prediction",
        todo="four ints",
        headline="wrong prediction.",
        passed="your prediction is right.",
        mistakes=_PREDICTION_MISTAKES,
        parts=lambda answer: list(answer),
        raise_on_failure=raise_on_failure,
    )


@functools.cache
def _measured_prediction() -> tuple[int, int, int, int]:
    setting = PREDICTION_SETTING
    k, dilations = setting["k"], setting["dilations"]
    last, _ = _reached(dilations[-1:], k)
    reached, _ = _reached(dilations, k)
    _, length = _reached(dilations, k, length=setting["length"])
    return int(last[-1] + 1), int(reached[-1] + 1), int(reached.size), int(length)


def _sum(term: Callable[[int, int], int]) -> int:
    """The sum of ``term(k, d)`` over the exercise's layers."""
    k = PREDICTION_SETTING["k"]
    return sum(term(k, d) for d in PREDICTION_SETTING["dilations"])


def _prediction_mistake(name: str, part: int, hint: str, gives: Callable) -> Mistake:
    return Mistake(name, hint, lambda case: gives(), part=part)


_D_TIMES_K = (
    "a kernel of k taps placed d apart spans d(k - 1) + 1 positions, not d·k: there "
    "are k - 1 gaps between its taps, not k."
)
_GAPS_ONLY = (
    "you counted the gaps between the taps, d(k - 1); the span counts positions, "
    "from the first tap to the last, both included: one more."
)
_SPANS_ADDED = (
    "the windows of neighbouring layers overlap: each layer's first tap sits on a "
    "position already counted, so a layer adds d(k - 1), not its whole span, to the "
    "field that starts at 1."
)
_FIELD_OFF_BY_ONE = (
    "off by one: the field starts at 1 (one input, no layer) and each layer adds "
    "d(k - 1)."
)
_HOLES_IGNORED = (
    "that is the whole receptive field, as if it had no holes. Look at the dilations: "
    "a layer whose dilation is larger than the field of the layers before it leaves "
    "gaps, as in the gridding section. Count the distinct sums of one tap offset per "
    "layer."
)
_LENGTH_OFF_BY_ONE = (
    "off by one: each layer shortens the signal by d(k - 1), its span minus one, so "
    "the stack shortens it by the receptive field minus one."
)
_LAST_LAYER_ONLY = (
    "that is the length after the last layer alone: every layer shortens its input, "
    "by d(k - 1) each."
)

_PREDICTION_MISTAKES = (
    _prediction_mistake("span-d-times-k", 0, _D_TIMES_K, lambda: 9 * 2),
    _prediction_mistake(
        "span-dilation-ignored",
        0,
        "a dilated kernel of k taps reaches d(k - 1) + 1 positions, not k: its taps "
        "are d apart.",
        lambda: 2,
    ),
    _prediction_mistake("span-gaps-only", 0, _GAPS_ONLY, lambda: 9 * (2 - 1)),
    _prediction_mistake(
        "field-d-times-k", 1, _D_TIMES_K, lambda: 1 + _sum(lambda k, d: d * k - 1)
    ),
    _prediction_mistake(
        "field-spans-added", 1, _SPANS_ADDED, lambda: _sum(lambda k, d: d * (k - 1) + 1)
    ),
    _prediction_mistake(
        "field-spans-added-plus-one",
        1,
        _SPANS_ADDED,
        lambda: 1 + _sum(lambda k, d: d * (k - 1) + 1),
    ),
    _prediction_mistake(
        "field-spans-multiplied",
        1,
        "you multiplied the spans; stacking a layer adds d(k - 1) positions to the "
        "field, it does not multiply it.",
        lambda: math.prod(d * (2 - 1) + 1 for d in PREDICTION_SETTING["dilations"]),
    ),
    _prediction_mistake(
        "field-off-by-one",
        1,
        _FIELD_OFF_BY_ONE,
        lambda: _sum(lambda k, d: d * (k - 1)),
    ),
    _prediction_mistake(
        "field-dilation-ignored",
        1,
        "the dilations widen every layer: layer ℓ adds d_ℓ(k - 1) positions, not "
        "k - 1.",
        lambda: 1 + _sum(lambda k, d: k - 1),
    ),
    _prediction_mistake(
        "holes-ignored", 2, _HOLES_IGNORED, lambda: 1 + _sum(lambda k, d: d * (k - 1))
    ),
    _prediction_mistake(
        "length-off-by-one",
        3,
        _LENGTH_OFF_BY_ONE,
        lambda: PREDICTION_SETTING["length"] - (1 + _sum(lambda k, d: d * (k - 1))),
    ),
    _prediction_mistake(
        "length-last-layer-only",
        3,
        _LAST_LAYER_ONLY,
        lambda: PREDICTION_SETTING["length"] - 9 * (2 - 1),
    ),
    _prediction_mistake(
        "length-dilation-ignored",
        3,
        "with dilation d a layer shortens the signal by d(k - 1), not k - 1.",
        lambda: PREDICTION_SETTING["length"] - _sum(lambda k, d: k - 1),
    ),
)


def _compare_prediction(answer, case: Case) -> None:
    compare_numbers(
        answer,
        _measured_prediction(),
        _PREDICTION_NAMES,
        hint="write a tuple of four ints: (span of the last layer's kernel, "
        "receptive field, inputs the output depends on, output length).",
    )


# --- dilated_conv1d -------------------------------------------------------------------


def dilated_conv1d(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's dilated convolution against ``torch.nn.functional.conv1d``.

    The learner writes ``fn(x, w, dilation) -> y`` for numpy float64 arrays: ``x`` of
    shape ``(N, C_in, L)``, ``w`` of shape ``(C_out, C_in, k)``, an int ``dilation``;
    stride 1, no padding, no bias. Tap ``j`` of the kernel reads the input ``j·d``
    positions after the start of the window, so the output is a float64 array of shape
    ``(N, C_out, L - d(k - 1))`` equal to ``conv1d(x, w, dilation=d)`` within
    ``1e-8 + 1e-6·|expected|``.

    Cases: 8 hand-picked (dilation 1, the chapter's kernel [1, 10, 100] with dilation
    3, channels, a kernel of one tap, a window as long as the input, ...), then seeded
    random ones, 20 in all. The hints recognise the input read d apart before an
    ordinary convolution (the exercise's bug: every d-th output), a span taken as d·k
    (d - 1 outputs missing at the end), the dilation ignored and a flipped kernel.
    """
    return check(_CONV, fn, raise_on_failure=raise_on_failure)


# (N, C_in, L, C_out, k, dilation)
_CONV_HAND_PICKED = (
    (1, 1, 10, 1, 3, 1),
    (1, 1, 10, 1, 3, 3),  # the chapter's example (the kernel is set below)
    (2, 3, 20, 4, 3, 2),
    (1, 2, 16, 3, 2, 5),
    (2, 2, 12, 2, 1, 4),  # one tap: the dilation changes nothing
    (1, 3, 13, 2, 4, 4),  # one window exactly: output length 1
    (1, 1, 30, 2, 5, 3),
    (3, 2, 25, 1, 3, 7),
)
_CONV_CASES = 20


def _conv_configs():
    yield from _CONV_HAND_PICKED
    rng = np.random.default_rng(50)
    while True:
        k, d = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        length = d * (k - 1) + int(rng.integers(1, 15))
        yield (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 4)),
            length,
            int(rng.integers(1, 4)),
            k,
            d,
        )


def _torch_conv(x, w, **options) -> np.ndarray:
    return TF.conv1d(torch.from_numpy(x), torch.from_numpy(w), **options).numpy()


def _conv_cases():
    rng = np.random.default_rng(51)
    for number, (n, c_in, length, c_out, k, d) in enumerate(_conv_configs()):
        if number == 1:
            x = np.arange(10.0).reshape(1, 1, 10)
            w = np.array([[[1.0, 10.0, 100.0]]])
        else:
            x = rng.standard_normal((n, c_in, length))
            w = rng.standard_normal((c_out, c_in, k))
        yield Case(
            [("x", x), ("w", w), ("dilation", d)],
            expected=_torch_conv(x, w, dilation=d),
        )


def _only_dilated(gives):
    def mistake(case: Case):
        if case["dilation"] == 1 or case["w"].shape[-1] == 1:
            raise Impossible  # with one tap or no dilation every reading is right
        return gives(case)

    return mistake


def _span_d_times_k(case: Case) -> np.ndarray:
    d = case["dilation"]
    keep = case.expected.shape[-1] - (d - 1)
    if keep < 1:
        raise Impossible
    return case.expected[..., :keep]


def _ordinary(case: Case) -> np.ndarray:
    x, w = case["x"], case["w"]
    if w.shape[-1] > x.shape[-1]:
        raise Impossible
    return _torch_conv(x, w)


_CONV_MISTAKES = (
    Mistake(
        "input-dilated",
        "you read the input d apart and then convolved as usual: that computes only "
        "every d-th output (it equals stride=d with dilation d). Dilate the kernel, "
        "not the input: tap j reads x[..., j·d : j·d + L_out], with "
        "L_out = L - d(k - 1).",
        _only_dilated(
            lambda case: _torch_conv(
                case["x"], case["w"], stride=case["dilation"], dilation=case["dilation"]
            )
        ),
    ),
    Mistake(
        "span-d-times-k",
        "your outputs are right but the last d - 1 are missing: the kernel spans "
        "d(k - 1) + 1 positions, not d·k, so L_out = L - d(k - 1).",
        _only_dilated(_span_d_times_k),
    ),
    Mistake(
        "dilation-ignored",
        "you ignored the dilation: tap j of the kernel reads the input j·d positions "
        "after the start of the window, not j.",
        _only_dilated(_ordinary),
    ),
    Mistake(
        "kernel-flipped",
        "you flipped the kernel: conv1d is a cross-correlation, tap j of w multiplies "
        "the input j·d positions after the start of the window.",
        lambda case: (
            _raise(Impossible)
            if case["w"].shape[-1] == 1
            else _torch_conv(
                case["x"], case["w"][..., ::-1].copy(), dilation=case["dilation"]
            )
        ),
    ),
)


def _raise(error):
    raise error


def _compare_conv(got, case: Case) -> None:
    got = require_ndarray(got)
    compare_values(got, case.expected, what="output", label="y")


def _describe_conv(case: Case, got, wrong: Mismatch) -> str | None:
    if not isinstance(got, np.ndarray) or got.ndim != 3:
        return None
    extra = got.shape[-1] - case.expected.shape[-1]
    if extra and got.shape[:2] == case.expected.shape[:2]:
        d, k = case["dilation"], case["w"].shape[-1]
        return (
            f"your output has {got.shape[-1]} positions, {abs(extra)} "
            f"{'more' if extra > 0 else 'fewer'} than L - d(k - 1) = "
            f"{case['x'].shape[-1]} - {d}·{k - 1}."
        )
    return None


def _explain_conv_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, TypeError) and "positional argument" in str(error):
        return "the checker calls `fn(x, w, dilation)`: three arguments."
    return None


_CONV = Exercise(
    "dilated_conv1d",
    Cases(_CONV_CASES, _conv_cases),
    _compare_conv,
    mistakes=_CONV_MISTAKES,
    describe=_describe_conv,
    explain_error=_explain_conv_error,
)


# --- dilation_design ------------------------------------------------------------------

DESIGN_PROBLEM = {"layers": 4, "k": 3, "field": 64}


def dilation_design(dilations, *, raise_on_failure: bool = False) -> Result:
    """Check a choice of dilations for a stack of four 3-tap convolutions.

    The stack is four ``conv1d`` layers with kernel size 3, stride 1 and no padding.
    ``dilations`` is a list of four ints, one per layer, or a function without
    arguments returning it; None is "not attempted yet". The checker builds the stack
    in PyTorch with weights of ones, differentiates one middle output with respect to
    the input and reads the receptive field from the gradient's nonzero entries. The
    design must give a field of at least 64 consecutive inputs with no hole in it (no
    input between the first and the last that the output ignores). The verdict lists
    every constraint that fails, with the numbers.
    """
    return check_value(
        "dilation_design",
        dilations,
        _compare_dilations,
        kind="design",
        todo="four dilations",
        headline="the design does not meet the constraints.",
        passed="your design meets every constraint.",
        raise_on_failure=raise_on_failure,
    )


def _read_dilations(dilations) -> list[int]:
    shape_hint = "write a list of four ints, one dilation per layer, e.g. [1, 1, 1, 1]."
    if not isinstance(dilations, (list, tuple)):
        raise Mismatch(
            f"your design is {type_phrase(dilations)}, not a list of dilations.",
            hint=shape_hint,
        )
    count = DESIGN_PROBLEM["layers"]
    if len(dilations) != count:
        raise Mismatch(
            f"your design has {len(dilations)} dilations; the stack has {count} "
            "layers.",
            hint=shape_hint,
        )
    read = [
        int_or_mismatch(d, f"layer {number}'s dilation")
        for number, d in enumerate(dilations, start=1)
    ]
    if min(read) < 1:
        raise Mismatch(
            f"your dilations are {read}: a dilation is at least 1 (1 is an ordinary "
            "kernel)."
        )
    if max(read) > 1000:
        raise Mismatch(
            f"your dilations are {read}: keep them at most 1000; a few tens suffice."
        )
    return read


def _hole_hint(dilations: list[int]) -> str:
    k = DESIGN_PROBLEM["k"]
    g = math.gcd(*dilations)
    if g > 1:
        return (
            f"every dilation is a multiple of {g}, so every tap moves a multiple of "
            f"{g} positions and the output sees only inputs {g} apart: the first "
            "layer needs dilation 1."
        )
    field = 1
    for d in sorted(dilations):
        if d > field:
            return (
                f"in increasing order, dilation {d} comes after layers whose field is "
                f"{field} inputs: its copies of that field are {d} apart and leave "
                "gaps. Keep each dilation at most the field of the smaller ones "
                "(the order of stride-1 layers does not change the field)."
            )
        field += d * (k - 1)
    return "keep each dilation at most the field of the layers with smaller ones."


def _compare_dilations(answer, case: Case) -> None:
    dilations = _read_dilations(answer)
    reached, _ = _reached(dilations, DESIGN_PROBLEM["k"])
    field = int(reached[-1] + 1)
    holes = field - reached.size
    target = DESIGN_PROBLEM["field"]
    failed, hints = [], []
    if holes:
        first = int(np.setdiff1d(np.arange(field), reached)[0])
        failed.append(
            f"the field has {holes} holes: the output ignores {holes} of the {field} "
            f"inputs between its first and its last, the first at offset {first}"
        )
        hints.append(_hole_hint(dilations))
    if field < target:
        failed.append(f"the receptive field is {field} inputs, fewer than {target}")
        hints.append(
            "each layer adds 2d to the field (d(k - 1) with k = 3): raise the "
            "dilations, each up to the field of the layers before it."
        )
    if failed:
        raise Mismatch(
            "; ".join(failed) + ".",
            details=[
                ("got", f"receptive field {field}, {reached.size} inputs reached")
            ],
            hint=" ".join(hints[:1] + [h[0].upper() + h[1:] for h in hints[1:]]),
            expected=f"a receptive field of at least {target} inputs with no hole",
            got=dilations,
        )


# --- field_offsets --------------------------------------------------------------------


def field_offsets(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's list of the inputs one output of a stack depends on.

    The learner writes ``fn(layers) -> offsets``: for a stack of 1-D convolutions
    without padding, ``layers`` a list of ``(k, s, d)`` tuples (kernel size, stride,
    dilation), first layer first, the positions of the inputs that one output of the
    last layer depends on, as a sorted list of distinct ints counted from the first of
    them (so it starts at 0, and its last entry plus one is the receptive field). An
    empty list of layers gives ``[0]``. The argument must not be modified.

    The expected offsets are measured: the nonzero entries of the gradient of one
    middle output of the stack, built in PyTorch with weights of ones. Cases: 10
    hand-picked stacks (one layer, the chapter's gridding stacks, a stride before a
    dilated layer, no layer, ...), then seeded random ones, 30 in all (1 to 4 layers,
    k ≤ 4, s ≤ 3, d ≤ 5). The hints recognise strides ignored, the stride applied
    before its own layer, the layers taken last to first, the dilation ignored and
    holes ignored.
    """
    return check(_OFFSETS, fn, raise_on_failure=raise_on_failure)


_OFFSETS_HAND_PICKED = (
    ((3, 1, 1),),  # one ordinary layer: 0, 1, 2
    ((3, 1, 4),),  # one dilated layer: 0, 4, 8
    ((3, 1, 2), (3, 1, 2), (3, 1, 2)),  # the chapter's gridding: even offsets
    ((3, 1, 1), (3, 1, 2), (3, 1, 9)),  # holes in blocks of 7
    ((2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)),  # WaveNet: 0 to 15
    ((2, 2, 1), (3, 1, 2)),  # a stride before a dilated layer
    ((3, 2, 1), (3, 2, 1)),  # strided, no hole
    ((2, 3, 1), (2, 1, 1)),  # a stride larger than the kernel: holes
    ((1, 1, 5), (3, 1, 1)),  # dilating one tap changes nothing
    (),  # no layer: the output is the input
)
_OFFSETS_CASES = 30


def _offsets_configs():
    yield from _OFFSETS_HAND_PICKED
    rng = np.random.default_rng(52)
    while True:
        yield tuple(
            (int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 6)))
            for _ in range(int(rng.integers(1, 5)))
        )


def _offsets_cases():
    for layers in _offsets_configs():
        offsets, _ = _dependence(layers)
        yield Case(
            [("layers", [tuple(layer) for layer in layers])],
            expected=[int(v) for v in offsets],
        )


def _offsets_with(
    layers, *, strides=True, jump_first=False, reverse=False, dilation=True
) -> list[int]:
    """The offsets by the recurrence, with one step changed to make a mistake."""
    offsets, jump = {0}, 1
    for k, s, d in reversed(layers) if reverse else layers:
        s, d = (s if strides else 1), (d if dilation else 1)
        if jump_first:
            jump *= s
        offsets = {a + j * d * jump for a in offsets for j in range(k)}
        if not jump_first:
            jump *= s
    return sorted(offsets)


def _offsets_mistake(name: str, hint: str, gives: Callable) -> Mistake:
    return Mistake(name, hint, lambda case: gives(case["layers"]))


_OFFSETS_MISTAKES = (
    _offsets_mistake(
        "no-jump",
        "you forgot the strides: after a layer with stride s its outputs are s input "
        "positions apart, so the taps of every later layer move s times as far (keep "
        "a jump, the product of the strides so far).",
        lambda layers: _offsets_with(layers, strides=False),
    ),
    _offsets_mistake(
        "stride-applied-first",
        "a layer's stride spaces out its outputs, not its own taps: use the jump of "
        "the layers before it for its taps, then multiply the jump by its stride.",
        lambda layers: _offsets_with(layers, jump_first=True),
    ),
    _offsets_mistake(
        "layers-reversed",
        "you went through the layers last to first: the input goes through "
        "layers[0] first, so the jump grows from the first layer on.",
        lambda layers: _offsets_with(layers, reverse=True),
    ),
    _offsets_mistake(
        "dilation-ignored",
        "tap j of a layer with dilation d reads its input j·d positions after the "
        "window's start, not j.",
        lambda layers: _offsets_with(layers, dilation=False),
    ),
    _offsets_mistake(
        "holes-ignored",
        "you listed every input from the first to the last, but an output can skip "
        "some (gridding): add the offsets of one tap per layer and keep only the sums "
        "that occur.",
        lambda layers: list(range(_offsets_with(layers)[-1] + 1)),
    ),
)


def _compare_offsets(got, case: Case) -> None:
    expected = case.expected
    if isinstance(got, np.ndarray):
        if got.ndim != 1:
            raise Mismatch(
                f"your function returned an array of shape {got.shape}, not a list.",
                hint="return a flat, sorted list of ints.",
            )
        got = got.tolist()
    if isinstance(got, (set, frozenset)):
        raise Mismatch(
            "your function returned a set, not a sorted list.",
            hint="return `sorted(offsets)`.",
        )
    if not isinstance(got, (list, tuple)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not a list of ints.",
            hint="return a sorted list of ints, the offsets from the first input.",
        )
    numbers = [int_or_mismatch(v, "an offset") for v in got]
    if len(set(numbers)) != len(numbers):
        raise Mismatch(
            "your list has repeated offsets.",
            hint="several paths can reach the same input: keep each offset once "
            "(collect them in a set, then sort it).",
        )
    if numbers != sorted(numbers):
        raise Mismatch(
            "your offsets are not sorted.", hint="return `sorted(...)` of them."
        )
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))
        extra = sorted(set(numbers) - set(expected))
        details = [("expected", _short(expected)), ("got", _short(numbers))]
        if missing:
            details.append(("missed", _short(missing)))
        if extra:
            details.append(("extra", _short(extra)))
        raise Mismatch(
            "the offsets differ.",
            details=details,
            expected=expected,
            got=numbers,
            diagnosable=True,
        )


def _short(values: list[int], limit: int = 12) -> str:
    text = ", ".join(str(v) for v in values[:limit])
    return f"[{text}{', ...' if len(values) > limit else ''}] ({len(values)} in all)"


def _explain_offsets_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and "positional argument" in text:
        return "the checker calls `fn(layers)`, with the list of layers only."
    if isinstance(error, (TypeError, ValueError)) and "unpack" in text:
        return (
            "each layer is a tuple of three ints, (k, s, d): `for k, s, d in layers:`."
        )
    if not case["layers"]:
        return "with no layers an output is its own input: return [0]."
    return None


_OFFSETS = Exercise(
    "field_offsets",
    Cases(_OFFSETS_CASES, _offsets_cases),
    _compare_offsets,
    mistakes=_OFFSETS_MISTAKES,
    explain_error=_explain_offsets_error,
    mutation_hint=lambda name, original: (
        "`layers.pop()`, `layers.reverse()` and `del layers[0]` change the caller's "
        "list. Read the layers with `for k, s, d in layers:` instead."
    ),
)
