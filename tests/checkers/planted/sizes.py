"""output_size and transposed_output_size: correct answers and planted mistakes."""

from __future__ import annotations

import math

import numpy as np

from labs import check

from ..registry import NO_HINT, Entry, planted


def output_size(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def output_size_no_dilation(i, k, s=1, p=0):
    return (i + 2 * p - k) // s + 1


def transposed_output_size(i, k, s=1, p=0, d=1, output_padding=0):
    return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def _with_math(size, kernel, step, pad, dil):
    return math.floor((size + 2 * pad - dil * (kernel - 1) - 1) / step) + 1


def _truncating_int(i, k, s=1, p=0, d=1):
    """int() truncates toward zero, which is the floor here: the room is never < 0."""
    return int((i + 2 * p - d * (k - 1) - 1) / s) + 1


def _numpy_int(i, k, s=1, p=0, d=1):
    return np.int64(output_size(i, k, s, p, d))


OUTPUT_SIZE_MISTAKES = {
    "ceil-instead-of-floor": (
        lambda i, k, s, p, d: math.ceil((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        "rounded up",
    ),
    "forgot-plus-one": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s,
        "+ 1",
    ),
    "total-padding": (
        lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1,
        "each side",
        ("case: i=1, k=1, s=1, p=1, d=1", "expected: 3", "got: 2"),
    ),
    "dilation-ignored": (
        lambda i, k, s, p, d: (i + 2 * p - k) // s + 1,
        "ignored the dilation",
    ),
    "d-times-k": (lambda i, k, s, p, d: (i + 2 * p - d * k) // s + 1, "d·k"),
    "dilation-as-gaps": (
        lambda i, k, s, p, d: (i + 2 * p - (d + 1) * (k - 1) - 1) // s + 1,
        "d = 1 is",
    ),
    "stride-ignored": (
        lambda i, k, s, p, d: i + 2 * p - d * (k - 1),
        "ignored the stride",
    ),
    "padding-ignored": (
        lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1,
        "ignored the pad",
    ),
    "float-division": (
        lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) / s + 1,
        "//",
    ),
    "np-floor-float": (
        lambda i, k, s, p, d: np.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        "//",
    ),
    "returns-none": (lambda i, k, s, p, d: None, "forget return"),
    "returns-list": (lambda i, k, s, p, d: [output_size(i, k, s, p, d)], None),
    "returns-array": (
        lambda i, k, s, p, d: np.array(output_size(i, k, s, p, d)),
        "int(",
    ),
    "returns-bool": (
        lambda i, k, s, p, d: output_size(i, k, s, p, d) > 0,
        None,
        ("a bool",),
    ),
    "raises-value-error": (
        lambda i, k, s, p, d: int("x"),
        None,
        ("ValueError: invalid literal for int()",),
    ),
    # beyond those above: two slips at once match no single mistake, so no hint
    "ceil-and-total-padding": (
        lambda i, k, s, p, d: -(-(i + p - d * (k - 1) - 1) // s) + 1,
        NO_HINT,
        ("wrong size",),
    ),
    # right whenever s = 1: the mistake shows only on a strided case
    "stride-only-when-even": (
        lambda i, k, s, p, d: output_size(i, k, s if s % 2 == 0 else 1, p, d),
        None,
        ("s=3",),
    ),
    "without-dilation-parameter": (
        output_size_no_dilation,
        "dilation=False",
        ("TypeError",),
    ),
    # Python's round() rounds halves to even: sometimes up, sometimes down
    "python-round": (
        lambda i, k, s, p, d: round((i + 2 * p - d * (k - 1) - 1) / s) + 1,
        NO_HINT,
    ),
}

TRANSPOSED_SIZE_MISTAKES = {
    "output-padding-ignored": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + d * (k - 1) + 1,
        "forgot output_padding",
    ),
    "plus-2p": (
        lambda i, k, s, p, d, a: (i - 1) * s + 2 * p + d * (k - 1) + a + 1,
        "- 2p",
    ),
    "dilation-ignored": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + (k - 1) + a + 1,
        "ignored the dilation",
    ),
    "conv-formula": (
        lambda i, k, s, p, d, a: (i + 2 * p - d * (k - 1) - 1) // s + 1,
        "ordinary convolution",
    ),
    "forgot-plus-one": (
        lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + d * (k - 1) + a,
        "+ 1",
    ),
    "i-times-s": (
        lambda i, k, s, p, d, a: i * s - 2 * p + d * (k - 1) + a + 1,
        "(i - 1)s",
    ),
    "float": (
        lambda i, k, s, p, d, a: float(transposed_output_size(i, k, s, p, d, a)),
        "//",
    ),
    # the misleading hints: both were once diagnosed as "you used i·s"
    "minus-p": (
        lambda i, k, s, p, d, a: (i - 1) * s - p + d * (k - 1) + a + 1,
        "not - p",
    ),
    "d-times-k": (lambda i, k, s, p, d, a: (i - 1) * s - 2 * p + d * k + a, "d·k"),
    # two slips at once: no single mistake explains them, so no hint names one
    "i-times-s-and-minus-p": (
        lambda i, k, s, p, d, a: i * s - p + d * (k - 1) + a + 1,
        NO_HINT,
        ("wrong size",),
    ),
}


ENTRIES = [
    Entry(
        "output_size",
        learner=check.output_size,
        solutions=(
            ("formula", lambda: check.output_size(output_size)),
            ("math.floor and any names", lambda: check.output_size(_with_math)),
            ("int() truncation", lambda: check.output_size(_truncating_int)),
            ("numpy int", lambda: check.output_size(_numpy_int)),
            (
                "without dilation",
                lambda: check.output_size(output_size_no_dilation, dilation=False),
            ),
        ),
        mistakes=planted(check.output_size, OUTPUT_SIZE_MISTAKES)
        + planted(
            lambda fn: check.output_size(fn, dilation=False),
            {
                "ceil-without-dilation": (
                    lambda i, k, s, p: -(-(i + 2 * p - k) // s) + 1,
                    "rounded up",
                ),
            },
        ),
    ),
    Entry(
        "transposed_output_size",
        learner=check.transposed_output_size,
        solutions=(
            ("formula", lambda: check.transposed_output_size(transposed_output_size)),
        ),
        mistakes=planted(check.transposed_output_size, TRANSPOSED_SIZE_MISTAKES),
    ),
]
