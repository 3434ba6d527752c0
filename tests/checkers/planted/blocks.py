"""separable_costs, grouped_conv2d, stack_design and conv2d_via_unfold: correct
answers in several styles, and planted mistakes."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as TF

from labs import check

from ..registry import NO_HINT, Entry, Planted, planted

# --- separable_costs -----------------------------------------------------------------

RIGHT_COSTS = (18_496, 4_718_592, 2_432, 598_016)


def _costs_with(index, value):
    costs = list(RIGHT_COSTS)
    costs[index] = value
    return tuple(costs)


COST_MISTAKES = {
    "standard-no-bias": (_costs_with(0, 18_432), "left out the biases"),
    "separable-no-bias": (_costs_with(2, 2_336), "left out the biases"),
    "groups-ignored": (_costs_with(2, 11_360), "groups=32"),
    "groups-ignored-macs": (_costs_with(3, 2_883_584), "groups=32"),
    "flops-standard": (_costs_with(1, 2 * 4_718_592), "FLOPs"),
    "flops-separable": (_costs_with(3, 2 * 598_016), "FLOPs"),
    "per-pixel": (_costs_with(1, 18_432), "one output position"),
    "no-padding": (_costs_with(1, 64 * 32 * 9 * 196), "padding=1"),
    "bias-multiply-adds": (_costs_with(1, 4_718_592 + 64 * 256), "additions"),
    "pointwise-forgotten": (_costs_with(2, 320), "two layers"),
    "one-bias": (_costs_with(2, 2_400), "both layers"),
    "unexplained": (_costs_with(3, 12345), NO_HINT, ("multiply-add count",)),
    "float": (_costs_with(0, 18_496.0), "ints", ("a float",)),
    "three-numbers": (RIGHT_COSTS[:3], "four ints", ("not four numbers",)),
    "a-string": ("18496", "four ints", ()),
}

# --- grouped_conv2d ------------------------------------------------------------------


def grouped_torch(x, w, b, groups):
    b = None if b is None else torch.from_numpy(b)
    return TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), b, groups=groups).numpy()


def grouped_loops(x, w, b, groups, start=None, bias=True):
    n, c_in, height, width = x.shape
    c_out, per_in, kh, kw = w.shape
    per_out = c_out // groups
    start = start or (lambda o: (o // per_out) * per_in)
    y = np.zeros((n, c_out, height - kh + 1, width - kw + 1))
    for o in range(c_out):
        first = start(o)
        inputs = x[:, first : first + per_in]
        for i in range(kh):
            for j in range(kw):
                window = inputs[:, :, i : i + y.shape[2], j : j + y.shape[3]]
                y[:, o] += np.einsum("nchw,c->nhw", window, w[o, :, i, j])
        if b is not None and bias:
            y[:, o] += b[o]
    return y


def grouped_split(x, w, b, groups):
    """Split into groups, convolve each group as an ordinary convolution."""
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    parts = []
    for g in range(groups):
        xs = torch.from_numpy(x[:, g * per_in : (g + 1) * per_in])
        ws = torch.from_numpy(w[g * per_out : (g + 1) * per_out])
        parts.append(TF.conv2d(xs, ws).numpy())
    y = np.concatenate(parts, axis=1)
    return y if b is None else y + b[None, :, None, None]


def _group_start_g(x, w, b, groups):
    per_out = w.shape[0] // groups
    return grouped_loops(x, w, b, groups, start=lambda o: o // per_out)


def _groups_in_turn(x, w, b, groups):
    per_in = w.shape[1]
    return grouped_loops(x, w, b, groups, start=lambda o: (o % groups) * per_in)


def _first_group(x, w, b, groups):
    return grouped_loops(x, w, b, groups, start=lambda o: 0)


def _no_bias(x, w, b, groups):
    return grouped_loops(x, w, b, groups, bias=False)


def _float32(x, w, b, groups):
    return grouped_loops(x, w, b, groups).astype(np.float32)


def _crash_on_none(x, w, b, groups):
    return grouped_loops(x, w, b, groups) + b[None, :, None, None] * 0


GROUPED_MISTAKES = {
    "the-chapter's-bug": (_group_start_g, "not at g", ("case 2 of 20",)),
    "groups-in-turn": (_groups_in_turn, "o % groups"),
    "first-group-only": (_first_group, "first group's"),
    "bias-forgotten": (_no_bias, "left out the bias"),
    "returns-float32": (_float32, None, ("float32",)),
    "crashes-without-bias": (_crash_on_none, "b may be None", ("TypeError",)),
    "returns-none": (lambda x, w, b, groups: None, "forget", ()),
}

# --- stack_design --------------------------------------------------------------------

GOOD_DESIGNS = {
    "dilation-4-last": [(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 4, 4)],
    "dilations-2-and-3": [(3, 2, 1, 1), (3, 2, 2, 2), (3, 1, 3, 3)],
    "dilation-3-twice": [(3, 2, 1, 1), (3, 2, 3, 3), (3, 1, 3, 3)],
    "as-a-tuple-of-lists": ([3, 2, 1, 1], [3, 2, 1, 1], [3, 1, 4, 4]),
}

DESIGN_MISTAKES = {
    "field-too-small": (
        [(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 1, 1)],
        "d(k - 1)·jump",
        ("receptive field is 15",),
    ),
    "too-many-parameters": (
        [(3, 2, 1, 1), (3, 2, 1, 1), (7, 1, 3, 1)],
        "k²·C_in·C_out",
        ("55296 parameters",),
    ),
    "wrong-output-size": (
        [(3, 2, 1, 1), (3, 1, 1, 1), (3, 1, 8, 8)],
        "multiply to 64/16 = 4",
        ("32×32",),
    ),
    "padding-forgotten": (
        [(3, 2, 0, 1), (3, 2, 0, 1), (3, 1, 0, 4)],
        "d(k - 1)/2",
        ("the output is 7×7",),
    ),
    "two-layers": ([(3, 2, 1, 1), (3, 2, 1, 1)], "three tuples", ("2 layers",)),
    "three-numbers-per-layer": (
        [(3, 2, 1), (3, 2, 1), (3, 1, 4)],
        "three tuples",
        ("not four ints",),
    ),
    "float-kernel": (
        [(3.0, 2, 1, 1), (3, 2, 1, 1), (3, 1, 4, 4)],
        "ints",
        ("a float",),
    ),
    "zero-stride": ([(3, 0, 1, 1), (3, 2, 1, 1), (3, 1, 4, 4)], None, ("at least 1",)),
    "kernel-too-large": (
        [(3, 2, 1, 1), (3, 2, 1, 1), (3, 1, 0, 12)],
        "more padding",
        ("spans 25 pixels",),
    ),
    "not-a-list": ("3, 2, 1, 1", "three tuples", ("a str",)),
}

# --- conv2d_via_unfold -----------------------------------------------------------------


def unfold_solution(x, w, b, stride, padding):
    n, _, height, width = x.shape
    c_out, _, kh, kw = w.shape
    cols = TF.unfold(
        torch.from_numpy(x), (kh, kw), padding=padding, stride=stride
    ).numpy()
    y = w.reshape(c_out, -1) @ cols
    if b is not None:
        y = y + b[:, None]
    h_out = (height + 2 * padding - kh) // stride + 1
    w_out = (width + 2 * padding - kw) // stride + 1
    return y.reshape(n, c_out, h_out, w_out)


def unfold_einsum(x, w, b, stride, padding):
    cols = TF.unfold(torch.from_numpy(x), w.shape[2:], padding=padding, stride=stride)
    y = torch.einsum("ok,nkl->nol", torch.from_numpy(w).flatten(1), cols)
    h_out = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
    y = y.reshape(x.shape[0], w.shape[0], h_out, -1).numpy()
    return y if b is None else y + b[None, :, None, None]


def _unfold_no_bias(x, w, b, stride, padding):
    return unfold_solution(x, w, None, stride, padding)


def _unfold_flipped(x, w, b, stride, padding):
    return unfold_solution(x, w[..., ::-1, ::-1].copy(), b, stride, padding)


def _unfold_no_stride(x, w, b, stride, padding):
    return unfold_solution(x, w, b, 1, padding)


def _unfold_no_padding(x, w, b, stride, padding):
    return unfold_solution(x, w, b, stride, 0)


def _unfold_w_h(x, w, b, stride, padding):
    y = unfold_solution(x, w, b, stride, padding)
    n, c, h, width = y.shape
    return y.reshape(n, c, width, h).transpose(0, 1, 3, 2)


def _unfold_torch_tensor(x, w, b, stride, padding):
    return torch.from_numpy(unfold_solution(x, w, b, stride, padding))


UNFOLD_MISTAKES = {
    "bias-forgotten": (_unfold_no_bias, "left out the bias", ("case 1 of 20",)),
    "kernel-flipped": (_unfold_flipped, "flipped the kernel"),
    "stride-ignored": (_unfold_no_stride, "ignored the stride", ("wrong shape",)),
    "padding-ignored": (_unfold_no_padding, "ignored the padding", ("wrong shape",)),
    "reshaped-w-h": (_unfold_w_h, "row by row"),
    "returns-a-tensor": (_unfold_torch_tensor, "numpy", ("torch.Tensor",)),
}


def _any_headline(planted_answers):
    """A prediction's or design's verdict has a headline of its own."""
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


ENTRIES = [
    Entry(
        "separable_costs",
        learner=check.separable_costs,
        solutions=(
            ("tuple", lambda: check.separable_costs(RIGHT_COSTS)),
            ("list", lambda: check.separable_costs(list(RIGHT_COSTS))),
            (
                "numpy ints",
                lambda: check.separable_costs(tuple(np.int64(v) for v in RIGHT_COSTS)),
            ),
            ("a function", lambda: check.separable_costs(lambda: RIGHT_COSTS)),
        ),
        mistakes=_any_headline(planted(check.separable_costs, COST_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.separable_costs(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
    Entry(
        "grouped_conv2d",
        learner=check.grouped_conv2d,
        solutions=tuple(
            (fn.__name__, functools.partial(check.grouped_conv2d, fn))
            for fn in (grouped_torch, grouped_loops, grouped_split)
        ),
        mistakes=planted(check.grouped_conv2d, GROUPED_MISTAKES),
    ),
    Entry(
        "stack_design",
        learner=check.stack_design,
        solutions=tuple(
            (name, functools.partial(check.stack_design, design))
            for name, design in GOOD_DESIGNS.items()
        ),
        mistakes=_any_headline(planted(check.stack_design, DESIGN_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.stack_design(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
    Entry(
        "conv2d_via_unfold",
        learner=check.conv2d_via_unfold,
        solutions=tuple(
            (fn.__name__, functools.partial(check.conv2d_via_unfold, fn))
            for fn in (unfold_solution, unfold_einsum)
        ),
        mistakes=planted(check.conv2d_via_unfold, UNFOLD_MISTAKES),
    ),
]
