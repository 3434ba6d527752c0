"""dilated_stack_prediction, dilated_conv1d, dilation_design and field_offsets: correct
answers in several styles, and planted mistakes."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as TF

from labs import check

from ..registry import NO_HINT, Entry, Planted, planted

# --- dilated_stack_prediction ---------------------------------------------------------

RIGHT_PREDICTION = (10, 14, 8, 87)


def _prediction_with(index, value):
    prediction = list(RIGHT_PREDICTION)
    prediction[index] = value
    return tuple(prediction)


PREDICTION_MISTAKES = {
    "span-d-times-k": (_prediction_with(0, 18), "not d·k"),
    "span-of-k": (_prediction_with(0, 2), "taps are d apart"),
    "span-gaps-only": (_prediction_with(0, 9), "counted the gaps"),
    "field-d-times-k": (_prediction_with(1, 24), "not d·k"),
    "field-spans-added": (_prediction_with(1, 16), "overlap"),
    "field-spans-added-plus-one": (_prediction_with(1, 17), "overlap"),
    "field-spans-multiplied": (_prediction_with(1, 80), "multiplied the spans"),
    "field-off-by-one": (_prediction_with(1, 13), "starts at 1"),
    "field-dilation-ignored": (_prediction_with(1, 4), "d_ℓ(k - 1)"),
    "holes-ignored": (_prediction_with(2, 14), "no holes"),
    "length-off-by-one": (_prediction_with(3, 86), "minus one"),
    "length-last-layer-only": (_prediction_with(3, 91), "last layer alone"),
    "length-dilation-ignored": (_prediction_with(3, 97), "not k - 1"),
    "unexplained": (_prediction_with(2, 9), NO_HINT, ("number of inputs",)),
    "float": (_prediction_with(3, 87.0), "ints", ("a float",)),
    "three-numbers": (RIGHT_PREDICTION[:3], "four ints", ("not four numbers",)),
    "a-string": ("10, 14, 8, 87", "four ints", ()),
}

# --- dilated_conv1d -------------------------------------------------------------------


def conv_torch(x, w, dilation):
    return TF.conv1d(
        torch.from_numpy(x), torch.from_numpy(w), dilation=dilation
    ).numpy()


def conv_taps(x, w, dilation):
    """One shifted slice of the input per tap."""
    k = w.shape[-1]
    length = x.shape[-1] - dilation * (k - 1)
    y = np.zeros((x.shape[0], w.shape[0], length))
    for j in range(k):
        start = j * dilation
        y += np.einsum("ncl,oc->nol", x[:, :, start : start + length], w[:, :, j])
    return y


def conv_windows(x, w, dilation):
    """Every window of the span, then every d-th position of it."""
    k = w.shape[-1]
    span = dilation * (k - 1) + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=-1)
    return np.einsum("nclj,ocj->nol", windows[..., ::dilation], w)


def conv_stuffed(x, w, dilation):
    """An ordinary convolution with d - 1 zeros between the kernel's taps."""
    k = w.shape[-1]
    stuffed = np.zeros(w.shape[:-1] + (dilation * (k - 1) + 1,))
    stuffed[..., ::dilation] = w
    return conv_taps(x, stuffed, 1)


def _input_dilated(x, w, dilation):
    """The exercise's bug."""
    k = w.shape[-1]
    taps = x[:, :, ::dilation]
    length = taps.shape[-1] - k + 1
    y = np.zeros((x.shape[0], w.shape[0], length))
    for j in range(k):
        y += np.einsum("ncl,oc->nol", taps[:, :, j : j + length], w[:, :, j])
    return y


def _span_d_times_k(x, w, dilation):
    k = w.shape[-1]
    length = x.shape[-1] - dilation * k + 1
    y = np.zeros((x.shape[0], w.shape[0], length))
    for j in range(k):
        start = j * dilation
        y += np.einsum("ncl,oc->nol", x[:, :, start : start + length], w[:, :, j])
    return y


def _flipped(x, w, dilation):
    return conv_taps(x, w[..., ::-1].copy(), dilation)


def _two_arguments(x, w):
    return conv_taps(x, w, 1)


CONV_MISTAKES = {
    "the-chapter's-bug": (_input_dilated, "every d-th output", ("case 2 of 20",)),
    "span-d-times-k": (_span_d_times_k, "not d·k", ("wrong shape",)),
    "dilation-ignored": (lambda x, w, dilation: conv_taps(x, w, 1), "ignored"),
    "kernel-flipped": (_flipped, "flipped the kernel"),
    "returns-float32": (
        lambda x, w, dilation: conv_taps(x, w, dilation).astype(np.float32),
        None,
        ("float32",),
    ),
    "returns-a-tensor": (
        lambda x, w, dilation: torch.from_numpy(conv_taps(x, w, dilation)),
        "numpy",
        ("torch.Tensor",),
    ),
    "two-parameters": (_two_arguments, "three arguments", ("TypeError",)),
    "returns-none": (lambda x, w, dilation: None, "forget", ()),
}

# --- dilation_design ------------------------------------------------------------------

GOOD_DESIGNS = {
    "powers-of-three": [1, 3, 9, 27],
    "largest-first": [27, 9, 3, 1],
    "just-enough": [1, 3, 9, 23],
    "overlapping": [1, 3, 7, 21],
    "as-a-tuple-of-numpy-ints": tuple(np.int64(d) for d in (1, 3, 8, 24)),
    "a-function": lambda: [1, 3, 9, 27],
}

DESIGN_MISTAKES = {
    "field-too-small": ([1, 2, 4, 8], "raise the dilations", ("field is 31",)),
    "no-dilation": ([1, 1, 1, 1], "raise the dilations", ("field is 9",)),
    "common-factor": ([2, 4, 8, 16], "multiple of 2", ("holes",)),
    "a-jump-too-far": ([1, 5, 9, 27], "dilation 5", ("20 holes",)),
    "powers-of-four": ([1, 4, 16, 64], "dilation 4", ("holes",)),
    "three-layers": ([1, 3, 9], "four ints", ("3 dilations",)),
    "float": ([1, 3, 9, 27.0], "ints", ("a float",)),
    "zero": ([0, 3, 9, 27], None, ("at least 1",)),
    "huge": ([1, 3, 9, 10**6], None, ("at most 1000",)),
    "not-a-list": ("1, 3, 9, 27", "four ints", ("a str",)),
}


# --- field_offsets --------------------------------------------------------------------


def offsets_forward(layers):
    offsets, jump = {0}, 1
    for k, s, d in layers:
        offsets = {a + j * d * jump for a in offsets for j in range(k)}
        jump *= s
    return sorted(offsets)


def offsets_backward(layers):
    """From the output down: positions of each layer's input, in that layer's steps."""
    positions = {0}
    for k, s, d in reversed(layers):
        positions = {p * s + j * d for p in positions for j in range(k)}
    return sorted(positions)


def offsets_numpy(layers):
    """One tap per layer, every combination: a sum of grids, with numpy."""
    offsets, jump = np.zeros(1, dtype=int), 1
    for k, s, d in layers:
        offsets = np.unique(offsets[:, None] + jump * d * np.arange(k)[None, :])
        jump *= s
    return offsets  # a sorted array of distinct ints


def offsets_autograd(layers):
    """Measured like the chapter: the gradient of a stack with weights of ones."""
    length = 400
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in layers:
        ones = torch.ones(1, 1, k, dtype=torch.float64)
        y = TF.conv1d(y, ones, stride=s, dilation=d)
    y[0, 0, 0].backward()
    return np.flatnonzero(x.grad[0, 0].numpy()).tolist()


def _offsets_no_jump(layers):
    return offsets_forward([(k, 1, d) for k, _, d in layers])


def _offsets_jump_first(layers):
    offsets, jump = {0}, 1
    for k, s, d in layers:
        jump *= s
        offsets = {a + j * d * jump for a in offsets for j in range(k)}
    return sorted(offsets)


def _offsets_reversed(layers):
    return offsets_forward(layers[::-1])


def _offsets_no_dilation(layers):
    return offsets_forward([(k, s, 1) for k, s, _ in layers])


def _offsets_no_holes(layers):
    return list(range(offsets_forward(layers)[-1] + 1))


def _offsets_with_repeats(layers):
    offsets, jump = [0], 1
    for k, s, d in layers:
        offsets = [a + j * d * jump for a in offsets for j in range(k)]
        jump *= s
    return sorted(offsets)


def _offsets_reversing_the_argument(layers):
    layers.reverse()
    layers.reverse()
    layers.pop()
    return offsets_forward(layers)


OFFSETS_MISTAKES = {
    "no-jump": (_offsets_no_jump, "forgot the strides", ("case 6 of 30",)),
    "stride-applied-first": (_offsets_jump_first, "not its own taps"),
    "layers-reversed": (_offsets_reversed, "last to first"),
    "dilation-ignored": (_offsets_no_dilation, "j·d positions"),
    "holes-ignored": (_offsets_no_holes, "gridding", ("case 2 of 30",)),
    "repeated-offsets": (_offsets_with_repeats, "keep each offset once"),
    "a-set": (lambda layers: set(offsets_forward(layers)), "sorted(offsets)"),
    "unsorted": (lambda layers: offsets_forward(layers)[::-1], "sorted"),
    "the-field-size": (
        lambda layers: offsets_forward(layers)[-1] + 1,
        "sorted list of ints",
        ("an int",),
    ),
    "floats": (
        lambda layers: [float(v) for v in offsets_forward(layers)],
        None,
        ("a float",),
    ),
    "modifies-its-argument": (_offsets_reversing_the_argument, "caller's list"),
    "empty-stack-crashes": (
        lambda layers: offsets_forward(layers) if layers else layers[0],
        "return [0]",
        ("IndexError",),
    ),
}


def _any_headline(planted_answers):
    """A prediction's or design's verdict has a headline of its own."""
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


def _left_as_none(checker):
    return Planted(
        "left-as-none",
        lambda: checker(None),
        None,
        ("in place of the None",),
        headline="not attempted",
    )


ENTRIES = [
    Entry(
        "dilated_stack_prediction",
        learner=check.dilated_stack_prediction,
        solutions=(
            ("tuple", lambda: check.dilated_stack_prediction(RIGHT_PREDICTION)),
            ("list", lambda: check.dilated_stack_prediction(list(RIGHT_PREDICTION))),
            (
                "a function",
                lambda: check.dilated_stack_prediction(lambda: RIGHT_PREDICTION),
            ),
        ),
        mistakes=_any_headline(
            planted(check.dilated_stack_prediction, PREDICTION_MISTAKES)
        )
        + (_left_as_none(check.dilated_stack_prediction),),
    ),
    Entry(
        "dilated_conv1d",
        learner=check.dilated_conv1d,
        solutions=tuple(
            (fn.__name__, functools.partial(check.dilated_conv1d, fn))
            for fn in (conv_torch, conv_taps, conv_windows, conv_stuffed)
        ),
        mistakes=planted(check.dilated_conv1d, CONV_MISTAKES),
    ),
    Entry(
        "field_offsets",
        learner=check.field_offsets,
        solutions=tuple(
            (fn.__name__, functools.partial(check.field_offsets, fn))
            for fn in (
                offsets_forward,
                offsets_backward,
                offsets_numpy,
                offsets_autograd,
            )
        ),
        mistakes=planted(check.field_offsets, OFFSETS_MISTAKES),
    ),
    Entry(
        "dilation_design",
        learner=check.dilation_design,
        solutions=tuple(
            (name, functools.partial(check.dilation_design, design))
            for name, design in GOOD_DESIGNS.items()
        ),
        mistakes=_any_headline(planted(check.dilation_design, DESIGN_MISTAKES))
        + (_left_as_none(check.dilation_design),),
    ),
]
