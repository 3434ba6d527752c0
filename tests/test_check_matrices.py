"""Tests of ``labs.check.conv1d_matrix``: the matrix of a 1-D convolution.

Correct solutions (loops, and a vectorized one) pass; a stub is "not attempted"; each
planted wrong solution is rejected, with the hint aimed at its mistake. Then the
properties every verdict must have: it names the failing case, it is deterministic, it
leaves the global random state alone, and it is quick.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from labs import check

from .verdicts import flat, stub

# --- Correct solutions ----------------------------------------------------------------


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
        blocks[:, t, :, t + j] = w[:, :, j]  # advanced indices first: (l_out, c_out, c_in)
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
    "length-rows-per-channel": (_planted(length_rows=True), "`length` rows per output"),
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
    "returns-none": (_forgot_return, "forget `return`"),
    "mutates-weight": (_mutates_weight, "copy"),
    "index-past-the-end": (_index_past_the_end, "check your indices"),
    "wrong-signature": (_keyword_only_length, "fn(w, length)"),
}


# --- Helpers --------------------------------------------------------------------------


# --- Tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solution",
    [conv1d_matrix_loops, conv1d_matrix_vectorized, conv1d_matrix_autograd],
)
def test_passes_correct_solutions(solution):
    result = check.conv1d_matrix(solution)
    assert result.status == "passed", result.message
    assert result and result.cases == 20 and result.hint is None
    assert result.message == "✔ conv1d_matrix: passed all 20 cases."
    assert result.raise_for_failure() is result


def test_the_matrix_computes_the_convolution():
    """What the exercise promises: M @ x.reshape(-1) is conv1d's output, flattened."""
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 9))
    m = conv1d_matrix_loops(w, 9)
    expected = torch.nn.functional.conv1d(torch.from_numpy(x[None]), torch.from_numpy(w))
    np.testing.assert_allclose(m @ x.reshape(-1), expected.numpy().reshape(-1))


def test_stub_is_not_attempted():
    result = check.conv1d_matrix(stub)
    assert result.status == "not attempted" and not result
    assert result.message == (
        "… conv1d_matrix: not attempted yet — replace the `raise NotImplementedError` "
        "with your code and run this cell again."
    )


@pytest.mark.parametrize("name", MISTAKES)
def test_rejects_mistake(name):
    fn, hint = MISTAKES[name]
    result = check.conv1d_matrix(fn)
    assert result.status == "failed" and not result, result.message
    assert result.message.startswith("✘ conv1d_matrix: failed on case ")
    assert "Traceback" not in result.message
    assert result.hint is not None and hint in result.hint, result.message


def test_failure_names_the_tiny_case_value_by_value():
    result = check.conv1d_matrix(MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 20." and result.cases == 1
    assert "case: w=[[[1, 2, -1]]], length=4" in flat(result)
    assert "expected: [[1, 2, -1, 0], [0, 1, 2, -1]]" in flat(result)
    assert "got: [[-1, 2, 1, 0], [0, -1, 2, 1]]" in flat(result)
    np.testing.assert_array_equal(result.expected, [[1, 2, -1, 0], [0, 1, 2, -1]])


def test_wrong_shape_is_reported_before_values():
    result = check.conv1d_matrix(MISTAKES["transposed"][0])
    assert "the matrix has the wrong shape" in flat(result)
    assert "expected: shape (2, 4)" in flat(result) and "got: shape (4, 2)" in flat(result)


def test_channel_mistakes_fail_on_a_case_with_channels():
    result = check.conv1d_matrix(MISTAKES["rows-by-position"][0])
    assert result.summary == "failed on case 3 of 20."
    assert result.case["w"].shape == (2, 3, 1) and result.case["length"] == 3
    assert "M[" in flat(result) and "(the worst element)" in flat(result)


def test_passing_a_matrix_instead_of_the_function():
    result = check.conv1d_matrix(conv1d_matrix_loops(np.ones((1, 1, 3)), 5))
    assert result.status == "failed" and "without calling it" in result.hint


def test_leaves_global_random_state_alone_and_is_deterministic():
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
    first = [check.conv1d_matrix(fn).message for fn, _ in MISTAKES.values()]
    second = [check.conv1d_matrix(fn).message for fn, _ in MISTAKES.values()]
    assert first == second
    after = np.random.get_state()
    assert numpy_state[0] == after[0] and numpy_state[2:] == after[2:]
    np.testing.assert_array_equal(numpy_state[1], after[1])
    assert torch.equal(torch_state, torch.get_rng_state())


def test_is_quick():
    """Well under half a second on correct loops (best of three runs)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        assert check.conv1d_matrix(conv1d_matrix_loops)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5, f"conv1d_matrix took {min(times):.3f} s"
