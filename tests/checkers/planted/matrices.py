"""conv1d_matrix: correct answers and planted mistakes."""

from __future__ import annotations

import functools

import numpy as np
import torch

from labs import check

from ..registry import Entry, planted


def conv1d_matrix_loops(w, length):
    c_out, c_in, k = w.shape
    l_out = length - k + 1
    m = np.zeros((c_out * l_out, c_in * length))
    for o in range(c_out):
        for t in range(l_out):
            for c in range(c_in):
                for j in range(k):
                    m[o * l_out + t, c * length + t + j] = w[o, c, j]
    return m


def conv1d_matrix_vectorized(w, length):
    """Loop over the K kernel taps only: tap j sits on the j-th diagonal of each block."""
    c_out, c_in, k = w.shape
    l_out = length - k + 1
    blocks = np.zeros((c_out, l_out, c_in, length))
    t = np.arange(l_out)
    for j in range(k):
        blocks[:, t, :, t + j] = w[
            :, :, j
        ]  # advanced indices first: (l_out, c_out, c_in)
    return blocks.reshape(c_out * l_out, c_in * length)


def conv1d_matrix_autograd(w, length):
    """Any way of computing the Jacobian of conv1d is right, e.g. with torch."""
    c_in = w.shape[1]

    def conv(flat):
        x = flat.reshape(1, c_in, length)
        return torch.nn.functional.conv1d(x, torch.from_numpy(w)).reshape(-1)

    flat = torch.zeros(c_in * length, dtype=torch.float64)
    return torch.autograd.functional.jacobian(conv, flat).numpy()


# --- Planted mistakes -----------------------------------------------------------------


def _planted(change_weight=None, change_matrix=None, length_rows=False):
    """The correct matrix, built from a changed weight or changed afterwards."""

    def planted(w, length):
        w = change_weight(w) if change_weight else w
        if length_rows:  # one row per input position, the kernel cut at the end
            k = w.shape[2]
            padded = conv1d_matrix_loops(w, length + k - 1)
            c_in = w.shape[1]
            columns = padded.reshape(-1, c_in, length + k - 1)[:, :, :length]
            return columns.reshape(padded.shape[0], c_in * length)
        m = conv1d_matrix_loops(w, length)
        return change_matrix(m, w, length) if change_matrix else m

    return planted


def _rows_by_position(m, w, length):
    c_out, _, k = w.shape
    return m.reshape(c_out, length - k + 1, -1).transpose(1, 0, 2).reshape(m.shape)


def _columns_by_position(m, w, length):
    c_in = w.shape[1]
    return m.reshape(-1, c_in, length).transpose(0, 2, 1).reshape(m.shape)


def _diagonal_blocks_only(w, length):
    """Output channel o reads only input channel o (and then only when C_in = C_out)."""
    c_out, c_in, k = w.shape
    l_out = length - k + 1
    m = np.zeros((c_out * l_out, c_in * length))
    for o in range(min(c_out, c_in)):
        for t in range(l_out):
            m[o * l_out + t, o * length + t : o * length + t + k] = w[o, o]
    return m


def _one_row_too_few(w, length):
    c_out = w.shape[0]
    m = conv1d_matrix_loops(w, length)
    return np.delete(m, np.arange(c_out) * (length - w.shape[2] + 1), axis=0)


def _first_channel_only(w, length):
    return conv1d_matrix_loops(w[:, :1], length)


def _integer_matrix(w, length):
    return conv1d_matrix_loops(w, length).astype(int)


def _mutates_weight(w, length):
    w *= 1.0
    w[...] = w[..., ::-1].copy()
    return conv1d_matrix_loops(w[..., ::-1], length)


def _forgot_return(w, length):
    conv1d_matrix_loops(w, length)


def _index_past_the_end(w, length):
    c_out, c_in, k = w.shape
    m = np.zeros((c_out * length, c_in * length))
    for t in range(length):  # the kernel runs off the end of the row
        m[t, t + k - 1] = w[0, 0, -1]
    return m


def _keyword_only_length(w, *, length):
    return conv1d_matrix_loops(w, length)


MISTAKES = {
    "transposed": (
        _planted(change_matrix=lambda m, w, length: m.T),
        "transpose of M",
    ),
    "kernel-flipped": (
        _planted(change_weight=lambda w: w[..., ::-1]),
        "flipped",
    ),
    "four-axes-not-reshaped": (
        _planted(
            change_matrix=lambda m, w, length: m.reshape(
                w.shape[0], length - w.shape[2] + 1, w.shape[1], length
            )
        ),
        ".reshape(2, 4)",
    ),
    "rows-by-position": (
        _planted(change_matrix=_rows_by_position),
        "rows are ordered by position first",
    ),
    "columns-by-position": (
        _planted(change_matrix=_columns_by_position),
        "columns are ordered by position first",
    ),
    "rows-and-columns-by-position": (
        _planted(
            change_matrix=lambda m, w, length: _rows_by_position(
                _columns_by_position(m, w, length), w, length
            )
        ),
        "rows and columns are both ordered by position",
    ),
    "channel-axes-swapped": (
        _planted(change_weight=lambda w: w.swapaxes(0, 1)),
        "swapped the two channel axes",
    ),
    "diagonal-blocks-only": (_diagonal_blocks_only, "diagonal blocks"),
    "length-rows-per-channel": (_planted(length_rows=True), "length rows per output"),
    "one-row-too-few": (_one_row_too_few, "one row too few per output channel"),
    "first-input-channel-only": (_first_channel_only, "one per input value"),
    "returns-list": (
        _planted(change_matrix=lambda m, w, length: m.tolist()),
        "np.asarray",
    ),
    "returns-tensor": (
        _planted(change_matrix=lambda m, w, length: torch.from_numpy(m)),
        ".numpy()",
    ),
    "returns-float32": (
        _planted(change_matrix=lambda m, w, length: m.astype(np.float32)),
        "float64",
    ),
    "returns-int-array": (_integer_matrix, "np.zeros(shape)"),
    "returns-none": (_forgot_return, "forget return"),
    "mutates-weight": (_mutates_weight, "copy"),
    "index-past-the-end": (_index_past_the_end, "check your indices"),
    "wrong-signature": (_keyword_only_length, "fn(w, length)"),
}


ENTRIES = [
    Entry(
        "conv1d_matrix",
        learner=check.conv1d_matrix,
        solutions=tuple(
            (fn.__name__, functools.partial(check.conv1d_matrix, fn))
            for fn in (
                conv1d_matrix_loops,
                conv1d_matrix_vectorized,
                conv1d_matrix_autograd,
            )
        ),
        mistakes=planted(check.conv1d_matrix, MISTAKES),
    ),
]
