"""conv2d_matrix, restoring_output_padding, upsampling_design and gradient_prediction:
correct answers and planted mistakes."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch

from labs import check, shapes

from ..registry import NO_HINT, Entry, Planted, planted


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
    "returns-none": (_forgot_return, "forget return"),
    "mutates-kernel": (_mutates_kernel, "copy"),
    "index-past-the-end": (_index_past_the_end, "check your indices"),
    "wrong-signature": (_keyword_only_shape, "fn(kernel, input_shape, stride=...)"),
    "no-stride-parameter": (matrix_no_stride, "stride=False"),
}


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
    "no-mod": (lambda i, k, s, p, d: i + 2 * p - d * (k - 1) - 1, "without % s"),
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
    "returns-none": (lambda i, k, s, p, d: None, "forget return"),
}


def _two_slips(i, k, s, p, d):
    """One-sided padding and no - 1 at once: no single usual mistake."""
    return (i + p - d * (k - 1)) % s


def _zero_when_strided_by_2(i, k, s, p, d):
    """Right except with stride 2: not "always zero", not "s - 1"."""
    return 0 if s == 2 else restoring_formula(i, k, s, p, d)


PADDING_MISTAKES.update(
    {
        # the issue: four different slips all got "s - 1 is the largest"
        "two-slips-at-once": (_two_slips, NO_HINT),
        "zero-when-strided-by-2": (_zero_when_strided_by_2, NO_HINT),
        "zero-division": (lambda i, k, s, p, d: (i + 2 * p) % (s - 1), "not by s - 1"),
    }
)

MATRIX_MISTAKES.update(
    {
        "float32-matrix": (
            _changed(
                change_matrix=lambda m, *_: (
                    m.astype(np.float32).astype(np.float64) * (1 + 1e-7)
                )
            ),
            "float32",
        ),
    }
)

# --- upsampling_design -----------------------------------------------------------------

GOOD_UPSAMPLINGS = {
    "k8-p2": (8, 4, 2, 0),
    "k8-p3-a2": (8, 4, 3, 2),
    "k12-p4": [12, 4, 4, 0],
    "numpy-ints": tuple(np.int64(v) for v in (8, 4, 2, 0)),
}

UPSAMPLING_MISTAKES = {
    "padding-forgotten": ((8, 4, 0, 0), "k + output_padding - 2p = 4", ("gives 8",)),
    "stride-2": ((8, 2, 2, 0), "stride must be 4", ("not multiplied by 4",)),
    "kernel-6": ((6, 4, 1, 0), "multiple of the stride", ("uneven",)),
    "kernel-4": ((4, 4, 0, 0), "at least 8", ("4 taps",)),
    "kernel-10": ((10, 4, 3, 0), "multiple of the stride", ("uneven",)),
    "output-padding-too-large": ((8, 4, 2, 4), "smaller than the stride", ("refuses",)),
    "three-numbers": ((8, 4, 2), "four ints", ("not four ints",)),
    "float": ((8, 4.0, 2, 0), "ints", ("a float",)),
    "negative-padding": ((8, 4, -2, 0), None, ("at least 0",)),
}

# --- gradient_prediction ---------------------------------------------------------------

RIGHT_GRADIENT = [1, 1, 1, 2, 1, 1, 2, 1, 1, 1, 0]

GRADIENT_MISTAKES = {
    "last-cell-read": ([1, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1], "never read"),
    "no-overlap": ([1] * 10 + [0], "share a cell"),
    "stride-ignored": ([1, 2, 3, 4, 4, 4, 4, 4, 3, 2, 1], "stride 3"),
    "the-output": ([4, 4, 4], "x's shape", ("3 values",)),
    "unexplained": (
        [1, 1, 1, 2, 1, 1, 2, 1, 1, 0, 0],
        NO_HINT,
        ("1 of the 11 values is wrong",),
    ),
    "a-matrix": (np.ones((1, 11)), None, ("shape (1, 11)",)),
    "strings": (["1"] * 11, "11 ints", ("a str",)),
    "a-number": (11, "list of 11 ints", ("an int",)),
}


def _any_headline(planted_answers):
    """A design's verdict has a headline of its own."""
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


ENTRIES = [
    Entry(
        "conv2d_matrix",
        learner=check.conv2d_matrix,
        solutions=tuple(
            (fn.__name__, functools.partial(check.conv2d_matrix, fn))
            for fn in (matrix_loops, matrix_windows, matrix_jacobian)
        )
        + (("no stride", lambda: check.conv2d_matrix(matrix_no_stride, stride=False)),),
        mistakes=planted(check.conv2d_matrix, MATRIX_MISTAKES),
    ),
    Entry(
        "restoring_output_padding",
        learner=check.restoring_output_padding,
        solutions=tuple(
            (fn.__name__, functools.partial(check.restoring_output_padding, fn))
            for fn in (restoring_formula, restoring_by_search, restoring_by_difference)
        ),
        mistakes=planted(check.restoring_output_padding, PADDING_MISTAKES),
    ),
    Entry(
        "upsampling_design",
        learner=check.upsampling_design,
        solutions=tuple(
            (name, functools.partial(check.upsampling_design, layer))
            for name, layer in GOOD_UPSAMPLINGS.items()
        ),
        mistakes=_any_headline(planted(check.upsampling_design, UPSAMPLING_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.upsampling_design(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
    Entry(
        "gradient_prediction",
        learner=check.gradient_prediction,
        solutions=(
            ("list", lambda: check.gradient_prediction(RIGHT_GRADIENT)),
            ("tuple", lambda: check.gradient_prediction(tuple(RIGHT_GRADIENT))),
            (
                "float array",
                lambda: check.gradient_prediction(np.array(RIGHT_GRADIENT, float)),
            ),
            ("a function", lambda: check.gradient_prediction(lambda: RIGHT_GRADIENT)),
        ),
        mistakes=_any_headline(planted(check.gradient_prediction, GRADIENT_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.gradient_prediction(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
]
