"""Checker for chapter 7's design exercise on vanishing and exploding gradients.

``tanh_init_std`` takes a standard deviation for the weights of a deep tanh stack (20
linear layers of width 64, zero biases, each followed by tanh) and measures, in
PyTorch, float64, how the gradient's norm changes on the way back: the norm of
``dL/dz`` at the first layer's output divided by the norm at the last layer's, for a
batch of 32 seeded inputs and a seeded upstream gradient, as chapter 7's
``flowing_norms`` measures it. The design must keep that ratio between 1/10 and 10 for
each of three seeds (three draws of the weights and the data).
"""

from __future__ import annotations

import math
import numbers

import torch

from labs.check._core import Case, Exercise, Mismatch, NotAttempted, check
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = ["tanh_init_std"]

# The stack of the exercise, and the band the ratio must stay in.
STACK = {"depth": 20, "width": 64, "batch": 32, "seeds": (0, 1, 2), "band": 10.0}


def tanh_init_std(std, *, raise_on_failure: bool = False) -> Result:
    """Check a weight standard deviation for a 20-layer tanh stack of width 64.

    ``std`` is a positive number (or a function without arguments returning one); None
    is "not attempted yet". For each of three seeds the checker draws every weight from
    ``N(0, std²)`` (biases zero), runs a batch of 32 standard-normal inputs through
    ``z = h Wᵀ, h = tanh(z)`` twenty times, starts the backward pass from a
    standard-normal gradient for the last ``h``, and measures ``|dL/dz_1| / |dL/dz_20|``.
    Each ratio must lie between 0.1 and 10; the verdict gives the three ratios and says
    whether the gradient vanishes (below 0.1: raise ``std``) or explodes (above 10:
    lower it).
    """

    def answer(learner, case: Case):
        if std is None or std is Ellipsis:
            raise NotAttempted(
                todo="write your choice in place of the `None` and run this cell again."
            )
        if callable(std):
            value = learner.run(std, case=case, role="your function")
            if value is None:
                raise Mismatch(
                    "your function returned None.",
                    hint="return the standard deviation, a number.",
                )
            return value
        return std

    exercise = Exercise(
        "tanh_init_std",
        [Case(headline="the gradient does not stay within a factor of 10.")],
        _compare_std,
        answer=answer,
        validate=lambda value: None,
        passed=lambda count: (
            "with this std the gradient stays within a factor of 10 "
            "from the last layer to the first."
        ),
        role="your choice",
    )
    return check(exercise, std, raise_on_failure=raise_on_failure)


def _ratios(std: float) -> list[float]:
    """The ratio ``|dL/dz_1| / |dL/dz_20|`` for each seed of the exercise."""
    return [_ratio(std, seed) for seed in STACK["seeds"]]


def _ratio(std: float, seed: int) -> float:
    depth, width, batch = STACK["depth"], STACK["width"], STACK["batch"]
    generator = torch.Generator().manual_seed(seed)

    def normal(*shape):
        return torch.randn(shape, generator=generator, dtype=torch.float64)

    x, upstream = normal(batch, width), normal(batch, width)
    weights = [std * normal(width, width) for _ in range(depth)]
    h, outputs = x, []
    for weight in weights:
        z = (h @ weight.T).requires_grad_()
        outputs.append(z)
        h = torch.tanh(z)
    # dL/dz for every layer's output, from the last to the first
    grads = torch.autograd.grad(h, outputs, upstream)
    return (grads[0].norm() / grads[-1].norm()).item()


def _read_std(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        else:
            raise Mismatch(
                f"your choice is {type_phrase(value)}, not a number.",
                hint="write the standard deviation as a number, such as 0.3.",
            )
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise Mismatch(
            f"your choice is {value}: a standard deviation must be a positive number.",
            hint="with std 0 every weight is 0 and no gradient reaches the first "
            "layers at all.",
        )
    return value


def _compare_std(answer, case: Case) -> None:
    std = _read_std(answer)
    measured = _ratios(std)
    band = STACK["band"]
    shown = ", ".join(f"{r:.2g}" for r in measured)
    low = [r for r in measured if r < 1 / band]
    high = [r for r in measured if r > band]
    if not low and not high:
        return
    if low:
        problem = (
            f"with std {std:.3g} the gradient vanishes: at the first layer it is "
            f"{min(low):.2g} of its size at the last (seeds 0, 1, 2 give {shown})."
        )
        hint = (
            "raise std: each layer multiplies the gradient by about std·√64 times "
            "the average tanh′ (at most 1), so a factor below 1 shrinks it 19 times "
            "over."
        )
    else:
        problem = (
            f"with std {std:.3g} the gradient explodes: at the first layer it is "
            f"{max(high):.2g} times its size at the last (seeds 0, 1, 2 give {shown})."
        )
        hint = (
            "lower std: each layer multiplies the gradient by about std·√64 times "
            "the average tanh′, and a factor above 1 grows it 19 times over."
        )
    raise Mismatch(
        problem,
        details=[("wanted", "every ratio between 0.1 and 10")],
        hint=hint,
        got=std,
    )
