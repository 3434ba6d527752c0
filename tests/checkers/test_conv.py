"""conv1d, conv2d and conv_transpose2d: what their verdicts say.

The contract test runs every planted mistake of ``planted/conv.py``; these tests pin
down the text of the verdicts: the case, expected and got, the worst element, the
order of the checks, and the hints that depend on the case."""

from __future__ import annotations

import numpy as np

from labs import check

from .planted.conv import (
    CONV1D_MISTAKES,
    _conv1d_mutates,
    _conv1d_raises,
    conv1d_vectorized,
    conv2d_vectorized,
    conv_transpose2d_vectorized,
)
from .verdicts import assert_not_attempted, assert_passed, assert_rejected, flat


def test_passing_message():
    assert check.conv1d(conv1d_vectorized).message == "✔ conv1d: passed all 40 cases."
    assert_passed(check.conv2d(conv2d_vectorized), cases=25)
    assert_passed(check.conv_transpose2d(conv_transpose2d_vectorized), cases=25)


def test_failure_text_names_case_expected_and_got():
    result = check.conv1d(CONV1D_MISTAKES["kernel-flipped"][0])
    assert result.summary == "failed on case 1 of 40." and result.cases == 1
    text = flat(result)
    assert "case: x=[[[1, 2, 3, 4, 5]]], w=[[[1, 2, -1]]], b=None, stride=1" in text
    assert "expected: [[[2, 4, 6]]]" in text
    assert "got: [[[6, 8, 10]]]" in text
    assert "max abs error 4" in text
    assert result.mistake == "kernel-flipped"
    np.testing.assert_array_equal(result.case["x"], [[[1, 2, 3, 4, 5]]])
    np.testing.assert_array_equal(result.expected, [[[2, 4, 6]]])
    np.testing.assert_array_equal(result.got, [[[6, 8, 10]]])


def test_a_small_error_is_printed_with_the_digits_that_show_it():
    """An error of 1e-5 on values near 2: four significant digits would print the
    expected and the received values alike."""

    def almost(x, w, b=None, stride=1, padding=0, dilation=1):
        out = conv1d_vectorized(x, w, b, stride, padding, dilation)
        out[..., 0] += 1e-5
        return out

    result = check.conv1d(almost)
    assert "expected: [[[2, 4, 6]]]" in flat(result)
    assert "got: [[[2.00001, 4, 6]]]" in flat(result)


def test_larger_arrays_report_the_worst_element():
    result = check.conv1d(CONV1D_MISTAKES["bias-missing"][0])
    text = flat(result)
    assert "x of shape (1, 2, 6)" in text
    assert "(the worst element)" in text and "out[0, " in text
    assert "1e-08 + 1e-06·|expected|" in text


def test_wrong_shape_is_reported_before_values():
    result = check.conv1d(CONV1D_MISTAKES["output-one-too-short"][0])
    text = flat(result)
    assert "wrong shape" in text
    assert "expected: shape (1, 1, 3)" in text and "got: shape (1, 1, 2)" in text


def test_modified_argument_is_named():
    result = check.conv1d(_conv1d_mutates)
    assert "modified its argument x in place" in flat(result)
    assert "<code>x = x.copy()</code>" in result._repr_html_()


def test_passing_a_result_instead_of_the_function():
    x, w = np.ones((1, 1, 5)), np.ones((1, 1, 3))
    assert_rejected(
        check.conv1d(conv1d_vectorized(x, w)), "without calling it", "got a numpy array"
    )


def test_exception_verdict_names_type_message_and_line():
    result = check.conv1d(_conv1d_raises)
    text = flat(result)
    assert "your function raised ValueError: shapes do not match" in text
    assert "in _conv1d_raises, line" in text
    assert 'raise ValueError("shapes do not match")' in text
    assert result.got is None


def test_signature_mismatch_is_explained():
    def no_bias_parameter(x, w, stride=1, padding=0, dilation=1):
        return conv1d_vectorized(x, w, None, stride, padding, dilation)

    result = check.conv1d(no_bias_parameter)
    assert_rejected(result, "fn(x, w, b, stride=..., padding=..., dilation=...)")
    assert "bias=False" in result.hint
    assert_passed(check.conv1d(no_bias_parameter, bias=False))


def test_partly_written_is_not_finished():
    def no_dilation_yet(x, w, b=None, stride=1, padding=0, dilation=1):
        if dilation != 1:
            raise NotImplementedError("dilation")
        return conv1d_vectorized(x, w, b, stride, padding)

    result = check.conv1d(no_dilation_yet)
    assert_not_attempted(result)
    assert "not finished yet" in flat(result) and "dilation=2" in flat(result)


def test_conv2d_tuples_false_passes_ints_only():
    def ints_only(x, w, b=None, stride=1, padding=0, dilation=1):
        assert all(isinstance(v, int) for v in (stride, padding, dilation))
        return conv2d_vectorized(x, w, b, stride, padding, dilation)

    assert_passed(check.conv2d(ints_only, tuples=False), cases=25)


def test_channel_axes_swapped_on_square_weights():
    """With C_in = C_out the swapped layout runs; the values give the mistake away,
    and the cases where it cannot run are no evidence against it."""

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

    assert_rejected(
        check.conv_transpose2d(square_channels_only), "swapped the two channel axes"
    )


def test_float32_verdict_says_how_precise_the_answer_is():
    result = check.conv1d(CONV1D_MISTAKES["float32-result"][0])
    text = flat(result)
    assert "computed in float32" in text and "float64 arithmetic" in text
    assert result.summary == "failed on case 2 of 40."  # case 1 is exact in float32
