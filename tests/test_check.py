"""Tests of the checkers in ``labs.check``: what makes them trustworthy.

For every checker: correct solutions (loops and vectorized numpy, written here) pass; a
stub that raises NotImplementedError is "not attempted"; and each planted wrong solution
is rejected, with the hint aimed at its mistake when the checker recognises it. Then the
properties every verdict must have: it names the failing case, it is deterministic, and
running a checker leaves the global random state alone.
"""

from __future__ import annotations

import ast
import math
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from labs import check
from labs.check import CheckFailed, Result

from .verdicts import assert_rejected, flat, stub

# --- Correct solutions ----------------------------------------------------------------


def output_size(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def output_size_no_dilation(i, k, s=1, p=0):
    return (i + 2 * p - k) // s + 1


def transposed_output_size(i, k, s=1, p=0, d=1, output_padding=0):
    return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv1d_loops(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    n_batch, c_in, length = x.shape
    c_out, _, k = w.shape
    length_out = (length - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n_batch, c_out, length_out))
    for n in range(n_batch):
        for o in range(c_out):
            for j in range(length_out):
                for c in range(c_in):
                    for t in range(k):
                        out[n, o, j] += w[o, c, t] * x[n, c, j * stride + t * dilation]
                if b is not None:
                    out[n, o, j] += b[o]
    return out


def conv1d_vectorized(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    k = w.shape[2]
    length_out = (x.shape[2] - dilation * (k - 1) - 1) // stride + 1
    index = np.arange(length_out)[:, None] * stride + np.arange(k) * dilation
    out = np.einsum("ncjt,oct->noj", x[:, :, index], w)
    return out if b is None else out + b[:, None]


def conv2d_loops(x, w, b=None, stride=1, padding=0, dilation=1):
    """The naive six-nested-loop conv2d (seven with the batch) a learner may write."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n_batch, c_in, height, width = x.shape
    c_out, _, kh, kw = w.shape
    h_out = (height - dh * (kh - 1) - 1) // sh + 1
    w_out = (width - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, c_out, h_out, w_out))
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_in):
                        for p in range(kh):
                            for q in range(kw):
                                total += (
                                    w[o, c, p, q]
                                    * x[n, c, i * sh + p * dh, j * sw + q * dw]
                                )
                    out[n, o, i, j] = total
    return out


def conv2d_vectorized(x, w, b=None, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    h_out = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    rows = np.arange(h_out)[:, None] * sh + np.arange(kh) * dh  # (h_out, kh)
    cols = np.arange(w_out)[:, None] * sw + np.arange(kw) * dw  # (w_out, kw)
    patches = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # n c i j p q
    out = np.einsum("ncijpq,ocpq->noij", patches, w)
    return out if b is None else out + b[:, None, None]


def conv_transpose2d_loops(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Scatter each input value times the kernel, then crop the padding."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (ah, aw), (dh, dw) = pair(output_padding), pair(dilation)
    n_batch, c_in, height, width = x.shape
    _, c_out, kh, kw = w.shape
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + ah
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + aw
    full = np.zeros((n_batch, c_out, full_h, full_w))
    for n in range(n_batch):
        for c in range(c_in):
            for i in range(height):
                for j in range(width):
                    for p in range(kh):
                        for q in range(kw):
                            full[n, :, i * sh + p * dh, j * sw + q * dw] += (
                                x[n, c, i, j] * w[c, :, p, q]
                            )
    out = full[:, :, ph : full_h - ph, pw : full_w - pw]
    return out if b is None else out + b[:, None, None]


def conv_transpose2d_vectorized(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Zero insertion, padding d(k - 1), a flipped, axis-swapped kernel, then crop."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (ah, aw), (dh, dw) = pair(output_padding), pair(dilation)
    n_batch, c_in, height, width = x.shape
    kh, kw = w.shape[2:]
    stuffed = np.zeros((n_batch, c_in, (height - 1) * sh + 1, (width - 1) * sw + 1))
    stuffed[:, :, ::sh, ::sw] = x
    eh, ew = dh * (kh - 1), dw * (kw - 1)
    stuffed = np.pad(stuffed, ((0, 0), (0, 0), (eh, eh + ah), (ew, ew + aw)))
    kernel = np.flip(w, (2, 3)).swapaxes(0, 1)
    full = conv2d_vectorized(stuffed, kernel, b, dilation=(dh, dw))
    return full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]


def cube_sum(x):
    return (x**3).sum()


def grad_cube_sum(x):
    return 3 * x**2


def product_exp(x, y):
    return (x * torch.exp(y)).sum()


def grad_product_exp(x, y):
    return torch.exp(y), x * torch.exp(y)


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareSetupContext(torch.autograd.Function):
    """The newer style: forward without ctx, plus setup_context."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b, grad_output * a


class Split(torch.autograd.Function):
    """One input used by two outputs: the two branches' gradients add up."""

    @staticmethod
    def forward(ctx, x):
        return x.clone(), x.clone()

    @staticmethod
    def backward(ctx, grad_a, grad_b):
        return grad_a + grad_b


class Max(torch.autograd.Function):
    """max over the last axis; the gradient goes to the position of the maximum."""

    @staticmethod
    def forward(ctx, x):
        index = x.argmax(dim=-1, keepdim=True)
        ctx.save_for_backward(index)
        ctx.shape = x.shape
        return x.gather(-1, index).squeeze(-1)

    @staticmethod
    def backward(ctx, grad_output):
        (index,) = ctx.saved_tensors
        grad = torch.zeros(ctx.shape, dtype=grad_output.dtype)
        return grad.scatter(-1, index, grad_output.unsqueeze(-1))


def square(x):
    return x * x


def split(x):
    return x.clone(), x.clone()


def max_last(x):
    return x.max(dim=-1).values


# --- Helpers --------------------------------------------------------------------------


def assert_passed(result: Result, cases: int | None = None) -> None:
    assert result.status == "passed", result.message
    assert result and result.passed
    assert result.hint is None and result.case is None
    total = cases if cases is not None else result.cases
    assert f"passed all {total} cases" in flat(result)
    if cases is not None:
        assert result.cases == cases


def assert_not_attempted(result: Result) -> None:
    assert result.status == "not attempted", result.message
    assert not result
    assert result.message.startswith(f"… {result.name}: not ")
    assert "raise NotImplementedError" in flat(result)


# --- output_size ----------------------------------------------------------------------


def test_output_size_passes_correct_solution():
    result = check.output_size(output_size)
    assert_passed(result)
    assert result.cases > 2000  # the whole valid grid
    assert result.message == f"✔ output_size: passed all {result.cases} cases."


def test_output_size_accepts_math_floor_and_any_parameter_names():
    def with_math(size, kernel, step, pad, dil):
        return math.floor((size + 2 * pad - dil * (kernel - 1) - 1) / step) + 1

    assert_passed(check.output_size(with_math))


def test_output_size_without_dilation():
    assert_passed(check.output_size(output_size_no_dilation, dilation=False))
    wrong = check.output_size(
        lambda i, k, s, p: -(-(i + 2 * p - k) // s) + 1, dilation=False
    )
    assert_rejected(wrong, "rounded up")
    # a function written without d cannot pass the full check: d is passed to it
    result = check.output_size(output_size_no_dilation)
    assert_rejected(result, "dilation=False", "TypeError")


def test_output_size_stub_is_not_attempted():
    result = check.output_size(stub)
    assert_not_attempted(result)
    assert result.message == (
        "… output_size: not attempted yet — replace the `raise NotImplementedError` "
        "with your code and run this cell again."
    )


OUTPUT_SIZE_MISTAKES = {
    "ceil-instead-of-floor": (
        lambda i, k, s, p, d: math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        "rounded up",
    ),
    "forgot-plus-one": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s,
        "+ 1",
    ),
    "total-padding": (
        lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1,
        "each side",
    ),
    "dilation-ignored": (
        lambda i, k, s, p, d: (i + 2 * p - k) // s + 1,
        "ignored the dilation",
    ),
    "d-times-k": (lambda i, k, s, p, d: (i + 2 * p - d * k) // s + 1, "d·k"),
    "dilation-as-gaps": (
        lambda i, k, s, p, d: (i + 2 * p - (d + 1) * (k - 1) - 1) // s + 1,
        "d = 1 is",
    ),
    "stride-ignored": (
        lambda i, k, s, p, d: i + 2 * p - d * (k - 1),
        "ignored the stride",
    ),
    "padding-ignored": (
        lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1,
        "ignored the pad",
    ),
    "float-division": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) / s + 1,
        "//",
    ),
    "np-floor-float": (
        lambda i, k, s, p, d: np.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        "//",
    ),
    "returns-none": (lambda i, k, s, p, d: None, "forget `return`"),
    "returns-list": (lambda i, k, s, p, d: [output_size(i, k, s, p, d)], None),
    "returns-array": (
        lambda i, k, s, p, d: np.array(output_size(i, k, s, p, d)),
        "int(",
    ),
    "raises-value-error": (lambda i, k, s, p, d: int("x"), None),
}


@pytest.mark.parametrize("name", OUTPUT_SIZE_MISTAKES)
def test_output_size_rejects_mistake(name):
    fn, hint = OUTPUT_SIZE_MISTAKES[name]
    assert_rejected(check.output_size(fn), hint)


def test_output_size_failure_names_the_case():
    result = check.output_size(OUTPUT_SIZE_MISTAKES["total-padding"][0])
    assert result.case == {"i": 1, "k": 1, "s": 1, "p": 1, "d": 1}
    assert (result.expected, result.got) == (3, 2)
    assert "i=1, k=1, s=1, p=1, d=1" in flat(result)
    assert "expected: 3" in flat(result) and "got: 2" in flat(result)


def test_output_size_error_verdict_names_the_exception():
    result = check.output_size(OUTPUT_SIZE_MISTAKES["raises-value-error"][0])
    assert "ValueError: invalid literal for int()" in flat(result)
    assert "Traceback" not in flat(result)


# --- transposed_output_size -----------------------------------------------------------


def test_transposed_output_size_passes_correct_solution():
    result = check.transposed_output_size(transposed_output_size)
    assert_passed(result)
    assert result.cases > 4000


def test_transposed_output_size_stub_is_not_attempted():
    assert_not_attempted(check.transposed_output_size(stub))


TRANSPOSED_SIZE_MISTAKES = {
    "output-padding-ignored": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + d * (k - 1) + 1,
        "forgot output_padding",
    ),
    "plus-2p": (
        lambda i, k, s, p, d, a: (i - 1) * s + 2 * p + d * (k - 1) + a + 1,
        "- 2p",
    ),
    "dilation-ignored": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + (k - 1) + a + 1,
        "ignored the dilation",
    ),
    "conv-formula": (
        lambda i, k, s, p, d, a: (i + 2 * p - d * (k - 1) - 1) // s + 1,
        "ordinary convolution",
    ),
    "forgot-plus-one": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + d * (k - 1) + a,
        "+ 1",
    ),
    "i-times-s": (
        lambda i, k, s, p, d, a: i * s - 2 * p + d * (k - 1) + a + 1,
        "(i - 1)s",
    ),
    "float": (
        lambda i, k, s, p, d, a: float(transposed_output_size(i, k, s, p, d, a)),
        "//",
    ),
}


@pytest.mark.parametrize("name", TRANSPOSED_SIZE_MISTAKES)
def test_transposed_output_size_rejects_mistake(name):
    fn, hint = TRANSPOSED_SIZE_MISTAKES[name]
    assert_rejected(check.transposed_output_size(fn), hint)


# --- conv1d ---------------------------------------------------------------------------


@pytest.mark.parametrize("solution", [conv1d_loops, conv1d_vectorized])
def test_conv1d_passes_correct_solutions(solution):
    result = check.conv1d(solution)
    assert_passed(result, cases=40)
    assert result.message == "✔ conv1d: passed all 40 cases."


def test_conv1d_with_features_left_out():
    def simplest(x, w):  # the first exercise: no bias, stride, padding or dilation
        return conv1d_vectorized(x, w)

    off = dict(bias=False, stride=False, padding=False, dilation=False)
    assert_passed(check.conv1d(simplest, **off))
    assert_rejected(
        check.conv1d(lambda x, w: simplest(x, w[..., ::-1]), **off), "flipped"
    )

    def no_dilation(x, w, b=None, stride=1, padding=0):
        return conv1d_vectorized(x, w, b, stride, padding)

    assert_passed(check.conv1d(no_dilation, dilation=False))


def test_conv1d_signature_mismatch_is_explained():
    def no_bias_parameter(x, w, stride=1, padding=0, dilation=1):
        return conv1d_vectorized(x, w, None, stride, padding, dilation)

    result = check.conv1d(no_bias_parameter)
    assert_rejected(result, "fn(x, w, b, stride=..., padding=..., dilation=...)")
    assert "bias=False" in result.hint
    assert_passed(check.conv1d(no_bias_parameter, bias=False))


def test_conv1d_stub_is_not_attempted():
    assert_not_attempted(check.conv1d(stub))


def test_conv1d_partly_written_is_not_finished():
    def no_dilation_yet(x, w, b=None, stride=1, padding=0, dilation=1):
        if dilation != 1:
            raise NotImplementedError("dilation")
        return conv1d_vectorized(x, w, b, stride, padding)

    result = check.conv1d(no_dilation_yet)
    assert_not_attempted(result)
    assert "not finished yet" in flat(result) and "dilation=2" in flat(result)


def _conv1d_one_side(side):
    def padded_one_side(x, w, b=None, stride=1, padding=0, dilation=1):
        widths = (padding, 0) if side == "left" else (0, padding)
        x = np.pad(x, ((0, 0), (0, 0), widths))
        return conv1d_vectorized(x, w, b, stride, 0, dilation)

    return padded_one_side


def _conv1d_int_output(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv1d_vectorized(x, w, b, stride, padding, dilation).astype(int)


def _conv1d_mutates(x, w, b=None, stride=1, padding=0, dilation=1):
    x *= 2
    return conv1d_vectorized(x, w, b, stride, padding, dilation) / 2


def _conv1d_nan(x, w, b=None, stride=1, padding=0, dilation=1):
    out = conv1d_vectorized(x, w, b, stride, padding, dilation)
    out[..., -1] = np.nan
    return out


def _conv1d_bias_always(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv1d_vectorized(x, w, None, stride, padding, dilation) + b[:, None]


def _conv1d_forgot_return(x, w, b=None, stride=1, padding=0, dilation=1):
    conv1d_vectorized(x, w, b, stride, padding, dilation)


def _conv1d_raises(x, w, b=None, stride=1, padding=0, dilation=1):
    raise ValueError("shapes do not match")


def _conv1d(mutate_args=None, mutate_out=None):
    """A planted mistake: the correct conv1d with its arguments or output changed."""

    def planted(x, w, b=None, stride=1, padding=0, dilation=1):
        args = dict(x=x, w=w, b=b, stride=stride, padding=padding, dilation=dilation)
        if mutate_args:
            args = mutate_args(**args)
        out = conv1d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _changed(**changes):
    def mutate(**args):
        return {**args, **{k: f(args) for k, f in changes.items()}}

    return mutate


CONV1D_MISTAKES = {
    "kernel-flipped": (
        _conv1d(_changed(w=lambda a: a["w"][..., ::-1])),
        "kernel flipped",
    ),
    "bias-missing": (_conv1d(_changed(b=lambda a: None)), "without the bias"),
    "bias-per-input-channel": (
        _conv1d(
            _changed(b=lambda a: None if a["b"] is None else a["b"] * a["x"].shape[1])
        ),
        "once per input channel",
    ),
    "output-one-too-short": (
        _conv1d(mutate_out=lambda out: out[..., :-1]),
        "one too short",
    ),
    "output-one-too-long": (
        _conv1d(mutate_out=lambda out: np.concatenate([out, out[..., -1:]], axis=-1)),
        "one too long",
    ),
    "padding-left-only": (_conv1d_one_side("left"), "only on the left"),
    "padding-right-only": (_conv1d_one_side("right"), "only on the right"),
    "stride-dilation-swapped": (
        _conv1d(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (_conv1d(_changed(dilation=lambda a: 1)), "ignored dilation"),
    "stride-ignored": (_conv1d(_changed(stride=lambda a: 1)), "ignored stride"),
    "padding-ignored": (_conv1d(_changed(padding=lambda a: 0)), "ignored padding"),
    "no-sum-over-input-channels": (
        _conv1d(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:, :1])),
        "first input channel",
    ),
    "channels-assigned-not-accumulated": (
        _conv1d(_changed(x=lambda a: a["x"][:, -1:], w=lambda a: a["w"][:, -1:])),
        "instead of accumulated",
    ),
    "returns-list": (_conv1d(mutate_out=lambda out: out.tolist()), "np.asarray"),
    "returns-tensor": (_conv1d(mutate_out=torch.from_numpy), ".numpy()"),
    "returns-none": (_conv1d_forgot_return, "forget `return`"),
    "returns-int-array": (_conv1d_int_output, "np.zeros(shape)"),
    "returns-float32": (
        _conv1d(mutate_out=lambda out: out.astype(np.float32)),
        "float64",
    ),
    "returns-nan": (_conv1d_nan, "NaN"),
    "raises-value-error": (_conv1d_raises, None),
    "mutates-input": (_conv1d_mutates, "copy"),
    "bias-none-not-handled": (_conv1d_bias_always, "if b is not None"),
}


@pytest.mark.parametrize("name", CONV1D_MISTAKES)
def test_conv1d_rejects_mistake(name):
    fn, hint = CONV1D_MISTAKES[name]
    assert_rejected(check.conv1d(fn), hint)


def test_conv1d_failure_text_names_case_expected_and_got():
    result = check.conv1d(CONV1D_MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 40." and result.cases == 1
    assert "case: x=[[[1, 2, 3, 4, 5]]], w=[[[1, 2, -1]]], b=None, stride=1" in flat(
        result
    )
    assert "expected: [[[2, 4, 6]]]" in flat(result)
    assert "got: [[[6, 8, 10]]]" in flat(result)
    assert "max abs error 4" in flat(result)
    np.testing.assert_array_equal(result.case["x"], [[[1, 2, 3, 4, 5]]])
    np.testing.assert_array_equal(result.expected, [[[2, 4, 6]]])
    np.testing.assert_array_equal(result.got, [[[6, 8, 10]]])


def test_conv1d_failure_on_larger_arrays_reports_worst_element():
    result = check.conv1d(CONV1D_MISTAKES["bias-missing"][0])
    assert "x of shape (1, 2, 6)" in flat(result)
    assert "(the worst element)" in flat(result) and "out[0, " in flat(result)
    assert "1e-08 + 1e-06·|expected|" in flat(result)


def test_conv1d_wrong_shape_is_reported_before_values():
    result = check.conv1d(CONV1D_MISTAKES["output-one-too-short"][0])
    assert "wrong shape" in flat(result)
    assert "expected: shape (1, 1, 3)" in flat(result)
    assert "got: shape (1, 1, 2)" in flat(result)


def test_conv1d_mutation_names_the_argument():
    result = check.conv1d(_conv1d_mutates)
    assert "modified its argument `x` in place" in flat(result)


def test_passing_a_result_instead_of_the_function():
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    result = check.conv1d(conv1d_vectorized(x, w))
    assert_rejected(result, "without calling it", "got a numpy array")
    assert_rejected(check.output_size(3), "without calling it")
    assert_rejected(check.gradient(cube_sum, None), "without calling it")


def test_exception_verdict_names_type_message_and_line():
    result = check.conv1d(_conv1d_raises)
    assert "your function raised ValueError: shapes do not match" in flat(result)
    assert "in _conv1d_raises, line" in flat(result)
    assert 'raise ValueError("shapes do not match")' in flat(result)
    assert "Traceback" not in flat(result) and result.got is None


# --- conv2d ---------------------------------------------------------------------------


@pytest.mark.parametrize("solution", [conv2d_loops, conv2d_vectorized])
def test_conv2d_passes_correct_solutions(solution):
    assert_passed(check.conv2d(solution), cases=25)


def test_conv2d_naive_loops_speed():
    start = time.perf_counter()
    assert check.conv2d(conv2d_loops)
    print(f"naive six-loop conv2d checked in {time.perf_counter() - start:.2f} s")


def test_conv2d_stub_is_not_attempted():
    assert_not_attempted(check.conv2d(stub))


def _conv2d(mutate_args=None, mutate_out=None):
    def planted(x, w, b=None, stride=1, padding=0, dilation=1):
        args = dict(x=x, w=w, b=b, stride=stride, padding=padding, dilation=dilation)
        if mutate_args:
            args = mutate_args(**args)
        out = conv2d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _conv2d_one_side(side):
    def padded_one_side(x, w, b=None, stride=1, padding=0, dilation=1):
        ph, pw = pair(padding)
        widths = ((ph, 0), (pw, 0)) if side == "start" else ((0, ph), (0, pw))
        x = np.pad(x, ((0, 0), (0, 0), *widths))
        return conv2d_vectorized(x, w, b, stride, 0, dilation)

    return padded_one_side


def _conv2d_ints_only(x, w, b=None, stride=1, padding=0, dilation=1):
    """Fails on pairs, like a learner's code written for ints only."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out = (x.shape[2] - dilation * (w.shape[2] - 1) - 1) // stride + 1
    return conv2d_vectorized(x, w, b, stride, 0, dilation)[:, :, :h_out]


def _reversed(name):
    return _changed(**{name: lambda a: pair(a[name])[::-1]})


CONV2D_MISTAKES = {
    "kernel-flipped": (
        _conv2d(_changed(w=lambda a: a["w"][..., ::-1, ::-1])),
        "flipped",
    ),
    "bias-missing": (_conv2d(_changed(b=lambda a: None)), "without the bias"),
    "output-one-too-short": (
        _conv2d(mutate_out=lambda out: out[..., :-1]),
        "one too short",
    ),
    "output-one-too-long": (
        _conv2d(mutate_out=lambda out: np.concatenate([out, out[:, :, -1:]], axis=2)),
        "one too long",
    ),
    "padding-top-left-only": (_conv2d_one_side("start"), "only at the top and left"),
    "padding-bottom-right-only": (
        _conv2d_one_side("end"),
        "only at the bottom and right",
    ),
    "stride-dilation-swapped": (
        _conv2d(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (_conv2d(_changed(dilation=lambda a: 1)), "ignored dilation"),
    "stride-height-width-swapped": (
        _conv2d(_reversed("stride")),
        "height and width of stride",
    ),
    "padding-height-width-swapped": (
        _conv2d(_reversed("padding")),
        "height and width of padding",
    ),
    "dilation-height-width-swapped": (
        _conv2d(_reversed("dilation")),
        "height and width of dilation",
    ),
    "no-sum-over-input-channels": (
        _conv2d(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:, :1])),
        "first input channel",
    ),
    "channels-assigned-not-accumulated": (
        _conv2d(_changed(x=lambda a: a["x"][:, -1:], w=lambda a: a["w"][:, -1:])),
        "instead of accumulated",
    ),
    "ints-only": (_conv2d_ints_only, "accept both"),
    "returns-list": (_conv2d(mutate_out=lambda out: out.tolist()), "np.asarray"),
}


@pytest.mark.parametrize("name", CONV2D_MISTAKES)
def test_conv2d_rejects_mistake(name):
    fn, hint = CONV2D_MISTAKES[name]
    assert_rejected(check.conv2d(fn), hint)


def test_conv2d_tuples_false_passes_ints_only():
    def ints_only(x, w, b=None, stride=1, padding=0, dilation=1):
        assert all(isinstance(v, int) for v in (stride, padding, dilation))
        return conv2d_vectorized(x, w, b, stride, padding, dilation)

    assert_passed(check.conv2d(ints_only, tuples=False), cases=25)


# --- conv_transpose2d -----------------------------------------------------------------


@pytest.mark.parametrize(
    "solution", [conv_transpose2d_loops, conv_transpose2d_vectorized]
)
def test_conv_transpose2d_passes_correct_solutions(solution):
    assert_passed(check.conv_transpose2d(solution), cases=25)


def test_conv_transpose2d_stub_is_not_attempted():
    assert_not_attempted(check.conv_transpose2d(stub))


def test_conv_transpose2d_with_features_left_out():
    def simplest(x, w):
        return conv_transpose2d_vectorized(x, w)

    off = dict(
        bias=False, stride=False, padding=False, output_padding=False, dilation=False
    )
    assert_passed(check.conv_transpose2d(simplest, **off))


def _transposed(mutate_args=None, mutate_out=None):
    def planted(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
        args = dict(
            x=x,
            w=w,
            b=b,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )
        if mutate_args:
            args = mutate_args(**args)
        out = conv_transpose2d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _transposed_padding_added(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    full = conv_transpose2d_vectorized(x, w, b, stride, 0, output_padding, dilation)
    ph, pw = pair(padding)
    return np.pad(full, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _transposed_weight_as_conv(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Reads w[o, c] instead of w[c, o], as if the layout were (C_out, C_in, kH, kW)."""
    c_in = x.shape[1]
    if w.shape[1] < c_in:
        raise IndexError(f"index {w.shape[1]} is out of bounds for axis 1")
    weight = w[:, :c_in].swapaxes(0, 1)
    out = conv_transpose2d_vectorized(
        x, weight, None, stride, padding, output_padding, dilation
    )
    return out if b is None else out + b[: out.shape[1], None, None]


TRANSPOSED_MISTAKES = {
    "kernel-flipped": (
        _transposed(_changed(w=lambda a: a["w"][..., ::-1, ::-1])),
        "flipped",
    ),
    "bias-missing": (_transposed(_changed(b=lambda a: None)), "without the bias"),
    "output-padding-ignored": (
        _transposed(_changed(output_padding=lambda a: 0)),
        "ignored output_padding",
    ),
    "padding-added-not-cropped": (_transposed_padding_added, "cropped from the output"),
    "padding-ignored": (_transposed(_changed(padding=lambda a: 0)), "ignored padding"),
    "channel-axes-swapped": (_transposed_weight_as_conv, "(C_in, C_out, kH, kW)"),
    "stride-dilation-swapped": (
        _transposed(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (
        _transposed(_changed(dilation=lambda a: 1)),
        "ignored dilation",
    ),
    "no-sum-over-input-channels": (
        _transposed(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:1])),
        "first input channel",
    ),
    "returns-none": (_transposed(mutate_out=lambda out: None), "forget `return`"),
}


@pytest.mark.parametrize("name", TRANSPOSED_MISTAKES)
def test_conv_transpose2d_rejects_mistake(name):
    fn, hint = TRANSPOSED_MISTAKES[name]
    assert_rejected(check.conv_transpose2d(fn), hint)


def test_conv_transpose2d_channel_axes_swapped_on_square_weights():
    """With C_in = C_out the swapped layout runs; the values give the mistake away."""

    def square_channels_only(
        x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
    ):
        if w.shape[0] != w.shape[1]:
            return conv_transpose2d_vectorized(
                x, w, b, stride, padding, output_padding, dilation
            )
        return conv_transpose2d_vectorized(
            x, w.swapaxes(0, 1), b, stride, padding, output_padding, dilation
        )

    result = check.conv_transpose2d(square_channels_only)
    assert_rejected(result, "swapped the two channel axes")


# --- gradient -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f, grad_f, shapes",
    [
        (cube_sum, grad_cube_sum, ((),)),
        (cube_sum, grad_cube_sum, ((4,),)),
        (cube_sum, lambda x: (3 * x**2).numpy(), ((2, 3),)),  # numpy arrays are fine
        (cube_sum, lambda x: 3 * float(x) ** 2, ((),)),  # and so are floats
        (product_exp, grad_product_exp, ((3,), (3,))),
        (product_exp, lambda x, y: [torch.exp(y), x * torch.exp(y)], ((3,), (3,))),
        (lambda x: x.sum() * 0 + 5.0, lambda x: 0, ((),)),  # a constant: gradient 0
    ],
    ids=[
        "scalar",
        "vector",
        "numpy",
        "float",
        "two-inputs",
        "list-container",
        "constant",
    ],
)
def test_gradient_passes_correct_solutions(f, grad_f, shapes):
    assert_passed(check.gradient(f, grad_f, shapes=shapes), cases=10)


def test_gradient_verdict_names_f():
    assert check.gradient(cube_sum, grad_cube_sum).message == (
        "✔ gradient of cube_sum: passed all 10 cases."
    )


def test_gradient_stub_is_not_attempted():
    assert_not_attempted(check.gradient(cube_sum, stub))


def _grad_mutates(x):
    x.mul_(3)
    return x * x


def _grad_raises(x):
    raise ValueError("not differentiable here")


GRADIENT_MISTAKES = {
    "factor-of-2": (lambda x: 6 * x**2, ((),), "2× the true one"),
    "factor-of-2-vector": (lambda x: 6 * x**2, ((5,),), "2× the true one"),
    "wrong-sign": (lambda x: -3 * x**2, ((3,),), "wrong sign"),
    "one-branch-only": (lambda x: x**2, ((),), "1/3× the true one"),
    "returns-list": (lambda x: (3 * x**2).tolist(), ((3,),), "not a list"),
    "returns-none": (lambda x: None, ((),), "forget `return`"),
    "returns-nan": (lambda x: torch.full_like(x, float("nan")), ((2,),), "NaN"),
    "raises-value-error": (_grad_raises, ((),), None),
    "mutates-input": (_grad_mutates, ((2,),), "x.clamp"),
    "wrong-shape": (lambda x: (3 * x**2).reshape(1, -1), ((3,),), None),
    "number-for-vector": (
        lambda x: float((3 * x**2).sum()),
        ((3,),),
        "one entry per element",
    ),
    "string": (lambda x: "3x^2", ((),), None),
}


@pytest.mark.parametrize("name", GRADIENT_MISTAKES)
def test_gradient_rejects_mistake(name):
    grad_f, shapes, hint = GRADIENT_MISTAKES[name]
    assert_rejected(check.gradient(cube_sum, grad_f, shapes=shapes), hint)


def test_gradient_in_the_wrong_order():
    result = check.gradient(
        product_exp, lambda x, y: grad_product_exp(x, y)[::-1], shapes=((3,), (3,))
    )
    assert_rejected(result, "is the true gradient for y")


def test_gradient_with_the_wrong_number_of_gradients():
    result = check.gradient(product_exp, lambda x, y: torch.exp(y), shapes=((3,), (3,)))
    assert_rejected(result, "one gradient per input")


def test_gradient_failure_names_inputs_expected_and_got():
    result = check.gradient(cube_sum, GRADIENT_MISTAKES["factor-of-2"][0])
    x = float(result.case["x"])
    assert f"x={x:.4g}" in flat(result)
    assert f"expected: {3 * x * x:.4g}" in flat(result)
    assert f"got: {6 * x * x:.4g}" in flat(result)


def test_gradient_of_a_non_scalar_function_is_explained():
    result = check.gradient(lambda x: x**2, lambda x: 2 * x, shapes=((3,),))
    assert_rejected(result, "problem with the exercise", "not a scalar")


# --- function -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, reference, shapes",
    [
        (Square, square, ((3, 4),)),
        (SquareSetupContext, square, ((3, 4),)),
        (Mul, torch.mul, ((3, 4), (3, 4))),
        (Split, split, ((5,),)),
        (Max, max_last, ((3, 4),)),
    ],
    ids=["square", "setup-context-style", "mul", "split", "max"],
)
def test_function_passes_correct_solutions(cls, reference, shapes):
    result = check.function(cls, reference, shapes=shapes)
    assert_passed(result, cases=5)
    assert result.message == f"✔ {cls.__name__}: passed all 5 cases and gradcheck."


def test_function_stub_is_not_attempted():
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


class SquareOneBranch(Square):
    """x * x seen as a product of x and x; backward forgot one of the two branches."""

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return x * grad_output


class SquareWrongSign(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -2 * x * grad_output


class SquareWrongForward(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x + 1


class SquareForgotSave(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return 2 * ctx.x * grad_output


class SquareSavedNothing(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareNumpyForward(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.numpy() ** 2


class SquareNumpyBackward(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).numpy()


class SquareInPlace(Square):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.mul_(x).clone()


class SquareWrongShape(Square):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return (2 * x * grad_output).sum(0)


class SquareRaises(Square):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("negative input")


class SquareBackwardNone(Square):
    @staticmethod
    def backward(ctx, grad_output):
        return None


class SquareCtxMixup(torch.autograd.Function):
    """forward(ctx, x) together with setup_context: torch cannot call it."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class SquareNoCtx(torch.autograd.Function):
    """forward(x) without ctx, but no setup_context: torch passes ctx anyway."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


class SquareStateful(Square):
    """Right for the first calls only: state kept on the class. gradcheck catches it."""

    calls = 0

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        SquareStateful.calls += 1
        return (2 if SquareStateful.calls <= 5 else 3) * x * grad_output


class MulSwapped(Mul):
    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * a, grad_output * b


class MulOneGradient(Mul):
    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output * b


class SplitAssigned(Split):
    @staticmethod
    def backward(ctx, grad_a, grad_b):
        return grad_a  # assigned, not accumulated


FUNCTION_MISTAKES = {
    "one-branch-only": (SquareOneBranch, square, "0.5× the true one"),
    "wrong-sign": (SquareWrongSign, square, "wrong sign"),
    "wrong-forward": (SquareWrongForward, square, None),
    "forgot-save-for-backward": (SquareForgotSave, square, "save_for_backward"),
    "saved-nothing": (SquareSavedNothing, square, "save_for_backward"),
    "numpy-from-forward": (SquareNumpyForward, square, "torch.from_numpy"),
    "numpy-from-backward": (SquareNumpyBackward, square, "not numpy arrays"),
    "forward-modifies-input": (SquareInPlace, square, "x.clamp"),
    "wrong-gradient-shape": (SquareWrongShape, square, "shape of its input"),
    "raises-value-error": (SquareRaises, square, None),
    "backward-returns-none": (SquareBackwardNone, square, "returned None"),
    "ctx-and-setup-context": (SquareCtxMixup, square, "setup_context"),
    "no-ctx-no-setup-context": (SquareNoCtx, square, "setup_context"),
    "mul-gradients-swapped": (MulSwapped, torch.mul, "true gradient for b"),
    "wrong-number-of-gradients": (MulOneGradient, torch.mul, "one gradient per input"),
    "split-assigned-not-accumulated": (SplitAssigned, split, "accumulate"),
}


@pytest.mark.parametrize("name", FUNCTION_MISTAKES)
def test_function_rejects_mistake(name):
    cls, reference, hint = FUNCTION_MISTAKES[name]
    shapes = ((3, 4), (3, 4)) if reference is torch.mul else ((3, 4),)
    assert_rejected(check.function(cls, reference, shapes=shapes), hint)


def test_function_error_messages_name_the_problem():
    result = check.function(MulOneGradient, torch.mul, shapes=((3, 4), (3, 4)))
    assert "incorrect number of gradients (expected 2, got 1)" in flat(result)
    result = check.function(SquareRaises, square)
    assert "forward raised ValueError: negative input" in flat(result)
    result = check.function(SquareInPlace, square)
    assert "forward modified its argument `x` in place" in flat(result)


def test_function_gradcheck_failure_is_reported():
    SquareStateful.calls = 0
    result = check.function(SquareStateful, square)
    assert_rejected(result, "keeps state", "gradcheck failed")
    SquareStateful.calls = 0
    assert_passed(check.function(SquareStateful, square, gradcheck=False), cases=5)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (Square.apply, "pass the class itself"),
        (square, "subclass of torch.autograd.Function"),
        (int, "int is not a subclass"),
    ],
    ids=["apply", "plain-function", "other-class"],
)
def test_function_rejects_what_is_not_a_function_class(wrong, words):
    assert_rejected(check.function(wrong, square), None, words)


# --- Properties of every verdict ------------------------------------------------------


def test_raise_for_failure():
    passed = check.conv1d(conv1d_vectorized)
    assert passed.raise_for_failure() is passed
    failed = check.conv1d(CONV1D_MISTAKES["bias-missing"][0])
    with pytest.raises(CheckFailed) as error:
        failed.raise_for_failure()
    assert str(error.value) == failed.message
    assert issubclass(CheckFailed, AssertionError)
    with pytest.raises(CheckFailed):
        check.conv1d(stub).raise_for_failure()


def test_raise_on_failure_keyword_on_every_checker():
    calls = [
        lambda **k: check.output_size(stub, **k),
        lambda **k: check.transposed_output_size(stub, **k),
        lambda **k: check.conv1d(stub, **k),
        lambda **k: check.conv2d(stub, **k),
        lambda **k: check.conv_transpose2d(stub, **k),
        lambda **k: check.gradient(cube_sum, stub, **k),
        lambda **k: check.function(Square.apply, square, **k),
    ]
    for call in calls:
        assert not call()
        with pytest.raises(CheckFailed):
            call(raise_on_failure=True)
    assert check.conv1d(conv1d_vectorized, raise_on_failure=True)


def test_repr_and_html():
    passed = check.conv1d(conv1d_vectorized)
    failed = check.conv1d(CONV1D_MISTAKES["kernel-flipped"][0])
    not_attempted = check.conv1d(stub)
    for result, word in [
        (passed, "✔ Passed"),
        (failed, "✘ Failed"),
        (not_attempted, "… Not attempted yet"),
    ]:
        assert repr(result) == str(result) == result.message
        page = result._repr_html_()
        assert isinstance(page, str) and page.startswith("<div") and word in page
    assert "kernel flipped" in failed._repr_html_()
    assert "0x" not in failed.message


def _run_every_checker():
    return [
        check.output_size(output_size),
        check.output_size(OUTPUT_SIZE_MISTAKES["ceil-instead-of-floor"][0]),
        check.transposed_output_size(transposed_output_size),
        check.conv1d(conv1d_vectorized),
        check.conv1d(CONV1D_MISTAKES["kernel-flipped"][0]),
        check.conv2d(conv2d_vectorized),
        check.conv2d(CONV2D_MISTAKES["padding-top-left-only"][0]),
        check.conv_transpose2d(conv_transpose2d_vectorized),
        check.gradient(cube_sum, grad_cube_sum, shapes=((3,),)),
        check.gradient(cube_sum, GRADIENT_MISTAKES["factor-of-2"][0]),
        check.function(Square, square),
        check.function(SquareOneBranch, square),
    ]


def test_checkers_leave_global_random_state_alone():
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    _run_every_checker()
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and numpy_state[2:] == after[2:]
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert torch.equal(torch_state, torch.get_rng_state())


def test_verdicts_are_deterministic():
    first = [result.message for result in _run_every_checker()]
    second = [result.message for result in _run_every_checker()]
    assert first == second


def test_checker_speed_on_correct_solutions():
    """Each checker runs well under a second (printed, not asserted: machines vary)."""
    for name, run in [
        ("output_size", lambda: check.output_size(output_size)),
        (
            "transposed_output_size",
            lambda: check.transposed_output_size(transposed_output_size),
        ),
        ("conv1d", lambda: check.conv1d(conv1d_loops)),
        ("conv2d loops", lambda: check.conv2d(conv2d_loops)),
        (
            "conv_transpose2d loops",
            lambda: check.conv_transpose2d(conv_transpose2d_loops),
        ),
        ("gradient", lambda: check.gradient(cube_sum, grad_cube_sum)),
        ("function", lambda: check.function(Square, square)),
    ]:
        start = time.perf_counter()
        assert run()
        print(f"{name}: {time.perf_counter() - start:.3f} s")


# --- Package rules --------------------------------------------------------------------

CHECK_DIR = pathlib.Path(check.__file__).parent


def test_public_api():
    """Every exported name exists and is documented; every checker module's public
    functions are exported (a checker that is written but not listed would be missed)."""
    assert {"Result", "CheckFailed", "output_size", "transposed_output_size", "conv1d",
            "conv2d", "conv_transpose2d", "gradient", "function"} <= set(check.__all__)
    assert len(set(check.__all__)) == len(check.__all__)
    for name in check.__all__:
        assert getattr(check, name).__doc__, f"{name} has no docstring"
    for path in CHECK_DIR.glob("*.py"):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                assert node.name in check.__all__, f"{path.name}: {node.name} not exported"


def test_checkers_import_nothing_from_labs_but_labs_check():
    for path in CHECK_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module == "labs" or module.startswith("labs."):
                    assert module.startswith("labs.check"), (
                        f"{path.name} imports {module}"
                    )


def test_importing_labs_does_not_import_torch():
    code = "import sys, labs; print('torch' in sys.modules)"
    root = CHECK_DIR.parent.parent
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert output.stdout.strip() == "False"
