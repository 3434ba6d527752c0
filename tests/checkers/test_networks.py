"""conv2d_parameters and network_output_shape: the expected answers are PyTorch's, and
what the verdicts say. The contract test runs the planted mistakes of
``planted/networks.py``."""

from __future__ import annotations

import torch
from torch import nn

from labs import check
from labs.check import networks

from .planted.networks import PARAMETER_MISTAKES, conv2d_parameters, make_output_shape
from .verdicts import assert_passed, flat


def test_conv2d_parameters_passing_message():
    result = check.conv2d_parameters(conv2d_parameters)
    assert_passed(result, cases=147)
    assert result.message == "✔ conv2d_parameters: passed all 147 cases."


def test_conv2d_parameters_failure_names_the_case():
    result = check.conv2d_parameters(PARAMETER_MISTAKES["bias-left-out"][0])
    assert result.case == {"in_channels": 1, "out_channels": 1, "kernel_size": 1}
    assert (result.expected, result.got) == (2, 1)
    assert "in_channels=1, out_channels=1, kernel_size=1" in flat(result)


def test_conv2d_parameters_expected_counts_are_pytorchs():
    grid = dict(networks._parameter_grid())
    assert len(grid) == 147
    assert grid[(3, 16, 3, None)] == 448
    assert grid[(16, 8, 3, True)] == 1160
    assert grid[(20, 16, (3, 5), False)] == 16 * 20 * 3 * 5
    with torch.random.fork_rng(devices=[]):
        layer = nn.Conv2d(20, 16, (3, 5))
    assert grid[(20, 16, (3, 5), None)] == sum(p.numel() for p in layer.parameters())


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
    assert "expected (4, 16, 16, 16), got (4, 16, 32, 32)" in " ".join(
        result.hint.split()
    )


def test_network_output_shape_expected_shapes_are_pytorchs():
    cases = networks._shape_cases()
    shapes = {case[0]: case[2] for case in cases[:16]}
    assert shapes[(1, 20, 64, 128)] in {(1, 16, 62, 124), (1, 16, 64, 128)}
    small_cnn = cases[14]
    assert small_cnn[0] == (4, 3, 32, 32) and small_cnn[2] == (4, 2)
    assert small_cnn[3][:3] == ((4, 16, 32, 32), (4, 16, 32, 32), (4, 16, 16, 16))
    for _shape, layers, expected, prefixes in cases:
        assert len(prefixes) == len(layers) and prefixes[-1] == expected


def test_learner_cannot_spoil_the_cached_layers():
    def meddler(input_shape, layers):
        for layer in layers:
            if isinstance(layer, nn.Conv2d):
                layer.padding = (7, 7)
        return None

    check.network_output_shape(meddler)
    assert_passed(check.network_output_shape(make_output_shape()))
