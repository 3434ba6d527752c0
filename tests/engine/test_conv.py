"""Convolutions, padding and pooling against PyTorch (float64, forward and backward).

Hyperparameters are drawn at random; configurations PyTorch rejects are never
generated here (tests/engine/test_errors.py covers those).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import labs
import labs.functional as F
from labs import kernels, reference

from .helpers import assert_close, compare


@contextlib.contextmanager
def column_order(order):
    """Force the kernels' column order ("batch first" or "batch last"), which they
    otherwise choose by the number of output positions (kernels.batch_last): the
    sums must not depend on it."""
    saved = kernels.BATCH_LAST_POSITIONS
    kernels.BATCH_LAST_POSITIONS = math.inf if order == "batch last" else -1
    try:
        yield
    finally:
        kernels.BATCH_LAST_POSITIONS = saved


ORDERS = pytest.mark.parametrize("order", ["batch first", "batch last"])


def test_the_column_order_follows_the_number_of_output_positions():
    assert kernels.batch_last((4, 4)) and kernels.batch_last((100,))
    assert not kernels.batch_last((14, 14)) and not kernels.batch_last((1020,))
    with column_order("batch first"):
        assert not kernels.batch_last((1,))
    with column_order("batch last"):
        assert kernels.batch_last((1000, 1000))


def _per_axis(draw, nd, low, high, as_int_ok=True):
    values = tuple(draw(st.integers(low, high)) for _ in range(nd))
    if as_int_ok and len(set(values)) == 1 and draw(st.booleans()):
        return values[0], values
    return values, values


@st.composite
def conv_case(draw, nd):
    """Arrays and keyword arguments for a convolution PyTorch accepts."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride_arg, _ = _per_axis(
        draw, nd, 1, 3
    )  # any stride: the sizes below fit one window
    dilation_arg, dilation = _per_axis(draw, nd, 1, 3)
    padding_kind = draw(st.sampled_from(["int", "int", "valid", "same"]))
    if padding_kind == "same":
        stride_arg = 1
        padding_arg, padding = (
            "same",
            tuple(d * (k - 1) / 2 for k, d in zip(kernel, dilation)),
        )
    elif padding_kind == "valid":
        padding_arg, padding = "valid", (0,) * nd
    else:
        padding_arg, padding = _per_axis(draw, nd, 0, 3)
    smallest = [
        max(1, d * (k - 1) + 1 - int(2 * p))
        for k, d, p in zip(kernel, dilation, padding)
    ]
    sizes = tuple(draw(st.integers(low, low + 6)) for low in smallest)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((batch, c_in) + sizes)
    w = rng.standard_normal((c_out, c_in // groups) + kernel)
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    kwargs = dict(
        stride=stride_arg, padding=padding_arg, dilation=dilation_arg, groups=groups
    )
    return x, w, b, kwargs


@st.composite
def conv_transpose_case(draw, nd):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride_arg, stride = _per_axis(draw, nd, 1, 3)
    dilation_arg, dilation = _per_axis(draw, nd, 1, 3)
    padding_arg, padding = _per_axis(draw, nd, 0, 3)
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    extra_arg = extra[0] if len(set(extra)) == 1 and draw(st.booleans()) else extra
    sizes = []
    for k, s, d, p, e in zip(kernel, stride, dilation, padding, extra):
        # smallest input whose output (i - 1)s - 2p + d(k - 1) + e + 1 is at least 1
        smallest = max(1, -(-(2 * p - d * (k - 1) - e) // s) + 1)
        sizes.append(draw(st.integers(smallest, smallest + 5)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((batch, c_in) + tuple(sizes))
    w = rng.standard_normal((c_in, c_out // groups) + kernel)
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    kwargs = dict(
        stride=stride_arg,
        padding=padding_arg,
        output_padding=extra_arg,
        groups=groups,
        dilation=dilation_arg,
    )
    return x, w, b, kwargs


def _compare_layer(labs_fn, torch_fn, x, w, b, kwargs):
    arrays = (x, w) if b is None else (x, w, b)

    def call(fn):
        return lambda *t: fn(*t[:2], None if b is None else t[2], **kwargs)

    compare(call(labs_fn), call(torch_fn), *arrays)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@ORDERS
@given(case=conv_case(nd=1))
def test_conv1d(case, order):
    with column_order(order):
        _compare_layer(F.conv1d, TF.conv1d, *case)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@ORDERS
@given(case=conv_case(nd=2))
def test_conv2d(case, order):
    with column_order(order):
        _compare_layer(F.conv2d, TF.conv2d, *case)


@ORDERS
@given(case=conv_transpose_case(nd=1))
def test_conv_transpose1d(case, order):
    with column_order(order):
        _compare_layer(F.conv_transpose1d, TF.conv_transpose1d, *case)


@ORDERS
@given(case=conv_transpose_case(nd=2))
def test_conv_transpose2d(case, order):
    with column_order(order):
        _compare_layer(F.conv_transpose2d, TF.conv_transpose2d, *case)


EMPTY_BATCH_CASES = [
    ("conv1d", (0, 3, 9), (4, 3, 3), {}),
    ("conv2d", (0, 3, 8, 8), (4, 3, 3, 3), {}),
    ("conv2d", (0, 2, 20, 20), (4, 2, 3, 3), {"padding": 1, "stride": 2}),
    ("conv_transpose1d", (0, 4, 5), (4, 3, 3), {}),
    ("conv_transpose2d", (0, 4, 5, 5), (4, 3, 3, 3), {"stride": 2}),
    ("max_pool1d", (0, 3, 8), None, {"kernel_size": 3, "stride": 2}),
    ("max_pool2d", (0, 3, 8, 8), None, {"kernel_size": 2}),
    ("avg_pool2d", (0, 3, 8, 8), None, {"kernel_size": 2}),
]


@ORDERS
@pytest.mark.parametrize("name, shape, weight_shape, kwargs", EMPTY_BATCH_CASES)
def test_an_empty_batch_works_as_in_pytorch(order, name, shape, weight_shape, kwargs):
    """A batch of zero samples: PyTorch returns an empty output and empty gradients."""
    arrays = [np.zeros(shape)] + ([np.ones(weight_shape)] if weight_shape else [])
    with column_order(order):
        compare(
            lambda *t: getattr(F, name)(*t, **kwargs),
            lambda *t: getattr(TF, name)(*t, **kwargs),
            *arrays,
        )


def test_unbatched_inputs():
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2, 3))
    compare(
        lambda x, w: F.conv1d(x, w, padding=1),
        lambda x, w: TF.conv1d(x, w, padding=1),
        rng.standard_normal((3, 7)),
        w1,
    )
    compare(F.conv2d, TF.conv2d, rng.standard_normal((3, 5, 6)), w2)
    compare(F.conv_transpose2d, TF.conv_transpose2d, rng.standard_normal((4, 5, 6)), w2)
    compare(
        lambda x: F.max_pool2d(x, 2),
        lambda x: TF.max_pool2d(x, 2),
        rng.standard_normal((3, 5, 6)),
    )
    compare(
        lambda x: F.avg_pool1d(x, 2),
        lambda x: TF.avg_pool1d(x, 2),
        rng.standard_normal((3, 5)),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(0)
    x = labs.tensor(rng.standard_normal((2, 3, 8, 8)).astype(dtype), requires_grad=True)
    w = labs.tensor(rng.standard_normal((4, 3, 3, 3)).astype(dtype), requires_grad=True)
    y = F.conv2d(x, w, stride=2, padding=1)
    pooled = F.max_pool2d(F.conv_transpose2d(y, w), 2)
    pooled.sum().backward()
    assert y.dtype == dtype and pooled.dtype == dtype
    assert x.grad.dtype == dtype and w.grad.dtype == dtype
    expected = TF.conv2d(
        torch.from_numpy(x.data), torch.from_numpy(w.data), stride=2, padding=1
    )
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(
        y.data, expected.numpy(), "float32 conv2d", rtol=tolerance, atol=tolerance
    )


# ---- padding and pooling ---------------------------------------------------------------


@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    padded_dims = draw(st.integers(1, 3 if mode == "constant" else 2))
    extra_dims = draw(st.integers(1, 2))
    sizes = tuple(draw(st.integers(1, 5)) for _ in range(padded_dims))
    shape = tuple(draw(st.integers(1, 2)) for _ in range(extra_dims)) + sizes
    amounts = []
    for size in reversed(sizes):  # PyTorch lists the last dimension first
        if mode == "reflect":
            pair = (
                draw(st.integers(-(size - 1) // 2, size - 1)),
                draw(st.integers(-(size - 1) // 2, size - 1)),
            )
        elif mode == "circular":
            low = draw(st.integers(-(size // 2), size // 2))
            kept = size - max(-low, 0)
            high = draw(st.integers(-(kept // 2), max(0, kept - max(-low, 0))))
            kept -= max(-high, 0)
            pair = (min(low, kept), min(high, kept))
        elif mode == "replicate":
            pair = (
                draw(st.integers(-(size // 2), 4)),
                draw(st.integers(-(size // 2), 4)),
            )
        else:
            pair = (
                draw(st.integers(-(size // 2), 3)),
                draw(st.integers(-(size // 2), 3)),
            )
        if mode == "reflect" and size == 1:
            pair = (0, 0)
        amounts.extend(pair)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    value = (
        draw(st.floats(-2, 2)) if mode == "constant" and draw(st.booleans()) else None
    )
    return rng.standard_normal(shape), tuple(amounts), mode, value


@given(case=pad_case())
def test_pad(case):
    x, amounts, mode, value = case
    kwargs = {"mode": mode} if value is None else {"mode": mode, "value": value}
    compare(
        lambda t: F.pad(t, amounts, **kwargs), lambda t: TF.pad(t, amounts, **kwargs), x
    )


@st.composite
def pool_case(draw, nd, average):
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride_arg = draw(
        st.one_of(st.none(), st.integers(1, 3), st.tuples(*[st.integers(1, 3)] * nd))
    )
    dilation = (
        (1,) * nd if average else tuple(draw(st.integers(1, 2)) for _ in range(nd))
    )
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    sizes = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
        for k, d, p in zip(kernel, dilation, padding)
    )
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + sizes
    ceil_mode = draw(st.booleans())
    if not average and _some_window_is_all_padding(
        sizes, kernel, stride_arg, padding, dilation, ceil_mode
    ):
        # PyTorch returns -inf there and then aborts the process in backward: skip.
        # labs' behaviour is pinned down in test_max_pool_window_of_only_padding.
        dilation = (1,) * nd
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape)
    kwargs = dict(
        kernel_size=kernel, stride=stride_arg, padding=padding, ceil_mode=ceil_mode
    )
    if average:
        kwargs["count_include_pad"] = draw(st.booleans())
        if nd == 2 and draw(st.booleans()):
            kwargs["divisor_override"] = draw(st.integers(1, 5))
    else:
        kwargs["dilation"] = dilation
    return x, kwargs


def _some_window_is_all_padding(sizes, kernel, stride, padding, dilation, ceil_mode):
    """Whether a dilated max-pool window can fall entirely on padding (checked per axis)."""
    stride = kernel if stride is None else np.broadcast_to(stride, len(kernel))
    for i, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        o = labs.shapes.pool_output_size(i, k, int(s), p, d, ceil_mode)
        for start in range(0, o * s, s):
            taps = [start + j * d - p for j in range(k)]
            if not any(0 <= t < i for t in taps):
                return True
    return False


def test_max_pool_window_of_only_padding():
    """Kernel 2, dilation 2, padding 1 on one value: the only window sees just padding.

    PyTorch returns -inf for it (and aborts in backward); labs returns -inf and sends
    no gradient anywhere, since no input value was selected.
    """
    x = labs.tensor([[[0.5]]], requires_grad=True)
    y = F.max_pool1d(x, 2, padding=1, dilation=2)
    assert y.shape == (1, 1, 1) and y.item() == -np.inf
    assert (
        y.item()
        == TF.max_pool1d(torch.tensor([[[0.5]]]), 2, padding=1, dilation=2).item()
    )
    y.sum().backward()
    assert x.grad.item() == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("overlapping", [False, True])
def test_max_pool_ties_and_nans_follow_pytorch(dtype, overlapping):
    """Equal maxima: the first wins (an all -inf window: its first real position,
    never padding); NaNs: the window is NaN and its last NaN wins.

    Random values almost never tie or hold NaN, so the hypothesis tests above do not
    reach these rules; here every window of a 2-D pool has ties or NaNs in some place.
    """
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=(2, 3, 7, 7)).astype(dtype)  # many ties
    x[rng.random(x.shape) < 0.3] = -np.inf  # ties with what padding counts as
    x[rng.random(x.shape) < 0.2] = np.nan  # windows with one NaN, two, or none
    x[0, 0, :2] = -np.inf  # the top windows of one channel: -inf and padding only
    kwargs = dict(kernel_size=3, stride=2 if overlapping else 3, padding=1)
    ours = labs.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    values, indices = F.max_pool2d(ours, return_indices=True, **kwargs)
    expected, expected_indices = TF.max_pool2d(theirs, return_indices=True, **kwargs)
    np.testing.assert_array_equal(values.data, expected.detach().numpy())
    np.testing.assert_array_equal(indices.data, expected_indices.numpy())
    grad = np.arange(values.data.size, dtype=dtype).reshape(values.shape)
    values.backward(grad)
    expected.backward(torch.tensor(grad))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
    # and without return_indices (no indices computed), the same values and gradient
    plain = labs.tensor(x, requires_grad=True)
    out = F.max_pool2d(plain, **kwargs)
    np.testing.assert_array_equal(out.data, values.data)
    out.backward(grad)
    np.testing.assert_array_equal(plain.grad.data, ours.grad.data)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8])
@given(case=pool_case(2, average=False))
def test_max_pool_of_integers_matches_pytorch(dtype, case):
    """PyTorch max-pools integer tensors too: same values, indices and dtype, no grad.
    Padding must lose to every value, including the smallest of the dtype."""
    x, kwargs = case
    values = np.random.default_rng(x.size).integers(0, 4, x.shape)
    values[values == 0] = np.iinfo(dtype).min  # ties with what padding counts as
    values = values.astype(dtype)
    got, got_indices = F.max_pool2d(labs.tensor(values), return_indices=True, **kwargs)
    expected, indices = TF.max_pool2d(
        torch.from_numpy(values), return_indices=True, **kwargs
    )
    assert got.dtype == values.dtype and not got.requires_grad
    np.testing.assert_array_equal(got.data, expected.numpy())
    np.testing.assert_array_equal(got_indices.data, indices.numpy())


def test_pooling_refuses_what_pytorch_refuses_or_labs_leaves_out():
    with pytest.raises(RuntimeError, match="floating-point or integer input, got bool"):
        F.max_pool2d(labs.tensor(np.zeros((1, 1, 4, 4), bool)), 2)
    with pytest.raises(RuntimeError, match="floating-point input, got int64"):
        F.avg_pool2d(labs.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)


@pytest.mark.parametrize(
    "name", ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]
)
@given(data=st.data())
def test_pooling(name, data):
    nd = int(name[-2])
    x, kwargs = data.draw(pool_case(nd, average=name.startswith("avg")))
    compare(
        lambda t: getattr(F, name)(t, **kwargs),
        lambda t: getattr(TF, name)(t, **kwargs),
        x,
    )


@given(case=pool_case(2, average=False))
def test_max_pool_indices(case):
    x, kwargs = case
    _, indices = F.max_pool2d(labs.tensor(x), return_indices=True, **kwargs)
    _, expected = TF.max_pool2d(torch.from_numpy(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(indices.data, expected.numpy())


# ---- the fast kernels agree with the readable loops ---------------------------------------


@st.composite
def loop_case(draw):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, s, p, d = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 2)),
        draw(st.integers(1, 2)),
    )
    size = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng, groups, c_in, c_out, k, s, p, d, size


@ORDERS
@given(case=loop_case())
def test_kernels_match_the_loop_reference(case, order):
    with column_order(order):
        _kernels_match_the_loop_reference(case)


def _kernels_match_the_loop_reference(case):
    rng, groups, c_in, c_out, k, s, p, d, size = case
    config = dict(stride=s, padding=p, dilation=d, groups=groups)
    for nd, loops in ((1, reference.conv1d), (2, reference.conv2d)):
        x = rng.standard_normal((2, c_in) + (size,) * nd)
        w = rng.standard_normal((c_out, c_in // groups) + (k,) * nd)
        b = rng.standard_normal(c_out)
        got = getattr(F, f"conv{nd}d")(
            labs.tensor(x), labs.tensor(w), labs.tensor(b), **config
        )
        assert_close(got.data, loops(x, w, b, **config), f"conv{nd}d vs loops")
    extra = min(s, d) - 1 if max(s, d) > 1 else 0
    for nd, loops in ((1, reference.conv_transpose1d), (2, reference.conv_transpose2d)):
        if (size - 1) * s - 2 * p + d * (k - 1) + extra + 1 < 1:
            continue
        x = rng.standard_normal((2, c_in) + (size,) * nd)
        w = rng.standard_normal((c_in, c_out // groups) + (k,) * nd)
        got = getattr(F, f"conv_transpose{nd}d")(
            labs.tensor(x), labs.tensor(w), None, s, p, extra, groups, d
        )
        want = loops(x, w, None, s, p, extra, groups, d)
        assert_close(got.data, want, f"conv_transpose{nd}d vs loops")


def test_pool_loops_match():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6))
    for k, s, p in [(2, None, 0), (3, 2, 1), (3, 1, 1), (2, 3, 1)]:
        assert_close(
            F.max_pool2d(labs.tensor(x), k, s, p).data,
            reference.max_pool2d(x, k, s, p),
            "max pool vs loops",
        )
        assert_close(
            F.avg_pool2d(labs.tensor(x), k, s, p).data,
            reference.avg_pool2d(x, k, s, p),
            "avg pool vs loops",
        )


def test_torch_nn_grad_names_agree_with_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 9, 7))
    w = rng.standard_normal((6, 2, 3, 2))
    config = dict(stride=2, padding=1, dilation=(1, 2), groups=2)
    y = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), **config)
    g = rng.standard_normal(y.shape)
    assert_close(
        kernels.conv2d_input(x.shape, w, g, **config),
        torch.nn.grad.conv2d_input(
            x.shape, torch.from_numpy(w), torch.from_numpy(g), **config
        ),
        "conv2d_input",
    )
    assert_close(
        kernels.conv2d_weight(x, w.shape, g, **config),
        torch.nn.grad.conv2d_weight(
            torch.from_numpy(x), w.shape, torch.from_numpy(g), **config
        ),
        "conv2d_weight",
    )
    x1, w1 = x[:, :, 0], w[:, :, 0]
    y1 = TF.conv1d(
        torch.from_numpy(x1), torch.from_numpy(w1), stride=2, padding=1, groups=2
    )
    g1 = rng.standard_normal(y1.shape)
    assert_close(
        kernels.conv1d_input(x1.shape, w1, g1, stride=2, padding=1, groups=2),
        torch.nn.grad.conv1d_input(
            x1.shape,
            torch.from_numpy(w1),
            torch.from_numpy(g1),
            stride=2,
            padding=1,
            groups=2,
        ),
        "conv1d_input",
    )
    assert_close(
        kernels.conv1d_weight(x1, w1.shape, g1, stride=2, padding=1, groups=2),
        torch.nn.grad.conv1d_weight(
            torch.from_numpy(x1),
            w1.shape,
            torch.from_numpy(g1),
            stride=2,
            padding=1,
            groups=2,
        ),
        "conv1d_weight",
    )


# ---- the identities the chapters teach ------------------------------------------------------


@ORDERS
@given(case=conv_case(nd=2))
def test_input_gradient_is_a_transposed_convolution(case, order):
    with column_order(order):
        _input_gradient_is_a_transposed_convolution(case)


def _input_gradient_is_a_transposed_convolution(case):
    """grad_input of conv2d == conv_transpose2d(grad_output, weight), with the right
    output_padding."""
    x, w, _, kwargs = case
    if isinstance(kwargs["padding"], str):
        return  # 'same' may pad asymmetrically, which a transposed conv cannot express
    y = F.conv2d(labs.tensor(x), labs.tensor(w), **kwargs)
    g = np.random.default_rng(0).standard_normal(y.shape)
    stride = np.broadcast_to(kwargs["stride"], 2)
    padding = np.broadcast_to(kwargs["padding"], 2)
    dilation = np.broadcast_to(kwargs["dilation"], 2)
    extra = tuple(
        int(i + 2 * p - d * (k - 1) - 1 - (o - 1) * s)
        for i, o, k, s, p, d in zip(
            x.shape[2:], y.shape[2:], w.shape[2:], stride, padding, dilation
        )
    )
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        return  # leftover larger than output_padding may express: only cropping helps
    via_transpose = F.conv_transpose2d(
        labs.tensor(g),
        labs.tensor(w),
        None,
        kwargs["stride"],
        kwargs["padding"],
        extra,
        kwargs["groups"],
        kwargs["dilation"],
    )
    direct = kernels.conv_input_grad(
        x.shape,
        w,
        g,
        tuple(stride),
        tuple((p, p) for p in padding),
        tuple(dilation),
        kwargs["groups"],
    )
    assert_close(via_transpose.data, direct, "transposed conv vs input gradient")


def test_weight_gradient_is_a_correlation_with_stride_and_dilation_swapped():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 11, 10))
    w = rng.standard_normal((4, 3, 3, 2))
    stride, dilation, padding = (2, 3), (2, 1), (1, 2)
    y = TF.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(w),
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    g = rng.standard_normal(y.shape)
    # Treat the batch as channels to sum over: inputs (C_in, N, H, W), kernels (C_out, N, ...).
    correlation = F.conv2d(
        labs.tensor(x.transpose(1, 0, 2, 3)),
        labs.tensor(g.transpose(1, 0, 2, 3)),
        padding=padding,
        stride=dilation,
        dilation=stride,
    ).data.transpose(1, 0, 2, 3)[:, :, : w.shape[2], : w.shape[3]]
    assert_close(
        correlation,
        kernels.conv_weight_grad(
            x, w.shape, g, stride, tuple((p, p) for p in padding), dilation
        ),
        "weight gradient",
    )


def test_pooling_edge_windows_over_a_grid():
    """Small inputs where ceil mode makes the last window hang over the end."""
    import itertools

    rng = np.random.default_rng(6)
    for i, k, s, ceil_mode in itertools.product(
        range(1, 7), range(1, 5), range(1, 4), (False, True)
    ):
        for p in range(k // 2 + 1):
            try:
                TF.avg_pool1d(torch.zeros(1, 1, i), k, s, p, ceil_mode)
            except RuntimeError:
                continue
            x = rng.standard_normal((1, 2, i))
            for include in (False, True):
                compare(
                    lambda t: F.avg_pool1d(t, k, s, p, ceil_mode, include),  # noqa: B023 (called at once)
                    lambda t: TF.avg_pool1d(t, k, s, p, ceil_mode, include),  # noqa: B023 (called at once)
                    x,
                )
            compare(
                lambda t: F.max_pool1d(t, k, s, p, 1, ceil_mode),  # noqa: B023 (called at once)
                lambda t: TF.max_pool1d(t, k, s, p, 1, ceil_mode),  # noqa: B023 (called at once)
                x,
            )


@pytest.mark.parametrize("size", [(8, 8), (9, 7), (6, 10)])
@pytest.mark.parametrize("kernel", [(2, 2), (3, 2), (1, 3)])
def test_windows_that_tile_the_input(size, kernel):
    """stride == kernel (no overlap): the backward passes take a shortcut, with and
    without leftover rows and columns that no window covers."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3) + size)
    w = rng.standard_normal((4, 3) + kernel)
    compare(lambda t: F.max_pool2d(t, kernel), lambda t: TF.max_pool2d(t, kernel), x)
    compare(lambda t: F.avg_pool2d(t, kernel), lambda t: TF.avg_pool2d(t, kernel), x)
    compare(
        lambda t, u: F.conv2d(t, u, stride=kernel),
        lambda t, u: TF.conv2d(t, u, stride=kernel),
        x,
        w,
    )
    compare(
        lambda t, u: F.conv_transpose2d(t, u, stride=kernel),
        lambda t, u: TF.conv_transpose2d(t, u, stride=kernel),
        rng.standard_normal((2, 4, 3, 3)),
        w,
    )
