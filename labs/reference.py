"""Convolution and pooling written as plain loops: the readable specification.

Slow on purpose: one Python loop per index, so that each line can be read against the
definition. The tests use these as a second oracle next to PyTorch, and the fast
kernels in :mod:`labs.kernels` must agree with them. Arguments are numpy arrays in
PyTorch's layouts; ``stride``, ``padding`` and ``dilation`` are plain ints (the same
value on every axis) to keep the loops short.
"""

from __future__ import annotations

import numpy as np

from labs.shapes import transposed_length, window_count

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "max_pool2d",
    "avg_pool2d",
]


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, t] = b[o] + sum over c, j of w[o, c, j] * x_padded[n, g*C + c, t*s + j*d]."""
    n_batch, c_in, length = x.shape
    c_out, c_group, k = w.shape
    xp = np.zeros((n_batch, c_in, length + 2 * padding), dtype=x.dtype)
    xp[:, :, padding : padding + length] = x
    l_out = window_count(length + 2 * padding, k, stride, dilation)
    out_per_group = c_out // groups
    y = np.zeros((n_batch, c_out, l_out), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            first_channel = (
                o // out_per_group
            ) * c_group  # this kernel's input channels
            for t in range(l_out):
                total = 0.0 if b is None else b[o]
                for c in range(c_group):
                    for j in range(k):
                        total += (
                            w[o, c, j]
                            * xp[n, first_channel + c, t * stride + j * dilation]
                        )
                y[n, o, t] = total
    return y


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, o, r, q] = b[o] + sum over c, i, j of
    w[o, c, i, j] * x_padded[n, ., r*s + i*d, q*s + j*d]."""
    n_batch, c_in, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    xp = np.zeros(
        (n_batch, c_in, height + 2 * padding, width + 2 * padding), dtype=x.dtype
    )
    xp[:, :, padding : padding + height, padding : padding + width] = x
    h_out = window_count(height + 2 * padding, kh, stride, dilation)
    w_out = window_count(width + 2 * padding, kw, stride, dilation)
    out_per_group = c_out // groups
    y = np.zeros((n_batch, c_out, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            first_channel = (o // out_per_group) * c_group
            for r in range(h_out):
                for q in range(w_out):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_group):
                        for i in range(kh):
                            for j in range(kw):
                                total += (
                                    w[o, c, i, j]
                                    * xp[
                                        n,
                                        first_channel + c,
                                        r * stride + i * dilation,
                                        q * stride + j * dilation,
                                    ]
                                )
                    y[n, o, r, q] = total
    return y


def conv_transpose1d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """One-to-many: input x[n, c, t] adds x * w[c, o, j] to output position t*s + j*d - p.

    ``w`` has the transposed layout (C_in, C_out / groups, k).
    """
    n_batch, c_in, length = x.shape
    _, out_per_group, k = w.shape
    c_out = out_per_group * groups
    in_per_group = c_in // groups
    l_out = transposed_length(length, k, stride, padding, dilation, output_padding)
    full = np.zeros(
        (n_batch, c_out, l_out + 2 * padding), dtype=x.dtype
    )  # before cropping p
    for n in range(n_batch):
        for c in range(c_in):
            first_out = (c // in_per_group) * out_per_group
            for t in range(length):
                for o in range(out_per_group):
                    for j in range(k):
                        full[n, first_out + o, t * stride + j * dilation] += (
                            x[n, c, t] * w[c, o, j]
                        )
    y = full[:, :, padding : padding + l_out]
    if b is not None:
        y = y + b[None, :, None]
    return y


def conv_transpose2d(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """One-to-many in 2-D: x[n, c, r, q] spreads x * w[c, o] over the output,
    offset by (r*s, q*s)."""
    n_batch, c_in, height, width = x.shape
    _, out_per_group, kh, kw = w.shape
    c_out = out_per_group * groups
    in_per_group = c_in // groups
    h_out = transposed_length(height, kh, stride, padding, dilation, output_padding)
    w_out = transposed_length(width, kw, stride, padding, dilation, output_padding)
    full = np.zeros(
        (n_batch, c_out, h_out + 2 * padding, w_out + 2 * padding), dtype=x.dtype
    )
    for n in range(n_batch):
        for c in range(c_in):
            first_out = (c // in_per_group) * out_per_group
            for r in range(height):
                for q in range(width):
                    for o in range(out_per_group):
                        for i in range(kh):
                            for j in range(kw):
                                full[
                                    n,
                                    first_out + o,
                                    r * stride + i * dilation,
                                    q * stride + j * dilation,
                                ] += x[n, c, r, q] * w[c, o, i, j]
    y = full[:, :, padding : padding + h_out, padding : padding + w_out]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def _pool2d(x, kernel_size, stride, padding, reduce, fill):
    stride = kernel_size if stride is None else stride
    n_batch, channels, height, width = x.shape
    xp = np.full(
        (n_batch, channels, height + 2 * padding, width + 2 * padding),
        fill,
        dtype=x.dtype,
    )
    xp[:, :, padding : padding + height, padding : padding + width] = x
    h_out = window_count(height + 2 * padding, kernel_size, stride)
    w_out = window_count(width + 2 * padding, kernel_size, stride)
    y = np.zeros((n_batch, channels, h_out, w_out), dtype=x.dtype)
    for n in range(n_batch):
        for c in range(channels):
            for r in range(h_out):
                for q in range(w_out):
                    window = xp[
                        n,
                        c,
                        r * stride : r * stride + kernel_size,
                        q * stride : q * stride + kernel_size,
                    ]
                    y[n, c, r, q] = reduce(window)
    return y


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The largest value in each window; padding never wins (it counts as -inf)."""
    return _pool2d(x, kernel_size, stride, padding, np.max, -np.inf)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each window, padded zeros included (PyTorch's count_include_pad=True)."""
    return _pool2d(x, kernel_size, stride, padding, np.mean, 0.0)
