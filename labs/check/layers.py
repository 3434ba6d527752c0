"""Checkers for chapters 1 and 2's prediction and find-the-bug exercises about layers.

- ``grouped_conv1d_prediction`` (chapter 1): a prediction of a grouped ``nn.Conv1d``'s
  weight shape, parameter count and output shape, counted by PyTorch.
- ``conv_pool_prediction`` (chapter 2): a prediction of the shapes after a convolution
  and a max pooling, and of the receptive field of one output of the two.
- ``max_pool2d`` (chapter 2): a max pooling written with loops (the exercise gives one
  with a bug), compared with ``torch.nn.functional.max_pool2d``.
- ``shape_design`` (chapter 2): a choice of padding, pooling and stride that gives a
  network a target shape, checked with PyTorch's shapes.

A wrong prediction is reported without the right number, so that it can be tried
again. Each usual mistake computes the answer it gives and is named only when it gives
the learner's answer on every case.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn

from labs.check._answers import check_value, first_wrong_part, learner_value
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

__all__ = [
    "grouped_conv1d_prediction",
    "conv_pool_prediction",
    "max_pool2d",
    "shape_design",
]


# --- Predictions: shared parts --------------------------------------------------------


def _read_part(value, name: str, kind: str):
    """One part of a prediction: a shape (a tuple of ints) or an int."""
    if kind == "int":
        return int_or_mismatch(value, name)
    if isinstance(value, torch.Size):
        value = tuple(value)
    if not isinstance(value, (tuple, list)):
        raise Mismatch(
            f"{name} is {type_phrase(value)}, not a shape.",
            hint="write a shape as a tuple of ints, e.g. (2, 3, 4).",
        )
    return tuple(int_or_mismatch(v, f"an element of {name}") for v in value)


def _compare_prediction(spec, expected: Callable, answer, template: str) -> None:
    """Compare a prediction part by part; ``spec`` lists (name, kind) per part."""
    if not isinstance(answer, (tuple, list)) or len(answer) != len(spec):
        raise Mismatch(
            f"your prediction is {type_phrase(answer)}, not {len(spec)} values.",
            hint=f"write a tuple {template}.",
        )
    parts = [_read_part(v, name, kind) for v, (name, kind) in zip(answer, spec)]
    first_wrong_part(parts, expected(), [name for name, _ in spec])


def _prediction_exercise(name, spec, expected, mistakes, template, prediction):
    def answer(learner, case: Case):
        return learner_value(
            learner,
            prediction,
            case,
            "your prediction",
            f"write your prediction, {template}, in place of the `None` and run "
            "this cell again.",
        )

    return Exercise(
        name,
        [Case(headline="wrong prediction.")],
        lambda answer, case: _compare_prediction(spec, expected, answer, template),
        mistakes=[
            Mistake(n, hint, lambda case, v=v: v, part=p) for n, p, hint, v in mistakes
        ],
        answer=answer,
        validate=lambda value: None,
        parts=lambda answer: [
            tuple(v) if isinstance(v, (torch.Size, list)) else v for v in answer
        ],
        passed=lambda count: "your prediction is right.",
        role="your prediction",
    )


# --- grouped_conv1d_prediction (chapter 1) ----------------------------------------------

# The exercise's layer and input.
GROUPED_LAYER = {
    "in_channels": 6,
    "out_channels": 9,
    "kernel_size": 3,
    "stride": 2,
    "padding": 3,
    "dilation": 2,
    "groups": 3,
}
GROUPED_INPUT = (3, 6, 51)
_GROUPED_SPEC = (
    ("the weight's shape", "shape"),
    ("the parameter count", "int"),
    ("the output's shape", "shape"),
)
_GROUPED_TEMPLATE = "(weight shape, parameter count, output shape)"


def _grouped_expected() -> tuple:
    layer = nn.Conv1d(**GROUPED_LAYER, device="meta")
    out = layer(torch.zeros(GROUPED_INPUT, device="meta"))
    count = sum(p.numel() for p in layer.parameters())
    return tuple(layer.weight.shape), count, tuple(out.shape)


def _length(length, k, s=2, p=3, d=2):
    return (length + 2 * p - d * (k - 1) - 1) // s + 1


_GROUPS_RULE = (
    "with groups=3 each output channel reads only the C_in/groups input channels of "
    "its group, so the weight is (C_out, C_in/groups, K)"
)
_GROUPED_MISTAKES = (
    ("groups-ignored", 0, _GROUPS_RULE + ".", (9, 6, 3)),
    (
        "channel-axes-swapped",
        0,
        "PyTorch's weight layout puts the output channels first: "
        "(C_out, C_in/groups, K).",
        (2, 9, 3),
    ),
    (
        "groups-ignored",
        1,
        _GROUPS_RULE + ", and the count is its size plus the biases.",
        9 * 6 * 3 + 9,
    ),
    (
        "bias-forgotten",
        1,
        "you left out the biases: the layer has one per output channel "
        "(bias=True is the default).",
        9 * 2 * 3,
    ),
    (
        "groups-ignored-bias-forgotten",
        1,
        _GROUPS_RULE + "; and the layer has one bias per output channel.",
        9 * 6 * 3,
    ),
    (
        "bias-per-weight",
        1,
        "there is one bias per output channel, not one per weight.",
        2 * 9 * 2 * 3,
    ),
    (
        "dilation-ignored",
        2,
        "a kernel of K taps dilated by d spans d(K - 1) + 1 input positions: the "
        "length is floor((L + 2p - d(K - 1) - 1)/s) + 1.",
        (3, 9, _length(51, 3, d=1)),
    ),
    (
        "padding-ignored",
        2,
        "padding=3 adds 3 zeros on each side of the input, 2p in all.",
        (3, 9, _length(51, 3, p=0)),
    ),
    (
        "padding-one-side",
        2,
        "padding p adds p zeros on each side of the input: 2p in all, not p.",
        (3, 9, (51 + 3 - 5) // 2 + 1),
    ),
    (
        "plus-one-forgotten",
        2,
        "you forgot the + 1: the first output sits at position 0, then one more every "
        "s positions, floor((L + 2p - d(K - 1) - 1)/s) + 1 in all.",
        (3, 9, _length(51, 3) - 1),
    ),
    (
        "stride-ignored",
        2,
        "stride=2 moves the kernel 2 positions between outputs: divide by the stride "
        "(rounding down) before adding 1.",
        (3, 9, _length(51, 3, s=1)),
    ),
    (
        "in-channels-kept",
        2,
        "the output has out_channels channels, one per kernel, whatever the groups.",
        (3, 6, _length(51, 3)),
    ),
)


def grouped_conv1d_prediction(prediction, *, raise_on_failure: bool = False) -> Result:
    """Check a prediction about a grouped one-dimensional convolution.

    The layer is ``nn.Conv1d(6, 9, kernel_size=3, stride=2, padding=3, dilation=2,
    groups=3)`` (with its bias) and the input has shape ``(3, 6, 51)``.
    ``prediction`` is a tuple ``(weight shape, parameter count, output shape)``, the
    shapes as tuples of ints, or a function without arguments returning it; None is
    "not attempted yet". The expected values are PyTorch's (``layer.weight.shape``,
    the ``numel`` of the parameters, the output's shape). The hints recognise groups
    ignored, the weight's channel axes swapped, a forgotten bias, one bias per weight,
    dilation, padding or stride ignored, padding on one side, a forgotten + 1 and the
    input's channel count kept.
    """
    exercise = _prediction_exercise(
        "grouped_conv1d_prediction",
        _GROUPED_SPEC,
        _grouped_expected,
        _GROUPED_MISTAKES,
        _GROUPED_TEMPLATE,
        prediction,
    )
    return check(exercise, prediction, raise_on_failure=raise_on_failure)


# --- conv_pool_prediction (chapter 2) ---------------------------------------------------

# The exercise's stack and input.
CONV_POOL_INPUT = (2, 3, 45, 61)


def _conv_pool_stack() -> list[nn.Module]:
    """The exercise's layers: a convolution, a ReLU and a max pooling."""
    return [
        nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), device="meta"),
        nn.ReLU(),
        nn.MaxPool2d(3),
    ]


_CONV_POOL_SPEC = (
    ("the shape after the convolution", "shape"),
    ("the shape after the pooling", "shape"),
    ("the receptive field (height, width)", "shape"),
)
_CONV_POOL_TEMPLATE = (
    "(shape after the convolution, shape after the pooling, (field height, field "
    "width))"
)


def _conv_pool_expected() -> tuple:
    conv, relu, pool = _conv_pool_stack()
    after_conv = conv(torch.zeros(CONV_POOL_INPUT, device="meta"))
    after_pool = pool(relu(after_conv))
    field = []
    for axis in (0, 1):
        size, jump = 1, 1
        for k, s in ((conv.kernel_size[axis], conv.stride[axis]), (3, 3)):
            size += (k - 1) * jump
            jump *= s
        field.append(size)
    return tuple(after_conv.shape), tuple(after_pool.shape), tuple(field)


def _size(i, k, s=1, p=0, ceil=False):
    steps = (i + 2 * p - k) / s
    return (math.ceil(steps) if ceil else math.floor(steps)) + 1


_CONV_POOL_MISTAKES = (
    (
        "conv-padding-ignored",
        0,
        "padding=(1, 2) adds 1 row above and below and 2 columns left and right.",
        (2, 8, _size(45, 3, 2), _size(61, 5, 2)),
    ),
    (
        "conv-kernel-swapped",
        0,
        "a pair is (height, width): kernel_size=(3, 5) is 3 rows high and 5 columns "
        "wide.",
        (2, 8, _size(45, 5, 2, 1), _size(61, 3, 2, 2)),
    ),
    (
        "conv-stride-ignored",
        0,
        "stride=2 moves the window 2 rows and 2 columns between outputs.",
        (2, 8, _size(45, 3, 1, 1), _size(61, 5, 1, 2)),
    ),
    (
        "pool-stride-one",
        1,
        "a pooling layer's stride defaults to its kernel size: MaxPool2d(3) moves its "
        "window 3 positions at a time, not 1.",
        (2, 8, _size(23, 3), _size(31, 3)),
    ),
    (
        "pool-rounded-up",
        1,
        "the sizes round down, as for a convolution: a last window that would stick "
        "out of the input is dropped.",
        (2, 8, _size(23, 3, 3, ceil=True), _size(31, 3, 3, ceil=True)),
    ),
    (
        "conv-padding-ignored",
        1,
        "padding=(1, 2) adds 1 row above and below and 2 columns left and right, "
        "before the pooling sees the convolution's output.",
        (2, 8, _size(22, 3, 3), _size(29, 3, 3)),
    ),
    (
        "jump-forgotten",
        2,
        "the pooling's window steps over the convolution's outputs, which are 2 input "
        "pixels apart (the jump): r ← r + (k - 1)·J, with J the product of the strides "
        "before the layer.",
        (3 + 2, 5 + 2),
    ),
    (
        "jump-includes-own-stride",
        2,
        "a layer's window is spread by the strides of the layers before it, not by its "
        "own: J is the product of the earlier strides.",
        (3 + 2 * 3 * 2, 5 + 2 * 3 * 2),
    ),
    (
        "pool-only",
        2,
        "the field counts input pixels: each of the pooling's 3×3 inputs is itself a "
        "window of the convolution on the input.",
        (3, 3),
    ),
    (
        "kernels-added",
        2,
        "fields do not add up kernel sizes: r ← r + (k - 1)·J, with J the product of "
        "the earlier strides.",
        (3 + 3, 5 + 3),
    ),
)


def conv_pool_prediction(prediction, *, raise_on_failure: bool = False) -> Result:
    """Check a prediction about a convolution followed by max pooling.

    The stack is ``nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2))``, ``nn.ReLU()``,
    ``nn.MaxPool2d(3)`` and the input has shape ``(2, 3, 45, 61)``. ``prediction`` is a
    tuple ``(shape after the convolution, shape after the pooling, (field height,
    field width))``, the shapes as tuples of ints, or a function without arguments
    returning it; None is "not attempted yet". The shapes are PyTorch's; the receptive
    field of one output of the stack is chapter 2's recurrence
    ``r ← r + (k - 1)·J, J ← J·s``. The hints recognise the convolution's padding or
    stride ignored, its kernel's height and width swapped, a pooling stride of 1,
    sizes rounded up, and the jump forgotten or misplaced.
    """
    exercise = _prediction_exercise(
        "conv_pool_prediction",
        _CONV_POOL_SPEC,
        _conv_pool_expected,
        _CONV_POOL_MISTAKES,
        _CONV_POOL_TEMPLATE,
        prediction,
    )
    return check(exercise, prediction, raise_on_failure=raise_on_failure)


# --- max_pool2d (chapter 2) -------------------------------------------------------------


def max_pool2d(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's max pooling against ``torch.nn.functional.max_pool2d``.

    The learner writes ``fn(x, kernel_size, stride=None) -> y`` for a numpy float64
    array ``x`` of shape ``(N, C, H, W)``; ``kernel_size`` and ``stride`` are an int or
    a pair ``(height, width)``, and ``stride=None`` means the kernel size (PyTorch's
    default). No padding. The answer must be a float64 array of shape
    ``(N, C, H_out, W_out)``, ``H_out = (H - kH) // sH + 1``, equal to PyTorch's.

    Cases: 10 hand-picked (a 4×4 example, a non-square kernel with the default stride,
    a stride given as an int and as a pair, sizes that drop a last row, a kernel of 1,
    batch and channels), then seeded random ones, 30 in all. The hints recognise the
    kernel's height and width swapped, a default stride of 1, a given stride ignored,
    the stride's height and width swapped, windows that do not move by the stride,
    average pooling and sizes rounded up.
    """
    return check(_MAX_POOL, fn, raise_on_failure=raise_on_failure)


# (N, C, H, W, kernel_size, stride)
_POOL_HAND_PICKED = (
    (1, 1, 4, 4, 2, None),
    (1, 1, 6, 7, (2, 3), None),
    (1, 2, 7, 7, 3, 2),
    (2, 1, 5, 7, 2, None),
    (1, 2, 8, 9, (3, 2), (2, 3)),
    (1, 1, 6, 6, (2, 3), 1),
    (2, 3, 5, 6, 1, None),
    (1, 1, 9, 8, (4, 2), (3, 1)),
    (1, 2, 7, 5, (3, 1), None),
    (2, 2, 6, 8, 2, (1, 2)),
)
_POOL_CASES = 30


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _pool_configs():
    yield from _POOL_HAND_PICKED
    rng = np.random.default_rng(21)
    while True:
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        if kernel[0] == kernel[1] and rng.random() < 0.5:
            kernel = kernel[0]
        choice = rng.random()
        if choice < 0.4:
            stride = None
        elif choice < 0.7:
            stride = int(rng.integers(1, 4))
        else:
            stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        kh, kw = _pair(kernel)
        height = int(rng.integers(kh, 10))
        width = int(rng.integers(kw, 10))
        yield (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 3)),
            height,
            width,
            kernel,
            stride,
        )


def _torch_pool(x, kernel_size, stride, **options) -> np.ndarray:
    return TF.max_pool2d(torch.from_numpy(x), kernel_size, stride, **options).numpy()


def _pool_cases():
    rng = np.random.default_rng(22)
    for n, c, height, width, kernel, stride in _pool_configs():
        x = rng.standard_normal((n, c, height, width))
        keywords = {} if stride is None else {"stride": stride}
        yield Case(
            [("x", x), ("kernel_size", kernel)],
            keywords,
            expected=_torch_pool(x, kernel, stride),
        )


def _loops(x, rows, cols, strides, out, starts=None, reduce=np.max) -> np.ndarray:
    """Pooling with windows of ``rows`` × ``cols`` starting at ``starts(r, q)``."""
    sh, sw = strides
    starts = starts or (lambda r, q: (r * sh, q * sw))
    y = np.empty((*x.shape[:2], *out))
    for r in range(out[0]):
        for q in range(out[1]):
            top, left = starts(r, q)
            window = x[:, :, top : top + rows, left : left + cols]
            if window.shape[2] == 0 or window.shape[3] == 0:
                raise Impossible
            y[:, :, r, q] = reduce(window, axis=(2, 3))
    return y


def _settings(case: Case):
    kh, kw = _pair(case["kernel_size"])
    stride = case.get("stride")
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    return (kh, kw), (sh, sw), case.expected.shape[2:]


def _kernel_swapped(case: Case) -> np.ndarray:
    (kh, kw), strides, out = _settings(case)
    if kh == kw:
        raise Impossible
    return _loops(case["x"], kw, kh, strides, out)


def _default_stride_one(case: Case) -> np.ndarray:
    if case.get("stride") is not None or _pair(case["kernel_size"]) == (1, 1):
        raise Impossible
    return _torch_pool(case["x"], case["kernel_size"], 1)


def _stride_ignored(case: Case) -> np.ndarray:
    stride = case.get("stride")
    if stride is None or _pair(stride) == _pair(case["kernel_size"]):
        raise Impossible
    return _torch_pool(case["x"], case["kernel_size"], None)


def _stride_swapped(case: Case) -> np.ndarray:
    stride = case.get("stride")
    if not isinstance(stride, tuple) or stride[0] == stride[1]:
        raise Impossible
    try:
        return _torch_pool(case["x"], case["kernel_size"], stride[::-1])
    except RuntimeError:
        raise Impossible from None


def _not_strided(case: Case) -> np.ndarray:
    (kh, kw), strides, out = _settings(case)
    if strides == (1, 1):
        raise Impossible
    return _loops(case["x"], kh, kw, strides, out, starts=lambda r, q: (r, q))


def _average(case: Case) -> np.ndarray:
    x, kernel, stride = case["x"], case["kernel_size"], case.get("stride")
    return TF.avg_pool2d(torch.from_numpy(x), kernel, stride).numpy()


def _rounded_up(case: Case) -> np.ndarray:
    try:
        return _torch_pool(
            case["x"], case["kernel_size"], case.get("stride"), ceil_mode=True
        )
    except RuntimeError:
        raise Impossible from None


_POOL_MISTAKES = (
    Mistake(
        "kernel-height-width-swapped",
        "your windows are kW rows high and kH columns wide: a kernel_size pair is "
        "(height, width), so a window covers rows top to top + kH - 1 and columns left "
        "to left + kW - 1.",
        _kernel_swapped,
    ),
    Mistake(
        "default-stride-one",
        "with stride=None a pooling layer's stride is its kernel size, so that the "
        "windows tile the input; you used 1.",
        _default_stride_one,
    ),
    Mistake(
        "stride-ignored",
        "you ignored the stride that was passed: the window moves stride positions "
        "between outputs (the kernel size only when stride is None).",
        _stride_ignored,
    ),
    Mistake(
        "stride-height-width-swapped",
        "you swapped the height and width of the stride: a pair is (height, width).",
        _stride_swapped,
    ),
    Mistake(
        "window-not-strided",
        "output (r, q) reads the window that starts at row r·sH and column q·sW: "
        "multiply by the stride.",
        _not_strided,
    ),
    Mistake(
        "average-pooling",
        "your output is the mean of each window: max pooling takes its largest value.",
        _average,
    ),
    Mistake(
        "rounded-up",
        "your output has a last window that sticks out of the input: the sizes round "
        "down, H_out = (H - kH) // sH + 1.",
        _rounded_up,
    ),
)


def _explain_pool_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, TypeError) and (
        isinstance(case["kernel_size"], tuple) or isinstance(case.get("stride"), tuple)
    ):
        return (
            "kernel_size and stride may be ints or pairs (height, width): turn both "
            "into pairs first, e.g. with `pair`."
        )
    if isinstance(error, (ValueError, IndexError)):
        return (
            "an index went past the end of the input: the last window starts at row "
            "(H_out - 1)·sH, with H_out = (H - kH) // sH + 1."
        )
    return None


_MAX_POOL = Exercise(
    "max_pool2d",
    Cases(_POOL_CASES, _pool_cases),
    compare_output,
    mistakes=_POOL_MISTAKES,
    explain_error=_explain_pool_error,
)


# --- shape_design (chapter 2) ------------------------------------------------------------

# The design problem: a (1, 3, 64, 48) image through a convolution, a ReLU, a max
# pooling with kernel = stride, and a second convolution.
SHAPE_DESIGN = {
    "input": (1, 3, 64, 48),
    "after_first": (64, 48),
    "output": (1, 32, 8, 6),
}
_DESIGN_NAMES = ("padding", "pool", "stride", "last_padding")


def _shape_design_stack(padding: int, pool: int, stride: int, last_padding: int):
    """The exercise's layers for a design (on the meta device: shapes only)."""
    return [
        nn.Conv2d(3, 16, 5, padding=padding, device="meta"),
        nn.ReLU(),
        nn.MaxPool2d(pool, stride=pool),
        nn.Conv2d(16, 32, 3, stride=stride, padding=last_padding, device="meta"),
    ]


def shape_design(design, *, raise_on_failure: bool = False) -> Result:
    """Check a choice of padding, pooling and stride against chapter 2's target shape.

    The stack is ``nn.Conv2d(3, 16, 5, padding=padding)``, ``nn.ReLU()``,
    ``nn.MaxPool2d(pool, stride=pool)``, ``nn.Conv2d(16, 32, 3, stride=stride,
    padding=last_padding)`` on a ``(1, 3, 64, 48)`` input. ``design`` is a tuple of
    four ints ``(padding, pool, stride, last_padding)``, or a function without
    arguments returning it; None is "not attempted yet". The design must keep the size,
    64×48, after the first convolution, give an output of shape ``(1, 32, 8, 6)`` (as
    PyTorch computes it), and use a last stride of 1 or 2 and a last padding of at most
    1. The verdict lists every constraint that fails, with the numbers.
    """
    return check_value(
        "shape_design",
        design,
        _compare_shape_design,
        kind="design",
        todo="four ints (padding, pool, stride, last_padding)",
        headline="the design does not meet the constraints.",
        passed="your design meets every constraint.",
        raise_on_failure=raise_on_failure,
    )


def _read_shape_design(design) -> tuple[int, int, int, int]:
    form = "write four ints: (padding, pool, stride, last_padding), e.g. (1, 2, 1, 0)."
    if not isinstance(design, (tuple, list)) or len(design) != 4:
        raise Mismatch(
            f"your design is {type_phrase(design)}, not four ints.", hint=form
        )
    values = tuple(int_or_mismatch(v, name) for v, name in zip(design, _DESIGN_NAMES))
    padding, pool, stride, last_padding = values
    if pool < 1 or stride < 1 or padding < 0 or last_padding < 0:
        raise Mismatch(
            f"your design is {values}: pool and stride must be at least 1, the "
            "paddings at least 0.",
            hint=form,
        )
    return values


def _compare_shape_design(answer, case: Case) -> None:
    values = _read_shape_design(answer)
    padding, pool, stride, last_padding = values
    conv1, relu, pooling, conv2 = _shape_design_stack(*values)
    problem = SHAPE_DESIGN
    x = torch.zeros(problem["input"], device="meta")
    shapes = []
    try:
        for layer in (conv1, relu, pooling, conv2):
            x = layer(x)
            shapes.append(tuple(x.shape))
    except RuntimeError:
        sizes = f"{shapes[-1][2]}×{shapes[-1][3]}" if shapes else "64×48"
        raise Mismatch(
            f"layer {len(shapes) + 1} does not fit its {sizes} input: PyTorch refuses "
            "the stack.",
            hint="a window must fit in its (padded) input: use a smaller pool or more "
            "padding before it.",
            got=values,
        ) from None
    failed, hints = [], []
    first = shapes[0][2:]
    if first != problem["after_first"]:
        failed.append(f"the first convolution gives {first[0]}×{first[1]}, not 64×48")
        hints.append(
            "with stride 1, a kernel of size k keeps the size when the padding is "
            "(k - 1)/2 on each side."
        )
    if shapes[-1] != problem["output"]:
        failed.append(f"the output is {shapes[-1]}, not {problem['output']}")
        hints.append(
            f"the pooling gives {shapes[2][2]}×{shapes[2][3]}; the last convolution "
            "turns a size i into (i + 2p - 3) // stride + 1: work backwards from 8×6."
        )
    if stride > 2 or last_padding > 1:
        failed.append(
            f"the last convolution has stride {stride} and padding {last_padding}; "
            "the limits are a stride of 1 or 2 and a padding of at most 1"
        )
        hints.append("let the pooling do more of the shrinking.")
    if failed:
        raise Mismatch(
            "; ".join(failed) + ".",
            details=[
                (
                    "got",
                    "64×48 → "
                    + " → ".join(f"{s[2]}×{s[3]}" for s in shapes[:1] + shapes[2:])
                    + " (conv, pool, conv)",
                )
            ],
            hint=" ".join(h[0].upper() + h[1:] for h in hints),
            got=values,
        )
