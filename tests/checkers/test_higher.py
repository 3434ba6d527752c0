"""hvp and function_jvp: their expected answers agree with PyTorch's other routes, and
what their verdicts say. The contract test runs the planted mistakes of
``planted/higher.py``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as forward_ad

from labs import check
from labs.check import higher

from .planted.higher import (
    Mul,
    Sigmoid,
    SigmoidNoJvp,
    formed_hessian,
    hvp_double_backward,
)
from .verdicts import assert_not_attempted, assert_passed, assert_rejected, flat


@pytest.mark.parametrize(
    "f, shape",
    [(f, shape) for f, shape, _ in higher._HVP_CASES] + [higher._LARGE],
    ids=repr,
)
def test_hvp_expected_answer_is_torchs_hvp(f, shape):
    """The checker's H v (explicit Hessian times v) is torch.autograd.functional.hvp's
    and forward-over-reverse's."""
    higher._transforms_loaded()  # quietly: pytest turns torch's warning into an error
    case = higher._hvp_case(f, shape, np.random.default_rng(0))
    x, v = case["x"], case["v"]
    _, torchs = torch.autograd.functional.hvp(f, x, v)
    forward_over_reverse = torch.func.jvp(torch.func.grad(f), (x,), (v,))[1]
    np.testing.assert_allclose(case.expected, torchs.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        case.expected, forward_over_reverse.numpy(), rtol=1e-12, atol=1e-12
    )
    assert case.expected.shape == shape
    hessian = case.info["hessian"]
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)  # symmetric
    assert not np.allclose(hessian, np.diag(np.diagonal(hessian)))  # not diagonal


def test_hvp_functions_are_shown_as_code():
    assert repr(higher.QUARTIC) == "lambda x: (x**4).sum() / 4 + x[0] * x[1]"
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert higher.QUARTIC(x).item() == (1 + 16 + 81) / 4 + 2


def test_hvp_passing_message():
    result = check.hvp(hvp_double_backward)
    assert_passed(result, cases=7)
    assert result.message == "✔ hvp: passed all 7 cases."


def test_hvp_stub_is_not_attempted():
    def hvp(f, x, v):
        raise NotImplementedError

    assert_not_attempted(check.hvp(hvp))


@pytest.mark.parametrize(
    "switch",
    [torch.no_grad, lambda: torch.set_grad_enabled(False), torch.inference_mode],
)
def test_hvp_runs_with_gradients_on(switch):
    """A notebook that left gradients off does not break the learner's double
    backward: the checker switches them on for the call."""
    with switch():
        assert_passed(check.hvp(hvp_double_backward))
        assert not torch.is_grad_enabled()


def test_hvp_forming_the_hessian_fails_on_the_large_case_only():
    result = check.hvp(formed_hessian)
    assert_rejected(result, "needs no n × n matrix", "1,600", "case 7 of 7")
    assert result.cases == 7  # the six small cases passed


def test_hvp_verdict_names_the_function():
    def zero(f, x, v):
        return torch.zeros_like(x)

    assert "f=lambda x: (x**4).sum() / 4 + x[0] * x[1]" in flat(check.hvp(zero))


def test_hvp_first_forward_mode_use_prints_nothing():
    """torch warns (a deprecation inside torch) when it loads its forward-mode rules,
    on a process's first make_dual: not in the learner's call, so not shown as printed
    by the learner's code."""
    code = textwrap.dedent(
        """
        import torch
        from labs import check

        def hvp(f, x, v):
            return torch.func.jvp(torch.func.grad(f), (x,), (v,))[1]

        print(check.hvp(hvp).message)
        """
    )
    output = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert output.stdout.strip() == "✔ hvp: passed all 7 cases."


# --- function_jvp ---------------------------------------------------------------------


def test_function_jvp_passing_message():
    result = check.function_jvp(Sigmoid, torch.sigmoid)
    assert_passed(result, cases=7)
    assert result.message == (
        "✔ Sigmoid: passed all 5 cases with torch.func.jvp, the check with dual "
        "numbers and the backward check."
    )


def test_function_jvp_expected_tangents_are_dual_numbers():
    """The reference's tangents from torch.func.jvp are those of dual numbers, and
    J u from the Jacobian."""
    higher._transforms_loaded()
    rng = np.random.default_rng(1)
    a, b, u, w = (torch.from_numpy(rng.standard_normal((3, 4))) for _ in range(4))
    _, (expected,) = higher._jvp_reference(torch.mul, (a, b), (u, w))
    with forward_ad.dual_level():
        dual = torch.mul(forward_ad.make_dual(a, u), forward_ad.make_dual(b, w))
        tangent = forward_ad.unpack_dual(dual).tangent
    np.testing.assert_allclose(expected, tangent.numpy(), rtol=1e-15)
    np.testing.assert_allclose(expected, (u * b + a * w).numpy(), rtol=1e-12)


def test_function_jvp_two_inputs_names_them():
    def hint(cls):
        return check.function_jvp(cls, torch.mul, shapes=[(3, 4), (3, 4)])

    assert_passed(hint(Mul))
    result = hint(
        type(
            "MulB",
            (Mul,),
            {"jvp": staticmethod(lambda ctx, ua, ub: ctx.saved_tensors[0] * ub)},
        )
    )
    assert_rejected(result, "counts only the tangent of b", "tangent_a of shape")


def test_function_jvp_stub_is_not_attempted():
    class Stub(SigmoidNoJvp):
        @staticmethod
        def jvp(ctx, grad_input):
            raise NotImplementedError  # your code here

    assert_not_attempted(check.function_jvp(Stub, torch.sigmoid))


def test_function_jvp_without_jvp_is_a_clear_verdict():
    result = check.function_jvp(SigmoidNoJvp, torch.sigmoid)
    assert_rejected(result, "ctx.save_for_forward(...)", "has no jvp static method")
    assert result.cases == 0  # refused before any case


def test_function_jvp_leaves_no_dual_level_open():
    def raises(ctx, grad_input):
        raise ValueError("broken")

    broken = type("Broken", (Sigmoid,), {"jvp": staticmethod(raises)})
    for _ in range(3):  # each run would open a new level if one leaked
        assert_rejected(
            check.function_jvp(broken, torch.sigmoid), None, "ValueError: broken"
        )
    with forward_ad.dual_level():
        x = torch.ones(2, dtype=torch.float64)
        dual = forward_ad.make_dual(x, x)  # level 0: nothing leaked
        assert forward_ad.unpack_dual(dual).tangent is not None


def test_function_jvp_reports_a_broken_reference():
    def reference(x):
        raise ValueError("oops")

    result = check.function_jvp(Sigmoid, reference)
    assert_rejected(result, "problem with the exercise", "oops")


def test_function_jvp_refuses_bad_arguments():
    with pytest.raises(ValueError, match="low must be smaller"):
        check.function_jvp(Sigmoid, torch.sigmoid, low=1, high=1)
    with pytest.raises(ValueError, match="shapes"):
        check.function_jvp(Sigmoid, torch.sigmoid, shapes=[])
