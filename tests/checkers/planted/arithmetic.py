"""stack_output_size, same_padding, size_predictions and layer_design: correct answers
and planted mistakes."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from labs import check

from ..registry import NO_HINT, Entry, Planted, planted


def output_size(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def stack_loop(i, layers):
    for k, s, p, d in layers:
        i = output_size(i, k, s, p, d)
    return i


def stack_reduce(i, layers):
    return functools.reduce(lambda size, layer: output_size(size, *layer), layers, i)


def stack_math_floor(size, stack):
    for kernel, stride, padding, dilation in stack:
        span = dilation * (kernel - 1) + 1
        size = math.floor((size + 2 * padding - span) / stride) + 1
    return size


def same_padding(k, d=1):
    total = d * (k - 1)
    if total % 2:
        raise ValueError(f"d(k - 1) = {total} is odd: no per-side padding keeps i")
    return total // 2


def same_padding_divmod(k, d=1):
    half, odd = divmod(d * (k - 1), 2)
    if odd:
        raise ValueError("the kernel spans an even number of positions")
    return half


def _ceil(i, layers):
    for k, s, p, d in layers:
        i = math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1
    return i


def _total_padding(i, layers):
    for k, s, p, d in layers:
        i = (i + p - d * (k - 1) - 1) // s + 1
    return i


def _no_dilation(i, layers):
    for k, s, p, _d in layers:
        i = (i + 2 * p - k) // s + 1
    return i


def _no_plus_one(i, layers):
    for k, s, p, d in layers:
        i = (i + 2 * p - d * (k - 1) - 1) // s
    return i


def _swapped(i, layers):
    for k, p, s, d in layers:
        i = output_size(i, k, s, p, d)
    return i


def _reversed(i, layers):
    for k, s, p, d in reversed(layers):
        i = output_size(i, k, s, p, d)
    return i


def _summed(i, layers):
    k = sum(layer[0] for layer in layers)
    s = sum(layer[1] for layer in layers)
    p = sum(layer[2] for layer in layers)
    d = max((layer[3] for layer in layers), default=1)
    return output_size(i, k, max(s, 1), p, d) if layers else i


def _product_of_strides(i, layers):
    span = sum(d * (k - 1) + 1 for k, s, p, d in layers)
    padding = sum(p for k, s, p, d in layers)
    stride = math.prod(s for k, s, p, d in layers)
    return (i + 2 * padding - span) // stride + 1 if layers else i


def _return_in_loop(i, layers):
    for k, s, p, d in layers:
        return output_size(i, k, s, p, d)
    return i


def _list_of_sizes(i, layers):
    sizes = [i]
    for k, s, p, d in layers:
        sizes.append(output_size(sizes[-1], k, s, p, d))
    return sizes


def _float_division(i, layers):
    for k, s, p, d in layers:
        i = (
            int((i + 2 * p - d * (k - 1) - 1) / s + 1)
            if s == 1
            else ((i + 2 * p - d * (k - 1) - 1) / s + 1)
        )
    return i


def _mutates(i, layers):
    while layers:
        k, s, p, d = layers.pop(0)
        i = output_size(i, k, s, p, d)
    return i


def _empty_crash(i, layers):
    size = output_size(i, *layers[0])
    for layer in layers[1:]:
        size = output_size(size, *layer)
    return size


def _three_tuples(i, layers):
    for k, s, p in layers:
        i = output_size(i, k, s, p)
    return i


STACK_MISTAKES = {
    "ceil-instead-of-floor": (_ceil, "rounded up", ()),
    "total-padding": (_total_padding, "each side", ()),
    "dilation-ignored": (_no_dilation, "ignored the dilation", ()),
    "forgot-plus-one": (_no_plus_one, "+ 1", ()),
    "stride-padding-swapped": (_swapped, "(k, s, p, d)", ("ZeroDivisionError",)),
    "layers-reversed": (_reversed, "last to first", ()),
    "one-formula-summed": (_summed, "as one layer", ()),
    "one-formula-product-of-strides": (_product_of_strides, "as one layer", ()),
    "return-inside-loop": (_return_in_loop, "after the first layer", ()),
    "list-of-sizes": (_list_of_sizes, "last element is right", ("a list",)),
    "float-division": (_float_division, "//", ("float",)),
    "mutates-layers": (_mutates, "for k, s, p, d in", ("modified its argument",)),
    "crashes-on-empty-stack": (_empty_crash, "empty list", ("IndexError",)),
    "three-tuples": (_three_tuples, "four ints", ("ValueError",)),
    "returns-none": (lambda i, layers: None, "forget return", ()),
}


def _raise_if_even_k(k, d=1):
    if k % 2 == 0:
        raise ValueError("even kernel")
    return d * (k - 1) // 2


def _pair_when_odd(k, d=1):
    total = d * (k - 1)
    return (total // 2, total - total // 2) if total % 2 else total // 2


def _never_raises(k, d=1):
    return d * (k - 1) // 2


def _d_times_k(k, d=1):
    if d * (k - 1) % 2:
        raise ValueError("odd")
    return d * k // 2


def _no_dilation_padding(k, d=1):
    if (k - 1) % 2:
        raise ValueError("even kernel")
    return (k - 1) // 2


def _assert_instead(k, d=1):
    assert d * (k - 1) % 2 == 0, "odd"
    return d * (k - 1) // 2


def _total(k, d=1):
    if d * (k - 1) % 2:
        raise ValueError("odd")
    return d * (k - 1)


def _always_pair(k, d=1):
    half = d * (k - 1) // 2
    return half, half


SAME_PADDING_MISTAKES = {
    "k-floor-half": (
        lambda k, d=1: k // 2,
        "only for an odd kernel",
        ("expected: ValueError",),
    ),
    "never-raises": (_never_raises, "raise ValueError", ("should raise ValueError",)),
    "pytorch-pair-when-odd": (_pair_when_odd, "padding='same'", ()),
    "always-a-pair": (_always_pair, "as one int", ("a tuple",)),
    "raises-for-even-k": (_raise_if_even_k, "not k", ("k=2, d=2",)),
    "dilation-ignored": (_no_dilation_padding, "ignored the dilation", ()),
    "d-times-k": (_d_times_k, "not d·k", ()),
    "total-padding": (_total, "total padding", ()),
    "assert-instead-of-value-error": (_assert_instead, "not AssertionError", ()),
    "float-division": (lambda k, d=1: d * (k - 1) / 2, "//", ("float",)),
    "returns-none": (lambda k, d=1: None, "forget return", ()),
}


def _unpacks_a_pair(k, d=1):
    """Refuses by accident: an unpacking error, not a raise of its own."""
    total = d * (k - 1)
    half, rest = (total // 2, 0) if total % 2 == 0 else (total // 2, 1, 0)
    return half


def _refuses_with_type_error(k, d=1):
    if d * (k - 1) % 2:
        raise TypeError("odd")
    return d * (k - 1) // 2


def _pops_the_layers(i, layers):
    while layers:
        k, s, p, d = layers.pop()
        i = (i + 2 * p - d * (k - 1) - 1) // s + 1
    return i


SAME_PADDING_MISTAKES.update(
    {
        "accidental-value-error": (
            _unpacks_a_pair,
            "does not come from a raise",
            ("too many values to unpack",),
        ),
        "refuses-with-type-error": (_refuses_with_type_error, "not TypeError"),
        "float-for-odd": (
            lambda k, d=1: d * (k - 1) / 2 if d * (k - 1) % 2 else d * (k - 1) // 2,
            NO_HINT,
            ("should raise ValueError",),
        ),
    }
)


def _ceil_only_for_stride_2(i, layers):
    """Rounds up where the stride is 2 and down elsewhere: no one usual mistake."""
    for k, s, p, d in layers:
        room = i + 2 * p - d * (k - 1) - 1
        i = (-(-room // s) if s == 2 else room // s) + 1
    return i


STACK_MISTAKES.update(
    {
        # pops from the end: reads the layers last to first and empties the caller's list
        "pops-the-layers": (
            _pops_the_layers,
            "for k, s, p, d in layers",
            ("modified its argument layers",),
        ),
        "ceil-only-when-strided-by-2": (_ceil_only_for_stride_2, NO_HINT),
    }
)

# --- size_predictions ----------------------------------------------------------------

RIGHT_PREDICTIONS = (7, 5, 14, 5)


def _predictions_with(index, value):
    predictions = list(RIGHT_PREDICTIONS)
    predictions[index] = value
    return tuple(predictions)


PREDICTION_MISTAKES = {
    "rounded-up": (_predictions_with(0, 8), "rounded up", ("strided convolution",)),
    "padding-one-side": (_predictions_with(0, 6), "one short"),
    "stride-ignored": (_predictions_with(0, 20), "ignored the stride"),
    "pool-stride-1": (_predictions_with(1, 17), "defaults to its window"),
    "dilation-ignored": (_predictions_with(2, 17), "ignored the dilation"),
    "d-times-k": (_predictions_with(2, 13), "d·k"),
    "dilation-as-gaps": (_predictions_with(2, 11), "one gap"),
    "all-read": (_predictions_with(3, 0), "do not touch"),
    "only-the-end": (_predictions_with(3, 1), "only the cells left over"),
    "only-the-gaps": (_predictions_with(3, 4), "left over after"),
    "unexplained": (_predictions_with(2, 99), NO_HINT, ("dilated convolution",)),
    "float": (_predictions_with(1, 5.0), "ints", ("a float",)),
    "three-numbers": (RIGHT_PREDICTIONS[:3], "four ints", ("not four numbers",)),
    "a-string": ("7, 5, 14, 5", "four ints", ()),
}

# --- layer_design --------------------------------------------------------------------

GOOD_LAYERS = {
    "k7-s4-p3": (7, 4, 3),
    "k9-s4-p4": (9, 4, 4),
    "as-a-list": [11, 4, 5],
    "numpy-ints": tuple(np.int64(v) for v in (7, 4, 3)),
}

LAYER_MISTAKES = {
    "stride-3": ((7, 3, 3), "four sizes", ("97 gives 33",)),
    "even-kernel": ((8, 4, 3), "four sizes", ("101 gives 25 too",)),
    "too-little-padding": ((5, 4, 2), "padding must be at least", ("1 of 100",)),
    "gaps": ((3, 4, 1), "at least as long as the stride", ("never read",)),
    "both": ((3, 3, 0), "four sizes", ("never read", "gives 33")),
    "kernel-too-long": ((300, 4, 3), "fit", ("refuses",)),
    "two-numbers": ((7, 4), "three ints", ("not three ints",)),
    "float": ((7.0, 4, 3), "ints", ("a float",)),
    "zero-stride": ((7, 0, 3), None, ("at least 1",)),
}


def _any_headline(planted_answers):
    """A prediction's or design's verdict has a headline of its own."""
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


ENTRIES = [
    Entry(
        "stack_output_size",
        learner=check.stack_output_size,
        solutions=tuple(
            (fn.__name__, functools.partial(check.stack_output_size, fn))
            for fn in (stack_loop, stack_reduce, stack_math_floor)
        ),
        mistakes=planted(check.stack_output_size, STACK_MISTAKES),
    ),
    Entry(
        "same_padding",
        learner=check.same_padding,
        solutions=tuple(
            (fn.__name__, functools.partial(check.same_padding, fn))
            for fn in (same_padding, same_padding_divmod)
        ),
        mistakes=planted(check.same_padding, SAME_PADDING_MISTAKES)
        + planted(
            check.same_padding,
            {
                "signature-without-d": (
                    lambda k: (k - 1) // 2,
                    "fn(k, d)",
                    ("TypeError",),
                )
            },
        ),
    ),
    Entry(
        "size_predictions",
        learner=check.size_predictions,
        solutions=(
            ("tuple", lambda: check.size_predictions(RIGHT_PREDICTIONS)),
            ("list", lambda: check.size_predictions(list(RIGHT_PREDICTIONS))),
            ("a function", lambda: check.size_predictions(lambda: RIGHT_PREDICTIONS)),
        ),
        mistakes=_any_headline(planted(check.size_predictions, PREDICTION_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.size_predictions(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
    Entry(
        "layer_design",
        learner=check.layer_design,
        solutions=tuple(
            (name, functools.partial(check.layer_design, layer))
            for name, layer in GOOD_LAYERS.items()
        ),
        mistakes=_any_headline(planted(check.layer_design, LAYER_MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.layer_design(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
]
