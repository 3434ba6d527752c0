"""grouped_conv1d_prediction, conv_pool_prediction and max_pool2d: correct answers in
several styles, and planted mistakes."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as TF

from labs import check

from ..registry import NO_HINT, Entry, Planted, planted

# --- grouped_conv1d_prediction ----------------------------------------------------------

RIGHT_GROUPED = ((9, 2, 3), 63, (3, 9, 27))


def _with(right, index, value):
    answer = list(right)
    answer[index] = value
    return tuple(answer)


GROUPED_MISTAKES = {
    "groups-ignored": (_with(RIGHT_GROUPED, 0, (9, 6, 3)), "C_in/groups"),
    "channel-axes-swapped": (_with(RIGHT_GROUPED, 0, (2, 9, 3)), "output channels"),
    "groups-ignored-count": (_with(RIGHT_GROUPED, 1, 171), "C_in/groups"),
    "bias-forgotten": (_with(RIGHT_GROUPED, 1, 54), "left out the biases"),
    "bias-forgotten-groups-ignored": (
        _with(RIGHT_GROUPED, 1, 162),
        "one bias per output channel",
    ),
    "bias-per-weight": (_with(RIGHT_GROUPED, 1, 108), "not one per weight"),
    "dilation-ignored": (_with(RIGHT_GROUPED, 2, (3, 9, 28)), "d(K - 1) + 1"),
    "padding-ignored": (_with(RIGHT_GROUPED, 2, (3, 9, 24)), "2p in all"),
    "padding-one-side": (_with(RIGHT_GROUPED, 2, (3, 9, 25)), "not p"),
    "plus-one-forgotten": (_with(RIGHT_GROUPED, 2, (3, 9, 26)), "+ 1"),
    "stride-ignored": (_with(RIGHT_GROUPED, 2, (3, 9, 53)), "stride=2"),
    "in-channels-kept": (_with(RIGHT_GROUPED, 2, (3, 6, 27)), "out_channels"),
    "unexplained": (_with(RIGHT_GROUPED, 2, (3, 9, 30)), NO_HINT, ("output's shape",)),
    "float-count": (_with(RIGHT_GROUPED, 1, 63.0), "ints", ("a float",)),
    "count-as-shape": (_with(RIGHT_GROUPED, 0, 54), "tuple of ints", ("not a shape",)),
    "two-values": (RIGHT_GROUPED[:2], "(weight shape", ("not 3 values",)),
    "a-string": ("(9, 2, 3), 63, (3, 9, 27)", "(weight shape", ()),
}

# --- conv_pool_prediction ---------------------------------------------------------------

RIGHT_CONV_POOL = ((2, 8, 23, 31), (2, 8, 7, 10), (7, 9))

CONV_POOL_MISTAKES = {
    "conv-padding-ignored": (
        _with(RIGHT_CONV_POOL, 0, (2, 8, 22, 29)),
        "1 row above and below",
    ),
    "conv-padding-ignored-after-pool": (
        _with(RIGHT_CONV_POOL, 1, (2, 8, 7, 9)),
        "before the pooling",
    ),
    "conv-kernel-swapped": (_with(RIGHT_CONV_POOL, 0, (2, 8, 22, 32)), "3 rows high"),
    "conv-stride-ignored": (_with(RIGHT_CONV_POOL, 0, (2, 8, 45, 61)), "stride=2"),
    "pool-stride-one": (_with(RIGHT_CONV_POOL, 1, (2, 8, 21, 29)), "defaults"),
    "pool-rounded-up": (_with(RIGHT_CONV_POOL, 1, (2, 8, 8, 11)), "round down"),
    "jump-forgotten": (_with(RIGHT_CONV_POOL, 2, (5, 7)), "the jump"),
    "jump-includes-own-stride": (_with(RIGHT_CONV_POOL, 2, (15, 17)), "not by its own"),
    "pool-only": (_with(RIGHT_CONV_POOL, 2, (3, 3)), "input pixels"),
    "kernels-added": (_with(RIGHT_CONV_POOL, 2, (6, 8)), "do not add up"),
    "unexplained": (_with(RIGHT_CONV_POOL, 1, (2, 8, 6, 6)), NO_HINT),
    "field-as-int": (_with(RIGHT_CONV_POOL, 2, 7), "tuple of ints", ("not a shape",)),
    "torch-size": (
        (torch.Size([2, 8, 23, 31]), torch.Size([2, 8, 7, 11]), (7, 9)),
        NO_HINT,
        ("shape after the pooling",),
    ),
}

# --- max_pool2d -------------------------------------------------------------------------


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def pool_loops(x, kernel_size, stride=None, swap_kernel=False, starts=None):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    h_out = (x.shape[2] - kh) // sh + 1
    w_out = (x.shape[3] - kw) // sw + 1
    rows, cols = (kw, kh) if swap_kernel else (kh, kw)
    starts = starts or (lambda r, q: (r * sh, q * sw))
    y = np.empty((*x.shape[:2], h_out, w_out))
    for r in range(h_out):
        for q in range(w_out):
            top, left = starts(r, q)
            y[:, :, r, q] = x[:, :, top : top + rows, left : left + cols].max(
                axis=(2, 3)
            )
    return y


def pool_windows(x, kernel_size, stride=None):
    """Every window as a view, then one max."""
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return windows[:, :, ::sh, ::sw].max(axis=(4, 5))


def pool_torch(x, kernel_size, stride=None):
    return TF.max_pool2d(torch.from_numpy(x), kernel_size, stride).numpy()


def _swapped(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, stride, swap_kernel=True)


def _stride_one(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, 1 if stride is None else stride)


def _stride_ignored(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size)


def _stride_swapped(x, kernel_size, stride=None):
    stride = None if stride is None else pair(stride)[::-1]
    return pool_loops(x, kernel_size, stride)


def _not_strided(x, kernel_size, stride=None):
    return pool_loops(x, kernel_size, stride, starts=lambda r, q: (r, q))


def _average(x, kernel_size, stride=None):
    return TF.avg_pool2d(torch.from_numpy(x), kernel_size, stride).numpy()


def _rounded_up(x, kernel_size, stride=None):
    return TF.max_pool2d(
        torch.from_numpy(x), kernel_size, stride, ceil_mode=True
    ).numpy()


def _ints_only(x, kernel_size, stride=None):
    k = kernel_size + 0  # fails on a pair
    return pool_loops(x, k, stride)


POOL_MISTAKES = {
    "the-chapter's-bug": (_swapped, "kW rows high", ("case 2 of 30",)),
    "default-stride-one": (_stride_one, "stride=None", ("wrong shape",)),
    "stride-ignored": (_stride_ignored, "ignored the stride"),
    "stride-swapped": (_stride_swapped, "height and width of the stride"),
    "not-strided": (_not_strided, "multiply by the stride"),
    "average": (_average, "mean of each window"),
    "rounded-up": (_rounded_up, "round down"),
    "ints-only": (_ints_only, "ints or pairs", ("TypeError",)),
    "returns-a-tensor": (
        lambda x, k, stride=None: torch.from_numpy(pool_loops(x, k, stride)),
        "numpy",
        ("torch.Tensor",),
    ),
    "returns-none": (lambda x, k, stride=None: None, "forget", ()),
}

# --- shape_design -----------------------------------------------------------------------

GOOD_SHAPE_DESIGNS = {
    "pool-4-stride-2": (2, 4, 2, 1),
    "pool-8-stride-1": (2, 8, 1, 1),
    "as-a-list": [2, 4, 2, 1],
    "numpy-ints": tuple(np.int64(v) for v in (2, 8, 1, 1)),
}

SHAPE_DESIGN_MISTAKES = {
    "no-padding": ((0, 4, 2, 1), "(k - 1)/2", ("60×44",)),
    "padding-as-kernel": ((5, 4, 2, 1), "(k - 1)/2", ("70×54",)),
    "pool-2": ((2, 2, 2, 1), "work backwards", ("(1, 32, 16, 12)",)),
    "last-padding-0": ((2, 4, 2, 0), "work backwards", ("(1, 32, 7, 5)",)),
    "stride-4": ((2, 2, 4, 1), "pooling do more", ("stride 4",)),
    "too-large-pool": ((2, 64, 1, 1), "smaller pool", ("layer 3",)),
    "three-values": ((2, 4, 2), "four ints", ("not four ints",)),
    "float-pool": ((2, 4.0, 2, 1), "ints", ("a float",)),
    "zero-stride": ((2, 4, 0, 1), "four ints", ("at least 1",)),
}


def _any_headline(planted_answers):
    """A prediction's verdict has a headline of its own."""
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


def _prediction_entry(name, checker, right, mistakes):
    return Entry(
        name,
        learner=checker,
        solutions=(
            ("tuple", lambda: checker(right)),
            (
                "list",
                lambda: checker(
                    [list(part) if isinstance(part, tuple) else part for part in right]
                ),
            ),
            (
                "numpy ints",
                lambda: checker(
                    tuple(
                        tuple(np.int64(v) for v in part)
                        if isinstance(part, tuple)
                        else np.int64(part)
                        for part in right
                    )
                ),
            ),
            ("a function", lambda: checker(lambda: right)),
        ),
        mistakes=_any_headline(planted(checker, mistakes))
        + (
            Planted(
                "left-as-none",
                lambda: checker(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    )


ENTRIES = [
    _prediction_entry(
        "grouped_conv1d_prediction",
        check.grouped_conv1d_prediction,
        RIGHT_GROUPED,
        GROUPED_MISTAKES,
    ),
    _prediction_entry(
        "conv_pool_prediction",
        check.conv_pool_prediction,
        RIGHT_CONV_POOL,
        CONV_POOL_MISTAKES,
    ),
    Entry(
        "max_pool2d",
        learner=check.max_pool2d,
        solutions=tuple(
            (fn.__name__, functools.partial(check.max_pool2d, fn))
            for fn in (pool_loops, pool_windows, pool_torch)
        ),
        mistakes=planted(check.max_pool2d, POOL_MISTAKES),
    ),
    Entry(
        "shape_design",
        learner=check.shape_design,
        solutions=tuple(
            (name, functools.partial(check.shape_design, design))
            for name, design in GOOD_SHAPE_DESIGNS.items()
        ),
        mistakes=_any_headline(planted(check.shape_design, SHAPE_DESIGN_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.shape_design(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
]
