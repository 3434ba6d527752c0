"""predicted_grad and vjp: what their verdicts say, and broken exercises reported as
such. The contract test runs the planted mistakes of ``planted/derivatives.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from labs import check

from .planted.derivatives import (
    MIX,
    fan_out,
    square_then_mix,
    two_calls,
    vjp_square_then_mix,
)
from .verdicts import assert_passed, assert_rejected, flat


def test_predicted_grad_passing_message():
    result = check.predicted_grad(lambda: [5.0, 7.0, 9.0], fan_out)
    assert_passed(result)
    assert result.message == "✔ predicted x.grad of fan_out: your prediction is right."


def test_predicted_grad_left_as_ellipsis_is_not_attempted():
    assert check.predicted_grad(lambda: ..., fan_out).status == "not attempted"
    assert check.predicted_grad(..., fan_out).status == "not attempted"


def test_predicted_grad_runs_the_program_afresh():
    """Checking twice gives the same verdict: each run makes a new x."""
    assert check.predicted_grad(lambda: [4.0, -4.0, 8.0], two_calls)
    assert check.predicted_grad(lambda: [4.0, -4.0, 8.0], two_calls)


def test_predicted_grad_does_not_print_the_answer():
    result = check.predicted_grad(lambda: [5.0, 7.0, 8.0], fan_out)
    assert_rejected(
        result,
        None,
        "wrong at 1 of 3",
        "x.grad[2]",
        "[5, 7, 8]",
        headline="wrong prediction",
    )
    assert "9" not in result.message
    np.testing.assert_array_equal(result.expected, [5.0, 7.0, 9.0])


def test_predicted_grad_reports_a_broken_program():
    def no_backward():
        x = torch.ones(2, requires_grad=True)
        _ = (x * 2).sum()
        return x

    def returns_a_number():
        return 3.0

    def raises():
        raise ValueError("oops")

    exercise = "problem with the exercise"
    assert_rejected(check.predicted_grad([0.0, 0.0], no_backward), exercise, "is None")
    assert_rejected(check.predicted_grad([0.0], returns_a_number), exercise)
    assert_rejected(check.predicted_grad([0.0], raises), exercise, "oops")
    assert_rejected(check.predicted_grad([0.0], fan_out()), "without calling it")


def test_predicted_grad_hint_survives_grad_set_to_none():
    def set_to_none():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x**2).sum().backward()
        x.grad = None
        (x * 5).sum().backward()
        return x

    assert_passed(check.predicted_grad([5.0, 5.0], set_to_none))
    assert_rejected(check.predicted_grad([7.0, 9.0], set_to_none), "reset", headline="")


def test_predicted_grad_leaves_grad_mode_alone():
    with torch.no_grad():
        assert check.predicted_grad([5.0, 7.0, 9.0], fan_out)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_vjp_verdict_names_f_and_counts_cases():
    result = check.vjp(square_then_mix, vjp_square_then_mix)
    assert result.message == "✔ vjp of square_then_mix: passed all 10 cases."


def test_vjp_expected_answers_are_v_times_the_jacobian():
    """The checker's v and expected answer agree with jacobian() on the failing case."""
    result = check.vjp(square_then_mix, lambda x, v: torch.zeros(4))
    x, v = result.case["x"], result.case["v"]
    jacobian = torch.autograd.functional.jacobian(square_then_mix, x)
    np.testing.assert_allclose(result.expected, (v @ jacobian).numpy(), rtol=1e-12)


def test_vjp_modifying_the_input_is_reported():
    def in_place(x, v):
        x.mul_(2)
        return x * (v @ MIX)

    assert_rejected(
        check.vjp(square_then_mix, in_place), "compute new tensors", "in place"
    )


def test_vjp_reports_a_broken_f():
    exercise = "problem with the exercise"
    assert_rejected(check.vjp(lambda x: x.numpy() ** 2, vjp_square_then_mix), exercise)
    assert_rejected(check.vjp(lambda x: torch.ones(3), vjp_square_then_mix), exercise)
    ones = torch.ones(4, dtype=torch.float64)
    assert_rejected(
        check.vjp(square_then_mix, vjp_square_then_mix(ones, ones)),
        "without calling it",
    )


def test_vjp_a_constant_made_in_inference_mode_is_explained():
    """A tensor the exercise's f uses, created inside torch.inference_mode(), can never
    be differentiated: the verdict says so instead of blaming the learner."""
    with torch.inference_mode():
        frozen = MIX.clone()
    result = check.vjp(lambda x: frozen @ x**2, vjp_square_then_mix)
    assert_rejected(result, "created inside torch.inference_mode()", "Inference tensor")


def test_vjp_rejects_bad_arguments():
    with pytest.raises(ValueError):
        check.vjp(square_then_mix, vjp_square_then_mix, low=1.0, high=0.0)
    with pytest.raises(ValueError):
        check.vjp(square_then_mix, vjp_square_then_mix, shape=(-1,))


def test_whole_jacobian_is_named():
    result = check.vjp(square_then_mix, lambda x, v: MIX * 2 * x)
    assert "whole Jacobian (4×4)" in result.hint
    assert "J v" not in flat(result)
