"""Checkers for chapter 10's exercises: the building blocks of convolutional networks.

- ``separable_costs``: a prediction of the parameters and multiply-adds of a standard
  convolution and of a depthwise-separable block. The expected numbers are counted by
  PyTorch: parameters with ``numel``, multiply-adds with
  ``torch.utils.flop_counter.FlopCounterMode`` (which counts 2 operations per
  multiply-add).
- ``grouped_conv2d``: a grouped convolution written with loops (the exercise gives one
  with a bug), compared with ``torch.nn.functional.conv2d(..., groups=...)``.
- ``stack_design``: a design of three layers (kernel, stride, padding, dilation) that
  must meet an output size, a receptive field and a parameter budget; the output size
  and the parameters are PyTorch's, the receptive field the recurrence of chapter 2.
- ``conv2d_via_unfold``: a convolution as one matrix product with unfolded inputs,
  compared with ``torch.nn.functional.conv2d``.

Each usual mistake computes the answer it gives and is named only when it gives the
learner's answer on every case.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from labs.check._answers import check_value, compare_numbers, learner_value
from labs.check._compare import compare_output, int_or_mismatch
from labs.check._core import (
    Case,
    Cases,
    Exercise,
    Impossible,
    Mismatch,
    Mistake,
    check,
)
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = ["separable_costs", "grouped_conv2d", "stack_design", "conv2d_via_unfold"]


# --- separable_costs ------------------------------------------------------------------

# The exercise's layers: a (1, 32, 16, 16) input; padding 1 keeps 16×16.
SEPARABLE_SETTING = {"batch": 1, "c_in": 32, "c_out": 64, "k": 3, "size": 16}
_COST_NAMES = (
    "the standard layer's parameter count",
    "the standard layer's multiply-add count",
    "the separable block's parameter count",
    "the separable block's multiply-add count",
)


def separable_costs(costs, *, raise_on_failure: bool = False) -> Result:
    """Check a predicted cost of a standard convolution and a depthwise-separable one.

    The input has shape ``(1, 32, 16, 16)``. The standard layer is
    ``nn.Conv2d(32, 64, 3, padding=1)``; the separable block is a depthwise
    ``nn.Conv2d(32, 32, 3, padding=1, groups=32)`` followed by a pointwise
    ``nn.Conv2d(32, 64, 1)``; every layer has its bias (PyTorch's default).
    ``costs`` is a tuple of four ints, ``(standard parameters, standard multiply-adds,
    separable parameters, separable multiply-adds)``, or a function without arguments
    returning it; None is "not attempted yet". A multiply-add is one product added to
    a sum, as PyTorch's flop counter counts convolutions (it reports 2 operations per
    multiply-add; biases are not counted). The expected numbers are counted by PyTorch.
    A wrong number is reported without the right one, so that the prediction can be
    tried again; the hints recognise a forgotten bias, groups ignored, FLOPs instead of
    multiply-adds, costs per pixel, and a forgotten padding.
    """

    def answer(learner, case: Case):
        return learner_value(
            learner,
            costs,
            case,
            "your prediction",
            "write your prediction, four ints, in place of the `None` and "
            "run this cell again.",
        )

    exercise = Exercise(
        "separable_costs",
        [Case(headline="wrong prediction.")],
        _compare_costs,
        mistakes=_COST_MISTAKES,
        answer=answer,
        validate=lambda value: None,
        parts=lambda answer: list(answer),
        passed=lambda count: "your prediction is right.",
        role="your prediction",
    )
    return check(exercise, costs, raise_on_failure=raise_on_failure)


def _layers(c_in, c_out, k, groups_ignored=False):
    depthwise = nn.Conv2d(
        c_in,
        c_in,
        k,
        padding=k // 2,
        groups=1 if groups_ignored else c_in,
        device="meta",
    )
    pointwise = nn.Conv2d(c_in, c_out, 1, device="meta")
    standard = nn.Conv2d(c_in, c_out, k, padding=k // 2, device="meta")
    return standard, [depthwise, pointwise]


def _count(layers, *, size: int, bias: bool = True) -> tuple[int, int]:
    """(parameters, multiply-adds) of a stack of layers on a (1, C, size, size) input,
    counted by PyTorch (the flop counter's 2 operations per multiply-add, halved)."""
    x = torch.zeros(1, layers[0].in_channels, size, size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        for layer in layers:
            x = TF.conv2d(
                x,
                torch.zeros(layer.weight.shape),
                None,
                layer.stride,
                layer.padding,
                layer.dilation,
                layer.groups,
            )
    parameters = sum(
        p.numel() for layer in layers for p in layer.parameters() if bias or p.dim() > 1
    )
    return parameters, counter.get_total_flops() // 2


@functools.cache
def _costs(mistake: str | None = None) -> tuple[int, int, int, int]:
    s = SEPARABLE_SETTING
    size = s["size"]
    standard, separable = _layers(
        s["c_in"], s["c_out"], s["k"], groups_ignored=mistake == "groups-ignored"
    )
    bias = mistake != "no-bias"
    std = _count([standard], size=size, bias=bias)
    sep = _count(separable, size=size, bias=bias)
    return std + sep


def _cost_mistake(name: str, part: int, hint: str, gives: Callable[[], int]) -> Mistake:
    return Mistake(name, hint, lambda case: gives(), part=part)


_NO_BIAS = (
    "you left out the biases: every Conv2d here has one bias per output "
    "channel (bias=True is the default)."
)
_FLOPS = (
    "that is twice the multiply-adds: you counted FLOPs (a multiply and an add "
    "each). Count one per product added to a sum."
)
_PER_PIXEL = (
    "that is the cost of one output position: a convolution repeats it at "
    "each of the 16×16 output positions (padding 1 keeps the size)."
)
_NO_PADDING = (
    "padding=1 keeps the 16×16 size: there are 16·16 output positions, not 14·14."
)
_GROUPS = (
    "with groups=32 each depthwise filter sees one input channel, not all 32: "
    "its weight is (32, 1, 3, 3), a 32nd of a standard one."
)


def _std_macs(size=16, k=3):
    return 64 * 32 * k * k * size * size


def _sep_macs(size=16, k=3, groups=32):
    return 32 * (32 // groups) * k * k * size * size + 64 * 32 * size * size


_COST_MISTAKES = (
    _cost_mistake("no-bias", 0, _NO_BIAS, lambda: _costs("no-bias")[0]),
    _cost_mistake("no-bias", 2, _NO_BIAS, lambda: _costs("no-bias")[2]),
    _cost_mistake("groups-ignored", 2, _GROUPS, lambda: _costs("groups-ignored")[2]),
    _cost_mistake("groups-ignored", 3, _GROUPS, lambda: _costs("groups-ignored")[3]),
    _cost_mistake(
        "groups-ignored-no-bias",
        2,
        _GROUPS + " " + _NO_BIAS,
        lambda: _costs("groups-ignored")[2] - 32 - 64,
    ),
    _cost_mistake("flops", 1, _FLOPS, lambda: 2 * _std_macs()),
    _cost_mistake("flops", 3, _FLOPS, lambda: 2 * _sep_macs()),
    _cost_mistake("per-pixel", 1, _PER_PIXEL, lambda: _std_macs(size=1)),
    _cost_mistake("per-pixel", 3, _PER_PIXEL, lambda: _sep_macs(size=1)),
    _cost_mistake("no-padding", 1, _NO_PADDING, lambda: 64 * 32 * 9 * 14 * 14),
    _cost_mistake("no-padding", 3, _NO_PADDING, lambda: (32 * 9 + 64 * 32) * 14 * 14),
    _cost_mistake(
        "biases-as-multiply-adds",
        1,
        "biases are additions, not multiply-adds: leave them out of the count.",
        lambda: _std_macs() + 64 * 16 * 16,
    ),
    _cost_mistake(
        "biases-as-multiply-adds",
        3,
        "biases are additions, not multiply-adds: leave them out of the count.",
        lambda: _sep_macs() + (32 + 64) * 16 * 16,
    ),
    _cost_mistake(
        "pointwise-forgotten",
        2,
        "the block has two layers: add the pointwise Conv2d(32, 64, 1), whose weight "
        "is (64, 32, 1, 1), and its bias.",
        lambda: 32 * 9 + 32,
    ),
    _cost_mistake(
        "pointwise-forgotten",
        3,
        "the block has two layers: the pointwise Conv2d(32, 64, 1) costs 64·32 "
        "multiply-adds at each output position.",
        lambda: _sep_macs() - 64 * 32 * 256,
    ),
    _cost_mistake(
        "one-bias",
        2,
        "both layers of the block have a bias: 32 for the depthwise layer and 64 for "
        "the pointwise one.",
        lambda: _costs()[2] - 32,
    ),
)


def _compare_costs(answer, case: Case) -> None:
    compare_numbers(
        answer,
        _costs(),
        _COST_NAMES,
        hint="write a tuple of four ints: (standard parameters, standard "
        "multiply-adds, separable parameters, separable multiply-adds).",
    )


# --- grouped_conv2d ----------------------------------------------------------------------


def grouped_conv2d(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's grouped convolution against ``torch.nn.functional.conv2d``.

    The learner writes ``fn(x, w, b, groups) -> y`` for numpy float64 arrays: ``x`` of
    shape ``(N, C_in, H, W)``, ``w`` of shape ``(C_out, C_in/groups, kH, kW)``, ``b`` of
    shape ``(C_out,)`` or None; stride 1, no padding. Output channel ``o`` belongs to
    group ``g = o // (C_out/groups)`` and reads input channels ``g·(C_in/groups)`` to
    ``(g + 1)·(C_in/groups) - 1`` only. The answer must be a float64 array of shape
    ``(N, C_out, H - kH + 1, W - kW + 1)``, within ``1e-8 + 1e-6·|expected|``.

    Cases: 8 hand-picked (one group, two and three groups, depthwise, a depthwise
    multiplier, no bias, a rectangular kernel), then seeded random ones, 20 in all.
    The hints recognise group g reading channels from g instead of g·(C_in/groups),
    output channels assigned to groups in turn (o % groups), every group reading the
    first group's channels, and a forgotten bias.
    """
    return check(_GROUPED, fn, raise_on_failure=raise_on_failure)


# (N, C_in, H, W, C_out, (kH, kW), groups, bias)
_GROUPED_HAND_PICKED = (
    (1, 4, 5, 5, 4, (3, 3), 1, True),
    (1, 4, 5, 5, 6, (3, 3), 2, True),
    (2, 6, 6, 5, 6, (3, 3), 3, True),
    (1, 6, 5, 5, 6, (3, 3), 6, True),
    (1, 4, 4, 4, 8, (1, 1), 4, True),
    (1, 8, 5, 6, 4, (3, 3), 2, False),
    (2, 9, 4, 5, 6, (2, 3), 3, True),
    (1, 6, 6, 6, 12, (3, 3), 2, True),
)
_GROUPED_CASES = 20


def _grouped_configs():
    yield from _GROUPED_HAND_PICKED
    rng = np.random.default_rng(10)
    while True:
        groups = int(rng.choice([1, 2, 3, 4]))
        c_in = groups * int(rng.integers(1, 4))
        c_out = groups * int(rng.integers(1, 4))
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        n = int(rng.integers(1, 3))
        h, w = (int(rng.integers(4, 8)) for _ in range(2))
        yield (n, c_in, h, w, c_out, kernel, groups, bool(rng.integers(0, 4)))


def _grouped_cases():
    rng = np.random.default_rng(11)
    for n, c_in, h, width, c_out, kernel, groups, bias in _grouped_configs():
        x = rng.standard_normal((n, c_in, h, width))
        w = rng.standard_normal((c_out, c_in // groups, *kernel))
        b = rng.standard_normal(c_out) if bias else None
        expected = TF.conv2d(
            torch.from_numpy(x),
            torch.from_numpy(w),
            None if b is None else torch.from_numpy(b),
            groups=groups,
        ).numpy()
        yield Case(
            [("x", x), ("w", w), ("b", b), ("groups", groups)], expected=expected
        )


def _grouped_with(case: Case, start: Callable, bias: bool = True) -> np.ndarray:
    """The grouped convolution with output channel o reading input channels
    start(o, per_in, per_out, groups) onwards (a mistake's channel choice)."""
    x, w, b, groups = (case[name] for name in ("x", "w", "b", "groups"))
    c_out, per_in = w.shape[:2]
    per_out = c_out // groups
    x_t = torch.from_numpy(x)
    outputs = []
    for o in range(c_out):
        first = start(o, per_in, per_out, groups)
        if first + per_in > x.shape[1]:
            raise Impossible
        outputs.append(
            TF.conv2d(x_t[:, first : first + per_in], torch.from_numpy(w[o : o + 1]))
        )
    y = torch.cat(outputs, dim=1).numpy()
    if bias and b is not None:
        y = y + b[None, :, None, None]
    return y


def _only_grouped(gives):
    def mistake(case: Case):
        if case["groups"] == 1:
            raise Impossible  # every choice of channels is right with one group
        return gives(case)

    return mistake


_GROUPED_MISTAKES = (
    Mistake(
        "group-start-not-scaled",
        "group g starts at input channel g·(C_in/groups), not at g: with `g:g + "
        "per_group` neighbouring groups share channels, mixing channels across "
        "groups.",
        _only_grouped(
            lambda case: _grouped_with(
                case, lambda o, per_in, per_out, groups: o // per_out
            )
        ),
    ),
    Mistake(
        "groups-in-turn",
        "output channels are assigned to groups in blocks, not in turn: output o "
        "belongs to group o // (C_out/groups), not o % groups.",
        _only_grouped(
            lambda case: _grouped_with(
                case, lambda o, per_in, per_out, groups: (o % groups) * per_in
            )
        ),
    ),
    Mistake(
        "first-group-only",
        "every group read the first group's input channels: group g reads channels "
        "g·(C_in/groups) to (g + 1)·(C_in/groups) - 1.",
        _only_grouped(
            lambda case: _grouped_with(case, lambda o, per_in, per_out, groups: 0)
        ),
    ),
    Mistake(
        "bias-forgotten",
        "you left out the bias: add b[o] to every position of output channel o "
        "(when b is not None).",
        lambda case: (
            _impossible_without_bias(case)
            or _grouped_with(
                case,
                lambda o, per_in, per_out, groups: (o // per_out) * per_in,
                bias=False,
            )
        ),
    ),
)


def _impossible_without_bias(case: Case):
    if case["b"] is None:
        raise Impossible
    return None


def _explain_grouped_error(case: Case, error: Exception) -> str | None:
    if case["b"] is None and isinstance(error, TypeError) and "None" in str(error):
        return "b may be None (a layer without bias): add it only `if b is not None`."
    return None


_GROUPED = Exercise(
    "grouped_conv2d",
    Cases(_GROUPED_CASES, _grouped_cases),
    compare_output,
    mistakes=_GROUPED_MISTAKES,
    explain_error=_explain_grouped_error,
)


# --- stack_design --------------------------------------------------------------------

# The design problem: three layers on a (1, 3, 64, 64) input.
DESIGN_PROBLEM = {
    "input": (1, 3, 64, 64),
    "channels": (3, 16, 32, 32),
    "output": 16,
    "field": 35,
    "budget": 15_000,
}


def stack_design(layers, *, raise_on_failure: bool = False) -> Result:
    """Check a design of three convolution layers against the exercise's constraints.

    The stack is ``nn.Conv2d(3, 16, ...)``, ``nn.Conv2d(16, 32, ...)``,
    ``nn.Conv2d(32, 32, ...)`` (with biases) on a ``(1, 3, 64, 64)`` input. ``layers``
    is a list of three ``(kernel_size, stride, padding, dilation)`` tuples of ints, the
    same along both axes, or a function without arguments returning it; None is "not
    attempted yet". The design must give a 16×16 output (as PyTorch computes it), a
    receptive field of at least 35 input pixels per axis (the recurrence
    ``r += d(k - 1)·jump; jump *= s``), and at most 15 000 parameters (counted by
    PyTorch). The verdict lists every constraint that fails, with the numbers.
    """
    return check_value(
        "stack_design",
        layers,
        _compare_design,
        kind="design",
        todo="three (kernel_size, stride, padding, dilation) tuples",
        headline="the design does not meet the constraints.",
        passed="your design meets every constraint.",
        raise_on_failure=raise_on_failure,
    )


def _read_design(layers) -> list[tuple[int, int, int, int]]:
    shape_hint = (
        "write a list of three tuples, one per layer: [(kernel_size, stride, "
        "padding, dilation), ...], e.g. (3, 1, 1, 1)."
    )
    if not isinstance(layers, (list, tuple)):
        raise Mismatch(
            f"your design is {type_phrase(layers)}, not a list of layers.",
            hint=shape_hint,
        )
    if len(layers) != 3:
        raise Mismatch(
            f"your design has {len(layers)} layers; the stack has 3.", hint=shape_hint
        )
    read = []
    for number, layer in enumerate(layers, start=1):
        if not isinstance(layer, (list, tuple)) or len(layer) != 4:
            raise Mismatch(
                f"layer {number} is {type_phrase(layer)}, not four ints.",
                hint=shape_hint,
            )
        names = ("kernel_size", "stride", "padding", "dilation")
        values = tuple(
            int_or_mismatch(v, f"layer {number}'s {name}")
            for v, name in zip(layer, names)
        )
        k, s, p, d = values
        if k < 1 or s < 1 or d < 1 or p < 0:
            raise Mismatch(
                f"layer {number} is {values}: kernel_size, stride and dilation must "
                "be at least 1 and padding at least 0."
            )
        read.append(values)
    return read


def _design_report(layers) -> dict:
    """What a design gives: output size, receptive field and parameters (PyTorch's
    output size and parameter count, the recurrence's field)."""
    problem = DESIGN_PROBLEM
    channels = problem["channels"]
    x = torch.zeros(problem["input"], device="meta")
    parameters, size, jump = 0, 1, 1
    for number, (k, s, p, d) in enumerate(layers, start=1):
        conv = nn.Conv2d(
            channels[number - 1], channels[number], k, s, p, d, device="meta"
        )
        try:
            x = conv(x)
        except RuntimeError:
            raise Mismatch(
                f"layer {number}'s kernel spans {d * (k - 1) + 1} pixels, more than "
                f"its padded input ({x.shape[-1]} + 2·{p}).",
                hint="use fewer strides before it, a smaller dilation, or more padding.",
            ) from None
        parameters += sum(q.numel() for q in conv.parameters())
        size += d * (k - 1) * jump
        jump *= s
    return {"output": tuple(x.shape[-2:]), "field": size, "parameters": parameters}


def _compare_design(answer, case: Case) -> None:
    layers = _read_design(answer)
    report = _design_report(layers)
    problem = DESIGN_PROBLEM
    failed, hints = [], []
    out = problem["output"]
    if report["output"] != (out, out):
        h = report["output"][0]
        failed.append(f"the output is {h}×{h}, not {out}×{out}")
        hints.append(
            "the strides must multiply to 64/16 = 4, and a layer with stride 1 keeps "
            "its size when its padding is d(k - 1)/2; with stride 2, padding "
            "d(k - 1)/2 halves an even size (rounding down)."
        )
    if report["field"] < problem["field"]:
        failed.append(
            f"the receptive field is {report['field']} pixels, fewer than "
            f"{problem['field']}"
        )
        hints.append(
            "a layer adds d(k - 1)·jump to the field, where jump is the product of the "
            "strides before it: widen the last layers, where the jump is largest, and "
            "prefer dilation, which costs no parameters."
        )
    if report["parameters"] > problem["budget"]:
        failed.append(
            f"the stack has {report['parameters']} parameters, more than "
            f"{problem['budget']}"
        )
        hints.append(
            "a layer's weight grows with k²·C_in·C_out: a large kernel in the last "
            "layers (16 → 32 and 32 → 32 channels) costs most; dilation widens a "
            "kernel without adding parameters."
        )
    if failed:
        raise Mismatch(
            "; ".join(failed) + ".",
            details=[
                (
                    "got",
                    f"output {report['output'][0]}×{report['output'][1]}, "
                    f"receptive field {report['field']}, "
                    f"{report['parameters']} parameters",
                )
            ],
            hint=" ".join(hints[:1] + [h[0].upper() + h[1:] for h in hints[1:]]),
            expected=f"output {out}×{out}, receptive field ≥ {problem['field']}, "
            f"at most {problem['budget']} parameters",
            got=layers,
        )


# --- conv2d_via_unfold -----------------------------------------------------------------


def conv2d_via_unfold(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a convolution computed as one matrix product with unfolded columns.

    The learner writes ``fn(x, w, b, stride, padding) -> y`` for numpy float64
    arrays ``x`` ``(N, C_in, H, W)``, ``w`` ``(C_out, C_in, kH, kW)``, ``b``
    ``(C_out,)`` or None, and int ``stride`` and ``padding`` (the same on both axes),
    with ``torch.nn.functional.unfold`` and a matrix product. The answer must equal
    ``torch.nn.functional.conv2d(x, w, b, stride, padding)``: a float64 array of shape
    ``(N, C_out, H_out, W_out)``, within ``1e-8 + 1e-6·|expected|``.

    Cases: 6 hand-picked (a single channel, channels, stride 2, padding, no bias, a
    rectangular input and kernel), then seeded random ones, 20 in all. The hints
    recognise a forgotten bias, a flipped kernel, stride or padding ignored, and an
    output reshaped as (W_out, H_out).
    """
    return check(_UNFOLD, fn, raise_on_failure=raise_on_failure)


# (N, C_in, H, W, C_out, (kH, kW), stride, padding, bias)
_UNFOLD_HAND_PICKED = (
    (1, 1, 5, 5, 1, (3, 3), 1, 0, True),
    (2, 3, 6, 6, 4, (3, 3), 1, 0, True),
    (1, 2, 7, 7, 3, (3, 3), 2, 0, True),
    (1, 2, 5, 6, 2, (3, 3), 1, 1, True),
    (2, 3, 6, 5, 2, (2, 2), 1, 0, False),
    (1, 2, 6, 9, 3, (2, 3), 2, 1, True),
)
_UNFOLD_CASES = 20


def _unfold_configs():
    yield from _UNFOLD_HAND_PICKED
    rng = np.random.default_rng(12)
    while True:
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        yield (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 4)),
            int(rng.integers(4, 9)),
            int(rng.integers(4, 9)),
            int(rng.integers(1, 5)),
            kernel,
            int(rng.integers(1, 3)),
            int(rng.integers(0, 2)),
            bool(rng.integers(0, 4)),
        )


def _unfold_cases():
    rng = np.random.default_rng(13)
    for n, c_in, h, width, c_out, kernel, stride, padding, bias in _unfold_configs():
        x = rng.standard_normal((n, c_in, h, width))
        w = rng.standard_normal((c_out, c_in, *kernel))
        b = rng.standard_normal(c_out) if bias else None
        yield Case(
            [("x", x), ("w", w), ("b", b), ("stride", stride), ("padding", padding)],
            expected=_conv(x, w, b, stride, padding),
        )


def _conv(x, w, b, stride, padding) -> np.ndarray:
    return TF.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        None if b is None else torch.from_numpy(b),
        stride,
        padding,
    ).numpy()


def _unfold_with(case: Case, **changes) -> np.ndarray:
    arguments = {**case.arguments, **changes}
    return _conv(*(arguments[n] for n in ("x", "w", "b", "stride", "padding")))


def _transposed_output(case: Case) -> np.ndarray:
    y = case.expected
    n, c, h, w = y.shape
    if h == w == 1 or h == 1 or w == 1:
        raise Impossible
    return y.reshape(n, c, h * w).reshape(n, c, w, h).transpose(0, 1, 3, 2)


_UNFOLD_MISTAKES = (
    Mistake(
        "bias-forgotten",
        "you left out the bias: add b[o] to every position of output channel o "
        "(when b is not None).",
        lambda case: _impossible_without_bias(case) or _unfold_with(case, b=None),
    ),
    Mistake(
        "kernel-flipped",
        "you flipped the kernel: conv2d is a cross-correlation, so reshape w as it "
        "is, `w.reshape(C_out, -1)`, to match unfold's column order.",
        lambda case: _unfold_with(case, w=case["w"][..., ::-1, ::-1].copy()),
    ),
    Mistake(
        "stride-ignored",
        "you ignored the stride: pass `stride=stride` to unfold, and compute the "
        "output size with it.",
        lambda case: (
            _unfold_with(case, stride=1) if case["stride"] != 1 else _raise(Impossible)
        ),
    ),
    Mistake(
        "padding-ignored",
        "you ignored the padding: pass `padding=padding` to unfold (it pads with "
        "zeros on every side).",
        lambda case: (
            _unfold_with(case, padding=0)
            if case["padding"] != 0
            else _raise(Impossible)
        ),
    ),
    Mistake(
        "output-reshaped-as-w-h",
        "unfold's columns go through the output positions row by row: reshape the "
        "product to (N, C_out, H_out, W_out), not (N, C_out, W_out, H_out).",
        _transposed_output,
    ),
)


def _raise(error):
    raise error


_UNFOLD = Exercise(
    "conv2d_via_unfold",
    Cases(_UNFOLD_CASES, _unfold_cases),
    compare_output,
    mistakes=_UNFOLD_MISTAKES,
    explain_error=_explain_grouped_error,
)
