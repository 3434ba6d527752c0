"""gradient_norms and checkpointed_forward: the expected answers and the byte count
they rest on. The contract test runs the planted mistakes of ``planted/training.py``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from labs.check import training

from .planted.training import checkpointed, norms_by_index
from .verdicts import assert_passed, flat


def test_expected_norms_are_the_weight_gradients_norms():
    for case in training._norm_cases():
        model = case.info["make"]()
        loss = case.info["loss_fn"](model(case.info["x"]), case.info["y"])
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        grads = torch.autograd.grad(loss, weights)
        assert case.expected == pytest.approx([float(g.norm()) for g in grads])


@pytest.mark.parametrize("depth", [1, 2, 5])
@pytest.mark.parametrize("batch", [1, 3])
def test_saved_bytes_of_a_tanh_chain(depth, batch):
    """Linear saves its input, Tanh its output: x and every Tanh output, once each."""
    torch.manual_seed(0)
    layers = [m for _ in range(depth) for m in (nn.Linear(4, 4), nn.Tanh())]
    model = nn.Sequential(*layers).double()
    x = torch.randn(batch, 4, dtype=torch.float64, requires_grad=True)
    _, saved = training._saved_bytes(lambda: model(x), list(model.parameters()))
    assert saved == (depth + 1) * batch * 4 * 8


def test_checkpointing_saves_at_most_the_fraction():
    for case in training._stack_cases():
        blocks = case.info["make"]()
        x = case.info["x"].clone().requires_grad_()
        params = [p for b in blocks for p in b.parameters()]
        _, saved = training._saved_bytes(
            lambda b=blocks, x=x: checkpointed(b, x), params
        )
        assert 0 < saved <= training.SAVED_FRACTION * case.info["plain_bytes"]


def test_gradient_norms_verdict_counts_the_cases_and_leaves_no_hooks():
    result = training.gradient_norms(norms_by_index)
    assert_passed(result)
    assert "4 cases" in flat(result)
