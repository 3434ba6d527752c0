"""Tests of chapter 4's checkers: ``conv2d_matrix`` and ``restoring_output_padding``.

Correct solutions pass; a stub is "not attempted"; each planted wrong solution is
rejected, with the hint aimed at its mistake. Then the properties every verdict must
have: it names the failing case, it is deterministic, it leaves the global random state
alone, and it is quick.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from labs import check, shapes

from .verdicts import flat, stub

# --- conv2d_matrix: correct solutions -------------------------------------------------


def matrix_loops(kernel, input_shape, stride=1):
    kh, kw = kernel.shape
    h, w = input_shape
    h_out, w_out = (h - kh) // stride + 1, (w - kw) // stride + 1
    m = np.zeros((h_out * w_out, h * w))
    for r in range(h_out):
        for c in range(w_out):
            for i in range(kh):
                for j in range(kw):
                    column = (r * stride + i) * w + c * stride + j
                    m[r * w_out + c, column] = kernel[i, j]
    return m


def matrix_windows(kernel, input_shape, stride=1):
    """One row at a time: the kernel pasted into a zero image, then flattened."""
    kh, kw = kernel.shape
    h, w = input_shape
    rows = []
    for r in range(0, h - kh + 1, stride):
        for c in range(0, w - kw + 1, stride):
            image = np.zeros((h, w))
            image[r : r + kh, c : c + kw] = kernel
            rows.append(image.ravel())
    return np.array(rows)


def matrix_jacobian(kernel, input_shape, stride=1):
    """Any way of computing the Jacobian of conv2d is right, e.g. with torch."""
    weight = torch.from_numpy(kernel)[None, None]

    def conv(flat):
        x = flat.reshape(1, 1, *input_shape)
        return torch.nn.functional.conv2d(x, weight, stride=stride).reshape(-1)

    flat = torch.zeros(input_shape[0] * input_shape[1], dtype=torch.float64)
    return torch.autograd.functional.jacobian(conv, flat).numpy()


def matrix_no_stride(kernel, input_shape):
    return matrix_loops(kernel, input_shape)


# --- conv2d_matrix: planted mistakes --------------------------------------------------


def _changed(change_kernel=None, change_matrix=None):
    """The correct matrix, built from a changed kernel or changed afterwards."""

    def planted(kernel, input_shape, stride=1):
        kernel = change_kernel(kernel) if change_kernel else kernel
        m = matrix_loops(kernel, input_shape, stride)
        return change_matrix(m, input_shape, stride, kernel) if change_matrix else m

    return planted


def _out_shape(kernel, input_shape, stride):
    return tuple((n - k) // stride + 1 for n, k in zip(input_shape, kernel.shape))


def _columns_column_major(m, input_shape, stride, kernel):
    h, w = input_shape
    return m.reshape(-1, h, w).transpose(0, 2, 1).reshape(m.shape)


def _rows_column_major(m, input_shape, stride, kernel):
    h_out, w_out = _out_shape(kernel, input_shape, stride)
    return m.reshape(h_out, w_out, -1).transpose(1, 0, 2).reshape(m.shape)


def _contiguous_kernel(kernel, input_shape, stride=1):
    """Forgot that the next kernel row is W columns further in the flattened image."""
    h, w = input_shape
    h_out, w_out = _out_shape(kernel, input_shape, stride)
    m = np.zeros((h_out * w_out, h * w))
    for r in range(h_out):
        for c in range(w_out):
            start = r * stride * w + c * stride
            m[r * w_out + c, start : start + kernel.size] = kernel.ravel()
    return m


def _ignores_stride(kernel, input_shape, stride=1):
    return matrix_loops(kernel, input_shape)


def _one_row_per_pixel(kernel, input_shape, stride=1):
    """A window at every pixel, cut at the bottom and right edges."""
    h, w = input_shape
    kh, kw = kernel.shape
    big = matrix_loops(kernel, (h + kh - 1, w + kw - 1))
    columns = big.reshape(-1, h + kh - 1, w + kw - 1)[:, :h, :w]
    return columns.reshape(h * w, h * w)


def _one_row_too_few(kernel, input_shape, stride=1):
    return matrix_loops(kernel, input_shape, stride)[:-1]


def _one_column_too_many(kernel, input_shape, stride=1):
    m = matrix_loops(kernel, input_shape, stride)
    return np.hstack([m, np.zeros((m.shape[0], 1))])


def _integer_matrix(kernel, input_shape, stride=1):
    return matrix_loops(kernel, input_shape, stride).astype(int)


def _mutates_kernel(kernel, input_shape, stride=1):
    kernel *= 1.0
    kernel[...] = kernel[::-1, ::-1].copy()
    return matrix_loops(kernel[::-1, ::-1], input_shape, stride)


def _forgot_return(kernel, input_shape, stride=1):
    matrix_loops(kernel, input_shape, stride)


def _index_past_the_end(kernel, input_shape, stride=1):
    h, w = input_shape
    m = np.zeros((h * w, h * w))
    for r in range(h):
        for c in range(w):
            m[r * w + c, (r + kernel.shape[0] - 1) * w + c] = kernel[-1, 0]
    return m


def _keyword_only_shape(kernel, *, input_shape, stride=1):
    return matrix_loops(kernel, input_shape, stride)


MATRIX_MISTAKES = {
    "transposed": (_changed(change_matrix=lambda m, *_: m.T), "transpose of M"),
    "kernel-flipped": (
        _changed(change_kernel=lambda k: k[::-1, ::-1]),
        "rotated by 180",
    ),
    "kernel-flipped-upside-down": (
        _changed(change_kernel=lambda k: k[::-1]),
        "flipped upside down",
    ),
    "kernel-flipped-left-to-right": (
        _changed(change_kernel=lambda k: k[:, ::-1]),
        "flipped left to right",
    ),
    "kernel-transposed": (_changed(change_kernel=lambda k: k.T), "kernel transposed"),
    "columns-column-major": (
        _changed(change_matrix=_columns_column_major),
        "x.ravel(order='F')",
    ),
    "rows-column-major": (
        _changed(change_matrix=_rows_column_major),
        "rows follow the output pixels column by column",
    ),
    "both-column-major": (
        _changed(
            change_matrix=lambda m, *a: _rows_column_major(
                _columns_column_major(m, *a), *a
            )
        ),
        "rows and columns both",
    ),
    "contiguous-kernel": (_contiguous_kernel, "consecutive columns"),
    "ignores-stride": (_ignores_stride, "the one for stride 1"),
    "four-axes-not-reshaped": (
        _changed(
            change_matrix=lambda m, shape, s, k: m.reshape(
                *_out_shape(k, shape, s), *shape
            )
        ),
        ".reshape(",
    ),
    "one-row-per-pixel": (_one_row_per_pixel, "one row per input pixel"),
    "one-row-too-few": (_one_row_too_few, "it needs one per output pixel"),
    "one-column-too-many": (_one_column_too_many, "it needs one per input pixel"),
    "returns-list": (_changed(change_matrix=lambda m, *_: m.tolist()), "np.asarray"),
    "returns-tensor": (
        _changed(change_matrix=lambda m, *_: torch.from_numpy(m)),
        ".numpy()",
    ),
    "returns-float32": (
        _changed(change_matrix=lambda m, *_: m.astype(np.float32)),
        "float64",
    ),
    "returns-int-array": (_integer_matrix, "np.zeros(shape)"),
    "returns-none": (_forgot_return, "forget `return`"),
    "mutates-kernel": (_mutates_kernel, "copy"),
    "index-past-the-end": (_index_past_the_end, "check your indices"),
    "wrong-signature": (_keyword_only_shape, "fn(kernel, input_shape, stride=...)"),
    "no-stride-parameter": (matrix_no_stride, "stride=False"),
}


# --- conv2d_matrix: tests -------------------------------------------------------------


@pytest.mark.parametrize("solution", [matrix_loops, matrix_windows, matrix_jacobian])
def test_matrix_passes_correct_solutions(solution):
    result = check.conv2d_matrix(solution)
    assert result.status == "passed", result.message
    assert result and result.cases == 20 and result.hint is None
    assert result.message == "✔ conv2d_matrix: passed all 20 cases."
    assert result.raise_for_failure() is result


def test_matrix_without_stride_passes_a_two_argument_solution():
    result = check.conv2d_matrix(matrix_no_stride, stride=False)
    assert result.status == "passed" and result.cases == 20, result.message


def test_the_matrix_computes_the_convolution():
    """What the exercise promises: M @ x.ravel() is conv2d's output, flattened."""
    rng = np.random.default_rng(0)
    kernel, x = rng.standard_normal((3, 2)), rng.standard_normal((7, 6))
    m = matrix_loops(kernel, x.shape, stride=2)
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None], stride=2
    )
    np.testing.assert_allclose(m @ x.ravel(), expected.numpy().ravel())


def test_matrix_stub_is_not_attempted():
    result = check.conv2d_matrix(stub)
    assert result.status == "not attempted" and not result
    assert result.message == (
        "… conv2d_matrix: not attempted yet — replace the `raise NotImplementedError` "
        "with your code and run this cell again."
    )


@pytest.mark.parametrize("name", MATRIX_MISTAKES)
def test_matrix_rejects_mistake(name):
    fn, hint = MATRIX_MISTAKES[name]
    result = check.conv2d_matrix(fn)
    assert result.status == "failed" and not result, result.message
    assert result.message.startswith("✘ conv2d_matrix: failed on case ")
    assert "Traceback" not in result.message
    assert result.hint is not None and hint in result.hint, result.message


def test_matrix_failure_shows_the_tiny_case_value_by_value():
    result = check.conv2d_matrix(MATRIX_MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 20." and result.cases == 1
    assert "case: kernel=[[1, 2], [3, 4]], input_shape=(2, 2), stride=1" in flat(result)
    assert "expected: [[1, 2, 3, 4]]" in flat(result)
    assert "got: [[4, 3, 2, 1]]" in flat(result)


def test_matrix_wrong_shape_is_reported_before_values():
    result = check.conv2d_matrix(MATRIX_MISTAKES["transposed"][0])
    assert "the matrix has the wrong shape" in flat(result)
    assert "expected: shape (1, 4)" in flat(result)
    assert "got: shape (4, 1)" in flat(result)


def test_matrix_stride_mistake_fails_on_the_first_strided_case():
    result = check.conv2d_matrix(MATRIX_MISTAKES["ignores-stride"][0])
    assert result.case["stride"] == 2 and result.case["input_shape"] == (5, 5)


def test_matrix_passing_a_matrix_instead_of_the_function():
    result = check.conv2d_matrix(matrix_loops(np.ones((2, 2)), (3, 3)))
    assert result.status == "failed" and "without calling it" in result.hint


# --- restoring_output_padding: solutions and mistakes ---------------------------------


def restoring_formula(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) % s


def restoring_by_search(i, k, s=1, p=0, d=1):
    """Try every output_padding PyTorch allows and keep the one that gives i back."""
    o = shapes.conv_output_size(i, k, s, p, d)
    for a in range(max(s, d)):
        try:
            if shapes.conv_transpose_output_size(o, k, s, p, d, output_padding=a) == i:
                return a
        except ValueError:
            continue
    raise AssertionError("no output_padding restores the size")


def restoring_by_difference(i, k, s=1, p=0, d=1):
    """What is missing from the transposed size with output_padding = 0."""
    o = (i + 2 * p - d * (k - 1) - 1) // s + 1
    return i - ((o - 1) * s - 2 * p + d * (k - 1) + 1)


PADDING_MISTAKES = {
    "no-mod": (lambda i, k, s, p, d: i + 2 * p - d * (k - 1) - 1, "without `% s`"),
    "always-zero": (lambda i, k, s, p, d: 0, "0 is right only"),
    "always-s-minus-1": (lambda i, k, s, p, d: s - 1, "s - 1 is the largest"),
    "ignored-dilation": (
        lambda i, k, s, p, d: (i + 2 * p - k) % s,
        "ignored the dilation",
    ),
    "one-sided-padding": (
        lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) % s,
        "2p in all",
    ),
    "forgot-minus-one": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) % s,
        "you left out the - 1",
    ),
    "conv-output-size": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s + 1,
        "output size of the convolution",
    ),
    "negated": (
        lambda i, k, s, p, d: -((i + 2 * p - d * (k - 1) - 1) % s),
        "never negative",
    ),
    "float": (lambda i, k, s, p, d: float(restoring_formula(i, k, s, p, d)), "// "),
    "wrong-signature": (lambda i, k: 0, "fn(i, k, s, p, d)"),
    "returns-none": (lambda i, k, s, p, d: None, "forget `return`"),
}


# --- restoring_output_padding: tests --------------------------------------------------


@pytest.mark.parametrize(
    "solution", [restoring_formula, restoring_by_search, restoring_by_difference]
)
def test_padding_passes_correct_solutions(solution):
    result = check.restoring_output_padding(solution)
    assert result.status == "passed", result.message
    assert result.cases == result.total > 1000
    expected = f"✔ restoring_output_padding: passed all {result.cases} cases."
    assert result.message == expected


def test_padding_stub_is_not_attempted():
    result = check.restoring_output_padding(stub)
    assert result.status == "not attempted" and not result


@pytest.mark.parametrize("name", PADDING_MISTAKES)
def test_padding_rejects_mistake(name):
    fn, hint = PADDING_MISTAKES[name]
    result = check.restoring_output_padding(fn)
    assert result.status == "failed" and not result, result.message
    assert "Traceback" not in result.message
    assert result.hint is not None and hint in result.hint, result.message


def test_padding_cases_are_all_the_configurations_torch_accepts():
    result = check.restoring_output_padding(restoring_formula)
    valid = [
        (i, k, s, p, d)
        for d in range(1, 4) for s in range(1, 5) for p in range(4) for k in range(1, 5)
        for i in range(1, 11)
        if i + 2 * p >= d * (k - 1) + 1
    ]
    assert result.total == len(valid)


def test_padding_failure_names_the_case():
    result = check.restoring_output_padding(PADDING_MISTAKES["always-zero"][0])
    assert result.case == {"i": 2, "k": 1, "s": 2, "p": 0, "d": 1}
    assert "expected: 1" in flat(result) and "got: 0" in flat(result)


# --- Both: determinism, random state, speed -------------------------------------------


def test_leaves_global_random_state_alone_and_is_deterministic():
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    def verdicts():
        matrices = [check.conv2d_matrix(fn) for fn, _ in MATRIX_MISTAKES.values()]
        paddings = [
            check.restoring_output_padding(fn) for fn, _ in PADDING_MISTAKES.values()
        ]
        return [result.message for result in matrices + paddings]

    first, second = verdicts(), verdicts()
    assert first == second
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and numpy_state[2:] == after[2:]
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert torch.equal(torch_state, torch.get_rng_state())


@pytest.mark.parametrize(
    "checker, solution",
    [(check.conv2d_matrix, matrix_loops),
     (check.restoring_output_padding, restoring_formula)],
    ids=["conv2d_matrix", "restoring_output_padding"],
)
def test_is_quick(checker, solution):
    """Well under half a second on a correct solution (best of three runs)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        assert checker(solution)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5, f"{checker.__name__} took {min(times):.3f} s"


def test_registered_with_docstrings_and_raise_on_failure():
    for name in ("conv2d_matrix", "restoring_output_padding"):
        assert name in check.__all__ and getattr(check, name).__doc__
    with pytest.raises(check.CheckFailed, match="conv2d_matrix: failed"):
        check.conv2d_matrix(MATRIX_MISTAKES["kernel-flipped"][0], raise_on_failure=True)
    with pytest.raises(check.CheckFailed, match="restoring_output_padding: failed"):
        check.restoring_output_padding(PADDING_MISTAKES["no-mod"][0],
                                       raise_on_failure=True)
    assert check.conv2d_matrix(matrix_loops, raise_on_failure=True)
