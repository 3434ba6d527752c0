"""receptive_field: correct answers in several styles, and planted mistakes."""

from __future__ import annotations

import functools

import numpy as np

from labs import check, shapes

from ..registry import NO_HINT, Entry, planted


def field_forward(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size


def field_backward(layers):
    """From the output back to the input: a field of r positions at a layer's output
    needs (r - 1)·s + d(k - 1) + 1 positions at its input."""
    size = 1
    for k, s, d in reversed(layers):
        size = (size - 1) * s + d * (k - 1) + 1
    return size


def field_reduce(stack):
    def step(state, layer):
        size, jump = state
        kernel, stride, dilation = layer
        return size + dilation * (kernel - 1) * jump, jump * stride

    return functools.reduce(step, stack, (1, 1))[0]


def field_numpy(layers):
    if not layers:
        return 1
    k, s, d = np.array(layers).T
    jumps = np.cumprod(np.concatenate([[1], s[:-1]]))
    return int(1 + np.sum(d * (k - 1) * jumps))


def field_labs(layers):
    return shapes.receptive_field(layers).size


def _no_jump(layers):
    size = 1
    for k, _s, d in layers:
        size += d * (k - 1)
    return size


def _product(layers):
    size = 1
    for k, _s, d in layers:
        size *= d * (k - 1) + 1
    return size


def _product_with_jump(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size *= d * (k - 1) * jump + 1
        jump *= s
    return size


def _k_not_dilated(layers):
    size, jump = 1, 1
    for k, s, _d in layers:
        size += (k - 1) * jump
        jump *= s
    return size


def _d_times_k(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        span = d * k
        size += (span - 1) * jump
        jump *= s
    return size


def _start_at_zero(layers):
    size, jump = 0, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size


def _one_too_many(layers):
    return field_forward(layers) + 1


def _whole_spans(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += (d * (k - 1) + 1) * jump
        jump *= s
    return size


def _jump_first(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        jump *= s
        size += d * (k - 1) * jump
    return size


def _reversed(layers):
    return field_forward(list(reversed(layers)))


def _pair(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size, jump


def _float(layers):
    return float(field_forward(layers))


def _mutates(layers):
    size, jump = 1, 1
    while layers:
        k, s, d = layers.pop(0)
        size += d * (k - 1) * jump
        jump *= s
    return size


def _crash_on_empty(layers):
    size, jump = 1 + layers[0][2] * (layers[0][0] - 1), layers[0][1]
    for k, s, d in layers[1:]:
        size += d * (k - 1) * jump
        jump *= s
    return size


def _four_tuples(layers):
    size = 1
    for k, _s, _p, d in layers:
        size += d * (k - 1)
    return size


MISTAKES = {
    "forgot-the-jump": (_no_jump, "forgot the jump", ("case 6 of 30",)),
    "multiplied-spans": (_product, "multiplied", ("case 2 of 30",)),
    "multiplied-spans-with-jump": (_product_with_jump, "multiplied", ()),
    "k-instead-of-dilated-span": (_k_not_dilated, "used k instead", ("case 3 of 30",)),
    "d-times-k": (_d_times_k, "d·k", ()),
    "off-by-one-start-at-zero": (_start_at_zero, "off by one", ("case 1 of 30",)),
    "off-by-one-too-many": (_one_too_many, "off by one", ()),
    "added-whole-spans": (_whole_spans, "whole span", ("case 1 of 30",)),
    "stride-applied-to-own-layer": (_jump_first, "after adding", ("case 6 of 30",)),
    "layers-reversed": (_reversed, "last to first", ()),
    "returns-size-and-jump": (_pair, "(size, jump)", ("a tuple",)),
    "float": (_float, "//", ("float",)),
    "mutates-layers": (_mutates, "for k, s, d in", ("modified its argument",)),
    "crashes-on-empty-stack": (_crash_on_empty, "return 1", ("IndexError",)),
    "four-tuples": (_four_tuples, "three ints", ("ValueError",)),
    "returns-none": (lambda layers: None, "forget return", ()),
}


def _jump_times_dilation(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s * d
    return size


MISTAKES.update(
    {
        "jump-times-dilation": (_jump_times_dilation, NO_HINT),
        "signature-with-two-parameters": (
            lambda i, layers: 1,
            "fn(layers)",
            ("TypeError",),
        ),
        "numpy-int-from-float-array": (
            lambda layers: np.float64(field_forward(layers)),
            "//",
            ("float",),
        ),
    }
)

ENTRIES = [
    Entry(
        "receptive_field",
        learner=check.receptive_field,
        solutions=tuple(
            (fn.__name__, functools.partial(check.receptive_field, fn))
            for fn in (
                field_forward,
                field_backward,
                field_reduce,
                field_numpy,
                field_labs,
            )
        ),
        mistakes=planted(check.receptive_field, MISTAKES),
    ),
]
