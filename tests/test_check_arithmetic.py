"""Tests of chapter 3's checkers: ``check.stack_output_size``, ``check.same_padding``.

Correct solutions (written in several styles) pass; a stub is "not attempted"; each
planted wrong solution, written as a learner might write it, is rejected, with the hint
aimed at its mistake when the checker recognises one. Then: the expected answers agree
with PyTorch, verdicts are deterministic, fast, and leave the global random state alone.
"""

from __future__ import annotations

import functools
import math
import time
import warnings

import numpy as np
import pytest
import torch

from labs import check
from labs.check import CheckFailed, Result
from labs.check import arithmetic

from .verdicts import assert_rejected, flat, stub

# --- Correct solutions ----------------------------------------------------------------


def output_size(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def stack_loop(i, layers):
    for k, s, p, d in layers:
        i = output_size(i, k, s, p, d)
    return i


def stack_reduce(i, layers):
    return functools.reduce(lambda size, layer: output_size(size, *layer), layers, i)


def stack_math_floor(size, stack):
    for kernel, stride, padding, dilation in stack:
        span = dilation * (kernel - 1) + 1
        size = math.floor((size + 2 * padding - span) / stride) + 1
    return size


def same_padding(k, d=1):
    total = d * (k - 1)
    if total % 2:
        raise ValueError(f"d(k - 1) = {total} is odd: no per-side padding keeps i")
    return total // 2


def same_padding_divmod(k, d=1):
    half, odd = divmod(d * (k - 1), 2)
    if odd:
        raise ValueError("the kernel spans an even number of positions")
    return half


# --- Helpers --------------------------------------------------------------------------


def assert_passed(result: Result) -> None:
    assert result.status == "passed", result.message
    assert result and result.hint is None and result.case is None


# --- stack_output_size ----------------------------------------------------------------


@pytest.mark.parametrize("solution", [stack_loop, stack_reduce, stack_math_floor])
def test_stack_passes_correct_solutions(solution):
    result = check.stack_output_size(solution)
    assert_passed(result)
    assert result.message == "✔ stack_output_size: passed all 40 cases."


def test_stack_stub_is_not_attempted():
    result = check.stack_output_size(stub)
    assert result.status == "not attempted", result.message
    assert "raise NotImplementedError" in flat(result)


def test_stack_cases_agree_with_torch_layers():
    """The expected sizes are those of nn.Conv1d layers run one after the other."""
    cases = arithmetic._stack_cases()
    assert len(cases) == 40
    for i, layers, size in cases:
        assert all(len(layer) == 4 for layer in layers)
        modules = [
            torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
            for k, s, p, d in layers
        ]
        with torch.no_grad():
            out = torch.nn.Sequential(*modules)(torch.zeros(1, 1, i))
        assert out.shape[-1] == size == stack_loop(i, layers)
        assert size >= 1


def test_stack_hand_picked_cases_come_first():
    cases = arithmetic._stack_cases()
    assert [c[2] for c in cases[:8]] == [32, 10, 4, 8, 1, 3, 15, 4]
    assert cases[1][1] == ()


def _ceil(i, layers):
    for k, s, p, d in layers:
        i = math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1
    return i


def _total_padding(i, layers):
    for k, s, p, d in layers:
        i = (i + p - d * (k - 1) - 1) // s + 1
    return i


def _no_dilation(i, layers):
    for k, s, p, d in layers:
        i = (i + 2 * p - k) // s + 1
    return i


def _no_plus_one(i, layers):
    for k, s, p, d in layers:
        i = (i + 2 * p - d * (k - 1) - 1) // s
    return i


def _swapped(i, layers):
    for k, p, s, d in layers:
        i = output_size(i, k, s, p, d)
    return i


def _reversed(i, layers):
    for k, s, p, d in reversed(layers):
        i = output_size(i, k, s, p, d)
    return i


def _summed(i, layers):
    k = sum(layer[0] for layer in layers)
    s = sum(layer[1] for layer in layers)
    p = sum(layer[2] for layer in layers)
    d = max((layer[3] for layer in layers), default=1)
    return output_size(i, k, max(s, 1), p, d) if layers else i


def _product_of_strides(i, layers):
    span = sum(d * (k - 1) + 1 for k, s, p, d in layers)
    padding = sum(p for k, s, p, d in layers)
    stride = math.prod(s for k, s, p, d in layers)
    return (i + 2 * padding - span) // stride + 1 if layers else i


def _return_in_loop(i, layers):
    for k, s, p, d in layers:
        return output_size(i, k, s, p, d)
    return i


def _list_of_sizes(i, layers):
    sizes = [i]
    for k, s, p, d in layers:
        sizes.append(output_size(sizes[-1], k, s, p, d))
    return sizes


def _float_division(i, layers):
    for k, s, p, d in layers:
        i = int((i + 2 * p - d * (k - 1) - 1) / s + 1) if s == 1 else (
            (i + 2 * p - d * (k - 1) - 1) / s + 1
        )
    return i


def _mutates(i, layers):
    while layers:
        k, s, p, d = layers.pop(0)
        i = output_size(i, k, s, p, d)
    return i


def _empty_crash(i, layers):
    size = output_size(i, *layers[0])
    for layer in layers[1:]:
        size = output_size(size, *layer)
    return size


def _three_tuples(i, layers):
    for k, s, p in layers:
        i = output_size(i, k, s, p)
    return i


STACK_MISTAKES = {
    "ceil-instead-of-floor": (_ceil, "rounded up", ()),
    "total-padding": (_total_padding, "each side", ()),
    "dilation-ignored": (_no_dilation, "ignored the dilation", ()),
    "forgot-plus-one": (_no_plus_one, "+ 1", ()),
    "stride-padding-swapped": (_swapped, "(k, s, p, d)", ("ZeroDivisionError",)),
    "layers-reversed": (_reversed, "last to first", ()),
    "one-formula-summed": (_summed, "as one layer", ()),
    "one-formula-product-of-strides": (_product_of_strides, "as one layer", ()),
    "return-inside-loop": (_return_in_loop, "after the first layer", ()),
    "list-of-sizes": (_list_of_sizes, "last element is right", ("a list",)),
    "float-division": (_float_division, "//", ("float",)),
    "mutates-layers": (_mutates, "for k, s, p, d in", ("modified its argument",)),
    "crashes-on-empty-stack": (_empty_crash, "empty list", ("IndexError",)),
    "three-tuples": (_three_tuples, "four ints", ("ValueError",)),
    "returns-none": (lambda i, layers: None, "forget `return`", ()),
}


@pytest.mark.parametrize("name", STACK_MISTAKES)
def test_stack_rejects_mistake(name):
    fn, hint, words = STACK_MISTAKES[name]
    assert_rejected(check.stack_output_size(fn), hint, *words)


def test_stack_failure_names_the_case():
    result = check.stack_output_size(_total_padding)
    assert result.case == {"i": 32, "layers": [(3, 1, 1, 1)]}
    assert (result.expected, result.got) == (32, 31)
    assert "case 1 of 40" in flat(result)
    assert "i=32, layers=[(3, 1, 1, 1)]" in flat(result)
    assert "expected: 32" in flat(result) and "got: 31" in flat(result)


def test_stack_ceil_is_caught_where_the_floor_matters():
    result = check.stack_output_size(_ceil)
    assert result.case["i"] == 15 and (result.expected, result.got) == (1, 2)


def test_stack_not_a_function():
    result = check.stack_output_size(stack_loop(32, [(3, 1, 1, 1)]))
    assert_rejected(result, "without calling it")


# --- same_padding ---------------------------------------------------------------------


@pytest.mark.parametrize("solution", [same_padding, same_padding_divmod])
def test_same_padding_passes_correct_solutions(solution):
    result = check.same_padding(solution)
    assert_passed(result)
    assert result.message == "✔ same_padding: passed all 28 cases."


def test_same_padding_stub_is_not_attempted():
    result = check.same_padding(stub)
    assert result.status == "not attempted", result.message
    assert "raise NotImplementedError" in flat(result)


def test_same_padding_cases_agree_with_torch_padding_same():
    """Where p exists, padding=p and padding='same' give the same values in torch;
    where it does not, 'same' pads one more zero after than before."""
    generator = torch.Generator().manual_seed(0)
    cases = arithmetic._same_padding_cases()
    assert len(cases) == 28
    grid = {(k, d) for k in range(1, 8) for d in range(1, 5)}
    assert {(k, d) for k, d, _ in cases} == grid
    for k, d, expected in cases:
        x = torch.randn(1, 1, 11, dtype=torch.float64, generator=generator)
        w = torch.randn(1, 1, k, dtype=torch.float64, generator=generator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: an even span needs a padded copy
            same = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
        total = d * (k - 1)
        if total % 2:
            assert isinstance(expected, arithmetic._NoPadding)
            padded = torch.nn.functional.pad(x, (total // 2, total - total // 2))
            explicit = torch.nn.functional.conv1d(padded, w, dilation=d)
            torch.testing.assert_close(same, explicit)
        else:
            assert expected == total // 2
            explicit = torch.nn.functional.conv1d(x, w, padding=expected, dilation=d)
            torch.testing.assert_close(same, explicit)


def _raise_if_even_k(k, d=1):
    if k % 2 == 0:
        raise ValueError("even kernel")
    return d * (k - 1) // 2


def _pair_when_odd(k, d=1):
    total = d * (k - 1)
    return (total // 2, total - total // 2) if total % 2 else total // 2


def _never_raises(k, d=1):
    return d * (k - 1) // 2


def _d_times_k(k, d=1):
    if d * (k - 1) % 2:
        raise ValueError("odd")
    return d * k // 2


def _no_dilation_padding(k, d=1):
    if (k - 1) % 2:
        raise ValueError("even kernel")
    return (k - 1) // 2


def _assert_instead(k, d=1):
    assert d * (k - 1) % 2 == 0, "odd"
    return d * (k - 1) // 2


def _total(k, d=1):
    if d * (k - 1) % 2:
        raise ValueError("odd")
    return d * (k - 1)


def _always_pair(k, d=1):
    half = d * (k - 1) // 2
    return half, half


SAME_PADDING_MISTAKES = {
    "k-floor-half": (
        lambda k, d=1: k // 2, "only for an odd kernel", ("expected: ValueError",)
    ),
    "never-raises": (_never_raises, "raise ValueError", ("should raise ValueError",)),
    "pytorch-pair-when-odd": (_pair_when_odd, "padding='same'", ()),
    "always-a-pair": (_always_pair, "as one int", ("a tuple",)),
    "raises-for-even-k": (_raise_if_even_k, "not k", ("k=2, d=2",)),
    "dilation-ignored": (_no_dilation_padding, "ignored the dilation", ()),
    "d-times-k": (_d_times_k, "not d·k", ()),
    "total-padding": (_total, "total padding", ()),
    "assert-instead-of-value-error": (_assert_instead, "not AssertionError", ()),
    "float-division": (lambda k, d=1: d * (k - 1) / 2, "//", ("float",)),
    "returns-none": (lambda k, d=1: None, "forget `return`", ()),
}


@pytest.mark.parametrize("name", SAME_PADDING_MISTAKES)
def test_same_padding_rejects_mistake(name):
    fn, hint, words = SAME_PADDING_MISTAKES[name]
    assert_rejected(check.same_padding(fn), hint, *words)


def test_same_padding_signature_without_d_is_explained():
    result = check.same_padding(lambda k: (k - 1) // 2)
    assert_rejected(result, "fn(k, d)", "TypeError")


def test_same_padding_failure_names_the_case():
    result = check.same_padding(lambda k, d=1: k // 2)
    assert result.case == {"k": 4, "d": 1}
    assert "case 4 of 28" in flat(result)
    assert "k=4, d=1" in flat(result)


# --- Properties of both checkers ------------------------------------------------------


def _run_both():
    return [
        check.stack_output_size(stack_loop),
        check.stack_output_size(_ceil),
        check.stack_output_size(_summed),
        check.same_padding(same_padding),
        check.same_padding(_never_raises),
    ]


def test_raise_on_failure_and_raise_for_failure():
    for checker, good in [
        (check.stack_output_size, stack_loop),
        (check.same_padding, same_padding),
    ]:
        assert checker(good, raise_on_failure=True)
        assert checker(good).raise_for_failure()
        with pytest.raises(CheckFailed):
            checker(stub, raise_on_failure=True)
    with pytest.raises(CheckFailed):
        check.same_padding(_never_raises).raise_for_failure()


def test_checkers_are_deterministic_and_leave_global_random_state_alone():
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    first = [result.message for result in _run_both()]
    second = [result.message for result in _run_both()]
    assert first == second
    after = np.random.get_state()
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert numpy_state[2:] == after[2:]
    assert torch.equal(torch_state, torch.get_rng_state())


def test_checkers_are_fast():
    _run_both()  # build the cached cases
    for run in [
        lambda: check.stack_output_size(stack_loop),
        lambda: check.stack_output_size(_summed),  # a failure with a hint search
        lambda: check.same_padding(same_padding),
    ]:
        start = time.perf_counter()
        run()
        assert time.perf_counter() - start < 0.5


def test_both_are_exported_and_documented():
    for name in ("stack_output_size", "same_padding"):
        assert name in check.__all__
        assert getattr(check, name).__doc__
