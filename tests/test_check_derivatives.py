"""Tests of chapter 6's checkers: ``check.predicted_grad`` and ``check.vjp``.

Correct answers pass; a stub is "not attempted"; each planted wrong answer, written as
a learner might write it, is rejected, with the hint aimed at its mistake. Then: broken
exercises are reported as such, verdicts are deterministic and fast, and the global
random state is left alone.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from labs import check
from labs.check import CheckFailed, Result

from . import verdicts
from .verdicts import flat, stub

# --- Programs for predicted_grad (as in the chapter's exercises) ----------------------


def fan_out():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x  # x used twice
    z = y + 3 * x  # and a third time
    z.sum().backward()
    return x


def two_calls():
    x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
    loss = (x**2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    return x


def with_reset():
    x = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
    (x**2).sum().backward()
    x.grad.zero_()
    (3 * x).sum().backward()
    return x


def through_a_matrix():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = (3 * (x - 2) ** 2).mean()
    a.backward()
    return x


def scalar_x():
    x = torch.tensor(2.0, requires_grad=True)
    (x**3).backward()
    return x


# --- Functions for vjp ----------------------------------------------------------------

MIX = torch.tensor(
    [
        [1.0, 2.0, 0.0, -1.0],
        [0.0, 1.0, 3.0, 0.0],
        [2.0, 0.0, 1.0, 1.0],
        [-1.0, 1.0, 0.0, 2.0],
    ],
    dtype=torch.float64,
)
WIDE = MIX[:3]


def square_then_mix(x):
    return MIX @ x**2


def square_then_wide(x):
    return WIDE @ x**2


def softmax(x):
    return torch.softmax(x, dim=0)


def vjp_square_then_mix(x, v):
    return 2 * x * (v @ MIX)


def vjp_square_then_mix_numpy(x, v):
    x, v = x.numpy(), v.numpy()
    return 2 * x * (MIX.numpy().T @ v)


def vjp_square_then_wide(x, v):
    return 2 * x * (v @ WIDE)


def vjp_softmax(x, v):
    s = torch.softmax(x, dim=0)
    return s * (v - (s * v).sum())


def vjp_softmax_matrix(x, v):
    s = torch.softmax(x, dim=0)
    jacobian = torch.diag(s) - torch.outer(s, s)
    return v @ jacobian


# --- Helpers --------------------------------------------------------------------------


def assert_rejected(result: Result, hint: str | None, *words: str) -> None:
    """As everywhere, but these verdicts name the kind of mistake instead of "failed",
    and a rejection expected without a hint must have none."""
    verdicts.assert_rejected(result, hint, *words, headline="")
    if hint is None:
        assert result.hint is None, result.message


def assert_passed(result: Result) -> None:
    assert result.status == "passed", result.message
    assert result and result.hint is None


# --- predicted_grad: correct, stub ----------------------------------------------------

CORRECT_PREDICTIONS = [
    (fan_out, [5.0, 7.0, 9.0]),
    (fan_out, np.array([5.0, 7.0, 9.0])),
    (fan_out, torch.tensor([5.0, 7.0, 9.0])),
    (fan_out, (5, 7, 9)),  # integers are fine
    (two_calls, [4.0, -4.0, 8.0]),
    (with_reset, [3.0, 3.0, 3.0]),
    (through_a_matrix, [[-1.5, 0.0], [1.5, 3.0]]),
    (scalar_x, 12.0),
]


@pytest.mark.parametrize("program, value", CORRECT_PREDICTIONS)
def test_predicted_grad_passes_correct_predictions(program, value):
    result = check.predicted_grad(lambda: value, program)
    assert_passed(result)
    assert result.message == (
        f"✔ predicted x.grad of {program.__name__}: your prediction is right."
    )


def test_predicted_grad_accepts_the_value_itself():
    assert_passed(check.predicted_grad([5.0, 7.0, 9.0], fan_out))


def test_predicted_grad_stub_is_not_attempted():
    result = check.predicted_grad(stub, fan_out)
    assert result.status == "not attempted", result.message
    assert "raise NotImplementedError" in flat(result)


def test_predicted_grad_ellipsis_is_not_attempted():
    assert check.predicted_grad(lambda: ..., fan_out).status == "not attempted"


def test_predicted_grad_runs_the_program_afresh():
    """Checking twice gives the same verdict: each run makes a new x."""
    first = check.predicted_grad(lambda: [4.0, -4.0, 8.0], two_calls)
    second = check.predicted_grad(lambda: [4.0, -4.0, 8.0], two_calls)
    assert first and second


# --- predicted_grad: planted mistakes -------------------------------------------------

PREDICTION_MISTAKES = {
    # fan_out: x * x + 3x at x = [1, 2, 3]; x.grad = 2x + 3
    "sign": (fan_out, [-5.0, -7.0, -9.0], "wrong sign"),
    "x*x-counted-once": (fan_out, [4.0, 5.0, 6.0], "x * x, counts twice"),
    "forgot-3x": (fan_out, [2.0, 4.0, 6.0], "counts only 2 of the 3"),
    "only-3x": (fan_out, [3.0, 3.0, 3.0], "counts only 1 of the 3"),
    "doubled": (fan_out, [10.0, 14.0, 18.0], "2× the true one"),
    "wrong-shape": (fan_out, [5.0, 7.0], "the shape of x"),
    "a-scalar": (fan_out, 21.0, "the shape of x"),
    # two_calls: the same loss, backward twice; x.grad = 2 · 2x
    "only-last-call": (two_calls, [2.0, -2.0, 4.0], "only the last of the 2"),
    "two-calls-sign": (two_calls, [-4.0, 4.0, -8.0], "wrong sign"),
    # with_reset: (x²).sum() backward, zero_(), (3x).sum() backward; x.grad = 3
    "forgot-reset": (with_reset, [5.0, 1.0, 7.0], "reset"),
    "before-reset": (with_reset, [2.0, -2.0, 4.0], "before it was reset"),
    # through_a_matrix: the lecture's example; x.grad = 1.5x - 3
    "forgot-mean": (through_a_matrix, [[-6.0, 0.0], [6.0, 12.0]], "4× the true one"),
    "the-value-of-x": (scalar_x, 2.0, "the value of x"),
    "transposed": (through_a_matrix, [[-1.5, 1.5], [0.0, 3.0]], None),
}


@pytest.mark.parametrize("name", sorted(PREDICTION_MISTAKES))
def test_predicted_grad_rejects_mistake(name):
    program, value, hint = PREDICTION_MISTAKES[name]
    result = check.predicted_grad(lambda: value, program)
    assert_rejected(result, hint)


def test_predicted_grad_does_not_print_the_answer():
    result = check.predicted_grad(lambda: [5.0, 7.0, 8.0], fan_out)
    assert_rejected(result, None, "wrong at 1 of 3", "x.grad[2]", "[5, 7, 8]")
    assert "9" not in result.message
    np.testing.assert_array_equal(result.expected, [5.0, 7.0, 9.0])


def test_predicted_grad_rejects_a_list_that_is_not_a_grid():
    result = check.predicted_grad(lambda: [1.0, [2.0, 3.0]], fan_out)
    assert_rejected(result, "[[1.0, 2.0], [3.0, 4.0]]")


def test_predicted_grad_rejects_nan():
    result = check.predicted_grad(lambda: [5.0, float("nan"), 9.0], fan_out)
    assert_rejected(result, None, "NaN")


def test_predicted_grad_none_and_errors():
    assert_rejected(check.predicted_grad(lambda: None, fan_out), "forget `return`")

    def broken():
        return [1.0, 2.0, 3.0][5]

    assert_rejected(check.predicted_grad(broken, fan_out), None, "IndexError")


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
    assert_rejected(check.predicted_grad([7.0, 9.0], set_to_none), "reset")


# --- vjp: correct, stub ---------------------------------------------------------------

CORRECT_VJPS = [
    (square_then_mix, vjp_square_then_mix, (4,)),
    (square_then_mix, vjp_square_then_mix_numpy, (4,)),
    (square_then_wide, vjp_square_then_wide, (4,)),
    (softmax, vjp_softmax, (5,)),
    (softmax, vjp_softmax_matrix, (5,)),
    (lambda x: (x**3).sum(), lambda x, v: 3 * x**2 * v, (3,)),  # a scalar output
    (lambda x: torch.sin(x), lambda x, v: torch.cos(x) * v, (2, 3)),  # a matrix input
]


@pytest.mark.parametrize("f, vjp_fn, shape", CORRECT_VJPS)
def test_vjp_passes_correct_solutions(f, vjp_fn, shape):
    result = check.vjp(f, vjp_fn, shape=shape)
    assert_passed(result)
    assert result.cases == 10


def test_vjp_verdict_names_f():
    assert check.vjp(softmax, vjp_softmax, shape=5).message == (
        "✔ vjp of softmax: passed all 10 cases."
    )


def test_vjp_stub_is_not_attempted():
    result = check.vjp(square_then_mix, stub)
    assert result.status == "not attempted", result.message


def test_vjp_expected_answers_are_v_times_the_jacobian():
    """The checker's v and expected answer agree with jacobian() on the failing case."""
    result = check.vjp(square_then_mix, lambda x, v: torch.zeros(4))
    x, v = result.case["x"], result.case["v"]
    jacobian = torch.autograd.functional.jacobian(square_then_mix, x)
    np.testing.assert_allclose(result.expected, (v @ jacobian).numpy(), rtol=1e-12)


# --- vjp: planted mistakes ------------------------------------------------------------

VJP_MISTAKES = {
    "J-v-transposed": (square_then_mix, lambda x, v: MIX @ (2 * x * v), (4,), "J v"),
    "forgot-v": (
        square_then_mix, lambda x, v: 2 * x * MIX.sum(0), (4,), "v is missing",
    ),
    "v-times-gradient-of-sum": (
        square_then_mix, lambda x, v: v * 2 * x * MIX.sum(0), (4,), "elementwise",
    ),
    "only-the-diagonal": (
        square_then_mix, lambda x, v: v * 2 * x * torch.diagonal(MIX), (4,), "diagonal",
    ),
    "whole-jacobian": (
        square_then_mix, lambda x, v: MIX * 2 * x, (4,), "whole Jacobian",
    ),
    "sign": (square_then_mix, lambda x, v: -2 * x * (v @ MIX), (4,), "wrong sign"),
    "forgot-the-2": (square_then_mix, lambda x, v: x * (v @ MIX), (4,), "0.5×"),
    "shape-of-v": (square_then_wide, lambda x, v: v, (4,), "shape of v"),
    "multiplied-from-the-wrong-side": (
        square_then_wide, lambda x, v: WIDE @ (2 * x * v), (4,), "v @ J",
    ),
    "softmax-diagonal-only": (
        softmax, lambda x, v: v * torch.softmax(x, 0) * (1 - torch.softmax(x, 0)), (5,),
        "diagonal",
    ),
    "softmax-forgot-v": (
        softmax, lambda x, v: torch.zeros(5, dtype=torch.float64), (5,), "v is missing",
    ),
    "a-single-number": (
        softmax, lambda x, v: (v * x).sum(), (5,), "one entry per element",
    ),
    "returns-none": (softmax, lambda x, v: None, (5,), "forget `return`"),
    "returns-a-list": (softmax, lambda x, v: [0.0] * 5, (5,), "not a list"),
}


@pytest.mark.parametrize("name", sorted(VJP_MISTAKES))
def test_vjp_rejects_mistake(name):
    f, vjp_fn, shape, hint = VJP_MISTAKES[name]
    assert_rejected(check.vjp(f, vjp_fn, shape=shape), hint)


def test_vjp_modifying_the_input_is_reported():
    def in_place(x, v):
        x.mul_(2)
        return x * (v @ MIX)

    result = check.vjp(square_then_mix, in_place)
    assert_rejected(result, "compute new tensors", "in place")


def test_vjp_reports_a_broken_f():
    exercise = "problem with the exercise"
    assert_rejected(check.vjp(lambda x: x.numpy() ** 2, vjp_square_then_mix), exercise)
    assert_rejected(check.vjp(lambda x: torch.ones(3), vjp_square_then_mix), exercise)
    ones = torch.ones(4, dtype=torch.float64)
    result = check.vjp(square_then_mix, vjp_square_then_mix(ones, ones))
    assert_rejected(result, "without calling it")


def test_vjp_rejects_bad_arguments():
    with pytest.raises(ValueError):
        check.vjp(square_then_mix, vjp_square_then_mix, low=1.0, high=0.0)
    with pytest.raises(ValueError):
        check.vjp(square_then_mix, vjp_square_then_mix, shape=(-1,))


# --- Properties of every verdict ------------------------------------------------------


def test_raise_for_failure_and_raise_on_failure():
    assert check.predicted_grad([5.0, 7.0, 9.0], fan_out).raise_for_failure()
    with pytest.raises(CheckFailed):
        check.predicted_grad([0.0, 0.0, 0.0], fan_out, raise_on_failure=True)
    with pytest.raises(CheckFailed):
        check.vjp(softmax, lambda x, v: v, shape=5, raise_on_failure=True)
    assert check.vjp(softmax, vjp_softmax, shape=5, raise_on_failure=True)


def test_verdicts_are_deterministic():
    runs = [
        (
            check.vjp(square_then_mix, VJP_MISTAKES["J-v-transposed"][1]).message,
            check.predicted_grad([4.0, 5.0, 6.0], fan_out).message,
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_checkers_leave_global_random_state_alone():
    np.random.seed(5)
    torch.manual_seed(5)
    numpy_before, torch_before = np.random.get_state()[1].copy(), torch.get_rng_state()
    check.vjp(square_then_mix, vjp_square_then_mix)
    check.vjp(softmax, VJP_MISTAKES["softmax-diagonal-only"][1], shape=5)
    check.predicted_grad([4.0, 5.0, 6.0], fan_out)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


def test_html_verdicts():
    for result in [
        check.predicted_grad(stub, fan_out),
        check.predicted_grad([4.0, 5.0, 6.0], fan_out),
        check.vjp(softmax, vjp_softmax, shape=5),
    ]:
        assert result._repr_html_().startswith("<div")


def test_grad_mode_is_left_alone():
    with torch.no_grad():
        assert check.predicted_grad([5.0, 7.0, 9.0], fan_out)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


@pytest.mark.parametrize(
    "name, run",
    [
        ("predicted_grad", lambda: check.predicted_grad([5.0, 7.0, 9.0], fan_out)),
        ("predicted_grad wrong", lambda: check.predicted_grad([4.0, 5, 6], fan_out)),
        ("vjp", lambda: check.vjp(square_then_mix, vjp_square_then_mix)),
        ("vjp wrong", lambda: check.vjp(square_then_mix, lambda x, v: x * (v @ MIX))),
    ],
)
def test_speed(name, run):
    run()  # warm up: first calls import and compile
    start = time.perf_counter()
    run()
    assert time.perf_counter() - start < 0.5, name


def test_registered_in_labs_check():
    assert "predicted_grad" in check.__all__ and "vjp" in check.__all__
    assert check.predicted_grad.__doc__ and check.vjp.__doc__
