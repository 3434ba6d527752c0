"""Tests of chapter 5's checker: ``check.receptive_field``.

Correct solutions (written in several styles) pass; a stub is "not attempted"; each
planted wrong solution, written as a learner might write it, is rejected, with the hint
aimed at its mistake when the checker recognises one. Then: the expected answers agree
with PyTorch's gradients (measured independently here, through nn.Conv1d modules and
with random weights) and with ``labs.shapes``; verdicts are deterministic, fast, and
leave the global random state alone.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np
import pytest
import torch

from labs import check, shapes
from labs.check import CheckFailed, Result
from labs.check import receptive

from . import verdicts
from .verdicts import flat, stub

# --- Correct solutions ----------------------------------------------------------------


def field_forward(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size


def field_backward(layers):
    """From the output back to the input: a field of r positions at a layer's output
    needs (r - 1)·s + d(k - 1) + 1 positions at its input."""
    size = 1
    for k, s, d in reversed(layers):
        size = (size - 1) * s + d * (k - 1) + 1
    return size


def field_reduce(stack):
    def step(state, layer):
        size, jump = state
        kernel, stride, dilation = layer
        return size + dilation * (kernel - 1) * jump, jump * stride

    return functools.reduce(step, stack, (1, 1))[0]


def field_numpy(layers):
    if not layers:
        return 1
    k, s, d = np.array(layers).T
    jumps = np.cumprod(np.concatenate([[1], s[:-1]]))
    return int(1 + np.sum(d * (k - 1) * jumps))


def field_labs(layers):
    return shapes.receptive_field(layers).size


# --- Helpers --------------------------------------------------------------------------


def assert_rejected(result: Result, hint: str | None, *words: str) -> None:
    verdicts.assert_rejected(result, hint, *words, name="receptive_field")


# --- Correct solutions pass, a stub is not attempted ----------------------------------


@pytest.mark.parametrize(
    "solution", [field_forward, field_backward, field_reduce, field_numpy, field_labs]
)
def test_passes_correct_solutions(solution):
    result = check.receptive_field(solution)
    assert result.status == "passed", result.message
    assert result and result.hint is None and result.case is None
    assert result.message == "✔ receptive_field: passed all 30 cases."


def test_stub_is_not_attempted():
    result = check.receptive_field(stub)
    assert result.status == "not attempted", result.message
    assert not result
    assert "raise NotImplementedError" in flat(result)


def test_not_a_function():
    result = check.receptive_field(field_forward([(3, 1, 1)]))
    assert_rejected(result, "without calling")


# --- The expected answers -------------------------------------------------------------


def test_hand_picked_cases_come_first():
    cases = receptive._cases()
    assert len(cases) == 30
    sizes = [size for _, size in cases[:12]]
    assert sizes == [3, 7, 16, 31, 13, 15, 10, 1, 5, 3, 1, 30]
    assert cases[10][0] == ()


def _dependence(layers, length=None, seed=0):
    """Which inputs one middle output of an nn.Conv1d stack with random weights uses."""
    generator = torch.Generator().manual_seed(seed)
    modules = []
    for k, s, d in layers:
        conv = torch.nn.Conv1d(1, 1, k, stride=s, dilation=d, bias=False).double()
        with torch.no_grad():  # positive weights: no two paths can cancel
            conv.weight.copy_(torch.rand(conv.weight.shape, generator=generator) + 0.5)
        modules.append(conv)
    strides = math.prod(s for _, s, _ in layers)
    length = length or 2 * field_forward(layers) + 8 * strides
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = torch.nn.Sequential(*modules)(x)
    y[0, 0, y.shape[-1] // 2].backward()
    return torch.nonzero(x.grad[0, 0]).flatten()


def test_cases_agree_with_conv1d_modules_and_labs_shapes():
    """Measured again, another way: nn.Conv1d modules, random positive weights, another
    input length and another output; and the formula in labs.shapes."""
    for layers, size in receptive._cases():
        reached = _dependence(layers)
        assert int(reached[-1] - reached[0]) + 1 == size
        assert shapes.receptive_field(layers).size == size


def test_random_cases_cover_strides_and_dilations():
    stacks = [layers for layers, _ in receptive._cases()[12:]]
    assert len({len(layers) for layers in stacks}) == 5  # depths 1 to 5
    layers = [layer for stack in stacks for layer in stack]
    assert {k for k, _, _ in layers} == {1, 2, 3, 4}
    assert {s for _, s, _ in layers} == {1, 2, 3}
    assert {d for _, _, d in layers} == {1, 2, 3, 4}


# --- Planted mistakes -----------------------------------------------------------------


def _no_jump(layers):
    size = 1
    for k, s, d in layers:
        size += d * (k - 1)
    return size


def _product(layers):
    size = 1
    for k, s, d in layers:
        size *= d * (k - 1) + 1
    return size


def _product_with_jump(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size *= d * (k - 1) * jump + 1
        jump *= s
    return size


def _k_not_dilated(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += (k - 1) * jump
        jump *= s
    return size


def _d_times_k(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        span = d * k
        size += (span - 1) * jump
        jump *= s
    return size


def _start_at_zero(layers):
    size, jump = 0, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size


def _one_too_many(layers):
    return field_forward(layers) + 1


def _whole_spans(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += (d * (k - 1) + 1) * jump
        jump *= s
    return size


def _jump_first(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        jump *= s
        size += d * (k - 1) * jump
    return size


def _reversed(layers):
    return field_forward(list(reversed(layers)))


def _pair(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size, jump


def _float(layers):
    return float(field_forward(layers))


def _mutates(layers):
    size, jump = 1, 1
    while layers:
        k, s, d = layers.pop(0)
        size += d * (k - 1) * jump
        jump *= s
    return size


def _crash_on_empty(layers):
    size, jump = 1 + layers[0][2] * (layers[0][0] - 1), layers[0][1]
    for k, s, d in layers[1:]:
        size += d * (k - 1) * jump
        jump *= s
    return size


def _four_tuples(layers):
    size = 1
    for k, s, p, d in layers:
        size += d * (k - 1)
    return size


MISTAKES = {
    "forgot-the-jump": (_no_jump, "forgot the jump", ("case 6 of 30",)),
    "multiplied-spans": (_product, "multiplied", ("case 2 of 30",)),
    "multiplied-spans-with-jump": (_product_with_jump, "multiplied", ()),
    "k-instead-of-dilated-span": (_k_not_dilated, "used k instead", ("case 3 of 30",)),
    "d-times-k": (_d_times_k, "d·k", ()),
    "off-by-one-start-at-zero": (_start_at_zero, "off by one", ("case 1 of 30",)),
    "off-by-one-too-many": (_one_too_many, "off by one", ()),
    "added-whole-spans": (_whole_spans, "whole span", ("case 1 of 30",)),
    "stride-applied-to-own-layer": (_jump_first, "after adding", ("case 6 of 30",)),
    "layers-reversed": (_reversed, "last to first", ()),
    "returns-size-and-jump": (_pair, "(size, jump)", ("a tuple",)),
    "float": (_float, "//", ("float",)),
    "mutates-layers": (_mutates, "for k, s, d in", ("modified its argument",)),
    "crashes-on-empty-stack": (_crash_on_empty, "return 1", ("IndexError",)),
    "four-tuples": (_four_tuples, "three ints", ("ValueError",)),
    "returns-none": (lambda layers: None, "forget `return`", ()),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_rejects_mistake(name):
    fn, hint, words = MISTAKES[name]
    assert_rejected(check.receptive_field(fn), hint, *words)


def test_failure_names_the_case():
    result = check.receptive_field(_no_jump)
    assert result.case == {"layers": [(3, 2, 1), (3, 2, 1), (3, 2, 1)]}
    assert (result.expected, result.got) == (15, 7)
    assert "layers=[(3, 2, 1), (3, 2, 1), (3, 2, 1)]" in flat(result)
    assert "expected: 15" in flat(result) and "got: 7" in flat(result)


def test_signature_with_two_parameters_is_explained():
    result = check.receptive_field(lambda i, layers: 1)
    assert_rejected(result, "fn(layers)", "TypeError")


# --- Properties -----------------------------------------------------------------------


def _run():
    return [
        check.receptive_field(field_forward),
        check.receptive_field(_no_jump),
        check.receptive_field(_reversed),
        check.receptive_field(stub),
    ]


def test_raise_on_failure_and_raise_for_failure():
    assert check.receptive_field(field_forward, raise_on_failure=True)
    assert check.receptive_field(field_forward).raise_for_failure()
    with pytest.raises(CheckFailed):
        check.receptive_field(stub, raise_on_failure=True)
    with pytest.raises(CheckFailed):
        check.receptive_field(_no_jump).raise_for_failure()


def test_deterministic_and_leaves_global_state_alone():
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    threads = torch.get_num_threads()
    first = [result.message for result in _run()]
    receptive._cases.cache_clear()  # measure the cases again
    second = [result.message for result in _run()]
    assert first == second
    after = np.random.get_state()
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert numpy_state[2:] == after[2:]
    assert torch.equal(torch_state, torch.get_rng_state())
    assert torch.get_num_threads() == threads  # measured with one thread, then restored


def test_fast():
    receptive._cases.cache_clear()
    start = time.perf_counter()
    receptive._cases()  # the measurements, once per session
    assert time.perf_counter() - start < 0.5
    for run in [
        lambda: check.receptive_field(field_forward),
        lambda: check.receptive_field(_reversed),  # a failure with a hint search
    ]:
        start = time.perf_counter()
        run()
        assert time.perf_counter() - start < 0.5


def test_exported_and_documented():
    assert "receptive_field" in check.__all__
    assert check.receptive_field is receptive.receptive_field
    assert check.receptive_field.__doc__
