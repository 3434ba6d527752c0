"""The chapter 7 checkers: what their verdicts say. The contract test runs the planted
mistakes of ``planted/engine.py``."""

from __future__ import annotations

import numpy as np
import pytest

from labs import check
from labs.check import engine

from .planted.engine import (
    CORRECT,
    COUNTS,
    MATMUL_MISTAKES,
    MUL_MISTAKES,
    RELU_MISTAKES,
    SUM_MISTAKES,
    _recursive,
    _recursive_with_a_raised_limit,
    conv1d_backward,
    topological_sort,
)
from .verdicts import assert_passed, flat, stub


@pytest.mark.parametrize("checker", list(CORRECT))
def test_passing_message_counts_every_case(checker):
    count = COUNTS[checker]
    result = getattr(check, checker)(CORRECT[checker][0])
    assert_passed(result, cases=count)
    assert result.message == f"✔ {checker}: passed all {count} cases."


def test_conv1d_backward_without_stride():
    def no_stride(x, w, grad_output):
        return conv1d_backward(x, w, grad_output)

    assert_passed(check.conv1d_backward(no_stride, stride=False))


def test_mul_failure_shows_the_tiny_broadcast_case_value_by_value():
    result = check.mul_backward(MUL_MISTAKES["no-sum-over-broadcast-axes"][0])
    assert result.summary == "failed on case 2 of 16."
    text = flat(result)
    assert "case: a=[[1, 2, 3], [4, 5, 6]], b=[1, -1, 2]" in text
    assert "the gradient for b has the wrong shape" in text
    assert "expected: shape (3,)" in text and "got: shape (2, 3)" in text
    assert "over axis 0 of the output" in text


def test_swapped_gradients_are_named_as_such():
    """Swapped, grad_a holds grad_output · a: the "gradient for b" mistake matches the
    first case too, but only "wrong order" matches where the shapes differ."""
    result = check.mul_backward(MUL_MISTAKES["swapped-order"][0])
    assert result.mistake == "swapped-order"


def test_matmul_first_case_is_readable():
    result = check.matmul_backward(MATMUL_MISTAKES["b-not-transposed"][0])
    assert result.summary == "failed on case 1 of 14."
    assert "case: a=[[1, 2], [3, -1]], b=[[2, 0], [1, 3]]" in flat(result)
    assert "expected: [[2, -2], [4, 3.5]]" in flat(result)


def test_relu_first_case_shows_the_kink():
    result = check.relu_backward(RELU_MISTAKES["gradient-one-at-zero"][0])
    assert result.summary == "failed on case 1 of 12."
    assert "expected: [0, 0, 0, 4, -5]" in flat(result)
    assert "got: [0, -0, 3, 4, -5]" in flat(result)


def test_sum_square_trap_is_caught_by_values_not_by_shape():
    result = check.sum_backward(SUM_MISTAKES["square-trap"][0])
    assert result.case["x"].shape == (4, 4) and result.case["dim"] == -1
    assert "is wrong at" in flat(result)


@pytest.mark.parametrize("solution", [_recursive, _recursive_with_a_raised_limit])
def test_recursive_sort_is_refused_whatever_the_limit(solution):
    result = check.topological_sort(solution)
    assert result.summary == "failed on case 2 of 12."  # the first graph with depth
    assert "calls itself (visit → visit → …)" in flat(result)
    assert "where: in visit" in flat(result)
    assert "without recursion" in result.hint


def test_sort_checker_names_the_offending_pair():
    result = check.topological_sort(lambda root: topological_sort(root)[::-1])
    assert "comes before its parent" in flat(result)
    assert "root=Node('z')" in flat(result)


def test_cases_are_built_lazily_and_counted_exactly():
    """A stub stops at case 1, so the other cases are never built; counts are exact."""
    builders = [
        engine._mul_cases,
        engine._matmul_cases,
        engine._sum_cases,
        engine._relu_cases,
        lambda: engine._conv1d_cases(True),
        lambda: engine._conv1d_cases(False),
        lambda: engine._SORT.cases(),
    ]
    for build in builders:
        cases = build()
        assert len(list(cases)) == len(cases) == cases.built
    cases = engine._conv1d_cases(True)
    exercise = engine._CONV1D
    exercise._cases = lambda: cases
    try:
        assert check.conv1d_backward(stub).status == "not attempted"
    finally:
        exercise._cases = lambda: engine._conv1d_cases(True)
    assert cases.built == 1


def test_passing_a_value_instead_of_the_function():
    result = check.mul_backward(np.ones(3))
    assert result.status == "failed" and "without calling it" in result.hint
