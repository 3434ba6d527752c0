"""Six short PyTorch programs for chapter 7's exercise on in-place changes.

Each builds a small graph, changes a tensor in place, then calls ``backward()``. The
chapter prints them; the learner predicts which ``backward()`` raises PyTorch's
"modified by an inplace operation" error; ``labs.check.inplace_errors`` runs them and
compares. They use PyTorch, not ``labs``: ``labs`` refuses in-place operations on
tensors that require grad, where PyTorch differentiates through them.
"""

from __future__ import annotations

import torch

__all__ = ["INPLACE_PROGRAMS"]


def step_before_backward():
    w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    loss = (w * x).sum()
    with torch.no_grad():
        w -= 0.1  # an optimizer-like step, before backward
    loss.backward()


def exp_then_add():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1.0)
    y.sum().backward()


def scale_then_add():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y.add_(1.0)
    y.sum().backward()


def change_through_detach():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.tanh()
    y.detach().zero_()
    y.sum().backward()


def change_through_data():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.tanh()
    y.data.zero_()
    y.sum().backward()


def change_a_clone():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y.clone()
    z.add_(1.0)
    y.sum().backward()


INPLACE_PROGRAMS = (
    step_before_backward,
    exp_then_add,
    scale_then_add,
    change_through_detach,
    change_through_data,
    change_a_clone,
)
