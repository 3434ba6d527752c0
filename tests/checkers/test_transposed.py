"""conv2d_matrix and restoring_output_padding: what the exercise promises, and what the
verdicts say. The contract test runs the planted mistakes of ``planted/transposed.py``."""

from __future__ import annotations

import numpy as np
import torch

from labs import check

from .planted.transposed import (
    MATRIX_MISTAKES,
    PADDING_MISTAKES,
    matrix_loops,
    restoring_formula,
)
from .verdicts import assert_passed, flat


def test_matrix_passing_message():
    result = check.conv2d_matrix(matrix_loops)
    assert_passed(result, cases=20)
    assert result.message == "✔ conv2d_matrix: passed all 20 cases."


def test_the_matrix_computes_the_convolution():
    """What the exercise promises: M @ x.ravel() is conv2d's output, flattened."""
    rng = np.random.default_rng(0)
    kernel, x = rng.standard_normal((3, 2)), rng.standard_normal((7, 6))
    m = matrix_loops(kernel, x.shape, stride=2)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None], stride=2
    )
    np.testing.assert_allclose(m @ x.ravel(), expected.numpy().ravel())


def test_matrix_failure_shows_the_tiny_case_value_by_value():
    result = check.conv2d_matrix(MATRIX_MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 20." and result.cases == 1
    text = flat(result)
    assert "case: kernel=[[1, 2], [3, 4]], input_shape=(2, 2), stride=1" in text
    assert "expected: [[1, 2, 3, 4]]" in text and "got: [[4, 3, 2, 1]]" in text


def test_matrix_wrong_shape_is_reported_before_values():
    result = check.conv2d_matrix(MATRIX_MISTAKES["transposed"][0])
    text = flat(result)
    assert "the matrix has the wrong shape" in text
    assert "expected: shape (1, 4)" in text and "got: shape (4, 1)" in text


def test_matrix_stride_mistake_fails_on_the_first_strided_case():
    result = check.conv2d_matrix(MATRIX_MISTAKES["ignores-stride"][0])
    assert result.case["stride"] == 2 and result.case["input_shape"] == (5, 5)


def test_padding_passing_message():
    result = check.restoring_output_padding(restoring_formula)
    assert_passed(result)
    assert result.cases == result.total > 1000
    assert result.message == (
        f"✔ restoring_output_padding: passed all {result.cases} cases."
    )


def test_padding_cases_are_all_the_configurations_torch_accepts():
    result = check.restoring_output_padding(restoring_formula)
    valid = [
        (i, k, s, p, d)
        for d in range(1, 4)
        for s in range(1, 5)
        for p in range(4)
        for k in range(1, 5)
        for i in range(1, 11)
        if i + 2 * p >= d * (k - 1) + 1
    ]
    assert result.total == len(valid)


def test_padding_failure_names_the_case():
    result = check.restoring_output_padding(PADDING_MISTAKES["always-zero"][0])
    assert result.case == {"i": 2, "k": 1, "s": 2, "p": 0, "d": 1}
    assert "expected: 1" in flat(result) and "got: 0" in flat(result)


def test_s_minus_1_is_named_only_for_a_function_that_always_gives_it():
    """The issue: four different slips all got "s - 1 is the largest", the one
    mistake that happened to match the failing case."""
    assert (
        check.restoring_output_padding(PADDING_MISTAKES["always-s-minus-1"][0]).mistake
        == "always_s_minus_1"
    )
    for name in (
        "two-slips-at-once",
        "zero-when-strided-by-2",
        "one-sided-padding",
        "forgot-minus-one",
        "ignored-dilation",
        "no-mod",
    ):
        result = check.restoring_output_padding(PADDING_MISTAKES[name][0])
        assert "s - 1 is the largest" not in (result.hint or ""), (name, result.message)


# --- upsampling_design ------------------------------------------------------------------


def test_upsampling_designs_that_pass_are_the_ones_the_solution_names():
    """Stride 4, a kernel that is a multiple of 4 and at least 8, and
    k + output_padding - 2p = 4."""
    from labs.check.transposed import upsampling_design

    passing = {
        (k, s, p, a)
        for k in range(1, 13)
        for s in range(1, 6)
        for p in range(0, 6)
        for a in range(0, 4)
        if upsampling_design((k, s, p, a)).passed
    }
    assert passing == {
        (k, 4, p, a)
        for k in (8, 12)
        for p in range(0, 6)
        for a in range(0, 4)
        if k + a - 2 * p == 4
    }


def test_upsampling_verdict_lists_every_failed_requirement():
    text = flat(check.upsampling_design((6, 4, 1, 0)))
    assert "uneven" in text and "6 taps" in text
    assert "multiple of the stride" in text and "at least 8" in text
    text = flat(check.upsampling_design((8, 4, 0, 0)))
    assert "1 gives 8, not 4" in text and "and 13 more" in text


# --- gradient_prediction ---------------------------------------------------------------


def test_predicted_gradient_is_the_transposed_convolution_of_ones():
    from labs.check.transposed import _expected_gradient

    ones = torch.ones(1, 1, 3, dtype=torch.float64)
    back = torch.nn.functional.conv_transpose1d(
        ones, torch.ones(1, 1, 4, dtype=torch.float64), stride=3, output_padding=1
    )
    assert _expected_gradient() == [int(v) for v in back[0, 0]]
    assert _expected_gradient() == [1, 1, 1, 2, 1, 1, 2, 1, 1, 1, 0]


def test_wrong_gradient_prediction_hides_the_right_values():
    text = flat(check.gradient_prediction([1] * 11))
    assert "3 of the 11 values are wrong" in text
    assert "[1, 1, 1, 2" not in text
