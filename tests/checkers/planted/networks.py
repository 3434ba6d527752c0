"""conv2d_parameters and network_output_shape: correct answers and planted mistakes."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

from labs import check

from ..registry import Entry, planted


def kernel_pair(kernel_size):
    if isinstance(kernel_size, int):
        return kernel_size, kernel_size
    return tuple(kernel_size)


def conv2d_parameters(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = kernel_pair(kernel_size)
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)


def conv2d_parameters_numpy(c_in, c_out, k, bias=True):
    """Another correct answer: numpy's product, an np.int64, and other names."""
    weight_shape = (c_out, c_in, *np.broadcast_to(k, 2))
    return np.prod(weight_shape) + (c_out if bias else 0)


def weights(c_in, c_out, kernel_size):
    kh, kw = kernel_pair(kernel_size)
    return c_out * c_in * kh * kw


def no_bias_keyword(c_in, c_out, kernel_size):
    return weights(c_in, c_out, kernel_size) + c_out


def int_kernel_not_squared(c_in, c_out, kernel_size, bias=True):
    side = kernel_size if isinstance(kernel_size, int) else math.prod(kernel_size)
    return c_out * c_in * side + (c_out if bias else 0)


def int_kernel_crashes(c_in, c_out, kernel_size, bias=True):
    kh, kw = kernel_size
    return c_out * c_in * kh * kw + (c_out if bias else 0)


PARAMETER_MISTAKES = {
    "bias-left-out": (
        lambda c_in, c_out, k, bias=True: weights(c_in, c_out, k),
        "you left out the bias",
    ),
    "default-bias-false": (
        lambda c_in, c_out, k, bias=False: (
            weights(c_in, c_out, k) + (c_out if bias else 0)
        ),
        "(the default)",
    ),
    "bias-always": (
        lambda c_in, c_out, k, bias=True: weights(c_in, c_out, k) + c_out,
        "bias=False means",
    ),
    "bias-per-weight": (
        lambda c_in, c_out, k, bias=True: weights(c_in, c_out, k) * (2 if bias else 1),
        "one bias per weight",
    ),
    "bias-per-channel-pair": (
        lambda c_in, c_out, k, bias=True: (
            weights(c_in, c_out, k) + (c_out * c_in if bias else 0)
        ),
        "(output, input) channel pair",
    ),
    "bias-per-input-channel": (
        lambda c_in, c_out, k, bias=True: (
            weights(c_in, c_out, k) + (c_in if bias else 0)
        ),
        "one bias per input channel",
    ),
    "in-channels-left-out": (
        lambda c_in, c_out, k, bias=True: weights(1, c_out, k) + (c_out if bias else 0),
        "you left out in_channels",
    ),
    "out-channels-left-out": (
        lambda c_in, c_out, k, bias=True: weights(c_in, 1, k) + (c_out if bias else 0),
        "you left out out_channels",
    ),
    "int-kernel-not-squared": (int_kernel_not_squared, "k×k kernel"),
    "pair-taken-square": (
        lambda c_in, c_out, k, bias=True: (
            c_out * c_in * kernel_pair(k)[0] ** 2 + (c_out if bias else 0)
        ),
        "non-square",
    ),
    "kernel-sides-added": (
        lambda c_in, c_out, k, bias=True: (
            c_out * c_in * sum(kernel_pair(k)) + (c_out if bias else 0)
        ),
        "multiply the sides",
    ),
    "int-kernel-crashes": (int_kernel_crashes, "kernel_size is an int in some cases"),
    "no-bias-keyword": (no_bias_keyword, "adds bias=True or bias=False by keyword"),
    "float-count": (
        lambda c_in, c_out, k, bias=True: float(
            conv2d_parameters(c_in, c_out, k, bias)
        ),
        "integers",
    ),
    "returns-none": (lambda c_in, c_out, k, bias=True: None, "forget return"),
    "returns-tensor": (
        lambda c_in, c_out, k, bias=True: torch.tensor(
            conv2d_parameters(c_in, c_out, k, bias)
        ),
        "plain Python int",
    ),
}


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def make_output_shape(mistake=None):
    """A learner's output_shape, correct or with one planted mistake."""

    def window(i, k, s, p, d, pool):
        if mistake == "pool-size-divided" and pool:
            return i // k
        if mistake == "padding-ignored":
            p = 0
        if mistake == "dilation-ignored":
            d = 1
        if (mistake == "pool-stride-one" and pool) or (
            mistake == "conv-stride-ignored" and not pool
        ):
            s = 1
        padded = i + (p if mistake == "total-padding" else 2 * p)
        if mistake == "ceil":
            return math.ceil((padded - d * (k - 1) - 1) / s) + 1
        if mistake == "float-division":
            return (padded - d * (k - 1) - 1) / s + 1
        if mistake == "forgot-plus-one":
            return (padded - d * (k - 1) - 1) // s
        return (padded - d * (k - 1) - 1) // s + 1

    def output_shape(input_shape, layers):
        shape = list(input_shape)
        for layer in layers:
            if mistake == "unpack-four":
                n, c, h, w = shape
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                pool = not isinstance(layer, nn.Conv2d)
                n, c, h, w = shape
                if not pool and mistake != "channels-not-updated":
                    c = layer.out_channels
                if mistake == "avgpool-dilation":
                    dilation = layer.dilation
                else:
                    dilation = getattr(layer, "dilation", 1)
                if mistake == "pool-int-subscript":
                    values = [layer.kernel_size, layer.stride, layer.padding, dilation]
                    kernel, stride, padding, dilation = ((v[0], v[1]) for v in values)
                else:
                    kernel, stride = pair(layer.kernel_size), pair(layer.stride)
                    padding, dilation = pair(layer.padding), pair(dilation)
                order = (1, 0) if mistake == "height-width-swapped" else (0, 1)
                h, w = (
                    window(i, kernel[a], stride[a], padding[a], dilation[a], pool)
                    for i, a in zip((h, w), order)
                )
                shape = [n, c, h, w]
            elif isinstance(layer, nn.Flatten):
                if mistake == "flatten-merges-batch":
                    shape = [math.prod(shape)]
                elif mistake == "flatten-drops-channels":
                    shape = [shape[0], math.prod(shape[2:])]
                else:
                    shape = [shape[0], math.prod(shape[1:])]
            elif isinstance(layer, nn.Linear):
                if mistake == "linear-in-features":
                    shape[-1] = layer.in_features
                else:
                    shape[-1] = layer.out_features
            elif mistake == "activation-raises":
                raise ValueError(f"unknown layer {layer}")
            if mistake == "only-first-layer":
                break
        if mistake == "batch-dropped":
            shape = shape[1:]
        return shape if mistake == "returns-list" else tuple(shape)

    return output_shape


def output_shape_by_running(input_shape, layers):
    """Correct too (though not in the spirit of the exercise): a torch.Size passes."""
    with torch.no_grad():
        return nn.Sequential(*layers)(torch.zeros(input_shape)).shape


SHAPE_MISTAKES = {
    "ceil": "you rounded up",
    "float-division": "use // (floor division)",
    "pool-stride-one": "stride defaults to its kernel size",
    "pool-size-divided": "i // k is the pooled size only when",
    "channels-not-updated": "replaces the channel count by its out_channels",
    "flatten-drops-channels": "channels included",
    "flatten-merges-batch": "keeps the batch dimension",
    "linear-in-features": "from in_features to out_features",
    "height-width-swapped": "you swapped height and width",
    "padding-ignored": "you ignored the padding",
    "total-padding": "padding is per side",
    "dilation-ignored": "you ignored the dilation",
    "conv-stride-ignored": "ignored the convolution's stride",
    "forgot-plus-one": "you forgot the + 1",
    "batch-dropped": "keep the batch dimension N first",
    "returns-list": "return tuple(shape)",
    "avgpool-dilation": "getattr(layer, 'dilation', 1)",
    "pool-int-subscript": "an int or a (height, width) pair",
    "unpack-four": "after nn.Flatten it is (N, features)",
    "activation-raises": "keep the shape",
    "only-first-layer": "Layer 3 of 10, MaxPool2d",
}


OTHER_WRONG_ANSWERS = {
    "returns-none": (lambda input_shape, layers: None, "forget return"),
    "returns-output": (
        lambda input_shape, layers: nn.Sequential(*layers)(torch.zeros(input_shape)),
        "not a tensor or array",
    ),
    "returns-input-shape": (lambda input_shape, layers: tuple(input_shape), None),
    "numpy-shape-of-floats": (
        lambda input_shape, layers: tuple(
            float(v) for v in make_output_shape()(input_shape, layers)
        ),
        "use // (floor division)",
    ),
    "swapped-arguments": (
        lambda layers, input_shape: make_output_shape()(input_shape, layers),
        None,
    ),
}


SHAPE_TABLE = {
    name: (make_output_shape(name), hint) for name, hint in SHAPE_MISTAKES.items()
}
SHAPE_TABLE.update(OTHER_WRONG_ANSWERS)

ENTRIES = [
    Entry(
        "conv2d_parameters",
        learner=check.conv2d_parameters,
        solutions=tuple(
            (fn.__name__, functools.partial(check.conv2d_parameters, fn))
            for fn in (conv2d_parameters, conv2d_parameters_numpy)
        ),
        mistakes=planted(check.conv2d_parameters, PARAMETER_MISTAKES),
    ),
    Entry(
        "network_output_shape",
        learner=check.network_output_shape,
        solutions=(
            ("arithmetic", lambda: check.network_output_shape(make_output_shape())),
            (
                "by running the layers",
                lambda: check.network_output_shape(output_shape_by_running),
            ),
        ),
        mistakes=planted(check.network_output_shape, SHAPE_TABLE),
    ),
]
