"""Tests of the chapter 2 checkers ``conv2d_parameters`` and ``network_output_shape``.

Each checker passes correct solutions (written here, the way a learner would), calls a
stub "not attempted", and rejects every planted wrong solution, with the hint aimed at
its mistake where the checker recognises one. Then: verdicts name the failing case,
are deterministic, leave the global random state alone, and come quickly.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from labs import check
from labs.check import Result, networks

from .verdicts import assert_rejected, flat, stub

# --- Helpers --------------------------------------------------------------------------


def assert_passed(result: Result) -> None:
    assert result.status == "passed", result.message
    assert result and result.hint is None
    assert result.cases == result.total > 0


def test_checkers_are_registered():
    assert check.conv2d_parameters is networks.conv2d_parameters
    assert check.network_output_shape is networks.network_output_shape
    assert {"conv2d_parameters", "network_output_shape"} <= set(check.__all__)


# --- conv2d_parameters ----------------------------------------------------------------


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


@pytest.mark.parametrize("solution", [conv2d_parameters, conv2d_parameters_numpy])
def test_conv2d_parameters_passes_correct_solutions(solution):
    result = check.conv2d_parameters(solution)
    assert_passed(result)
    assert result.cases == 147
    assert result.message == "✔ conv2d_parameters: passed all 147 cases."


def test_conv2d_parameters_stub_is_not_attempted():
    result = check.conv2d_parameters(stub)
    assert result.status == "not attempted" and not result
    assert "raise NotImplementedError" in flat(result)


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
        lambda c_in, c_out, k, bias=False: weights(c_in, c_out, k)
        + (c_out if bias else 0),
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
        lambda c_in, c_out, k, bias=True: weights(c_in, c_out, k)
        + (c_out * c_in if bias else 0),
        "(output, input) channel pair",
    ),
    "bias-per-input-channel": (
        lambda c_in, c_out, k, bias=True: weights(c_in, c_out, k)
        + (c_in if bias else 0),
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
        lambda c_in, c_out, k, bias=True: c_out * c_in * kernel_pair(k)[0] ** 2
        + (c_out if bias else 0),
        "non-square",
    ),
    "kernel-sides-added": (
        lambda c_in, c_out, k, bias=True: c_out * c_in * sum(kernel_pair(k))
        + (c_out if bias else 0),
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
    "returns-none": (lambda c_in, c_out, k, bias=True: None, "forget `return`"),
    "returns-tensor": (
        lambda c_in, c_out, k, bias=True: torch.tensor(
            conv2d_parameters(c_in, c_out, k, bias)
        ),
        "plain Python int",
    ),
}


@pytest.mark.parametrize("name", PARAMETER_MISTAKES)
def test_conv2d_parameters_rejects_mistake(name):
    fn, hint = PARAMETER_MISTAKES[name]
    assert_rejected(check.conv2d_parameters(fn), hint)


def test_conv2d_parameters_failure_names_the_case():
    result = check.conv2d_parameters(PARAMETER_MISTAKES["bias-left-out"][0])
    assert result.case == {"in_channels": 1, "out_channels": 1, "kernel_size": 1}
    assert (result.expected, result.got) == (2, 1)
    assert "in_channels=1, out_channels=1, kernel_size=1" in flat(result)
    assert "expected: 2" in flat(result) and "got: 1" in flat(result)


def test_conv2d_parameters_expected_counts_are_pytorchs():
    """Spot checks of the grid against layers built on the CPU (not on meta)."""
    grid = dict(networks._parameter_grid())
    assert grid[(3, 16, 3, None)] == 448
    assert grid[(16, 8, 3, True)] == 1160
    assert grid[(20, 16, (3, 5), False)] == 16 * 20 * 3 * 5
    with torch.random.fork_rng(devices=[]):
        layer = nn.Conv2d(20, 16, (3, 5))
    assert grid[(20, 16, (3, 5), None)] == sum(p.numel() for p in layer.parameters())


# --- network_output_shape -------------------------------------------------------------


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
                    kernel, stride, padding, dilation = (
                        (v[0], v[1]) for v in values
                    )
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


@pytest.mark.parametrize("solution", [make_output_shape(), output_shape_by_running])
def test_network_output_shape_passes_correct_solutions(solution):
    result = check.network_output_shape(solution)
    assert_passed(result)
    assert result.cases == 40


def test_network_output_shape_stub_is_not_attempted():
    result = check.network_output_shape(stub)
    assert result.status == "not attempted" and not result
    assert "raise NotImplementedError" in flat(result)


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


@pytest.mark.parametrize("name", SHAPE_MISTAKES)
def test_network_output_shape_rejects_mistake(name):
    result = check.network_output_shape(make_output_shape(name))
    assert_rejected(result, SHAPE_MISTAKES[name])


OTHER_WRONG_ANSWERS = {
    "returns-none": (lambda input_shape, layers: None, "forget `return`"),
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


@pytest.mark.parametrize("name", OTHER_WRONG_ANSWERS)
def test_network_output_shape_rejects_wrong_answer(name):
    fn, hint = OTHER_WRONG_ANSWERS[name]
    assert_rejected(check.network_output_shape(fn), hint)


def test_network_output_shape_failure_names_the_case():
    result = check.network_output_shape(make_output_shape("pool-stride-one"))
    assert result.case["input_shape"] == (1, 3, 9, 9)
    assert (result.expected, result.got) == ((1, 3, 4, 4), (1, 3, 8, 8))
    text = flat(result)
    assert "input_shape=(1, 3, 9, 9), layers=[MaxPool2d(kernel_size=2" in text
    assert "expected: (1, 3, 4, 4)" in text and "got: (1, 3, 8, 8)" in text
    assert "wrong in dimensions 2, 3" in text


def test_network_output_shape_names_the_first_wrong_layer():
    result = check.network_output_shape(make_output_shape("only-first-layer"))
    assert result.case["input_shape"] == (4, 3, 32, 32)  # the chapter's small CNN
    hint = " ".join(result.hint.split())
    assert "expected (4, 16, 16, 16), got (4, 16, 32, 32)" in hint


def test_network_output_shape_expected_shapes_are_pytorchs():
    cases = networks._shape_cases()
    shapes = {case[0]: case[2] for case in cases[:16]}
    assert shapes[(1, 20, 64, 128)] in {(1, 16, 62, 124), (1, 16, 64, 128)}
    small_cnn = cases[14]
    assert small_cnn[0] == (4, 3, 32, 32) and small_cnn[2] == (4, 2)
    assert small_cnn[3][:3] == ((4, 16, 32, 32), (4, 16, 32, 32), (4, 16, 16, 16))
    for shape, layers, expected, prefixes in cases:
        assert len(prefixes) == len(layers) and prefixes[-1] == expected


def test_learner_cannot_spoil_the_cached_layers():
    def meddler(input_shape, layers):
        for layer in layers:
            if isinstance(layer, nn.Conv2d):
                layer.padding = (7, 7)
        return None

    check.network_output_shape(meddler)
    assert_passed(check.network_output_shape(make_output_shape()))


# --- Both -----------------------------------------------------------------------------


@pytest.mark.parametrize("checker", ["conv2d_parameters", "network_output_shape"])
def test_not_callable(checker):
    result = getattr(check, checker)(42)
    assert result.status == "failed"
    assert "without calling it" in result.hint


def _run_both():
    return [
        check.conv2d_parameters(conv2d_parameters),
        check.conv2d_parameters(PARAMETER_MISTAKES["bias-per-weight"][0]),
        check.network_output_shape(make_output_shape()),
        check.network_output_shape(make_output_shape("ceil")),
    ]


def test_checkers_leave_global_random_state_alone():
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    networks._shape_cases.cache_clear()  # building the layers must not consume it
    networks._parameter_grid.cache_clear()
    _run_both()
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and numpy_state[2:] == after[2:]
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert torch.equal(torch_state, torch.get_rng_state())


def test_verdicts_are_deterministic():
    first = [result.message for result in _run_both()]
    networks._shape_cases.cache_clear()
    networks._parameter_grid.cache_clear()
    second = [result.message for result in _run_both()]
    assert first == second


def test_checker_speed():
    """Each check of a correct solution takes well under half a second."""
    for name, run in [
        ("conv2d_parameters", lambda: check.conv2d_parameters(conv2d_parameters)),
        (
            "network_output_shape",
            lambda: check.network_output_shape(make_output_shape()),
        ),
    ]:
        start = time.perf_counter()
        assert run()
        elapsed = time.perf_counter() - start
        print(f"{name}: {elapsed:.3f} s")
        assert elapsed < 2.0  # generous: machines vary; typically < 0.05 s once cached
