"""stack_output_size and same_padding: the expected answers are PyTorch's, and what
the verdicts say. The contract test runs the planted mistakes of
``planted/arithmetic.py``."""

from __future__ import annotations

import warnings

import torch

from labs import check
from labs.check import arithmetic

from .planted.arithmetic import (
    SAME_PADDING_MISTAKES,
    _ceil,
    _total_padding,
    _unpacks_a_pair,
    same_padding,
    stack_loop,
)
from .verdicts import assert_passed, flat


def test_stack_cases_agree_with_torch_layers():
    """The expected sizes are those of nn.Conv1d layers run one after the other."""
    cases = arithmetic._stack_cases()
    assert len(cases) == 40
    for i, layers, size in cases:
        assert all(len(layer) == 4 for layer in layers)
        modules = [
            torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
            for k, s, p, d in layers
        ]
        with torch.no_grad():
            out = torch.nn.Sequential(*modules)(torch.zeros(1, 1, i))
        assert out.shape[-1] == size == stack_loop(i, layers)
        assert size >= 1


def test_stack_hand_picked_cases_come_first():
    cases = arithmetic._stack_cases()
    assert [c[2] for c in cases[:8]] == [32, 10, 4, 8, 1, 3, 15, 4]
    assert cases[1][1] == ()


def test_stack_failure_names_the_case():
    result = check.stack_output_size(_total_padding)
    assert result.case == {"i": 32, "layers": [(3, 1, 1, 1)]}
    assert (result.expected, result.got) == (32, 31)
    text = flat(result)
    assert "case 1 of 40" in text and "i=32, layers=[(3, 1, 1, 1)]" in text
    assert "expected: 32" in text and "got: 31" in text


def test_stack_ceil_is_caught_where_the_floor_matters():
    result = check.stack_output_size(_ceil)
    assert result.case["i"] == 15 and (result.expected, result.got) == (1, 2)


def test_same_padding_passes_with_its_message():
    result = check.same_padding(same_padding)
    assert_passed(result)
    assert result.message == "✔ same_padding: passed all 28 cases."


def test_same_padding_cases_agree_with_torch_padding_same():
    """Where p exists, padding=p and padding='same' give the same values in torch;
    where it does not, 'same' pads one more zero after than before."""
    generator = torch.Generator().manual_seed(0)
    cases = arithmetic._same_padding_cases()
    assert len(cases) == 28
    assert {(k, d) for k, d, _ in cases} == {
        (k, d) for k in range(1, 8) for d in range(1, 5)
    }
    for k, d, expected in cases:
        x = torch.randn(1, 1, 11, dtype=torch.float64, generator=generator)
        w = torch.randn(1, 1, k, dtype=torch.float64, generator=generator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: an even span needs a padded copy
            same = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
        total = d * (k - 1)
        if total % 2:
            assert isinstance(expected, arithmetic._NoPadding)
            padded = torch.nn.functional.pad(x, (total // 2, total - total // 2))
            torch.testing.assert_close(
                same, torch.nn.functional.conv1d(padded, w, dilation=d)
            )
        else:
            assert expected == total // 2
            explicit = torch.nn.functional.conv1d(x, w, padding=expected, dilation=d)
            torch.testing.assert_close(same, explicit)


def test_same_padding_failure_names_the_case():
    result = check.same_padding(SAME_PADDING_MISTAKES["k-floor-half"][0])
    assert result.case == {"k": 4, "d": 1}
    assert "case 4 of 28" in flat(result) and "k=4, d=1" in flat(result)


def test_an_accidental_value_error_is_not_a_refusal():
    """The issue: any ValueError counted as the refusal the exercise asks for, even an
    unpacking error. Only a raise of the learner's own counts."""
    result = check.same_padding(_unpacks_a_pair)
    assert result.case == {"k": 4, "d": 1}  # where the refusal was due
    assert "in _unpacks_a_pair, line" in flat(result)
    assert "does not come from a raise ValueError(...) of yours" in flat(result)


# --- size_predictions and layer_design --------------------------------------------------


def test_predicted_numbers_are_pytorchs():
    x = torch.zeros(1, 1, arithmetic.PREDICTION_LENGTH)
    tf = torch.nn.functional
    assert arithmetic._predicted() == (
        tf.conv1d(x, torch.zeros(1, 1, 5), stride=3, padding=2).shape[-1],
        tf.max_pool1d(x, 4).shape[-1],
        tf.conv1d(x, torch.zeros(1, 1, 4), dilation=2).shape[-1],
        5,
    )
    # the unread cells, listed: one between each pair of windows, and the last one
    x = torch.ones(1, 1, 20, requires_grad=True)
    tf.conv1d(x, torch.ones(1, 1, 3), stride=4).sum().backward()
    assert (x.grad[0, 0] == 0).nonzero().flatten().tolist() == [3, 7, 11, 15, 19]


def test_wrong_prediction_does_not_show_the_right_number():
    result = check.size_predictions((7, 5, 13, 5))
    text = flat(result)
    assert "dilated convolution" in text and "13" in text and "14" not in text
    assert check.size_predictions((7, 5, 14, 5)).message == (
        "✔ size_predictions: your prediction is right."
    )


def test_prediction_stub_is_not_attempted():
    result = check.size_predictions(None)
    assert result.status == "not attempted"
    assert "in place of the None" in flat(result)


def test_every_layer_that_meets_the_requirements_passes():
    """k = 2p + 1 with p >= 3 and stride 4 are the only designs, as the solution says."""
    passing = {
        (k, s, p)
        for k in range(1, 14)
        for s in range(1, 6)
        for p in range(0, 7)
        if check.layer_design((k, s, p)).passed
    }
    assert passing == {(2 * p + 1, 4, p) for p in range(3, 7)}


def test_layer_verdict_lists_every_failed_requirement():
    text = flat(check.layer_design((3, 4, 0)))
    assert "97 gives 24" in text and "never read" in text
    assert "four sizes" in text and "at least as long as the stride" in text
