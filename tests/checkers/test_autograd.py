"""gradient and function: what their verdicts say. The contract test runs the planted
mistakes of ``planted/autograd.py``."""

from __future__ import annotations

import torch

from labs import check

from .planted.autograd import (
    GRADIENT_MISTAKES,
    ExpCurrentStyle,
    ExpOldStyle,
    ExpOutputOnCtx,
    Mul,
    MulOneGradient,
    MulSavedInAList,
    MulSavedOnClass,
    Square,
    SquareInPlace,
    SquareRaises,
    cube_sum,
    grad_cube_sum,
    square,
)
from .verdicts import assert_not_attempted, assert_passed, assert_rejected, flat


def test_gradient_verdict_names_f():
    assert check.gradient(cube_sum, grad_cube_sum).message == (
        "✔ gradient of cube_sum: passed all 10 cases."
    )


def test_gradient_failure_names_inputs_expected_and_got():
    result = check.gradient(cube_sum, GRADIENT_MISTAKES["factor-of-2"][0])
    x = float(result.case["x"])
    assert f"x={x:.4g}" in flat(result)
    assert f"expected: {3 * x * x:.4g}" in flat(result)
    assert f"got: {6 * x * x:.4g}" in flat(result)
    assert result.mistake == "factor-2"


def test_function_passing_message_names_every_check():
    result = check.function(Square, square)
    assert_passed(result, cases=8)
    assert (
        result.message
        == "✔ Square: passed all 5 cases, both reuse checks and gradcheck."
    )
    result = check.function(Square, square, gradcheck=False)
    assert result.message == "✔ Square: passed all 5 cases and both reuse checks."


def test_function_error_messages_name_the_problem():
    result = check.function(MulOneGradient, torch.mul, shapes=((3, 4), (3, 4)))
    assert "incorrect number of gradients (expected 2, got 1)" in flat(result)
    assert "forward raised ValueError: negative input" in flat(
        check.function(SquareRaises, square)
    )
    assert "forward modified its argument x in place" in flat(
        check.function(SquareInPlace, square)
    )


def test_state_on_the_class_is_caught_when_used_twice_in_one_graph():
    """The issue's example: Mul.saved = (a, b) passes five single calls and gradcheck,
    and gives wrong gradients as soon as it is used twice in one graph."""
    result = check.function(MulSavedOnClass, torch.mul, shapes=((3, 4), (3, 4)))
    assert_rejected(
        result,
        "outside ctx",
        headline="failed when used twice in one graph, after passing all 5",
    )
    assert "two calls on inputs of shapes (3, 4), (3, 4)" in flat(result)
    passing = check.function(Mul, torch.mul, shapes=((3, 4), (3, 4)))
    assert_passed(passing)


def test_state_in_a_stack_is_caught_by_interleaved_calls():
    """Last in, first out gets one graph right (backward runs the later call first);
    forward twice, then backward on the first, does not."""
    result = check.function(MulSavedInAList, torch.mul, shapes=((3, 4), (3, 4)))
    assert result.summary.startswith("failed when two forward calls come before")


def test_a_function_not_written_yet_is_not_attempted():
    class Stub(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise NotImplementedError

        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError

    class NoBackwardYet(Square):
        @staticmethod
        def backward(ctx, grad_output):
            raise NotImplementedError

    class NoBackwardAtAll(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

    assert_not_attempted(check.function(Stub, square))
    result = check.function(NoBackwardYet, square)
    assert_not_attempted(result)
    assert "backward raised NotImplementedError" in flat(result)
    assert_not_attempted(check.function(NoBackwardAtAll, square))


def test_style_is_checked_only_when_the_exercise_asks_for_one():
    """Chapter 8's Exp exercise asks for the current style: the old style, right in
    every number, fails it, and passes when no style is asked for."""
    assert_passed(check.function(ExpCurrentStyle, torch.exp, style="current"))
    assert_passed(check.function(ExpOldStyle, torch.exp, style="old"))
    assert_passed(check.function(ExpOldStyle, torch.exp))
    result = check.function(ExpOldStyle, torch.exp, style="current")
    assert_rejected(result, "setup_context(ctx, inputs, output)")
    assert "ExpOldStyle is written in the old style" in flat(result)


def test_a_tensor_kept_as_a_ctx_attribute_fails_in_any_style():
    for style in (None, "current"):
        result = check.function(ExpOutputOnCtx, torch.exp, style=style)
        assert_rejected(result, "save_for_backward")
        assert "(ctx.y)" in flat(result)
