"""Checkers for chapter 2's exercises on whole layers: parameter counts and shapes.

``conv2d_parameters`` compares a learner's count with what PyTorch allocates,
``sum(p.numel() for p in torch.nn.Conv2d(...).parameters())``, on layers built on the
"meta" device (shapes only, no memory, no random numbers). ``network_output_shape``
compares a learner's shape arithmetic through a stack of ``torch.nn`` layers with the
shape of what PyTorch returns when a tensor of zeros goes through the stack. The
expected answers are computed once per session and reused; every call hands the
learner fresh copies of the layers.

Each usual mistake (bias left out, one bias per weight, ceil instead of floor, a pooling
layer moved one pixel at a time, ...) computes the answer it gives, and is named only
when it gives the learner's answer on every case. For a stack of layers the verdict
also names the first layer after which the learner's shape goes wrong.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
import re
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from labs.check._compare import compare_int, none_mismatch
from labs.check._core import Case, Exercise, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import shape_text, type_phrase

__all__ = ["conv2d_parameters", "network_output_shape"]


# --- conv2d_parameters ----------------------------------------------------------------


def conv2d_parameters(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's parameter count of a ``torch.nn.Conv2d`` layer against PyTorch.

    The learner writes ``fn(in_channels, out_channels, kernel_size, bias=True) -> int``:
    how many learnable numbers ``nn.Conv2d(in_channels, out_channels, kernel_size,
    bias=bias)`` holds, where ``kernel_size`` is an int ``k`` (a k×k kernel) or a pair
    ``(kH, kW)``. The weight has shape ``(out_channels, in_channels, kH, kW)`` and the
    bias, if any, one number per output channel::

        out_channels·in_channels·kH·kW + (out_channels if bias else 0)

    The first three arguments are passed by position. ``bias`` is passed by keyword,
    except in the first cases, which leave it out to test its default (True).

    Cases: every combination of 7 channel pairs (in, out) from (1, 1) to (20, 16) and
    7 kernel sizes (ints 1, 3 and 5, pairs (3, 5), (1, 7), (4, 1) and (2, 2)), first
    with ``bias`` left out, then ``bias=False``, then ``bias=True``: 147 cases. The
    answer must be an ``int`` equal to PyTorch's count.
    """
    return check(_PARAMETERS, fn, raise_on_failure=raise_on_failure)


_CHANNELS = ((1, 1), (3, 16), (16, 8), (2, 5), (20, 16), (4, 1), (1, 6))
_KERNELS = (1, 3, 5, (3, 5), (1, 7), (4, 1), (2, 2))


@functools.cache
def _parameter_grid() -> tuple:
    """(((in, out, kernel_size, bias), count), ...), by PyTorch; bias None: default."""
    grid = []
    for bias in (None, False, True):
        for c_in, c_out in _CHANNELS:
            for kernel in _KERNELS:
                keywords = {} if bias is None else {"bias": bias}
                layer = nn.Conv2d(c_in, c_out, kernel, device="meta", **keywords)
                count = sum(p.numel() for p in layer.parameters())
                grid.append(((c_in, c_out, kernel, bias), count))
    return tuple(grid)


def _kernel_pair(kernel) -> tuple[int, int]:
    return (kernel, kernel) if isinstance(kernel, numbers.Integral) else tuple(kernel)


def _count_with(mistake: str, c_in: int, c_out: int, kernel, bias: bool) -> int:
    """The parameter count a common mistake gives (integer arithmetic only)."""
    kh, kw = _kernel_pair(kernel)
    weights = c_out * c_in * kh * kw
    biases = c_out if bias else 0
    if mistake == "bias-left-out":
        return weights
    if mistake == "bias-default-false":  # the bias as asked for, False when not given
        return weights + biases
    if mistake == "bias-always":
        return weights + c_out
    if mistake == "bias-per-weight":
        return weights + (weights if bias else 0)
    if mistake == "bias-per-channel-pair":
        return weights + (c_out * c_in if bias else 0)
    if mistake == "bias-per-input-channel":
        return weights + (c_in if bias else 0)
    if mistake == "in-channels-left-out":
        return c_out * kh * kw + biases
    if mistake == "out-channels-left-out":
        return c_in * kh * kw + biases
    if mistake == "int-kernel-not-squared":
        side = kernel if isinstance(kernel, numbers.Integral) else kh * kw
        return c_out * c_in * side + biases
    if mistake == "pair-taken-square":
        return c_out * c_in * kh * kh + biases
    if mistake == "kernel-sides-added":
        return c_out * c_in * (kh + kw) + biases
    raise ValueError(mistake)


def _count_mistake(name: str, hint: str) -> Mistake:
    """The parameter count of mistake ``name`` (see :func:`_count_with`)."""

    def gives(case: Case) -> int:
        arguments = case.arguments
        bias = arguments.get("bias", name != "bias-default-false")
        return _count_with(
            name,
            arguments["in_channels"],
            arguments["out_channels"],
            arguments["kernel_size"],
            bias,
        )

    return Mistake(name, hint, gives)


_PARAMETER_MISTAKES = [
    _count_mistake(
        "bias-left-out",
        "you left out the bias. With bias=True (the default) a Conv2d also learns one "
        "bias per output channel: out_channels more parameters.",
    ),
    _count_mistake(
        "bias-default-false",
        "without a bias argument, a Conv2d has a bias: bias=True (the default) adds "
        "one bias per output channel. Give your function's parameter the same "
        "default, `bias=True`.",
    ),
    _count_mistake(
        "bias-always",
        "bias=False means the layer has no bias at all: count the weight only.",
    ),
    _count_mistake(
        "bias-per-weight",
        "you counted one bias per weight. There is one bias per output channel (per "
        "kernel): it is added once to every value of that output channel.",
    ),
    _count_mistake(
        "bias-per-channel-pair",
        "you counted one bias per (output, input) channel pair. The sum over the input "
        "channels gets a single bias, so there are out_channels biases.",
    ),
    _count_mistake(
        "bias-per-input-channel",
        "you counted one bias per input channel. Biases belong to the output: one per "
        "output channel.",
    ),
    _count_mistake(
        "in-channels-left-out",
        "you left out in_channels. Each output channel's kernel has a kH×kW slice for "
        "every input channel: the weight has shape (out_channels, in_channels, kH, "
        "kW).",
    ),
    _count_mistake(
        "out-channels-left-out",
        "you left out out_channels. Every output channel has its own kernel: the "
        "weight has shape (out_channels, in_channels, kH, kW).",
    ),
    _count_mistake(
        "int-kernel-not-squared",
        "an int kernel_size k means a k×k kernel: kH = kW = k, so the kernel has k·k "
        "numbers per channel pair, not k.",
    ),
    _count_mistake(
        "pair-taken-square",
        "kernel_size=(kH, kW) may be non-square: multiply kH by kW, not kH by itself.",
    ),
    _count_mistake(
        "kernel-sides-added",
        "a kH×kW kernel has kH·kW numbers per channel pair: multiply the sides, do not "
        "add them.",
    ),
]


def _explain_parameters_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and re.search(
        r"positional argument|unexpected keyword|multiple values", text
    ):
        return (
            "the checker calls `fn(in_channels, out_channels, kernel_size)` and, in "
            "most cases, adds `bias=True` or `bias=False` by keyword."
        )
    if isinstance(error, (TypeError, ValueError)) and re.search(
        r"subscriptable|unpack|not iterable|has no len", text
    ):
        return (
            "kernel_size is an int in some cases (k means a k×k kernel) and a pair "
            "(kH, kW) in others, as in PyTorch. Accept both, e.g. `kh, kw = "
            "(kernel_size, kernel_size) if isinstance(kernel_size, int) else "
            "kernel_size`."
        )
    return None


# --- network_output_shape -------------------------------------------------------------


def network_output_shape(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's shape arithmetic through a stack of ``torch.nn`` layers.

    The learner writes ``fn(input_shape, layers) -> tuple``: the shape of what comes out
    when a tensor of shape ``input_shape`` goes through ``layers`` one after the other,
    computed with arithmetic, without running the layers. ``input_shape`` is a tuple
    ``(N, C, H, W)`` (or ``(N, features)`` for a stack of Linear layers); ``layers`` is
    a list of modules (an ``nn.Sequential`` iterates the same way) among

    - ``nn.Conv2d``: channels become ``out_channels``; ``kernel_size``, ``stride``,
      ``padding`` and ``dilation`` are stored as (height, width) pairs, padding as
      numbers (never ``'same'``);
    - ``nn.MaxPool2d`` and ``nn.AvgPool2d`` (``ceil_mode=False``): channels kept;
      ``kernel_size``, ``stride``, ``padding`` (and ``dilation``, max pooling only) are
      stored as given, an int or a pair, and ``stride`` defaults to ``kernel_size``;
    - ``nn.Flatten()`` with its defaults: ``(N, C, H, W)`` becomes ``(N, C·H·W)``;
    - ``nn.Linear``: the last dimension becomes ``out_features``;
    - ``nn.Tanh`` and ``nn.ReLU``: the shape is unchanged.

    Each spatial size follows ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1``. Arguments
    are passed by position; the answer must be a tuple of ints (a ``torch.Size`` is
    one) equal to the shape of PyTorch's output.

    Cases: 16 hand-picked stacks, simple ones first (one layer of each kind, the
    hyperspectral example ``Conv2d(20, 16, (3, 5))`` on ``(1, 20, 64, 128)``, pairs,
    dilation, a pooling size where the floor matters, activations, the chapter's small
    CNN, a LeNet-like network), then seeded random stacks of 1 to 4 convolution and
    pooling layers, sometimes followed by Flatten and Linear layers, up to 40 in all.
    """
    return check(_SHAPES, fn, raise_on_failure=raise_on_failure)


def _small_cnn() -> list:
    return [
        nn.Conv2d(3, 16, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 32),
        nn.Tanh(),
        nn.Linear(32, 2),
    ]


def _lenet() -> list:
    return [
        nn.Conv2d(3, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    ]


def _hand_picked() -> list[tuple]:
    return [
        ((1, 1, 5, 5), [nn.Conv2d(1, 1, 3)]),
        ((2, 3, 8, 8), [nn.Conv2d(3, 4, 3, padding=1)]),
        ((1, 20, 64, 128), [nn.Conv2d(20, 16, (3, 5))]),
        ((1, 20, 64, 128), [nn.Conv2d(20, 16, (3, 5), padding=(1, 2))]),
        ((1, 2, 9, 9), [nn.Conv2d(2, 3, 3, stride=2)]),
        (
            (1, 1, 10, 12),
            [nn.Conv2d(1, 2, (3, 2), stride=(2, 3), padding=(1, 0), dilation=(2, 1))],
        ),
        ((1, 3, 9, 9), [nn.MaxPool2d(2)]),
        ((2, 4, 10, 9), [nn.MaxPool2d((2, 3))]),
        ((1, 1, 11, 11), [nn.AvgPool2d(3, stride=2, padding=1)]),
        ((1, 1, 12, 12), [nn.MaxPool2d(3, stride=1)]),
        ((1, 2, 13, 13), [nn.MaxPool2d(3, stride=2, padding=1, dilation=2)]),
        ((2, 3, 4, 5), [nn.Flatten()]),
        ((2, 60), [nn.Linear(60, 7)]),
        ((1, 3, 6, 6), [nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Tanh()]),
        ((4, 3, 32, 32), _small_cnn()),
        ((1, 3, 28, 28), _lenet()),
    ]


_SHAPE_CASES = 40
_SHAPE_SEED = 2002


@functools.cache
def _shape_cases() -> tuple:
    """((input_shape, layers, expected, shapes after each layer), ...), by PyTorch.

    Layers are built with PyTorch's own initialisation inside ``fork_rng``, so that the
    global random state is left as it was; each call of the checker deep-copies them.
    """
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        stacks = _hand_picked()
        rng = np.random.default_rng(_SHAPE_SEED)
        while len(stacks) < _SHAPE_CASES:
            stacks.append(_random_stack(rng))
        cases = []
        for shape, layers in stacks:
            output, prefixes = torch.zeros(shape), []
            for layer in layers:
                output = layer(output)
                prefixes.append(tuple(output.shape))
            cases.append((shape, tuple(layers), prefixes[-1], tuple(prefixes)))
    return tuple(cases)


def _draw_pair(rng, low: int, high: int, pair_probability: float = 0.4):
    if rng.random() < pair_probability:
        return tuple(int(v) for v in rng.integers(low, high + 1, size=2))
    return int(rng.integers(low, high + 1))


def _random_layer(rng, channels: int):
    kind = rng.choice(["conv", "conv", "max", "avg"])
    kernel = _draw_pair(rng, 1, 5)
    if kind == "conv":
        return nn.Conv2d(
            channels,
            int(rng.integers(1, 9)),
            kernel,
            stride=_draw_pair(rng, 1, 3),
            padding=_draw_pair(rng, 0, 2),
            dilation=_draw_pair(rng, 1, 2, 0.2) if rng.random() < 0.4 else 1,
        )
    keywords = {}
    if rng.random() < 0.5:
        keywords["stride"] = _draw_pair(rng, 1, 3)
    half = min(_pair(kernel)) // 2
    if half and rng.random() < 0.5:
        keywords["padding"] = int(rng.integers(0, half + 1))
    if kind == "max":
        if rng.random() < 0.3:
            keywords["dilation"] = _draw_pair(rng, 1, 2, 0.2)
        return nn.MaxPool2d(kernel, **keywords)
    return nn.AvgPool2d(kernel, **keywords)


def _random_stack(rng) -> tuple:
    """A random valid stack: convolutions and pooling, maybe Flatten and Linear."""
    shape = (
        int(rng.integers(1, 4)),
        int(rng.integers(1, 5)),
        int(rng.integers(5, 33)),
        int(rng.integers(5, 33)),
    )
    output, layers = torch.zeros(shape), []
    for _ in range(int(rng.integers(1, 5))):
        for _attempt in range(10):
            layer = _random_layer(rng, output.shape[1])
            try:
                candidate = layer(output)
            except RuntimeError:  # PyTorch rejects it: the input is too small
                continue
            layers.append(layer)
            output = candidate
            if rng.random() < 0.3:
                layers.append(nn.ReLU() if rng.random() < 0.5 else nn.Tanh())
            break
    if not layers or rng.random() < 0.5:
        layers.append(nn.Flatten())
        features = math.prod(output.shape[1:])
        hidden = int(rng.integers(2, 33))
        layers.append(nn.Linear(features, hidden))
        if rng.random() < 0.5:
            layers += [nn.Tanh(), nn.Linear(hidden, int(rng.integers(1, 11)))]
    return shape, layers


def _compare_shape(got, expected: tuple) -> None:
    """A tuple of ints, then the number of dimensions, then each size."""
    if got is None:
        raise none_mismatch()
    if isinstance(got, (torch.Tensor, np.ndarray)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not a shape.",
            details=[("expected", shape_text(expected))],
            hint="return the output's shape, a tuple of ints such as (2, 16, 32, 32), "
            "not a tensor or array.",
        )
    if isinstance(got, list):
        raise Mismatch(
            "your function returned a list; a shape is a tuple.",
            details=[("expected", shape_text(expected))],
            hint="convert at the end: `return tuple(shape)`.",
        )
    if not isinstance(got, tuple):
        raise Mismatch(
            f"your function returned {type_phrase(got)}, not a tuple of ints.",
            details=[("expected", shape_text(expected))],
        )
    for index, size in enumerate(got):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Real):
            raise Mismatch(
                f"element {index} of your shape is {type_phrase(size)}, not an int.",
                details=[("expected", shape_text(expected))],
            )
        if not isinstance(size, numbers.Integral):
            raise Mismatch(
                f"element {index} of your shape is a float ({float(size)!r}); sizes "
                "are integers.",
                details=[("expected", shape_text(expected))],
                hint="use // (floor division) instead of /: the number of window "
                "positions is floor((i + 2p - d(k - 1) - 1) / s) + 1. np.floor and "
                "np.ceil also return floats.",
            )
    sizes = tuple(int(v) for v in got)
    details = [("expected", shape_text(expected)), ("got", shape_text(sizes))]
    if len(sizes) != len(expected):
        raise Mismatch(
            f"your shape has {len(sizes)} dimensions; PyTorch's output has "
            f"{len(expected)}.",
            details=details,
            diagnosable=True,
        )
    wrong = [str(i) for i, (g, e) in enumerate(zip(sizes, expected)) if g != e]
    if wrong:
        which = "dimension" if len(wrong) == 1 else "dimensions"
        raise Mismatch(
            f"your shape is wrong in {which} {', '.join(wrong)}.",
            details=details,
            diagnosable=True,
        )


# --- What common mistakes give --------------------------------------------------------


def _pair(value) -> tuple[int, int]:
    if isinstance(value, numbers.Integral):
        return int(value), int(value)
    return tuple(int(v) for v in value)


def _window_sizes(mistake: str | None, sizes, layer, pool: bool) -> tuple:
    """Spatial output sizes of a convolution or pooling layer, as a mistake has them."""
    kernel, stride = _pair(layer.kernel_size), _pair(layer.stride)
    padding, dilation = _pair(layer.padding), _pair(getattr(layer, "dilation", 1))
    if mistake == "height-width-swapped":
        kernel, stride, padding, dilation = (
            v[::-1] for v in (kernel, stride, padding, dilation)
        )
    out = []
    for i, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        if mistake == "pool-size-divided" and pool:
            out.append(i // k)
            continue
        if mistake == "padding-ignored":
            p = 0
        if mistake == "dilation-ignored":
            d = 1
        if (mistake == "conv-stride-ignored" and not pool) or (
            mistake == "pool-stride-one" and pool
        ):
            s = 1
        room = i + (p if mistake == "total-padding" else 2 * p) - d * (k - 1) - 1
        if mistake == "ceil":
            out.append(-(-room // s) + 1)
        elif mistake == "forgot-plus-one":
            out.append(room // s)
        else:
            out.append(room // s + 1)
    return tuple(out)


def _shape_with(mistake: str | None, input_shape, layers) -> tuple:
    """The output shape of a stack, computed with arithmetic as a mistake would."""
    shape = tuple(input_shape)
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            pool = not isinstance(layer, nn.Conv2d)
            channels = shape[1]
            if not pool and mistake != "channels-not-updated":
                channels = layer.out_channels
            sizes = _window_sizes(mistake, shape[2:], layer, pool)
            shape = (shape[0], channels, *sizes)
        elif isinstance(layer, nn.Flatten):
            if mistake == "flatten-merges-batch":
                shape = (math.prod(shape),)
            elif mistake == "flatten-drops-channels":
                shape = (shape[0], math.prod(shape[2:]))
            else:
                shape = (shape[0], math.prod(shape[1:]))
        elif isinstance(layer, nn.Linear):
            features = layer.out_features
            if mistake == "linear-in-features":
                features = layer.in_features
            shape = (*shape[:-1], features)
    if mistake == "batch-dropped":
        shape = shape[1:]
    return shape


def _shape_mistake(name: str, hint: str) -> Mistake:
    """The output shape of mistake ``name`` (see :func:`_shape_with`)."""
    return Mistake(
        name, hint, lambda case: _shape_with(name, case["input_shape"], case["layers"])
    )


_SHAPE_MISTAKES = [
    _shape_mistake(
        "ceil",
        "you rounded up. A window must fit entirely inside the padded input, so the "
        "number of strides is rounded down: o = floor((i + 2p - d(k - 1) - 1) / s) "
        "+ 1, in Python (i + 2*p - d*(k - 1) - 1) // s + 1.",
    ),
    _shape_mistake(
        "pool-stride-one",
        "your pooling layers move one pixel at a time. A pooling layer's stride "
        "defaults to its kernel size (nn.MaxPool2d(2) has stride 2 and halves H and "
        "W): read it from layer.stride.",
    ),
    _shape_mistake(
        "pool-size-divided",
        "i // k is the pooled size only when the stride equals the kernel size and "
        "there is no padding. Pooling follows the convolution's formula with its own "
        "stride and padding: floor((i + 2p - d(k - 1) - 1) / s) + 1.",
    ),
    _shape_mistake(
        "channels-not-updated",
        "a Conv2d layer replaces the channel count by its out_channels (one output "
        "channel per kernel); only pooling and activations keep it.",
    ),
    _shape_mistake(
        "flatten-drops-channels",
        "nn.Flatten() merges every dimension after the batch, channels included: "
        "(N, C, H, W) becomes (N, C·H·W).",
    ),
    _shape_mistake(
        "flatten-merges-batch",
        "nn.Flatten() keeps the batch dimension (its start_dim is 1): (N, C, H, W) "
        "becomes (N, C·H·W), one row per example, not one long vector.",
    ),
    _shape_mistake(
        "linear-in-features",
        "nn.Linear(in_features, out_features) changes the last dimension from "
        "in_features to out_features.",
    ),
    _shape_mistake(
        "height-width-swapped",
        "you swapped height and width: the pairs are (height, width), so "
        "kernel_size=(3, 5) spans 3 rows and 5 columns, and H is dimension 2, W "
        "dimension 3.",
    ),
    _shape_mistake(
        "padding-ignored",
        "you ignored the padding: it adds p rows (or columns) of zeros on each side "
        "before the window slides.",
    ),
    _shape_mistake(
        "total-padding",
        "padding is per side: the padded size is i + 2p, not i + p.",
    ),
    _shape_mistake(
        "dilation-ignored",
        "you ignored the dilation: a kernel of size k with dilation d spans "
        "d(k - 1) + 1 input positions.",
    ),
    _shape_mistake(
        "conv-stride-ignored",
        "you ignored the convolution's stride: divide the room left for the window by "
        "the stride, round down and add 1.",
    ),
    _shape_mistake(
        "forgot-plus-one",
        "you forgot the + 1: (i + 2p - d(k - 1) - 1) // s counts the strides, and "
        "there is one more window position than strides.",
    ),
    _shape_mistake(
        "batch-dropped",
        "keep the batch dimension N first: every layer keeps it, so the output shape "
        "starts with N.",
    ),
]


def _first_wrong_layer(case: Case, answer, learner) -> str | None:
    """'Layer j of n, <layer>, is the first ...', from the answers on prefixes."""
    layers = case["layers"]
    if len(layers) < 2:
        return None
    for j, expected in enumerate(case.info["prefixes"], start=1):
        prefix = Case({"input_shape": case["input_shape"], "layers": layers[:j]})
        answer = learner.try_answer(prefix)
        if answer is None or _shape_or_none(answer) != expected:
            got = _shape_or_none(answer)
            shown = "no shape" if got is None else shape_text(got)
            return (
                f"Layer {j} of {len(layers)}, {layers[j - 1]!r}, is the first after "
                f"which your shape differs from PyTorch's: expected "
                f"{shape_text(expected)}, got {shown}."
            )
    return None


def _shape_or_none(answer):
    if not isinstance(answer, tuple):
        return None
    if not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in answer
    ):
        return None
    return tuple(int(v) for v in answer)


def _explain_shape_error(case: Case, error: Exception) -> str | None:
    text = str(error)
    if isinstance(error, TypeError) and re.search(
        r"positional argument|unexpected keyword|multiple values", text
    ):
        return "the checker calls `fn(input_shape, layers)`, by position."
    if isinstance(error, AttributeError) and "dilation" in text:
        return (
            "nn.AvgPool2d has no dilation (it is always 1): use "
            "`getattr(layer, 'dilation', 1)`."
        )
    if isinstance(error, AttributeError):
        return (
            "layers store different things: test each layer's type first, e.g. "
            "isinstance(layer, nn.Conv2d), then read its attributes. Activations "
            "(nn.Tanh, nn.ReLU) have none and keep the shape."
        )
    if re.search(r"\b(Tanh|ReLU)\b", text):
        return (
            "activations (nn.Tanh, nn.ReLU) work value by value and keep the shape: "
            "let them pass unchanged."
        )
    if isinstance(error, (TypeError, ValueError)) and re.search(
        r"subscriptable|non-iterable|not iterable|has no len", text
    ):
        return (
            "pooling layers keep kernel_size, stride and padding as they were given: "
            "an int or a (height, width) pair (Conv2d always stores pairs). Convert "
            "first, e.g. `kh, kw = (k, k) if isinstance(k, int) else k`."
        )
    if isinstance(error, ValueError) and "values to unpack" in text:
        return (
            "the shape does not always have 4 dimensions: after nn.Flatten it is "
            "(N, features), and a stack may start from (N, features). Only Conv2d and "
            "pooling layers see (N, C, H, W)."
        )
    return None


# --- The exercises ---------------------------------------------------------------------

_PARAMETERS = Exercise(
    "conv2d_parameters",
    lambda: [
        Case(
            {"in_channels": c_in, "out_channels": c_out, "kernel_size": kernel},
            {} if bias is None else {"bias": bias},
            expected=count,
        )
        for (c_in, c_out, kernel, bias), count in _parameter_grid()
    ],
    lambda answer, case: compare_int(answer, case.expected, what="parameter count"),
    mistakes=_PARAMETER_MISTAKES,
    explain_error=_explain_parameters_error,
)

_SHAPES = Exercise(
    "network_output_shape",
    lambda: [
        Case(
            {"input_shape": shape, "layers": copy.deepcopy(list(layers))},
            expected=expected,
            prefixes=prefixes,
        )
        for shape, layers, expected, prefixes in _shape_cases()
    ],
    lambda answer, case: _compare_shape(answer, case.expected),
    mistakes=_SHAPE_MISTAKES,
    locate=_first_wrong_layer,
    explain_error=_explain_shape_error,
)
