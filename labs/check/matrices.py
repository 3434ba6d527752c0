"""Checkers for convolutions written as matrix products: conv1d_matrix.

A convolution without bias is linear in its input, so it is a matrix. The expected
matrix is never built from a formula here: it is PyTorch's ``conv1d`` applied, in
float64, to every basis vector of the input space (column ``i`` of the matrix is the
output for the input that is 1 at flat position ``i`` and 0 elsewhere).

Each usual mistake (the matrix transposed, the kernel flipped, rows or columns in the
wrong order, ...) builds the matrix it gives on a case; it is named only when it gives
the learner's matrix on every case. Failing that, the verdict explains the expected
shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._compare import compare_values, require_ndarray
from labs.check._core import Case, Exercise, Mistake, check
from labs.check._result import Result

__all__ = ["conv1d_matrix"]

_COUNT = 20  # cases in all
_SEED = 1101

# (C_out, C_in, K, length): the hand-picked cases after the tiny readable first one.
_EDGE_CASES = (
    (1, 1, 1, 4),  # a kernel of size 1: a multiple of the identity
    (2, 3, 1, 3),  # size-1 kernels with channels: a matrix of diagonal blocks
    (1, 1, 5, 5),  # a kernel as long as the input: a single row
    (2, 2, 4, 4),  # as long as the input, with channels: one row per output channel
    (1, 1, 3, 8),  # one channel in, one out
    (3, 2, 3, 6),  # several channels, C_out > C_in
    (1, 3, 2, 4),  # several channels, C_in > C_out
    (2, 2, 2, 5),  # C_in = C_out
)
# The first case is small enough for a verdict to show it value by value.
_TINY = np.array([[[1.0, 2.0, -1.0]]]), 4


def conv1d_matrix(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check a learner's matrix of a 1-D convolution against PyTorch.

    The learner writes ``fn(w, length)`` with ``w`` a float64 numpy array of shape
    ``(C_out, C_in, K)`` and ``length`` an int (``length >= K``), and returns the
    float64 matrix ``M`` of shape ``(C_out * L_out, C_in * length)``,
    ``L_out = length - K + 1``, such that for every input ``x`` of shape
    ``(C_in, length)``::

        M @ x.reshape(-1) == conv1d(x[None], w).reshape(-1)

    (stride 1, no padding, no bias). Row ``o * L_out + t`` is output channel ``o`` at
    position ``t``; column ``c * length + s`` is input channel ``c`` at position ``s``;
    so ``M[o * L_out + t, c * length + t + j] = w[o, c, j]`` and every other entry is 0.
    Both arguments are passed by position.

    Cases: 9 hand-picked ones (a tiny readable one, kernels of size 1, kernels as long
    as the input, one channel in and out, C_out > C_in, C_in > C_out, C_in = C_out),
    then seeded random ones up to 20 in all (C_in, C_out <= 3, K <= 5, length <= 9).
    """
    return check(_EXERCISE, fn, raise_on_failure=raise_on_failure)


# --- Cases ----------------------------------------------------------------------------


def _expected(w: np.ndarray, length: int, padding=(0, 0)) -> np.ndarray:
    """PyTorch's conv1d applied to every basis vector: the columns of the matrix.

    ``padding`` (left, right) pads the basis with zeros first; the columns still
    correspond to the ``C_in * length`` unpadded input values.
    """
    c_in = w.shape[1]
    basis = torch.eye(c_in * length, dtype=torch.float64).reshape(-1, c_in, length)
    basis = TF.pad(basis, padding)
    columns = TF.conv1d(basis, torch.from_numpy(np.ascontiguousarray(w)))
    return columns.reshape(c_in * length, -1).T.numpy().copy()


def _case(w: np.ndarray, length: int) -> Case:
    return Case({"w": w, "length": length}, expected=_expected(w, length))


def _cases() -> list[Case]:
    """The tiny case, the hand-picked shapes, then random ones; a local, seeded RNG."""
    rng = np.random.default_rng(_SEED)
    cases = [_case(_TINY[0].copy(), _TINY[1])]
    for c_out, c_in, k, length in _EDGE_CASES:
        cases.append(_case(rng.standard_normal((c_out, c_in, k)), length))
    while len(cases) < _COUNT:
        c_out, c_in = (int(n) for n in rng.integers(1, 4, size=2))
        k = int(rng.integers(1, 6))
        length = int(rng.integers(k, 10))
        cases.append(_case(rng.standard_normal((c_out, c_in, k)), length))
    return cases


def _compare(got, case: Case) -> None:
    compare_values(require_ndarray(got), case.expected, what="matrix", label="M")


# --- Hints ----------------------------------------------------------------------------


def _sizes(case: Case) -> tuple[int, int, int, int, int]:
    """(C_out, C_in, K, length, L_out) of a case."""
    c_out, c_in, k = case["w"].shape
    length = case["length"]
    return c_out, c_in, k, length, length - k + 1


_ORDER = (
    "Rows go by output channel first, then position: row o·L_out + t; columns by input "
    "channel first, then position: column c·length + s."
)


def _rows_by_position(matrix: np.ndarray, case: Case) -> np.ndarray:
    c_out, _, _, _, l_out = _sizes(case)
    return matrix.reshape(c_out, l_out, -1).transpose(1, 0, 2).reshape(matrix.shape)


def _columns_by_position(matrix: np.ndarray, case: Case) -> np.ndarray:
    _, c_in, _, length, _ = _sizes(case)
    return matrix.reshape(-1, c_in, length).transpose(0, 2, 1).reshape(matrix.shape)


def _four_axes(case: Case) -> np.ndarray:
    c_out, c_in, _, length, l_out = _sizes(case)
    return case.expected.reshape(c_out, l_out, c_in, length)


def _diagonal_only(case: Case) -> np.ndarray:
    c_out, c_in, _, length, l_out = _sizes(case)
    return _diagonal_blocks(case.expected, c_out, l_out, c_in, length)


def _transposed_hint(case: Case) -> str:
    rows, columns = case.expected.shape
    return (
        "your matrix is the transpose of M. M has one row per output value and one "
        f"column per input value, shape (C_out·L_out, C_in·length) = ({rows}, "
        f"{columns}), so that M @ x.reshape(-1) is the output."
    )


_MISTAKES = (
    Mistake("transposed", _transposed_hint, lambda case: case.expected.T),
    Mistake(
        "flipped",
        "your matrix holds the kernel flipped, which gives a true convolution. conv1d "
        "in PyTorch is a cross-correlation: row t holds w[o, c, 0], ..., w[o, c, K-1] "
        "in this order, starting at column c·length + t.",
        lambda case: _expected(case["w"][..., ::-1], case["length"]),
    ),
    Mistake(
        "four_axes",
        lambda case: (
            "your array has the right numbers but 4 axes (C_out, L_out, C_in, length): "
            f"flatten it into the matrix with .reshape{case.expected.shape}."
        ),
        _four_axes,
    ),
    Mistake(
        "rows_by_position",
        "your rows are ordered by position first and output channel second. " + _ORDER,
        lambda case: _rows_by_position(case.expected, case),
    ),
    Mistake(
        "columns_by_position",
        "your columns are ordered by position first and input channel second (that "
        "matches x.T.reshape(-1), not x.reshape(-1)). " + _ORDER,
        lambda case: _columns_by_position(case.expected, case),
    ),
    Mistake(
        "both_by_position",
        "your rows and columns are both ordered by position first and channel second. "
        + _ORDER,
        lambda case: _rows_by_position(_columns_by_position(case.expected, case), case),
    ),
    Mistake(
        "channels_swapped",
        "you swapped the two channel axes of the weight: its layout is "
        "(C_out, C_in, K), and block (o, c) of M (the rows of output channel o, the "
        "columns of input channel c) holds the kernel w[o, c].",
        lambda case: _expected(case["w"].swapaxes(0, 1), case["length"]),
    ),
    Mistake(
        "diagonal_blocks",
        "only the diagonal blocks are filled: every output channel o reads every input "
        "channel c, so block (o, c) holds w[o, c] for all pairs, not only for o = c.",
        _diagonal_only,
    ),
    Mistake(
        "length_rows",
        "your matrix has `length` rows per output channel, and the kernel runs past the "
        "end of the input in the last K - 1 of them. Without padding a kernel of width "
        "K fits at length - K + 1 positions, so M has C_out·(length - K + 1) rows.",
        lambda case: _expected(
            case["w"], case["length"], padding=(0, case["w"].shape[2] - 1)
        ),
    ),
)


def _diagonal_blocks(matrix, c_out, l_out, c_in, length):
    """The matrix with every block (o, c), o != c, set to zero."""
    blocks = matrix.reshape(c_out, l_out, c_in, length).copy()
    for o in range(c_out):
        for c in range(c_in):
            if o != c:
                blocks[o, :, c] = 0.0
    return blocks.reshape(matrix.shape)


def _shape_hint(case: Case, got: np.ndarray, wrong=None) -> str | None:
    """A hint from the shape alone, when no mistake reproduced the learner's matrix."""
    c_out, c_in, k, length, l_out = _sizes(case)
    expected = case.info["expected"]
    rows, columns = expected.shape
    shape = f"(C_out·L_out, C_in·length) = ({rows}, {columns})"
    if got.shape == expected.shape:
        return None
    if got.ndim != 2:
        return f"M is a matrix, with 2 axes: {shape}, with L_out = length - K + 1."
    if got.shape == (columns, rows) and rows != columns:
        return (
            f"your matrix has shape {got.shape[0], got.shape[1]}: rows and columns are "
            f"swapped. M has one row per output value and one column per input value, "
            f"{shape}."
        )
    if got.shape[0] != rows:
        per_channel = got.shape[0] / c_out
        words = {
            l_out - 1: "one row too few per output channel",
            l_out + 1: "one row too many per output channel",
            length: "one row per input position",
        }
        noun = "row" if got.shape[0] == 1 else "rows"
        start = f"your matrix has {got.shape[0]} {noun}; it needs {rows}"
        if per_channel in words:
            start += f" ({words[per_channel]})"
        return (
            f"{start}. A kernel of width K = {k} fits at length - K + 1 = {l_out} "
            f"positions of an input of length {length} (not length - K, not length), "
            f"and each of the C_out = {c_out} output channels has its own rows: {shape}."
        )
    return (
        f"your matrix has {got.shape[1]} column{'' if got.shape[1] == 1 else 's'}; "
        "it needs one per input value, "
        f"C_in·length = {c_in}·{length} = {columns}: {shape}."
    )


_SIGNATURE_ERROR = re.compile(r"positional argument|multiple values|unexpected keyword")


def _explain_error(case: Case, error: Exception) -> str | None:
    """A hint for an exception raised by the learner's function."""
    c_out, c_in, k, length, l_out = _sizes(case)
    if isinstance(error, TypeError) and _SIGNATURE_ERROR.search(str(error)):
        return (
            "the checker calls your function as `fn(w, length)`: the weight "
            "(C_out, C_in, K) and the input length, an int, both by position."
        )
    if isinstance(error, (IndexError, ValueError)):
        return (
            f"check your indices against the shape of M, (C_out·L_out, C_in·length) = "
            f"({c_out * l_out}, {c_in * length}): row o·L_out + t for t < L_out = "
            f"length - K + 1 = {l_out}, column c·length + t + j for j < K = {k}; and "
            "against the weight's layout, (C_out, C_in, K)."
        )
    return None


_EXERCISE = Exercise(
    "conv1d_matrix",
    _cases,
    _compare,
    mistakes=_MISTAKES,
    describe=_shape_hint,
    explain_error=_explain_error,
)
