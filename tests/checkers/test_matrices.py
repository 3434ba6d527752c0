"""conv1d_matrix: what the exercise promises, and what the verdicts say. The contract
test runs the planted mistakes of ``planted/matrices.py``."""

from __future__ import annotations

import numpy as np
import torch

from labs import check

from .planted.matrices import MISTAKES, conv1d_matrix_loops
from .verdicts import assert_passed, flat


def test_passing_message():
    result = check.conv1d_matrix(conv1d_matrix_loops)
    assert_passed(result, cases=20)
    assert result.message == "✔ conv1d_matrix: passed all 20 cases."


def test_the_matrix_computes_the_convolution():
    """What the exercise promises: M @ x.reshape(-1) is conv1d's output, flattened."""
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 9))
    m = conv1d_matrix_loops(w, 9)
    expected = torch.nn.functional.conv1d(
        torch.from_numpy(x[None]), torch.from_numpy(w)
    )
    np.testing.assert_allclose(m @ x.reshape(-1), expected.numpy().reshape(-1))


def test_failure_names_the_tiny_case_value_by_value():
    result = check.conv1d_matrix(MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 20." and result.cases == 1
    text = flat(result)
    assert "case: w=[[[1, 2, -1]]], length=4" in text
    assert "expected: [[1, 2, -1, 0], [0, 1, 2, -1]]" in text
    assert "got: [[-1, 2, 1, 0], [0, -1, 2, 1]]" in text
    np.testing.assert_array_equal(result.expected, [[1, 2, -1, 0], [0, 1, 2, -1]])


def test_wrong_shape_is_reported_before_values():
    result = check.conv1d_matrix(MISTAKES["transposed"][0])
    assert "the matrix has the wrong shape" in flat(result)
    assert "expected: shape (2, 4)" in flat(result) and "got: shape (4, 2)" in flat(
        result
    )


def test_channel_mistakes_fail_on_a_case_with_channels():
    result = check.conv1d_matrix(MISTAKES["rows-by-position"][0])
    assert result.summary == "failed on case 3 of 20."
    assert result.case["w"].shape == (2, 3, 1) and result.case["length"] == 3
    assert "M[" in flat(result) and "(the worst element)" in flat(result)
