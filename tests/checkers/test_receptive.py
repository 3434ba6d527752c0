"""receptive_field: the expected answers agree with PyTorch's gradients, measured here
another way, and with labs.shapes. The contract test runs the planted mistakes of
``planted/receptive.py``."""

from __future__ import annotations

import math

import torch

from labs import check, shapes
from labs.check import receptive

from .planted.receptive import _no_jump, field_forward
from .verdicts import flat


def test_passing_message():
    assert check.receptive_field(field_forward).message == (
        "✔ receptive_field: passed all 30 cases."
    )


def test_hand_picked_cases_come_first():
    cases = receptive._cases()
    assert len(cases) == 30
    assert [size for _, size in cases[:12]] == [
        3,
        7,
        16,
        31,
        13,
        15,
        10,
        1,
        5,
        3,
        1,
        30,
    ]
    assert cases[10][0] == ()


def _dependence(layers, length=None, seed=0):
    """Which inputs one middle output of an nn.Conv1d stack with random weights uses."""
    generator = torch.Generator().manual_seed(seed)
    modules = []
    for k, s, d in layers:
        conv = torch.nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False).double()
        with torch.no_grad():  # positive weights: no two paths can cancel
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=generator) + 0.5)
        modules.append(conv)
    strides = math.prod(s for _, s, _ in layers)
    length = length or 2 * field_forward(layers) + 8 * strides
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = torch.nn.Sequential(*modules)(x)
    y[0, 0, y.shape[-1] // 2].backward()
    return torch.nonzero(x.grad[0, 0]).flatten()


def test_cases_agree_with_conv1d_modules_and_labs_shapes():
    for layers, size in receptive._cases():
        reached = _dependence(layers)
        assert int(reached[-1] - reached[0]) + 1 == size
        assert shapes.receptive_field(layers).size == size


def test_random_cases_cover_strides_and_dilations():
    stacks = [layers for layers, _ in receptive._cases()[12:]]
    assert len({len(layers) for layers in stacks}) == 5  # depths 1 to 5
    layers = [layer for stack in stacks for layer in stack]
    assert {k for k, _, _ in layers} == {1, 2, 3, 4}
    assert {s for _, s, _ in layers} == {1, 2, 3}
    assert {d for _, _, d in layers} == {1, 2, 3, 4}


def test_measured_even_with_gradients_off():
    """The measurements differentiate a conv1d stack: with grad mode off in the
    notebook they once raised; now every checker switches it on for itself."""
    receptive._cases.cache_clear()
    with torch.no_grad():
        assert check.receptive_field(field_forward)


def test_failure_names_the_case():
    result = check.receptive_field(_no_jump)
    assert result.case == {"layers": [(3, 2, 1), (3, 2, 1), (3, 2, 1)]}
    assert (result.expected, result.got) == (15, 7)
    assert "layers=[(3, 2, 1), (3, 2, 1), (3, 2, 1)]" in flat(result)
    assert "expected: 15" in flat(result) and "got: 7" in flat(result)
