"""predicted_grad and vjp: correct answers and planted mistakes, and the programs and
functions the exercises give."""

from __future__ import annotations

import numpy as np
import torch

from labs import check

from ..registry import NO_HINT, Entry, Planted


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
    "transposed": (through_a_matrix, [[-1.5, 1.5], [0.0, 3.0]], NO_HINT),
}


CORRECT_VJPS = [
    (square_then_mix, vjp_square_then_mix, (4,)),
    (square_then_mix, vjp_square_then_mix_numpy, (4,)),
    (square_then_wide, vjp_square_then_wide, (4,)),
    (softmax, vjp_softmax, (5,)),
    (softmax, vjp_softmax_matrix, (5,)),
    (lambda x: (x**3).sum(), lambda x, v: 3 * x**2 * v, (3,)),  # a scalar output
    (lambda x: torch.sin(x), lambda x, v: torch.cos(x) * v, (2, 3)),  # a matrix input
]


VJP_MISTAKES = {
    "J-v-transposed": (square_then_mix, lambda x, v: MIX @ (2 * x * v), (4,), "J v"),
    "forgot-v": (
        square_then_mix,
        lambda x, v: 2 * x * MIX.sum(0),
        (4,),
        "v is missing",
    ),
    "v-times-gradient-of-sum": (
        square_then_mix,
        lambda x, v: v * 2 * x * MIX.sum(0),
        (4,),
        "elementwise",
    ),
    "only-the-diagonal": (
        square_then_mix,
        lambda x, v: v * 2 * x * torch.diagonal(MIX),
        (4,),
        "diagonal",
    ),
    "whole-jacobian": (
        square_then_mix,
        lambda x, v: MIX * 2 * x,
        (4,),
        "whole Jacobian",
    ),
    "sign": (square_then_mix, lambda x, v: -2 * x * (v @ MIX), (4,), "wrong sign"),
    "forgot-the-2": (square_then_mix, lambda x, v: x * (v @ MIX), (4,), "0.5×"),
    "shape-of-v": (square_then_wide, lambda x, v: v, (4,), "shape of v"),
    "multiplied-from-the-wrong-side": (
        square_then_wide,
        lambda x, v: WIDE @ (2 * x * v),
        (4,),
        "v @ J",
    ),
    "softmax-diagonal-only": (
        softmax,
        lambda x, v: v * torch.softmax(x, 0) * (1 - torch.softmax(x, 0)),
        (5,),
        "diagonal",
    ),
    "softmax-forgot-v": (
        softmax,
        lambda x, v: torch.zeros(5, dtype=torch.float64),
        (5,),
        "v is missing",
    ),
    "a-single-number": (
        softmax,
        lambda x, v: (v * x).sum(),
        (5,),
        "one entry per element",
    ),
    "returns-none": (softmax, lambda x, v: None, (5,), "forget return"),
    "returns-a-list": (softmax, lambda x, v: [0.0] * 5, (5,), "not a list"),
}


PREDICTION_MISTAKES.update(
    {
        "a-list-that-is-not-a-grid": (
            fan_out,
            [1.0, [2.0, 3.0]],
            "[[1.0, 2.0], [3.0, 4.0]]",
        ),
        "nan": (fan_out, [5.0, float("nan"), 9.0], None),
        "close-but-not-equal": (fan_out, [5.0, 7.0, 9.001], NO_HINT),
        "one-element-off": (fan_out, [5.0, 7.0, 8.0], NO_HINT),
    }
)

VJP_MISTAKES.update(
    {
        "float32": (
            softmax,
            lambda x, v: (vjp_softmax(x, v).float() * (1 + 1e-7)).double(),
            (5,),
            "float32",
        ),
        "zero": (
            square_then_mix,
            lambda x, v: torch.zeros(4, dtype=torch.float64),
            (4,),
            "0 everywhere",
        ),
        "diagonal-and-sign": (
            square_then_mix,
            lambda x, v: -v * 2 * x * torch.diagonal(MIX),
            (4,),
            NO_HINT,
        ),
    }
)


def _prediction(name, program, value, hint):
    return Planted(
        name, lambda: check.predicted_grad(lambda: value, program), hint, headline=""
    )


ENTRIES = [
    Entry(
        "predicted_grad",
        learner=lambda behaviour: check.predicted_grad(behaviour, fan_out),
        solutions=tuple(
            (
                f"{program.__name__}-{type(value).__name__}",
                lambda program=program, value=value: check.predicted_grad(
                    lambda: value, program
                ),
            )
            for program, value in CORRECT_PREDICTIONS
        )
        + (
            (
                "the value itself",
                lambda: check.predicted_grad([5.0, 7.0, 9.0], fan_out),
            ),
        ),
        mistakes=tuple(
            _prediction(name, *row) for name, row in PREDICTION_MISTAKES.items()
        ),
    ),
    Entry(
        "vjp",
        learner=lambda behaviour: check.vjp(square_then_mix, behaviour),
        solutions=tuple(
            (
                f"{getattr(f, '__name__', 'f')}-{getattr(fn, '__name__', 'fn')}-{n}",
                lambda f=f, fn=fn, shape=shape: check.vjp(f, fn, shape=shape),
            )
            for n, (f, fn, shape) in enumerate(CORRECT_VJPS)
        ),
        mistakes=tuple(
            Planted(
                name,
                lambda f=f, fn=fn, shape=shape: check.vjp(f, fn, shape=shape),
                hint,
            )
            for name, (f, fn, shape, hint) in VJP_MISTAKES.items()
        ),
    ),
]
