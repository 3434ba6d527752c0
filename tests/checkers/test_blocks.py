"""Chapter 10's checkers: the expected answers agree with PyTorch computed another way
(and with the formulas the chapter teaches), the hand-picked cases come first, and the
verdicts say what the exercises promise. The contract test runs the planted mistakes
of ``planted/blocks.py``."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from labs import check, shapes
from labs.check import blocks

from .planted.blocks import (
    RIGHT_COSTS,
    _group_start_g,
    grouped_loops,
    unfold_solution,
)
from .verdicts import flat


def test_costs_agree_with_the_formulas():
    c_in, c_out, k, hw = 32, 64, 3, 16 * 16
    standard = (c_out * c_in * k * k + c_out, c_out * c_in * k * k * hw)
    separable = (
        c_in * k * k + c_in + c_out * c_in + c_out,
        (c_in * k * k + c_out * c_in) * hw,
    )
    assert blocks._costs() == standard + separable == RIGHT_COSTS
    ratio = separable[1] / standard[1]
    assert ratio == 1 / c_out + 1 / k**2


def test_costs_agree_with_multiply_adds_counted_by_loops():
    """The flop counter's count, halved, is the number of products summed."""
    # standard layer: 64 channels × 16 × 16 outputs, each a sum of 32·3·3 products
    layer_macs = sum(32 * 3 * 3 for _ in range(64 * 16 * 16))
    assert layer_macs == RIGHT_COSTS[1]


def test_wrong_prediction_does_not_show_the_right_number():
    result = check.separable_costs((18_432,) + RIGHT_COSTS[1:])
    assert "18496" not in flat(result) and "18432" in flat(result)
    assert check.separable_costs(RIGHT_COSTS).message == (
        "✔ separable_costs: your prediction is right."
    )


def test_grouped_cases_agree_with_loops_and_come_hand_picked_first():
    cases = blocks._GROUPED.cases()
    assert len(cases) == 20
    groups = [cases[i]["groups"] for i in range(20)]
    assert groups[:8] == [1, 2, 3, 6, 4, 2, 3, 2]
    assert {1, 2, 3, 4} <= set(groups)
    for i in range(20):
        case = cases[i]
        expected = grouped_loops(case["x"], case["w"], case["b"], case["groups"])
        np.testing.assert_allclose(case.expected, expected, rtol=1e-12, atol=1e-12)


def test_the_chapter_bug_is_right_with_one_group_only():
    case = blocks._GROUPED.cases()[0]
    assert case["groups"] == 1
    bug = _group_start_g(case["x"], case["w"], case["b"], 1)
    np.testing.assert_allclose(bug, case.expected, rtol=1e-12)
    result = check.grouped_conv2d(_group_start_g)
    assert "case 2 of 20" in flat(result)
    assert "not at g" in flat(result)


def test_unfold_cases_agree_with_labs():
    import labs
    import labs.functional as F

    cases = blocks._UNFOLD.cases()
    assert {cases[i]["stride"] for i in range(20)} == {1, 2}
    assert {cases[i]["padding"] for i in range(20)} == {0, 1}
    for i in range(20):
        case = cases[i]
        b = None if case["b"] is None else labs.tensor(case["b"])
        ours = F.conv2d(
            labs.tensor(case["x"]),
            labs.tensor(case["w"]),
            b,
            case["stride"],
            case["padding"],
        )
        np.testing.assert_allclose(ours.numpy(), case.expected, rtol=1e-10, atol=1e-12)
    assert check.conv2d_via_unfold(unfold_solution).message == (
        "✔ conv2d_via_unfold: passed all 20 cases."
    )


def _measured_field(layers, size=64):
    """The receptive field along one axis, from the gradient of a 1-channel
    stack with weights of ones."""
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, p, d in layers:
        y = TF.conv2d(
            y,
            torch.ones(1, 1, k, k, dtype=torch.float64),
            stride=s,
            padding=p,
            dilation=d,
        )
    middle = y.shape[-1] // 2
    y[0, 0, middle, middle].backward()
    rows = torch.nonzero(x.grad[0, 0].sum(dim=1)).flatten()
    return int(rows[-1] - rows[0]) + 1


def test_design_field_is_the_measured_one():
    for layers in (
        [(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 4, 4)],
        [(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 1, 1)],
        [(3, 2, 1, 1), (3, 2, 3, 3), (3, 1, 3, 3)],
        [(5, 2, 2, 1), (3, 2, 1, 1), (3, 1, 2, 2)],
    ):
        report = blocks._design_report(layers)
        assert report["field"] == _measured_field(layers)
        assert (
            report["field"]
            == shapes.receptive_field([(k, s, d) for k, s, p, d in layers]).size
        )


def test_design_verdict_lists_every_failed_constraint():
    result = check.stack_design([(3, 2, 0, 1), (3, 2, 0, 1), (7, 1, 0, 1)])
    text = flat(result)
    assert "the output is 9×9, not 16×16" in text or "not 16×16" in text
    assert "receptive field is" in text and "parameters, more than 15000" in text
    assert check.stack_design([(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 4, 4)]).message == (
        "✔ stack_design: your design meets every constraint."
    )
