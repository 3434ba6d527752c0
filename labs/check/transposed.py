"""Checkers for chapter 4's exercises: a 2-D convolution as a matrix; output_padding.

``conv2d_matrix`` compares the learner's matrix with PyTorch's ``conv2d`` applied, in
float64, to every basis image (column ``j`` of the matrix is the output for the image
that is 1 at flat position ``j`` and 0 elsewhere). ``restoring_output_padding``
compares with sizes PyTorch returns: for each configuration of a grid, the
``output_padding`` for which ``conv_transpose1d`` gives back the size that went into
``conv1d``.

Each usual mistake (the matrix transposed, the kernel flipped, column-major flattening,
the leftover taken without ``mod s``, ...) computes the answer it gives on a case; it is
named only when it gives the learner's answer on every case.
"""

from __future__ import annotations

import functools
import itertools
import numbers
import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._answers import check_value, read_ints, requirements_mismatch
from labs.check._compare import (
    compare_int,
    compare_values,
    require_ndarray,
)
from labs.check._core import Case, Exercise, Impossible, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import first_line, type_phrase

__all__ = [
    "conv2d_matrix",
    "restoring_output_padding",
    "upsampling_design",
    "gradient_prediction",
]


# --- conv2d_matrix --------------------------------------------------------------------

_MATRIX_COUNT = 20  # cases in all
_MATRIX_SEED = 1201

# (kernel shape, input shape, stride) of the hand-picked cases after the tiny first one.
_MATRIX_EDGE_CASES = (
    ((2, 2), (3, 3), 1),  # the chapter's example: a 4×9 matrix
    ((3, 3), (4, 4), 1),  # the chapter's second example: 4×16
    ((1, 1), (2, 3), 1),  # a 1×1 kernel: a multiple of the identity
    ((3, 4), (3, 4), 1),  # a kernel as large as the input: a single row
    ((2, 3), (4, 5), 1),  # a non-square kernel
    ((2, 2), (3, 5), 1),  # a non-square input
    ((1, 3), (3, 4), 1),  # a kernel that is a single row
    ((3, 3), (5, 5), 2),  # stride 2: 4×25
    ((2, 2), (5, 4), 2),  # stride 2, a leftover row that no window reaches
    ((2, 3), (7, 7), 3),  # stride 3, leftovers in both directions
)
# The first case is small enough for a verdict to show it value by value.
_MATRIX_TINY = np.array([[1.0, 2.0], [3.0, 4.0]]), (2, 2)


def conv2d_matrix(
    fn: Callable, *, stride: bool = True, raise_on_failure: bool = False
) -> Result:
    """Check a learner's matrix of a 2-D convolution against PyTorch.

    The learner writes ``fn(kernel, input_shape, stride=1)`` with ``kernel`` a float64
    numpy array of shape ``(kH, kW)``, ``input_shape`` a pair of ints ``(H, W)``
    (``H >= kH``, ``W >= kW``) and ``stride`` an int, and returns the float64 matrix
    ``M`` of shape ``(H_out * W_out, H * W)``, ``H_out = (H - kH) // stride + 1`` and
    ``W_out = (W - kW) // stride + 1``, such that for every image ``x`` of shape
    ``(H, W)``::

        M @ x.ravel() == conv2d(x[None, None], kernel[None, None], stride).ravel()

    (one channel, no padding, no bias; ``ravel`` flattens row by row, numpy's default).
    Row ``r * W_out + c`` is output pixel ``(r, c)``; column ``a * W + b`` is input
    pixel ``(a, b)``; so ``M[r * W_out + c, (r·s + i) * W + c·s + j] = kernel[i, j]``
    (``s`` the stride) and every other entry is 0.

    ``kernel`` and ``input_shape`` are passed by position, ``stride`` by keyword. With
    ``stride=False`` the exercise has no stride: it is never passed, and every case has
    stride 1.

    Cases: 11 hand-picked ones (a tiny readable one, the chapter's 3×3 input with a
    2×2 kernel and 4×4 input with a 3×3 kernel, a 1×1 kernel, a kernel as large as
    the input, non-square kernels and inputs, a one-row kernel, strides 2 and 3 with
    rows and columns that no window reaches), then seeded random ones up to 20 in all
    (kH, kW ≤ 4, H, W ≤ 7, stride ≤ 3).
    """
    exercise = _MATRIX if stride else _MATRIX_NO_STRIDE
    return check(exercise, fn, raise_on_failure=raise_on_failure)


def _conv_matrix(
    kernel: np.ndarray, input_shape, stride: int = 1, pad=(0, 0, 0, 0)
) -> np.ndarray:
    """PyTorch's conv2d applied to every basis image: the columns of the matrix.

    ``pad`` (left, right, top, bottom) pads each basis image with zeros first; the
    columns still correspond to the ``H * W`` unpadded pixels.
    """
    h, w = input_shape
    basis = torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)
    weight = torch.from_numpy(np.ascontiguousarray(kernel, dtype=np.float64))
    weight = weight[None, None]
    columns = TF.conv2d(TF.pad(basis, pad), weight, stride=stride)
    return columns.reshape(h * w, -1).T.numpy().copy()


def _matrix_case(
    kernel: np.ndarray, input_shape, stride: int, with_stride: bool
) -> Case:
    keywords = {"stride": stride} if with_stride else {}
    return Case(
        {"kernel": kernel, "input_shape": tuple(input_shape)},
        keywords,
        expected=_conv_matrix(kernel, input_shape, stride),
        stride=stride,
    )


def _matrix_cases(with_stride: bool) -> list[Case]:
    """The tiny case, the hand-picked shapes, then random ones; a local, seeded RNG."""
    rng = np.random.default_rng(_MATRIX_SEED)
    cases = [_matrix_case(_MATRIX_TINY[0].copy(), _MATRIX_TINY[1], 1, with_stride)]
    seen = {((2, 2), (2, 2), 1)}
    configurations = list(_MATRIX_EDGE_CASES)
    while len(cases) < _MATRIX_COUNT:
        if configurations:
            kernel_shape, input_shape, stride = configurations.pop(0)
            kernel = rng.standard_normal(kernel_shape)
        else:
            kernel_shape = tuple(int(n) for n in rng.integers(1, 5, size=2))
            input_shape = tuple(int(rng.integers(k, 8)) for k in kernel_shape)
            stride = int(rng.integers(1, 4))
            kernel = rng.standard_normal(kernel_shape)
        if not with_stride:
            stride = 1
        key = (tuple(kernel_shape), tuple(input_shape), stride)
        if key in seen:
            continue
        seen.add(key)
        cases.append(_matrix_case(kernel, input_shape, stride, with_stride))
    return cases


def _compare_matrix(got, case: Case) -> None:
    compare_values(require_ndarray(got), case.expected, what="matrix", label="M")


class _Sizes(NamedTuple):
    kh: int
    kw: int
    h: int
    w: int
    stride: int
    h_out: int
    w_out: int


def _matrix_sizes(case: Case) -> _Sizes:
    kh, kw = case["kernel"].shape
    h, w = case["input_shape"]
    s = case.info["stride"]
    return _Sizes(kh, kw, h, w, s, (h - kh) // s + 1, (w - kw) // s + 1)


def _column_major(matrix: np.ndarray, h: int, w: int, axis: int) -> np.ndarray:
    """The matrix with the rows (axis 0) or columns (axis 1) in column-major order."""
    if axis == 1:
        return matrix.reshape(-1, h, w).transpose(0, 2, 1).reshape(matrix.shape)
    return matrix.reshape(h, w, -1).transpose(1, 0, 2).reshape(matrix.shape)


def _contiguous_kernel(case: Case) -> np.ndarray | None:
    """Each row holds kernel.ravel() in consecutive columns from the window's corner."""
    kernel = case["kernel"]
    n = _matrix_sizes(case)
    matrix = np.zeros((n.h_out * n.w_out, n.h * n.w))
    for r, c in itertools.product(range(n.h_out), range(n.w_out)):
        start = r * n.stride * n.w + c * n.stride
        if start + kernel.size > n.h * n.w:
            return None  # this mistake would index past the end: it raises instead
        matrix[r * n.w_out + c, start : start + kernel.size] = kernel.ravel()
    return matrix


_ORDER = (
    "Flatten row by row, as x.ravel() does: input pixel (a, b) is column a·W + b and "
    "output pixel (r, c) is row r·W_out + c."
)


def _shape_phrase(case: Case) -> str:
    rows, columns = case.expected.shape
    return f"(H_out·W_out, H·W) = ({rows}, {columns})"


def _with_kernel(change: Callable) -> Callable:
    """The matrix a learner builds from a changed kernel."""

    def gives(case: Case) -> np.ndarray:
        n = _matrix_sizes(case)
        return _conv_matrix(change(case["kernel"]), (n.h, n.w), n.stride)

    return gives


def _columns_column_major(case: Case) -> np.ndarray:
    n = _matrix_sizes(case)
    return _column_major(case.expected, n.h, n.w, axis=1)


def _rows_column_major(matrix: np.ndarray, case: Case) -> np.ndarray:
    n = _matrix_sizes(case)
    return _column_major(matrix, n.h_out, n.w_out, axis=0)


def _contiguous(case: Case) -> np.ndarray:
    matrix = _contiguous_kernel(case)
    if matrix is None:
        raise Impossible("this mistake would index past the end: it raises instead")
    return matrix


def _stride_hint(case: Case) -> str:
    n = _matrix_sizes(case)
    return (
        f"your matrix is the one for stride 1. With stride {n.stride} the windows "
        f"start every {n.stride} pixels, so there are only H_out·W_out = "
        f"{n.h_out}·{n.w_out} rows, H_out = (H - kH) // stride + 1."
    )


def _padded_to_every_pixel(case: Case) -> np.ndarray:
    n = _matrix_sizes(case)
    return _conv_matrix(case["kernel"], (n.h, n.w), 1, pad=(0, n.kw - 1, 0, n.kh - 1))


_MATRIX_MISTAKES = (
    Mistake(
        "transposed",
        lambda case: (
            "your matrix is the transpose of M. M has one row per output pixel and one "
            f"column per input pixel, shape {_shape_phrase(case)}, so that "
            "M @ x.ravel() is the output. (Its transpose is the matrix of the "
            "transposed convolution.)"
        ),
        lambda case: case.expected.T,
    ),
    Mistake(
        "flipped",
        "your matrix holds the kernel flipped (rotated by 180°), which is a true "
        "convolution. conv2d in PyTorch is a cross-correlation: the row of output "
        "(r, c) holds kernel[i, j] at input pixel (r·stride + i, c·stride + j), the "
        "kernel as it is.",
        _with_kernel(lambda kernel: kernel[::-1, ::-1]),
    ),
    Mistake(
        "flipped_0",
        "your matrix holds the kernel flipped upside down: kernel[i, j] goes to input "
        "pixel (r·stride + i, c·stride + j), with i counting rows down and j columns "
        "to the right.",
        _with_kernel(lambda kernel: np.flip(kernel, 0)),
    ),
    Mistake(
        "flipped_1",
        "your matrix holds the kernel flipped left to right: kernel[i, j] goes to "
        "input pixel (r·stride + i, c·stride + j), with i counting rows down and j "
        "columns to the right.",
        _with_kernel(lambda kernel: np.flip(kernel, 1)),
    ),
    Mistake(
        "kernel_transposed",
        "your matrix uses the kernel transposed: kernel[i, j] is row i and column j of "
        "the kernel, so it lands i rows down and j columns to the right of the "
        "window's top-left corner.",
        _with_kernel(lambda kernel: kernel.T),
    ),
    Mistake(
        "columns_column_major",
        "your columns follow the input pixels column by column (that matches "
        "x.ravel(order='F') or x.T.ravel(), not x.ravel()). " + _ORDER,
        _columns_column_major,
    ),
    Mistake(
        "rows_column_major",
        "your rows follow the output pixels column by column. " + _ORDER,
        lambda case: _rows_column_major(case.expected, case),
    ),
    Mistake(
        "both_column_major",
        "your rows and columns both follow the pixels column by column "
        "(order='F'). " + _ORDER,
        lambda case: _rows_column_major(_columns_column_major(case), case),
    ),
    Mistake(
        "contiguous_kernel",
        lambda case: (
            "each row holds the kernel's values side by side in consecutive columns. "
            f"In the flattened image the pixel below (a, b) is W = "
            f"{_matrix_sizes(case).w} columns further, not 1: kernel[i, j] goes to "
            "column (r·stride + i)·W + c·stride + j."
        ),
        _contiguous,
    ),
    Mistake(
        "ignored_stride",
        _stride_hint,
        lambda case: _conv_matrix(case["kernel"], case["input_shape"], 1),
    ),
    Mistake(
        "four_axes",
        lambda case: (
            "your array has the right numbers but 4 axes (H_out, W_out, H, W): flatten "
            f"it into the matrix with .reshape{case.expected.shape}."
        ),
        lambda case: case.expected.reshape(
            _matrix_sizes(case).h_out, _matrix_sizes(case).w_out, *case["input_shape"]
        ),
    ),
    Mistake(
        "one_row_per_pixel",
        "your matrix has one row per input pixel, with windows running past the "
        "bottom and right edges. Without padding a kernel fits at only H_out·W_out "
        "positions, H_out = (H - kH) // stride + 1 and W_out = (W - kW) // stride + 1.",
        _padded_to_every_pixel,
    ),
)


def _matrix_shape_hint(case: Case, got, wrong=None) -> str | None:
    """A hint from the shape alone, when no mistake reproduced the learner's matrix."""
    n = _matrix_sizes(case)
    expected = case.info["expected"]
    rows, columns = expected.shape
    got = np.asarray(got)
    shape = f"(H_out·W_out, H·W) = ({rows}, {columns})"
    sizes = (
        f"H_out = (H - kH) // stride + 1 = {n.h_out} and W_out = (W - kW) // stride + 1"
        f" = {n.w_out}"
    )
    if got.shape == expected.shape:
        return None
    if got.ndim != 2:
        return f"M is a matrix, with 2 axes: {shape}, with {sizes}."
    if got.shape == (columns, rows):
        return (
            f"your matrix has shape {got.shape[0], got.shape[1]}: rows and columns are "
            f"swapped. M has one row per output pixel and one column per input pixel, "
            f"{shape}."
        )
    if got.shape[0] != rows:
        return (
            f"your matrix has {got.shape[0]} rows; it needs one per output pixel, "
            f"{rows}, with {sizes} (a kernel fits at H - kH + 1 positions of H rows "
            "when the stride is 1, not H - kH, not H)."
        )
    return (
        f"your matrix has {got.shape[1]} columns; it needs one per input pixel, "
        f"H·W = {n.h}·{n.w} = {columns}: {shape}."
    )


_SIGNATURE_ERROR = re.compile(r"positional argument|multiple values|unexpected keyword")


def _explain_matrix_error(
    with_stride: bool, case: Case, error: Exception
) -> str | None:
    """A hint for an exception raised by the learner's function."""
    n = _matrix_sizes(case)
    text = str(error)
    if isinstance(error, TypeError) and _SIGNATURE_ERROR.search(text):
        call = (
            "fn(kernel, input_shape, stride=...)"
            if with_stride
            else ("fn(kernel, input_shape)")
        )
        hint = (
            f"the checker calls your function as {call}: the kernel (kH, kW) and the "
            "input shape (H, W), a pair of ints, by position"
        )
        if with_stride:
            hint += (
                ", and the stride, an int, by keyword. Without a stride, use "
                "check.conv2d_matrix(fn, stride=False)"
            )
        return hint + "."
    if isinstance(error, (IndexError, ValueError)):
        return (
            f"check your indices against the shape of M, (H_out·W_out, H·W) = "
            f"({n.h_out * n.w_out}, {n.h * n.w}): row r·W_out + c for output pixel "
            f"(r, c), with r < H_out = {n.h_out} and c < W_out = {n.w_out}; column "
            "(r·stride + i)·W + c·stride + j for kernel[i, j]."
        )
    return None


# --- restoring_output_padding ---------------------------------------------------------

_PADDING_PARAMETERS = ("i", "k", "s", "p", "d")


def restoring_output_padding(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's ``output_padding`` that gives a convolution's input size back.

    The learner writes ``fn(i, k, s=1, p=0, d=1) -> int``: a convolution with kernel
    size ``k``, stride ``s``, zero padding ``p`` on each side and dilation ``d`` maps
    an input of size ``i`` to ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1``; the
    answer is the ``output_padding`` for which the transposed convolution with the same
    ``k, s, p, d`` maps ``o`` back to ``i``::

        output_padding = (i + 2p - d(k - 1) - 1) mod s

    Arguments are passed by position.

    Cases: every configuration with i in 1..10, k in 1..4, s in 1..4, p in 0..3 and
    d in 1..3 for which PyTorch's conv1d gives an output of size at least 1, simple
    ones first (d = 1, s = 1, p = 0). The expected answer is found with PyTorch: the
    ``output_padding`` among those it accepts for which ``conv_transpose1d`` returns
    size ``i``. The answer must be that ``int``.
    """
    return check(_RESTORING, fn, raise_on_failure=raise_on_failure)


def _explain_restoring_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, TypeError) and _SIGNATURE_ERROR.search(str(error)):
        return "the checker calls `fn(i, k, s, p, d)`, all five by position."
    if isinstance(error, ZeroDivisionError):
        return "s is at least 1: divide by s (or take `% s`), not by s - 1 or d - 1."
    return None


@functools.cache
def _restoring_grid() -> tuple:
    """((i, k, s, p, d), output_padding) for every valid configuration, by PyTorch.

    Computed once per session (about a tenth of a second) and then reused. The tensors
    are float64 (in float32, PyTorch prepares a oneDNN kernel for every new shape);
    like every checker, this runs with PyTorch on one thread (see ``known_state``).
    """
    grid = []
    for d, s, p, k, i in itertools.product(
        range(1, 4), range(1, 5), range(0, 4), range(1, 5), range(1, 11)
    ):
        weight = torch.zeros(1, 1, k, dtype=torch.float64)
        x = torch.zeros(1, 1, i, dtype=torch.float64)
        try:
            o = TF.conv1d(x, weight, stride=s, padding=p, dilation=d)
        except RuntimeError:  # PyTorch rejects this configuration
            continue
        for a in range(max(s, d)):  # the output_paddings PyTorch accepts, in order
            try:
                back = TF.conv_transpose1d(
                    o, weight, stride=s, padding=p, output_padding=a, dilation=d
                )
            except RuntimeError:  # "Output size is too small": padding crops all
                continue
            if back.shape[-1] == i:
                break
        else:
            raise AssertionError(f"no output_padding restores i={i}")  # never happens
        grid.append(((i, k, s, p, d), a))
    return tuple(grid)


def _leftover(i, k, s, p, d):
    """The input positions after the last stride: i + 2p - d(k - 1) - 1."""
    return i + 2 * p - d * (k - 1) - 1


_RULE = "output_padding = (i + 2p - d(k - 1) - 1) mod s"

_PADDING_MISTAKES = (
    Mistake.formula(
        "no_mod",
        "you returned i + 2p - d(k - 1) - 1 without `% s`. That is the room the windows "
        "step through; the strides use (o - 1)·s of it and the convolution ignores the "
        f"rest, which is what output_padding adds back: {_RULE}.",
        _leftover,
    ),
    Mistake.formula(
        "always_zero",
        "0 is right only when the strides use up the whole input (always the case with "
        "s = 1). With s > 1 several input sizes give the same output size, and "
        f"output_padding tells which one to give back: {_RULE}.",
        lambda i, k, s, p, d: 0,
    ),
    Mistake.formula(
        "always_s_minus_1",
        "s - 1 is the largest output_padding PyTorch accepts (when d ≤ s), not the one "
        "that restores this size. It depends on how many positions the strides left "
        f"over: {_RULE}.",
        lambda i, k, s, p, d: s - 1,
    ),
    Mistake.formula(
        "ignored_dilation",
        f"you ignored the dilation: the kernel spans d(k - 1) + 1 positions, so {_RULE}.",
        lambda i, k, s, p, d: (i + 2 * p - k) % s,
    ),
    Mistake.formula(
        "one_sided_padding",
        f"padding p is added on each side, 2p in all: {_RULE}.",
        lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) % s,
    ),
    Mistake.formula(
        "forgot_minus_one",
        "you left out the - 1: the first window ends at position d(k - 1), so the "
        f"strides step through i + 2p - d(k - 1) - 1 positions: {_RULE}.",
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1)) % s,
    ),
    Mistake.formula(
        "conv_output_size",
        f"that is the output size of the convolution, not the output_padding: {_RULE}.",
        lambda i, k, s, p, d: _leftover(i, k, s, p, d) // s + 1,
    ),
    Mistake.formula(
        "negated",
        f"output_padding is added, so it is never negative: {_RULE}.",
        lambda i, k, s, p, d: -(_leftover(i, k, s, p, d) % s),
    ),
)


def _matrix_exercise(with_stride: bool) -> Exercise:
    return Exercise(
        "conv2d_matrix",
        lambda: _matrix_cases(with_stride),
        _compare_matrix,
        mistakes=_MATRIX_MISTAKES,
        describe=_matrix_shape_hint,
        explain_error=functools.partial(_explain_matrix_error, with_stride),
    )


_MATRIX = _matrix_exercise(True)
_MATRIX_NO_STRIDE = _matrix_exercise(False)
_RESTORING = Exercise(
    "restoring_output_padding",
    lambda: [
        Case(zip(_PADDING_PARAMETERS, arguments), expected=answer)
        for arguments, answer in _restoring_grid()
    ],
    lambda answer, case: compare_int(answer, case.expected, what="output_padding"),
    mistakes=_PADDING_MISTAKES,
    explain_error=_explain_restoring_error,
)


# --- upsampling_design ----------------------------------------------------------------

# The design problem: a ConvTranspose1d (dilation 1) that multiplies every size by 4,
# covers its output evenly, and has a kernel of at least 8 taps.
UPSAMPLING_TARGET = {"factor": 4, "sizes": range(1, 17), "least_kernel": 8}
_UPSAMPLING_NAMES = ("kernel_size", "stride", "padding", "output_padding")
_UPSAMPLING_LEAST = {"kernel_size": 1, "stride": 1, "padding": 0, "output_padding": 0}


def upsampling_design(layer, *, raise_on_failure: bool = False) -> Result:
    """Check a design of one transposed convolution against the exercise's requirements.

    ``layer`` is a tuple ``(kernel_size, stride, padding, output_padding)`` of ints
    (dilation 1), or a function without arguments returning it; None is "not
    attempted yet". With ``TF.conv_transpose1d``, the layer must

    - turn every input size ``i`` from 1 to 16 into exactly ``4 i``;
    - cover its output evenly: on an input of 16 ones with a kernel of ones, every
      output cell at least ``kernel_size`` cells from either end receives the same
      number of kernel copies (no checkerboard);
    - have a kernel of at least 8 taps.

    The verdict lists every requirement that fails, with the numbers.
    """
    return check_value(
        "upsampling_design",
        layer,
        _compare_upsampling,
        kind="design",
        todo="a (kernel_size, stride, padding, output_padding) tuple",
        headline="the design does not meet the requirements.",
        passed="your design meets every requirement.",
        raise_on_failure=raise_on_failure,
    )


def _upsampled(i: int, k: int, s: int, p: int, a: int) -> torch.Tensor:
    """conv_transpose1d of i ones with a kernel of k ones (PyTorch may refuse)."""
    return TF.conv_transpose1d(
        torch.ones(1, 1, i, dtype=torch.float64),
        torch.ones(1, 1, k, dtype=torch.float64),
        stride=s,
        padding=p,
        output_padding=a,
    )[0, 0]


def _compare_upsampling(answer, case: Case) -> None:
    k, s, p, a = read_ints(answer, _UPSAMPLING_NAMES, least=_UPSAMPLING_LEAST)
    target = UPSAMPLING_TARGET
    factor = target["factor"]
    try:
        sizes = {i: _upsampled(i, k, s, p, a).shape[-1] for i in target["sizes"]}
    except RuntimeError as error:
        raise Mismatch(
            "PyTorch refuses the layer: " + first_line(str(error)),
            hint="output_padding must be smaller than the stride, and the padding "
            "may not crop the whole output.",
        ) from None
    failed, hints = [], []
    wrong = {i: o for i, o in sizes.items() if o != factor * i}
    if wrong:
        shown = list(wrong.items())[:3]
        failed.append(
            "sizes are not multiplied by 4: "
            + ", ".join(f"{i} gives {o}, not {factor * i}" for i, o in shown)
            + (f" and {len(wrong) - 3} more" if len(wrong) > 3 else "")
        )
        hints.append(
            "each extra input cell adds `stride` output cells, so the stride must be "
            "4; then (i - 1)·4 - 2p + k + output_padding = 4i needs "
            "k + output_padding - 2p = 4."
        )
    counts = _upsampled(16, k, s, p, a)
    inside = counts[k : counts.shape[-1] - k]
    if inside.numel() and inside.max() != inside.min():
        failed.append(
            "the coverage is uneven: cells away from the ends receive between "
            f"{int(inside.min())} and {int(inside.max())} kernel copies"
        )
        hints.append(
            "copies start `stride` cells apart, so every cell receives the same "
            "number of them only when the kernel size is a multiple of the stride."
        )
    if k < target["least_kernel"]:
        failed.append(f"the kernel has {k} taps, fewer than {target['least_kernel']}")
        hints.append("take a kernel of at least 8 taps.")
    if failed:
        raise requirements_mismatch(
            failed,
            hints,
            names=_UPSAMPLING_NAMES,
            numbers=(k, s, p, a),
            expected="sizes times 4, even coverage, a kernel of at least 8",
        )


# --- gradient_prediction --------------------------------------------------------------

# The exercise: x of length 11, a stride-3 convolution with a kernel of 4 ones, the
# output summed, and x.grad predicted.
GRADIENT_SETTING = {"length": 11, "kernel": 4, "stride": 3}


def gradient_prediction(prediction, *, raise_on_failure: bool = False) -> Result:
    """Check a predicted input gradient of a strided convolution.

    ``x = torch.ones(1, 1, 11, requires_grad=True)`` goes through
    ``TF.conv1d(x, torch.ones(1, 1, 4), stride=3)``, and the sum of the output is
    back-propagated. ``prediction`` is ``x.grad`` as 11 ints (a list, a tuple or a
    1-D array), or a function without arguments returning it; None is "not attempted
    yet". The expected values are PyTorch's. A wrong prediction is reported by how
    many values are wrong, without the right ones; the hints recognise the unread
    last cell forgotten, windows taken as not overlapping, the stride ignored, and the
    output given instead of the gradient.
    """
    return check_value(
        "gradient_prediction",
        prediction,
        _compare_gradient,
        kind="prediction",
        todo="11 ints",
        headline="wrong prediction.",
        passed="your prediction is right.",
        mistakes=_GRADIENT_MISTAKES,
        raise_on_failure=raise_on_failure,
    )


def _window_counts(length: int, k: int, s: int) -> list[int]:
    """How many windows read each input cell, by PyTorch's autograd."""
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    weight = torch.ones(1, 1, k, dtype=torch.float64)
    TF.conv1d(x, weight, stride=s).sum().backward()
    return [int(v) for v in x.grad[0, 0]]


def _expected_gradient() -> list[int]:
    g = GRADIENT_SETTING
    return _window_counts(g["length"], g["kernel"], g["stride"])


def _last_cell_read(case: Case) -> list[int]:
    counts = _expected_gradient()
    return counts[:-1] + [1]


_GRADIENT_MISTAKES = (
    Mistake(
        "last-cell-read",
        "the last cell is never read: (11 - 4) // 3 + 1 = 3 windows, the last one "
        "covering cells 6 to 9, so cell 10 gets no gradient.",
        _last_cell_read,
    ),
    Mistake(
        "no-overlap",
        "windows 4 cells wide that start every 3 cells share a cell: cells 3 and 6 "
        "are read by two windows, and each window adds 1 to the gradient of every "
        "cell it reads.",
        lambda case: [1] * 10 + [0],
    ),
    Mistake(
        "stride-ignored",
        "with stride 3 the windows start at 0, 3 and 6, not at every cell.",
        lambda case: _window_counts(11, 4, 1),
    ),
    Mistake(
        "output-instead",
        "that is the output, one value per window. x.grad has x's shape, 11 values: "
        "for each input cell, how many windows read it.",
        lambda case: [4, 4, 4],
    ),
)


def _gradient_value(value, n: int):
    """A predicted gradient value: an int, or a float (x.grad is float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise Mismatch(
            f"value {n} of your prediction is {type_phrase(value)}, not a number.",
            hint="write x.grad's values as a list of 11 ints, cell 0 first.",
        )
    number = float(value)
    return int(number) if number.is_integer() else number


def _compare_gradient(answer, case: Case) -> None:
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().numpy()
    if isinstance(answer, np.ndarray):
        if answer.ndim != 1:
            raise Mismatch(
                f"your prediction has shape {answer.shape}; write the 11 values as a "
                "list."
            )
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)):
        raise Mismatch(
            f"your prediction is {type_phrase(answer)}, not a list of numbers.",
            hint="write x.grad's values as a list of 11 ints, cell 0 first.",
        )
    expected = _expected_gradient()
    if len(answer) != len(expected):
        raise Mismatch(
            f"your prediction has {len(answer)} values; x.grad has {len(expected)}, "
            "one per cell of x.",
            expected=expected,
            got=list(answer),
            diagnosable=True,
        )
    numbers = [_gradient_value(v, n) for n, v in enumerate(answer)]
    wrong = [n for n, (a, b) in enumerate(zip(numbers, expected)) if a != b]
    if wrong:
        verb = "is" if len(wrong) == 1 else "are"
        raise Mismatch(
            f"{len(wrong)} of the {len(expected)} values {verb} wrong.",
            details=[("got", str(numbers))],
            expected=expected,
            got=numbers,
            diagnosable=True,
        )
