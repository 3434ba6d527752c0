"""Convolution and pooling kernels on plain numpy arrays: no graph, no tensors.

These are the functions that do the arithmetic. :mod:`labs.functional` wraps them in
``Function`` classes for autograd, but they can be called, tested and taught on their
own. Every kernel works for any number of spatial dimensions (1-D signals, 2-D images,
...); the ``conv1d_*`` and ``conv2d_*`` names mirror ``torch.nn.grad``.

Arguments here are already validated and normalized: ``stride`` and ``dilation`` are
tuples with one int per spatial dimension, ``padding`` is a tuple of ``(before, after)``
pairs. :mod:`labs.reference` holds the same computations as plain loops: slower, but a
readable specification and a second oracle in the tests.

The method, per spatial dimension with input size i, kernel size k, stride s,
dilation d and padding p (chapter 3 derives the size, chapter 7 the gradients):

* forward ("im2col"): every window of the padded input is copied into a column,
  and one matrix product with the flattened kernels gives all outputs at once;
  ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1``;
* gradient for the input ("col2im"): the matrix product is run backwards and every
  column is added back to the window it came from, which is exactly a transposed
  convolution of ``grad_output``;
* gradient for the weight: the product of ``grad_output`` with the same columns,
  i.e. a correlation of the input with ``grad_output``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from labs.shapes import window_count

__all__ = [
    "windows",
    "columns",
    "conv_forward",
    "conv_input_grad",
    "conv_weight_grad",
    "grouped_grad_output",
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "pad_constant",
    "max_pool_forward",
    "max_pool_backward",
    "avg_pool_forward",
    "avg_pool_backward",
    "pad_source_index",
    "pad_forward",
    "pad_backward",
]


def windows(x: np.ndarray, kernel, stride, dilation, out) -> np.ndarray:
    """A read-only view of ``x`` (N, C, *spatial) as windows (N, C, *out, *kernel).

    ``windows(x, ...)[n, c, *o, *j]`` is ``x[n, c, *(o * stride + j * dilation)]``:
    no data is copied, the view just steps through memory with larger strides.
    """
    n, c = x.shape[:2]
    step = x.strides[2:]
    strides = (
        x.strides[:2]
        + tuple(s * st for s, st in zip(stride, step))
        + tuple(d * st for d, st in zip(dilation, step))
    )
    return as_strided(x, (n, c) + tuple(out) + tuple(kernel), strides, writeable=False)


def _padded_sizes(sizes, padding):
    """The spatial sizes after adding ``padding``'s (before, after) pairs to ``sizes``."""
    return tuple(size + before + after for size, (before, after) in zip(sizes, padding))


def _inside(sizes, padding):
    """Slices that select the unpadded ``sizes`` within a padded array's spatial axes."""
    return tuple(
        slice(before, before + size) for size, (before, _) in zip(sizes, padding)
    )


def pad_constant(x: np.ndarray, padding, value=0.0) -> np.ndarray:
    """Pad the spatial dimensions of (N, C, *spatial) with ``value``.

    ``padding`` holds one (before, after) pair per spatial dimension.
    """
    if not any(before or after for before, after in padding):
        return x
    # the same as np.pad(x, ..., constant_values=value); np.pad's generality costs
    # about 50 us a call, which the capstone's small batches pay dozens of times a step
    shape = x.shape[:2] + _padded_sizes(x.shape[2:], padding)
    result = np.full(shape, value, dtype=x.dtype)
    result[(slice(None), slice(None)) + _inside(x.shape[2:], padding)] = x
    return result


# The order of the columns, chosen per shape; it changes the speed, never a sum. With
# the batch first (column n * L + l), every contiguous run that the copies below move
# is one row of one sample's output positions; with the batch last (column l * N + n),
# every run holds one value per sample. Few output positions make the first runs short
# and the second long. Measured here, conv2d forward and backward on 2 threads (batch
# last against batch first): 4 x 4 outputs 180 against 320 us, 8 x 8 590 against 710
# us, 12 x 12 within 10% either way, 14 x 14 6.0 against 4.0 ms.
BATCH_LAST_POSITIONS = 100


def batch_last(out) -> bool:
    """Whether the columns for output positions ``out`` put the batch last."""
    return math.prod(out) <= BATCH_LAST_POSITIONS


def columns(x, kernel, stride, dilation, padding, groups=1, out=None):
    """im2col: every window of the padded input as one column of a matrix.

    Returns (cols, out) with ``cols`` of shape (groups, C_in/groups * prod(kernel), N * L):
    each column holds the window that one output position of one sample reads, channel
    by channel and kernel tap by kernel tap. L is the number of windows (all that fit,
    or the first ``out`` along each axis). Column ``n * L + l`` is position ``l`` of
    sample ``n``, or, when :func:`batch_last` says so for ``out``, column ``l * N + n``.
    The copy made here is the only one; putting the batch next to the positions lets one
    matrix product per group serve the whole batch.
    """
    xp = pad_constant(x, padding)
    if out is None:
        out = tuple(
            window_count(size, k, s, d)
            for size, k, s, d in zip(xp.shape[2:], kernel, stride, dilation)
        )
    view = windows(xp, kernel, stride, dilation, out)  # (N, C, *out, *kernel)
    nd = len(kernel)
    taps, positions = tuple(range(2 + nd, 2 + 2 * nd)), tuple(range(2, 2 + nd))
    # (C, *kernel, *out, N) or (C, *kernel, N, *out)
    last = batch_last(out)
    order = (1,) + taps + (positions + (0,) if last else (0,) + positions)
    cols = np.ascontiguousarray(view.transpose(order))
    c = x.shape[1]
    return cols.reshape(groups, (c // groups) * int(np.prod(kernel)), -1), tuple(out)


def _scatter_windows(cols, padded_shape, kernel, stride, dilation, out):
    """col2im: add every window's values back into an array of ``padded_shape``.

    ``cols`` has shape (A, B, *kernel, *out) and ``padded_shape`` is (A, B, *padded) for
    any two leading axes (batch and channels, in either order). The loop runs over
    kernel offsets only (k_h * k_w iterations for 2-D), never over pixels.
    """
    nd = len(kernel)
    if all(s == k and d == 1 for k, s, d in zip(kernel, stride, dilation)):
        # The windows tile the array without overlapping (2×2 pooling, for instance):
        # nothing to add up, so interleave each output axis with its kernel axis and
        # copy once.
        order = (0, 1) + tuple(axis for i in range(nd) for axis in (2 + nd + i, 2 + i))
        covered = tuple(o * k for o, k in zip(out, kernel))
        tiled = cols.transpose(order).reshape(cols.shape[:2] + covered)
        if covered == tuple(padded_shape[2:]):
            return np.ascontiguousarray(tiled)
        result = np.zeros(padded_shape, dtype=cols.dtype)
        result[(slice(None), slice(None)) + tuple(slice(0, n) for n in covered)] = tiled
        return result
    result = np.zeros(padded_shape, dtype=cols.dtype)
    for offset, target in _taps(kernel, stride, dilation, out):
        result[target] += cols[
            (slice(None), slice(None)) + offset + (slice(None),) * nd
        ]
    return result


def _taps(kernel, stride, dilation, out):
    """Each kernel tap (row-major order) with the index of what it reads in every window.

    For tap ``j`` the index selects, along each spatial axis, the positions
    ``o * stride + j * dilation`` for every window ``o``: indexing an (N, C, *padded)
    array with it gives that tap's value in each window, shaped (N, C, *out).
    """
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield (
            offset,
            (slice(None), slice(None))
            + tuple(
                slice(j * d, j * d + s * (o - 1) + 1, s)
                for j, s, d, o in zip(offset, stride, dilation, out)
            ),
        )


def _crop(x, padding):
    """Remove (before, after) padding from the spatial dimensions of ``x``."""
    index = (slice(None), slice(None)) + tuple(
        slice(before, x.shape[2 + i] - after)
        for i, (before, after) in enumerate(padding)
    )
    return x[index]


def grouped_grad_output(grad_output, groups):
    """(N, C_out, *out) as (groups, C_out/groups, N * L), in :func:`columns`' order.

    A copy of the whole of ``grad_output`` (unless the batch holds one sample).
    """
    n, c_out = grad_output.shape[:2]
    g = grad_output.reshape(
        n, groups, c_out // groups, math.prod(grad_output.shape[2:])
    )
    g = g.transpose((1, 2, 3, 0) if batch_last(grad_output.shape[2:]) else (1, 2, 0, 3))
    return g.reshape(groups, c_out // groups, -1)


def conv_forward(
    input, weight, stride, padding, dilation, groups=1, cols=None, out=None
):
    """Cross-correlate ``input`` (N, C_in, *i) with ``weight`` (C_out, C_in/groups, *k).

    Returns (N, C_out, *o) with ``o = floor((i + before + after - d(k - 1) - 1) / s) + 1``,
    or only the first ``out`` positions along each axis. ``cols`` may be passed in when
    :func:`columns` was already computed (with the same ``out``).
    """
    kernel = weight.shape[2:]
    if cols is None:
        cols, out = columns(input, kernel, stride, dilation, padding, groups, out)
    elif out is None:
        out = _out_shape(input.shape[2:], kernel, stride, padding, dilation)
    n, c_out = input.shape[0], weight.shape[0]
    w = weight.reshape(groups, c_out // groups, -1)  # (G, C_out/G, C_in/G * K)
    # One product per group for the whole batch, then one copy into (N, C_out, L)
    # order: measured faster than one small product per sample.
    product = np.matmul(w, cols)
    if batch_last(out):
        result = product.reshape(groups, c_out // groups, math.prod(out), n)
        result = result.transpose(3, 0, 1, 2)
    else:
        result = product.reshape(groups, c_out // groups, n, math.prod(out))
        result = result.transpose(2, 0, 1, 3)
    result = np.ascontiguousarray(result)  # (N, G, C_out/G, L)
    return result.reshape((n, c_out) + out)


def _out_shape(sizes, kernel, stride, padding, dilation):
    return tuple(
        window_count(i + before + after, k, s, d)
        for i, k, s, (before, after), d in zip(sizes, kernel, stride, padding, dilation)
    )


def conv_input_grad(
    input_size, weight, grad_output, stride, padding, dilation, groups=1, grouped=None
):
    """Gradient of :func:`conv_forward` with respect to its input, of shape ``input_size``.

    Mathematically this is the transposed convolution of ``grad_output`` with the same
    weight; :func:`labs.functional.conv_transpose2d` is built on it.

    One matrix product gives every kernel tap's contribution (a "column"); each column
    is then added to the positions it came from. Along an axis with stride s and
    dilation d, tap j reaches padded positions ``s * (x + q) + r`` with ``r = j*d % s``
    and ``q = j*d // s``: the taps of one phase ``r`` fill every s-th position, shifted
    by whole steps. Each phase gets its own array in which those shifts are plain
    offsets into flat rows, so every tap is one long contiguous addition (the columns
    carry zero margins, which absorb the wrap-around), and the phases are interleaved
    into the result at the end. This layout is for speed only: the sum is the one
    :func:`labs.reference.conv_transpose2d` writes as plain loops.

    ``grouped`` may be :func:`grouped_grad_output` of ``grad_output``, when the weight's
    gradient needs it too; it saves a copy where no shifted column needs zero margins
    (always in 1-D).
    """
    if batch_last(grad_output.shape[2:]):
        if grouped is None:
            grouped = grouped_grad_output(grad_output, groups)
        return _input_grad_batch_last(
            input_size, weight, grouped, grad_output.shape, stride, padding, dilation
        )
    kernel = tuple(weight.shape[2:])
    n, c_out = grad_output.shape[:2]
    out = tuple(grad_output.shape[2:])
    c_in = input_size[1]
    nd = len(kernel)
    padded = _padded_sizes(input_size[2:], padding)
    # Each phase array covers every position of its phase and every shifted column.
    extent = tuple(
        max(o + (d * (k - 1)) // s, -(-p // s))
        for o, k, s, d, p in zip(out, kernel, stride, dilation, padded)
    )
    rows = (extent[0] + 1,) + extent[1:]  # one spare row for the last wrap-around
    # grad_output as (G, C_out/G, N, out_0, extent_1, ...), zero beyond ``out``
    shape = (groups, c_out // groups, n, out[0]) + extent[1:]
    if grouped is not None and extent[1:] == out[1:]:  # no margin: the same array
        g = grouped.reshape(shape)
    else:
        g = np.zeros(shape, dtype=grad_output.dtype)
        g[(Ellipsis,) + tuple(slice(0, o) for o in out[1:])] = grad_output.reshape(
            (n, groups, c_out // groups) + out
        ).transpose((1, 2, 0) + tuple(range(3, 3 + nd)))
    # (G, K, C_in/G, C_out/G): the product's rows come out kernel tap first
    w = weight.reshape((groups, c_out // groups, c_in // groups) + kernel)
    w = w.transpose((0,) + tuple(range(3, 3 + nd)) + (2, 1))
    w = w.reshape(groups, -1, c_out // groups)
    length = out[0] * math.prod(extent[1:])  # one (channel, sample) row of a column
    cols = np.matmul(w, g.reshape(groups, c_out // groups, -1))
    cols = cols.reshape((groups,) + kernel + (c_in // groups, n, length))
    cols = np.moveaxis(cols, 0, nd).reshape(kernel + (c_in * n, length))
    row_steps = tuple(int(np.prod(rows[i + 1 :])) for i in range(nd))
    phases = {}
    for tap in itertools.product(*(range(k) for k in kernel)):
        phase = tuple(j * d % s for j, d, s in zip(tap, dilation, stride))
        if phase not in phases:
            phases[phase] = np.zeros((c_in * n, int(np.prod(rows))), dtype=cols.dtype)
        start = sum(
            j * d // s * step for j, d, s, step in zip(tap, dilation, stride, row_steps)
        )
        phases[phase][:, start : start + length] += cols[tap]
    covered = len(phases) == int(np.prod(stride))
    result = (np.empty if covered else np.zeros)(
        (n, c_in) + tuple(input_size[2:]), dtype=cols.dtype
    )
    target = result.swapaxes(0, 1)  # (C_in, N, *input), a view
    for phase, values in phases.items():
        values = values.reshape((c_in, n) + rows)
        into, source = [slice(None)] * 2, [slice(None)] * 2
        for r, s, size, (before, _) in zip(phase, stride, input_size[2:], padding):
            first = (r - before) % s  # the first unpadded position of this phase
            count = len(range(first, size, s))
            into.append(slice(first, size, s))
            source.append(slice((first + before) // s, (first + before) // s + count))
        target[tuple(into)] = values[tuple(source)]
    return result


def _input_grad_batch_last(
    input_size, weight, grouped, grad_output_size, stride, padding, dilation
):
    """:func:`conv_input_grad` with the batch last (see :func:`batch_last`).

    The product gives the columns as (C_in, *kernel, *out, N); each kernel tap's slab is
    added to the windows' positions of a (C_in, *padded, N) array, in runs of N values,
    which is then cropped and put back into (N, C_in, *input) order.
    """
    kernel, out = tuple(weight.shape[2:]), tuple(grad_output_size[2:])
    n, c_out = grad_output_size[:2]
    groups = grouped.shape[0]
    c_in = input_size[1]
    padded = _padded_sizes(input_size[2:], padding)
    w = weight.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)
    cols = np.matmul(w, grouped)
    cols = cols.reshape((c_in,) + kernel + out + (n,))
    result = np.zeros((c_in,) + padded + (n,), dtype=cols.dtype)
    for offset, tap in _taps(kernel, stride, dilation, out):
        result[(slice(None),) + tap[2:]] += cols[(slice(None),) + offset]
    inside = (slice(None),) + _inside(input_size[2:], padding)
    return np.ascontiguousarray(np.moveaxis(result[inside], -1, 0))


def conv_weight_grad(
    input,
    weight_size,
    grad_output,
    stride,
    padding,
    dilation,
    groups=1,
    cols=None,
    grouped=None,
):
    """Gradient of :func:`conv_forward` with respect to its weight, of shape ``weight_size``.

    A correlation of the input with ``grad_output``: each weight entry collects the
    input values it multiplied, weighted by the gradient of the output they produced,
    summed over the batch and all output positions in one matrix product per group.
    ``cols`` may be the forward pass's :func:`columns`, to avoid computing them again,
    and ``grouped`` :func:`grouped_grad_output` of ``grad_output``.
    """
    kernel = weight_size[2:]
    if cols is None:
        cols, _ = columns(
            input,
            kernel,
            stride,
            dilation,
            padding,
            groups,
            tuple(grad_output.shape[2:]),
        )
    g = grouped if grouped is not None else grouped_grad_output(grad_output, groups)
    if cols.shape[1] > g.shape[1]:
        # More kernel entries than output channels: OpenBLAS runs this long, thin
        # product faster with the larger matrix first (the same sums, transposed;
        # 32 x 144 weights from 12 544 positions: 0.69 -> 0.57 ms; with fewer
        # entries than channels, as in conv1d 2 -> 16, k5, it is twice as slow)
        return (
            np.matmul(cols, g.transpose(0, 2, 1))
            .transpose(0, 2, 1)
            .reshape(weight_size)
        )
    return np.matmul(g, cols.transpose(0, 2, 1)).reshape(weight_size)


def _tuple(value, nd):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * nd


def _pairs(padding, nd):
    return tuple((p, p) for p in _tuple(padding, nd))


def conv1d_input(
    input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """``torch.nn.grad.conv1d_input``: the gradient of conv1d for its input."""
    return conv_input_grad(
        tuple(input_size),
        weight,
        grad_output,
        _tuple(stride, 1),
        _pairs(padding, 1),
        _tuple(dilation, 1),
        groups,
    )


def conv1d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """``torch.nn.grad.conv1d_weight``: the gradient of conv1d for its weight."""
    return conv_weight_grad(
        input,
        tuple(weight_size),
        grad_output,
        _tuple(stride, 1),
        _pairs(padding, 1),
        _tuple(dilation, 1),
        groups,
    )


def conv2d_input(
    input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """``torch.nn.grad.conv2d_input``: the gradient of conv2d for its input."""
    return conv_input_grad(
        tuple(input_size),
        weight,
        grad_output,
        _tuple(stride, 2),
        _pairs(padding, 2),
        _tuple(dilation, 2),
        groups,
    )


def conv2d_weight(
    input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1
):
    """``torch.nn.grad.conv2d_weight``: the gradient of conv2d for its weight."""
    return conv_weight_grad(
        input,
        tuple(weight_size),
        grad_output,
        _tuple(stride, 2),
        _pairs(padding, 2),
        _tuple(dilation, 2),
        groups,
    )


# --------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------


def _pool_padding(sizes, kernel, stride, padding, dilation, out):
    """(before, after) padding so that all ``out`` windows fit (ceil mode may need extra)."""
    pairs = []
    for i, k, s, p, d, o in zip(sizes, kernel, stride, padding, dilation, out):
        needed = (
            (o - 1) * s + d * (k - 1) + 1
        )  # span of the last window, from the start
        pairs.append((p, max(p, needed - i - p)))
    return tuple(pairs)


def max_pool_forward(input, kernel, stride, padding, dilation, out):
    """Max over each window; returns (output, argmax), argmax the flat offset in the window.

    The windows are scanned tap by tap (k_h * k_w steps for 2-D, each over every window
    at once), following PyTorch's rule: a larger value takes the maximum's place, an
    equal one does not (the first of equal maxima wins), and a NaN always does (so a
    window with a NaN gives NaN, at its last NaN). Padding counts as -inf (the smallest
    integer for integer inputs), so a padded position is never the maximum.
    """
    pads = _pool_padding(input.shape[2:], kernel, stride, padding, dilation, out)
    floating = input.dtype.kind == "f"
    lowest = -np.inf if floating else np.iinfo(input.dtype).min
    xp = pad_constant(input, pads, value=lowest)
    view = windows(xp, kernel, stride, dilation, out)  # (N, C, *out, *kernel)
    nd = len(kernel)
    # one copy with the taps first, so each step below runs over contiguous memory
    taps = np.ascontiguousarray(np.moveaxis(view, range(2 + nd, 2 + 2 * nd), range(nd)))
    taps = taps.reshape((math.prod(kernel),) + view.shape[: 2 + nd])
    if any(before for before, _ in pads):
        # Start below every value, at the window's first tap inside the input: PyTorch's
        # start, so a window whose values all equal the lowest value (-inf, or the
        # dtype's smallest integer) points at its first real position, not at padding.
        values = np.full(taps.shape[1:], lowest, dtype=input.dtype)
        first = _first_tap_inside(input.shape[2:], kernel, stride, dilation, pads, out)
        argmax, start = np.broadcast_to(first, values.shape).copy(), 0
    else:  # every window's first tap is inside the input: start from it
        values, argmax, start = taps[0].copy(), np.zeros(taps.shape[1:], np.int64), 1
    for index in range(start, len(taps)):
        wins = taps[index] > values
        if floating:
            wins |= np.isnan(taps[index])
        np.putmask(argmax, wins, index)
        np.maximum(values, taps[index], out=values)  # NaN wherever either is NaN
    return values, argmax


def _first_tap_inside(sizes, kernel, stride, dilation, pads, out):
    """For every window, the flat kernel offset of its first tap inside the input.

    Shaped ``out``; a window that lies entirely on padding gets 0.
    """
    first = np.zeros((), dtype=np.int64)
    for size, k, s, d, (before, _), o in zip(
        sizes, kernel, stride, dilation, pads, out
    ):
        start = np.arange(o) * s - before  # where tap 0 of each window falls
        # the first tap at or past 0; it is always a tap of the kernel (j < k), as the
        # padding before is at most k // 2 (checked by labs.functional)
        j = np.where(start >= 0, 0, (-start + d - 1) // d)
        j = np.where(start + j * d < size, j, 0)  # past the input: all padding
        first = np.add.outer(first * k, j)
    return first


def max_pool_backward(
    grad_output, argmax, input_shape, kernel, stride, padding, dilation
):
    """Send each output's gradient to the input position that held its maximum."""
    out = grad_output.shape[2:]
    pads = _pool_padding(input_shape[2:], kernel, stride, padding, dilation, out)
    padded = _padded_sizes(input_shape[2:], pads)
    result = np.zeros(input_shape[:2] + padded, dtype=grad_output.dtype)
    zero = grad_output.dtype.type(0)
    # where windows overlap, a position can be the maximum of several: add; where they
    # do not, assigning is enough (and cheaper on these strided views)
    overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    for index, (_, tap) in enumerate(_taps(kernel, stride, dilation, out)):
        mine = np.where(argmax == index, grad_output, zero)
        if overlap:
            result[tap] += mine
        else:
            result[tap] = mine
    return _crop(result, pads)


def _avg_divisor(sizes, kernel, stride, padding, out, count_include_pad):
    """PyTorch's divisor for each output of an average pool, shaped (*out).

    With ``count_include_pad`` the window is counted up to the end of the padding
    (but not into the extra room that ceil mode adds); without it, only positions
    inside the input count.
    """
    divisor = np.ones((), dtype=np.int64)
    for i, k, s, p, o in zip(sizes, kernel, stride, padding, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, i + p)
        inside = np.minimum(end, i) - np.maximum(start, 0)  # the part within the input
        count = end - start if count_include_pad else inside
        divisor = np.multiply.outer(divisor, count)
    return divisor


def avg_pool_forward(
    input, kernel, stride, padding, out, count_include_pad=True, divisor_override=None
):
    """Mean over each window, divided the way PyTorch divides (see :func:`_avg_divisor`)."""
    dilation = (1,) * len(kernel)
    pads = _pool_padding(input.shape[2:], kernel, stride, padding, dilation, out)
    xp = pad_constant(input, pads)
    view = windows(xp, kernel, stride, dilation, out)
    total = view.sum(axis=tuple(range(2 + len(out), view.ndim)))
    if divisor_override:
        return total / np.asarray(divisor_override, dtype=input.dtype)
    divisor = _avg_divisor(
        input.shape[2:], kernel, stride, padding, out, count_include_pad
    )
    return total / divisor.astype(input.dtype)


def avg_pool_backward(
    grad_output,
    input_shape,
    kernel,
    stride,
    padding,
    count_include_pad=True,
    divisor_override=None,
):
    """Spread each output's gradient evenly (by its divisor) over its window."""
    out = grad_output.shape[2:]
    nd = len(kernel)
    dilation = (1,) * nd
    if divisor_override:
        scaled = grad_output / np.asarray(divisor_override, dtype=grad_output.dtype)
    else:
        divisor = _avg_divisor(
            input_shape[2:], kernel, stride, padding, out, count_include_pad
        )
        scaled = grad_output / divisor.astype(grad_output.dtype)
    cols = np.broadcast_to(
        scaled.reshape(scaled.shape[:2] + (1,) * nd + out),
        scaled.shape[:2] + tuple(kernel) + out,
    )
    pads = _pool_padding(input_shape[2:], kernel, stride, padding, dilation, out)
    padded = _padded_sizes(input_shape[2:], pads)
    result = _scatter_windows(
        cols, tuple(input_shape[:2]) + padded, kernel, stride, dilation, out
    )
    return _crop(result, pads)


# --------------------------------------------------------------------------------------
# Padding (for labs.functional.pad)
# --------------------------------------------------------------------------------------


def pad_source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of a padded axis, the input position whose value it copies.

    ``reflect`` mirrors about the edge without repeating it (``[c b | a b c d | c b]``),
    ``replicate`` repeats the edge value, ``circular`` wraps around. Negative ``before``
    or ``after`` crop instead of padding; as in PyTorch, ``circular`` crops first and
    then wraps around what is left.
    """
    position = np.arange(-before, size + after)
    if mode == "reflect":
        position = np.abs(position)
        return np.where(position >= size, 2 * (size - 1) - position, position)
    if mode == "replicate":
        return np.clip(position, 0, size - 1)
    if mode == "circular":
        start = max(-before, 0)
        kept = size - start - max(-after, 0)
        return start + (position - start) % kept
    raise ValueError(f"no source index for padding mode {mode!r}")


def pad_forward(x, padding, mode="constant", value=0.0):
    """Pad ``x``; ``padding`` holds one (before, after) pair per axis of ``x``."""
    if mode == "constant":
        crop = tuple(
            slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, padding)
        )
        grow = tuple((max(b, 0), max(a, 0)) for b, a in padding)
        return np.pad(x[crop], grow, constant_values=value)
    for axis, (before, after) in enumerate(padding):
        if before or after:
            x = np.take(
                x, pad_source_index(x.shape[axis], before, after, mode), axis=axis
            )
    return x


def pad_backward(grad_output, input_shape, padding, mode="constant"):
    """Gradient of :func:`pad_forward`: each input position collects the gradients of its copies."""
    if mode == "constant":
        keep = tuple(
            slice(max(b, 0), n - max(a, 0))
            for n, (b, a) in zip(grad_output.shape, padding)
        )
        regrow = tuple((max(-b, 0), max(-a, 0)) for b, a in padding)
        return np.pad(grad_output[keep], regrow)
    grad = grad_output
    for axis in reversed(range(len(padding))):
        before, after = padding[axis]
        if before or after:
            index = pad_source_index(input_shape[axis], before, after, mode)
            shape = grad.shape[:axis] + (input_shape[axis],) + grad.shape[axis + 1 :]
            result = np.zeros(shape, dtype=grad.dtype)
            np.add.at(result, (slice(None),) * axis + (index,), grad)
            grad = result
    return grad
