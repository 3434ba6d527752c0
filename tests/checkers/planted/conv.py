"""conv1d, conv2d and conv_transpose2d: correct answers (loops and vectorized numpy)
and planted mistakes, each written as a learner might write it."""

from __future__ import annotations

import numpy as np
import torch

from labs import check

from ..registry import NO_HINT, Entry, planted


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv1d_loops(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    n_batch, c_in, length = x.shape
    c_out, _, k = w.shape
    length_out = (length - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n_batch, c_out, length_out))
    for n in range(n_batch):
        for o in range(c_out):
            for j in range(length_out):
                for c in range(c_in):
                    for t in range(k):
                        out[n, o, j] += w[o, c, t] * x[n, c, j * stride + t * dilation]
                if b is not None:
                    out[n, o, j] += b[o]
    return out


def conv1d_vectorized(x, w, b=None, stride=1, padding=0, dilation=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    k = w.shape[2]
    length_out = (x.shape[2] - dilation * (k - 1) - 1) // stride + 1
    index = np.arange(length_out)[:, None] * stride + np.arange(k) * dilation
    out = np.einsum("ncjt,oct->noj", x[:, :, index], w)
    return out if b is None else out + b[:, None]


def conv2d_loops(x, w, b=None, stride=1, padding=0, dilation=1):
    """The naive six-nested-loop conv2d (seven with the batch) a learner may write."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n_batch, c_in, height, width = x.shape
    c_out, _, kh, kw = w.shape
    h_out = (height - dh * (kh - 1) - 1) // sh + 1
    w_out = (width - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_batch, c_out, h_out, w_out))
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_in):
                        for p in range(kh):
                            for q in range(kw):
                                total += (
                                    w[o, c, p, q]
                                    * x[n, c, i * sh + p * dh, j * sw + q * dw]
                                )
                    out[n, o, i, j] = total
    return out


def conv2d_vectorized(x, w, b=None, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    h_out = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    rows = np.arange(h_out)[:, None] * sh + np.arange(kh) * dh  # (h_out, kh)
    cols = np.arange(w_out)[:, None] * sw + np.arange(kw) * dw  # (w_out, kw)
    patches = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]  # n c i j p q
    out = np.einsum("ncijpq,ocpq->noij", patches, w)
    return out if b is None else out + b[:, None, None]


def conv_transpose2d_loops(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Scatter each input value times the kernel, then crop the padding."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (ah, aw), (dh, dw) = pair(output_padding), pair(dilation)
    n_batch, c_in, height, width = x.shape
    _, c_out, kh, kw = w.shape
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + ah
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + aw
    full = np.zeros((n_batch, c_out, full_h, full_w))
    for n in range(n_batch):
        for c in range(c_in):
            for i in range(height):
                for j in range(width):
                    for p in range(kh):
                        for q in range(kw):
                            full[n, :, i * sh + p * dh, j * sw + q * dw] += (
                                x[n, c, i, j] * w[c, :, p, q]
                            )
    out = full[:, :, ph : full_h - ph, pw : full_w - pw]
    return out if b is None else out + b[:, None, None]


def conv_transpose2d_vectorized(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Zero insertion, padding d(k - 1), a flipped, axis-swapped kernel, then crop."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (ah, aw), (dh, dw) = pair(output_padding), pair(dilation)
    n_batch, c_in, height, width = x.shape
    kh, kw = w.shape[2:]
    stuffed = np.zeros((n_batch, c_in, (height - 1) * sh + 1, (width - 1) * sw + 1))
    stuffed[:, :, ::sh, ::sw] = x
    eh, ew = dh * (kh - 1), dw * (kw - 1)
    stuffed = np.pad(stuffed, ((0, 0), (0, 0), (eh, eh + ah), (ew, ew + aw)))
    kernel = np.flip(w, (2, 3)).swapaxes(0, 1)
    full = conv2d_vectorized(stuffed, kernel, b, dilation=(dh, dw))
    return full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]


def _conv1d_one_side(side):
    def padded_one_side(x, w, b=None, stride=1, padding=0, dilation=1):
        widths = (padding, 0) if side == "left" else (0, padding)
        x = np.pad(x, ((0, 0), (0, 0), widths))
        return conv1d_vectorized(x, w, b, stride, 0, dilation)

    return padded_one_side


def _conv1d_int_output(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv1d_vectorized(x, w, b, stride, padding, dilation).astype(int)


def _conv1d_mutates(x, w, b=None, stride=1, padding=0, dilation=1):
    x *= 2
    return conv1d_vectorized(x, w, b, stride, padding, dilation) / 2


def _conv1d_nan(x, w, b=None, stride=1, padding=0, dilation=1):
    out = conv1d_vectorized(x, w, b, stride, padding, dilation)
    out[..., -1] = np.nan
    return out


def _conv1d_bias_always(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv1d_vectorized(x, w, None, stride, padding, dilation) + b[:, None]


def _conv1d_forgot_return(x, w, b=None, stride=1, padding=0, dilation=1):
    conv1d_vectorized(x, w, b, stride, padding, dilation)


def _conv1d_raises(x, w, b=None, stride=1, padding=0, dilation=1):
    raise ValueError("shapes do not match")


def _conv1d(mutate_args=None, mutate_out=None):
    """A planted mistake: the correct conv1d with its arguments or output changed."""

    def planted(x, w, b=None, stride=1, padding=0, dilation=1):
        args = dict(x=x, w=w, b=b, stride=stride, padding=padding, dilation=dilation)
        if mutate_args:
            args = mutate_args(**args)
        out = conv1d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _changed(**changes):
    def mutate(**args):
        return {**args, **{k: f(args) for k, f in changes.items()}}

    return mutate


CONV1D_MISTAKES = {
    "kernel-flipped": (
        _conv1d(_changed(w=lambda a: a["w"][..., ::-1])),
        "kernel flipped",
    ),
    "bias-missing": (_conv1d(_changed(b=lambda a: None)), "without the bias"),
    "bias-per-input-channel": (
        _conv1d(
            _changed(b=lambda a: None if a["b"] is None else a["b"] * a["x"].shape[1])
        ),
        "once per input channel",
    ),
    "output-one-too-short": (
        _conv1d(mutate_out=lambda out: out[..., :-1]),
        "one too short",
    ),
    "output-one-too-long": (
        _conv1d(mutate_out=lambda out: np.concatenate([out, out[..., -1:]], axis=-1)),
        "one too long",
    ),
    "padding-left-only": (_conv1d_one_side("left"), "only on the left"),
    "padding-right-only": (_conv1d_one_side("right"), "only on the right"),
    "stride-dilation-swapped": (
        _conv1d(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (_conv1d(_changed(dilation=lambda a: 1)), "ignored dilation"),
    "stride-ignored": (_conv1d(_changed(stride=lambda a: 1)), "ignored stride"),
    "padding-ignored": (_conv1d(_changed(padding=lambda a: 0)), "ignored padding"),
    "no-sum-over-input-channels": (
        _conv1d(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:, :1])),
        "first input channel",
    ),
    "channels-assigned-not-accumulated": (
        _conv1d(_changed(x=lambda a: a["x"][:, -1:], w=lambda a: a["w"][:, -1:])),
        "instead of accumulated",
    ),
    "returns-list": (_conv1d(mutate_out=lambda out: out.tolist()), "np.asarray"),
    "returns-tensor": (_conv1d(mutate_out=torch.from_numpy), ".numpy()"),
    "returns-none": (_conv1d_forgot_return, "forget return"),
    "returns-int-array": (_conv1d_int_output, "np.zeros(shape)"),
    "returns-float32": (
        _conv1d(mutate_out=lambda out: out.astype(np.float32)),
        "float64",
    ),
    "returns-nan": (_conv1d_nan, "NaN"),
    "raises-value-error": (_conv1d_raises, None),
    "mutates-input": (_conv1d_mutates, "copy"),
    "bias-none-not-handled": (_conv1d_bias_always, "if b is not None"),
}


def _conv2d(mutate_args=None, mutate_out=None):
    def planted(x, w, b=None, stride=1, padding=0, dilation=1):
        args = dict(x=x, w=w, b=b, stride=stride, padding=padding, dilation=dilation)
        if mutate_args:
            args = mutate_args(**args)
        out = conv2d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _conv2d_one_side(side):
    def padded_one_side(x, w, b=None, stride=1, padding=0, dilation=1):
        ph, pw = pair(padding)
        widths = ((ph, 0), (pw, 0)) if side == "start" else ((0, ph), (0, pw))
        x = np.pad(x, ((0, 0), (0, 0), *widths))
        return conv2d_vectorized(x, w, b, stride, 0, dilation)

    return padded_one_side


def _conv2d_ints_only(x, w, b=None, stride=1, padding=0, dilation=1):
    """Fails on pairs, like a learner's code written for ints only."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out = (x.shape[2] - dilation * (w.shape[2] - 1) - 1) // stride + 1
    return conv2d_vectorized(x, w, b, stride, 0, dilation)[:, :, :h_out]


def _reversed(name):
    return _changed(**{name: lambda a: pair(a[name])[::-1]})


CONV2D_MISTAKES = {
    "kernel-flipped": (
        _conv2d(_changed(w=lambda a: a["w"][..., ::-1, ::-1])),
        "flipped",
    ),
    "bias-missing": (_conv2d(_changed(b=lambda a: None)), "without the bias"),
    "output-one-too-short": (
        _conv2d(mutate_out=lambda out: out[..., :-1]),
        "one too short",
    ),
    "output-one-too-long": (
        _conv2d(mutate_out=lambda out: np.concatenate([out, out[:, :, -1:]], axis=2)),
        "one too long",
    ),
    "padding-top-left-only": (_conv2d_one_side("start"), "only at the top and left"),
    "padding-bottom-right-only": (
        _conv2d_one_side("end"),
        "only at the bottom and right",
    ),
    "stride-dilation-swapped": (
        _conv2d(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (_conv2d(_changed(dilation=lambda a: 1)), "ignored dilation"),
    "stride-height-width-swapped": (
        _conv2d(_reversed("stride")),
        "height and width of stride",
    ),
    "padding-height-width-swapped": (
        _conv2d(_reversed("padding")),
        "height and width of padding",
    ),
    "dilation-height-width-swapped": (
        _conv2d(_reversed("dilation")),
        "height and width of dilation",
    ),
    "no-sum-over-input-channels": (
        _conv2d(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:, :1])),
        "first input channel",
    ),
    "channels-assigned-not-accumulated": (
        _conv2d(_changed(x=lambda a: a["x"][:, -1:], w=lambda a: a["w"][:, -1:])),
        "instead of accumulated",
    ),
    "ints-only": (_conv2d_ints_only, "accept both"),
    "returns-list": (_conv2d(mutate_out=lambda out: out.tolist()), "np.asarray"),
}


def _transposed(mutate_args=None, mutate_out=None):
    def planted(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1):
        args = dict(
            x=x,
            w=w,
            b=b,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )
        if mutate_args:
            args = mutate_args(**args)
        out = conv_transpose2d_vectorized(**args)
        return mutate_out(out) if mutate_out else out

    return planted


def _transposed_padding_added(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    full = conv_transpose2d_vectorized(x, w, b, stride, 0, output_padding, dilation)
    ph, pw = pair(padding)
    return np.pad(full, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _transposed_weight_as_conv(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1
):
    """Reads w[o, c] instead of w[c, o], as if the layout were (C_out, C_in, kH, kW)."""
    c_in = x.shape[1]
    if w.shape[1] < c_in:
        raise IndexError(f"index {w.shape[1]} is out of bounds for axis 1")
    weight = w[:, :c_in].swapaxes(0, 1)
    out = conv_transpose2d_vectorized(
        x, weight, None, stride, padding, output_padding, dilation
    )
    return out if b is None else out + b[: out.shape[1], None, None]


TRANSPOSED_MISTAKES = {
    "kernel-flipped": (
        _transposed(_changed(w=lambda a: a["w"][..., ::-1, ::-1])),
        "flipped",
    ),
    "bias-missing": (_transposed(_changed(b=lambda a: None)), "without the bias"),
    "output-padding-ignored": (
        _transposed(_changed(output_padding=lambda a: 0)),
        "ignored output_padding",
    ),
    "padding-added-not-cropped": (_transposed_padding_added, "cropped from the output"),
    "padding-ignored": (_transposed(_changed(padding=lambda a: 0)), "ignored padding"),
    "channel-axes-swapped": (_transposed_weight_as_conv, "(C_in, C_out, kH, kW)"),
    "stride-dilation-swapped": (
        _transposed(
            _changed(stride=lambda a: a["dilation"], dilation=lambda a: a["stride"])
        ),
        "swapped stride and dilation",
    ),
    "dilation-ignored": (
        _transposed(_changed(dilation=lambda a: 1)),
        "ignored dilation",
    ),
    "no-sum-over-input-channels": (
        _transposed(_changed(x=lambda a: a["x"][:, :1], w=lambda a: a["w"][:1])),
        "first input channel",
    ),
    "returns-none": (_transposed(mutate_out=lambda out: None), "forget return"),
}


def _float32(out):
    return out.astype(np.float32).astype(np.float64)


def _conv1d_torch_float32(x, w, b=None, stride=1, padding=0, dilation=1):
    """Through torch with float32 tensors (torch's default dtype in a fresh session)."""

    def as_tensor(array):
        return torch.tensor(array, dtype=torch.float32)

    out = torch.nn.functional.conv1d(
        as_tensor(x.tolist()),
        as_tensor(w.tolist()),
        None if b is None else as_tensor(b.tolist()),
        stride,
        padding,
        dilation,
    )
    return out.double().numpy()


def _conv1d_pads_only_once(x, w, b=None, stride=1, padding=0, dilation=1):
    """Ignores padding 1, pads larger paddings right: not one consistent mistake."""
    return conv1d_vectorized(x, w, b, stride, 0 if padding == 1 else padding, dilation)


def _conv1d_count_divided(x, w, b=None, stride=1, padding=0, dilation=1):
    """Chapter 1's find-the-bug: the stride-1 count divided by the stride."""
    y = conv1d_vectorized(x, w, b, stride, padding, dilation)
    span = dilation * (w.shape[2] - 1) + 1
    return y[..., : (x.shape[2] + 2 * padding - span + 1) // stride]


def _conv2d_count_divided(x, w, b=None, stride=1, padding=0, dilation=1):
    y = conv2d_vectorized(x, w, b, stride, padding, dilation)
    sizes = [
        (n + 2 * p - d * (k - 1)) // s
        for n, k, s, p, d in zip(
            x.shape[2:], w.shape[2:], pair(stride), pair(padding), pair(dilation)
        )
    ]
    return y[:, :, : sizes[0], : sizes[1]]


CONV1D_MISTAKES.update(
    {
        "count-divided-by-stride": (
            _conv1d_count_divided,
            "the count for stride 1 divided by the stride",
            ("wrong shape",),
        ),
        "float32-result": (
            _conv1d(mutate_out=_float32),
            "float32",
            ("7 significant digits",),
        ),
        "torch-float32": (_conv1d_torch_float32, "float32"),
        "padding-ignored-only-for-1": (_conv1d_pads_only_once, NO_HINT, ("padding=1",)),
        "flipped-and-no-bias": (
            _conv1d(_changed(w=lambda a: a["w"][..., ::-1], b=lambda a: None)),
            NO_HINT,
        ),
        "channels-last": (
            _conv1d(mutate_out=lambda out: out.transpose(0, 2, 1).copy()),
            "channels (axis 1)",
        ),
    }
)


def _conv2d_stride_along_height_only(x, w, b=None, stride=1, padding=0, dilation=1):
    return conv2d_vectorized(x, w, b, (pair(stride)[0], 1), padding, dilation)


CONV2D_MISTAKES.update(
    {
        "count-divided-by-stride": (
            _conv2d_count_divided,
            "the count for stride 1 divided by the stride",
        ),
        "stride-along-height-only": (
            _conv2d_stride_along_height_only,
            NO_HINT,
            ("wrong shape",),
        ),
        "float32-result": (_conv2d(mutate_out=_float32), "float32"),
        "kernel-transposed": (
            _conv2d(_changed(w=lambda a: a["w"].swapaxes(2, 3))),
            NO_HINT,
        ),
    }
)

TRANSPOSED_MISTAKES.update(
    {
        "float32-result": (_transposed(mutate_out=_float32), "float32"),
    }
)


ENTRIES = [
    Entry(
        "conv1d",
        learner=check.conv1d,
        solutions=(
            ("loops", lambda: check.conv1d(conv1d_loops)),
            ("vectorized", lambda: check.conv1d(conv1d_vectorized)),
            (
                "no features",
                lambda: check.conv1d(
                    lambda x, w: conv1d_vectorized(x, w),
                    bias=False,
                    stride=False,
                    padding=False,
                    dilation=False,
                ),
            ),
            (
                "no dilation",
                lambda: check.conv1d(
                    lambda x, w, b=None, stride=1, padding=0: conv1d_vectorized(
                        x, w, b, stride, padding
                    ),
                    dilation=False,
                ),
            ),
        ),
        mistakes=planted(check.conv1d, CONV1D_MISTAKES)
        + planted(
            lambda fn: check.conv1d(
                fn, bias=False, stride=False, padding=False, dilation=False
            ),
            {
                "flipped-no-features": (
                    lambda x, w: conv1d_vectorized(x, w[..., ::-1]),
                    "flipped",
                )
            },
        ),
    ),
    Entry(
        "conv2d",
        learner=check.conv2d,
        solutions=(
            ("loops", lambda: check.conv2d(conv2d_loops)),
            ("vectorized", lambda: check.conv2d(conv2d_vectorized)),
        ),
        mistakes=planted(check.conv2d, CONV2D_MISTAKES),
    ),
    Entry(
        "conv_transpose2d",
        learner=check.conv_transpose2d,
        solutions=(
            ("loops", lambda: check.conv_transpose2d(conv_transpose2d_loops)),
            ("vectorized", lambda: check.conv_transpose2d(conv_transpose2d_vectorized)),
            (
                "no features",
                lambda: check.conv_transpose2d(
                    lambda x, w: conv_transpose2d_vectorized(x, w),
                    bias=False,
                    stride=False,
                    padding=False,
                    output_padding=False,
                    dilation=False,
                ),
            ),
        ),
        mistakes=planted(check.conv_transpose2d, TRANSPOSED_MISTAKES),
    ),
]
