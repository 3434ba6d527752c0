"""Chapters 1 and 2's prediction and find-the-bug checkers: the expected answers agree
with the formulas the chapters teach and with PyTorch computed another way, and the
chapters' buggy functions get the hints the exercises promise. The contract test runs
the planted mistakes of ``planted/layers.py`` and ``planted/conv.py``."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from labs import check
from labs.check import layers

from .planted.conv import conv1d_vectorized
from .planted.layers import RIGHT_CONV_POOL, RIGHT_GROUPED, pool_loops
from .verdicts import flat


def test_grouped_prediction_agrees_with_the_formulas():
    c_in, c_out, k, s, p, d, g = 6, 9, 3, 2, 3, 2, 3
    length = layers.GROUPED_INPUT[-1]
    weight = (c_out, c_in // g, k)
    count = c_out * (c_in // g) * k + c_out
    l_out = (length + 2 * p - d * (k - 1) - 1) // s + 1
    assert layers._grouped_expected() == (weight, count, (3, c_out, l_out))
    assert layers._grouped_expected() == RIGHT_GROUPED


def test_grouped_prediction_agrees_with_a_real_layer():
    torch.manual_seed(0)
    layer = nn.Conv1d(**layers.GROUPED_LAYER)
    out = layer(torch.randn(layers.GROUPED_INPUT))
    count = sum(q.numel() for q in layer.parameters())
    assert (tuple(layer.weight.shape), count, tuple(out.shape)) == RIGHT_GROUPED


def test_conv_pool_field_agrees_with_gradients():
    """The recurrence's field is the extent of the input gradient of one output."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dtype=torch.float64)
    x = torch.randn(layers.CONV_POOL_INPUT, dtype=torch.float64, requires_grad=True)
    after_conv = conv(x)
    out = nn.AvgPool2d(3)(after_conv)  # average: every pixel of the field counts
    assert (tuple(after_conv.shape), tuple(out.shape)) == RIGHT_CONV_POOL[:2]
    out[0, 0, 3, 4].backward()
    rows, cols = np.nonzero(x.grad[0].abs().sum(0).numpy())
    extent = (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
    assert extent == RIGHT_CONV_POOL[2] == layers._conv_pool_expected()[2]


def test_a_prediction_does_not_show_the_right_answer():
    text = flat(check.grouped_conv1d_prediction(((9, 2, 3), 63, (3, 9, 24))))
    assert "(3, 9, 24)" in text and "(3, 9, 27)" not in text
    assert "2p in all" in text


def test_the_predictions_accept_torch_sizes():
    sizes = tuple(torch.Size(part) for part in RIGHT_CONV_POOL)
    assert check.conv_pool_prediction(sizes).passed


def chapter_1_buggy_conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    c_out, _, k = w.shape
    span = dilation * (k - 1) + 1
    l_out = (x.shape[2] - span + 1) // stride
    y = np.zeros((x.shape[0], c_out, l_out))
    for j in range(k):
        start = j * dilation
        taps = x[:, :, start : start + stride * l_out : stride]
        y += np.einsum("nct,oc->not", taps, w[:, :, j])
    if b is not None:
        y += b[None, :, None]
    return y


def test_chapter_1_bug_is_named():
    result = check.conv1d(chapter_1_buggy_conv1d)
    assert not result.passed
    assert "the count for stride 1 divided by the stride" in flat(result)


def test_chapter_1_bug_is_invisible_with_stride_1():
    assert check.conv1d(chapter_1_buggy_conv1d, stride=False).passed
    assert check.conv1d(conv1d_vectorized).passed


def chapter_2_buggy_max_pool2d(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, stride, swap_kernel=True)


def test_chapter_2_bug_is_named_on_the_first_non_square_kernel():
    result = check.max_pool2d(chapter_2_buggy_max_pool2d)
    text = flat(result)
    assert "case 2 of 30" in text and "kW rows high" in text


def test_the_pooling_cases_begin_with_the_hand_picked_ones():
    cases = list(layers._MAX_POOL.cases())
    assert len(cases) == 30
    for case, (n, c, h, w, kernel, stride) in zip(cases, layers._POOL_HAND_PICKED):
        assert case["x"].shape == (n, c, h, w)
        assert case["kernel_size"] == kernel and case.get("stride") == stride
    kernels = [layers._pair(case["kernel_size"]) for case in cases]
    assert sum(kh != kw for kh, kw in kernels) >= 8  # the bug shows often
    assert sum(case.get("stride") is None for case in cases) >= 8


def test_shape_design_answers_agree_with_real_layers():
    torch.manual_seed(0)
    for design in [(2, 4, 2, 1), (2, 8, 1, 1)]:
        padding, pool, stride, last = design
        net = nn.Sequential(
            nn.Conv2d(3, 16, 5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(pool, stride=pool),
            nn.Conv2d(16, 32, 3, stride=stride, padding=last),
        )
        x = torch.randn(layers.SHAPE_DESIGN["input"])
        assert tuple(net[0](x).shape[2:]) == layers.SHAPE_DESIGN["after_first"]
        assert tuple(net(x).shape) == layers.SHAPE_DESIGN["output"]
        assert check.shape_design(design).passed


def test_every_design_in_range_is_judged_as_pytorch_would():
    """Exhaustively: the checker passes exactly the designs PyTorch's shapes allow."""
    passed = set()
    for design in itertools.product(range(4), range(1, 10), range(1, 4), range(3)):
        if check.shape_design(design).passed:
            passed.add(design)
    assert passed == {(2, 4, 2, 1), (2, 6, 1, 0), (2, 8, 1, 1)}


def test_a_failing_design_lists_every_failed_constraint():
    text = flat(check.shape_design((0, 2, 4, 2)))
    assert "60×44" in text and "stride 4 and padding 2" in text
