"""The engine answers the course's own exercises: each labs function passes the checker
that learners' solutions face. Two independent paths (labs' kernels and the checkers'
torch oracle) must agree."""

from __future__ import annotations

import labs
import labs.functional as F
from labs import check, shapes


def _tensor(array):
    return None if array is None else labs.tensor(array)


def test_conv1d():
    def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
        return F.conv1d(
            _tensor(x), _tensor(w), _tensor(b), stride, padding, dilation
        ).numpy()

    check.conv1d(conv1d, raise_on_failure=True)


def test_conv2d():
    def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
        return F.conv2d(
            _tensor(x), _tensor(w), _tensor(b), stride, padding, dilation
        ).numpy()

    check.conv2d(conv2d, raise_on_failure=True)


def test_conv_transpose2d():
    def conv_transpose2d(
        x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
    ):
        return F.conv_transpose2d(
            _tensor(x),
            _tensor(w),
            _tensor(b),
            stride,
            padding,
            output_padding,
            1,
            dilation,
        ).numpy()

    check.conv_transpose2d(conv_transpose2d, raise_on_failure=True)


def test_output_sizes():
    check.output_size(shapes.conv_output_size, raise_on_failure=True)
    check.transposed_output_size(
        shapes.conv_transpose_output_size, raise_on_failure=True
    )
