"""Comparing an answer with the expected one: type, shape, finiteness, values.

Every function here raises :class:`~labs.check._core.Mismatch` on the first thing that
is wrong, in that order, and returns nothing when the answer is right. Wrong shapes and
wrong values are ``diagnosable``: the runner then looks for a usual mistake that
explains them.

Values must agree within ``|got − expected| ≤ 1e-8 + 1e-6·|expected|``. A float64 answer
that agrees only to float32 precision (within that tolerance, but off by more than
:data:`FLOAT32_SIGN` of the largest expected value) was computed in float32 somewhere,
and is rejected with a hint saying so: the exercises are float64 all along, where a
correct answer is off by about 1e-15.
"""

from __future__ import annotations

import numbers

import numpy as np

from labs.check._core import ATOL, RTOL, Mismatch, is_integral, no_warnings
from labs.check._text import (
    TINY,
    array_text,
    digits_to_differ,
    index_text,
    number_text,
    shape_text,
    type_phrase,
)

TOLERANCE = f"|got − expected| ≤ {ATOL:g} + {RTOL:g}·|expected|"
# Float64 arithmetic is off by ~1e-16 of the largest value involved, float32 by ~1e-7:
# an error larger than this fraction of the largest expected value is float32's.
FLOAT32_SIGN = 1e-9


def none_mismatch(role: str = "your function") -> Mismatch:
    return Mismatch(
        f"{role} returned None.",
        hint="did you forget `return`? A function without `return` gives None.",
    )


def require_ndarray(got, role: str = "your function") -> np.ndarray:
    """Check that a numpy exercise returned a float64 numpy array."""
    if got is None:
        raise none_mismatch(role)
    if isinstance(got, (list, tuple)):
        raise Mismatch(
            f"{role} returned {type_phrase(got)}, not a numpy array.",
            got=got,
            hint="convert with np.asarray(...), or better, create the output with "
            "np.zeros(shape) and fill it in.",
        )
    if type_phrase(got) == "a torch.Tensor":
        raise Mismatch(
            f"{role} returned a torch.Tensor, not a numpy array.",
            got=got,
            hint="this exercise is about numpy: compute with numpy and return an "
            "np.ndarray (a tensor converts with `.numpy()`).",
        )
    if not isinstance(got, np.ndarray):
        raise Mismatch(
            f"{role} returned {type_phrase(got)}, not a numpy array.", got=got
        )
    if got.dtype != np.float64:
        raise Mismatch(
            f"your output has dtype {got.dtype}; it should be float64, like the "
            "inputs.",
            got=got,
            hint=dtype_hint(got.dtype),
        )
    return got


def dtype_hint(dtype: np.dtype) -> str:
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return (
            "values stored in an integer array are rounded. Create the output with "
            "np.zeros(shape) (float64 by default), not with dtype=int or np.zeros_like "
            "of an integer array."
        )
    if dtype == np.float32:
        return "drop dtype=np.float32 (or .astype(np.float32)): keep float64 all along."
    return "create the output with np.zeros(shape), which is float64."


def compare_values(
    got,
    expected,
    *,
    what: str,
    label: str,
    part: int | None = None,
    float64: bool = True,
) -> None:
    """Shape, then NaN/inf, then values within the tolerance, then (with ``float64``)
    float64 precision; raise :class:`Mismatch`.

    ``what`` names the answer in sentences ("output"), ``label`` in element indices
    (``out[0, 1, 2]``); ``part`` is passed on to the mismatch.
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise Mismatch(
            f"the {what} has the wrong shape.",
            details=[
                ("expected", f"shape {shape_text(expected.shape)}"),
                ("got", f"shape {shape_text(got.shape)}"),
            ],
            diagnosable=True,
            part=part,
        )
    broken = ~np.isfinite(got) & np.isfinite(expected)
    if broken.any():
        index = tuple(int(i) for i in np.argwhere(broken)[0])
        kind = "NaN" if np.isnan(got[index]) else "inf"
        raise Mismatch(
            f"the {what} contains NaN or inf ({int(broken.sum())} of {got.size} "
            "elements).",
            details=[
                (
                    "expected",
                    f"{index_text(label, index)} = {number_text(expected[index])}",
                ),
                ("got", f"{index_text(label, index)} = {kind}"),
            ],
            hint="NaN and inf come from uninitialised memory (np.empty / torch.empty "
            "keep whatever was there: use zeros when you accumulate), 0/0, log of a "
            "non-positive number, or overflow.",
            part=part,
        )
    with no_warnings():
        close = np.isclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
        error = np.nan_to_num(np.where(close, 0.0, np.abs(got - expected)), nan=np.inf)
    if close.all():
        if float64:
            _require_float64_precision(got, expected, what, part)
        return
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
    where = index_text(label, index)
    worst = f"max abs error {float(error[index]):.3g} at {where}; allowed {TOLERANCE}."
    if got.size <= TINY:
        digits = digits_to_differ(got, expected, ~close)
        details = [
            ("expected", array_text(expected, digits)),
            ("got", array_text(got, digits)),
        ]
    else:
        digits = digits_to_differ(got[index], expected[index], True, least=8)
        details = [
            (
                "expected",
                f"{where} = {number_text(expected[index], digits)} (the worst element)",
            ),
            ("got", f"{where} = {number_text(got[index], digits)}"),
        ]
    wrong = int((~close).sum())
    problem = f"the {what} is wrong at {wrong} of {got.size} elements."
    if got.size == 1:
        problem = f"the {what} has the wrong value."
    raise Mismatch(
        problem, details=[*details, ("error", worst)], diagnosable=True, part=part
    )


def _require_float64_precision(
    got: np.ndarray, expected: np.ndarray, what: str, part: int | None
) -> None:
    """Reject an answer that agrees only as closely as float32 arithmetic allows."""
    scale = float(np.max(np.abs(expected), initial=0.0))
    if scale == 0.0:
        return
    with no_warnings():
        error = np.abs(got - expected)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
    relative = float(error[index]) / scale
    if relative <= FLOAT32_SIGN:
        return
    digits = max(2, int(np.floor(-np.log10(relative))))
    raise Mismatch(
        f"the {what} agrees with PyTorch's only to about {digits} significant digits, "
        "the precision of float32: somewhere it was computed in float32.",
        details=[
            (
                "error",
                f"max abs error {float(error[index]):.1e}, "
                f"{relative:.0e} of the largest value; float64 arithmetic "
                "is off by about 1e-15",
            )
        ],
        hint="keep float64 all along: no np.float32 or torch.float32, and no tensors "
        "made with torch's default dtype (torch.tensor of Python floats, torch.zeros, "
        "torch.ones are float32 unless you pass dtype=torch.float64).",
        part=part,
    )


def compare_int(
    got, expected: int, *, what: str = "size", role: str = "your function"
) -> None:
    """An exact integer answer: type first (``int``, not float or bool), then value."""
    if got is None:
        raise none_mismatch(role)
    if isinstance(got, (bool, np.bool_)):
        raise Mismatch(f"{role} returned a bool, not an int {what}.", got=got)
    if is_integral(got):
        if int(got) != expected:
            raise Mismatch(
                f"wrong {what}.",
                details=[("expected", str(expected)), ("got", str(int(got)))],
                got=got,
                diagnosable=True,
            )
        return
    if isinstance(got, numbers.Real):
        raise Mismatch(
            f"{role} returned a float ({float(got)!r}); a {what} is an integer.",
            details=[("expected", str(expected))],
            got=got,
            hint="sizes are integers; use // (floor division) instead of /. np.floor "
            "and np.ceil also return floats (math.floor and math.ceil return ints).",
        )
    if isinstance(got, np.ndarray) or type_phrase(got) == "a torch.Tensor":
        raise Mismatch(
            f"{role} returned {type_phrase(got)}, not an int.",
            got=got,
            hint="return a plain Python int, e.g. int(value) (or value.item()).",
        )
    raise Mismatch(f"{role} returned {type_phrase(got)}, not an int.", got=got)


def int_or_mismatch(value, what: str) -> int:
    """``value`` as an int when it is one (a Python or numpy int, not a bool, not a
    float even with an integral value, not a string); else :class:`Mismatch`."""
    if is_integral(value):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        raise Mismatch(
            f"{what} is a float ({float(value)!r}); sizes are ints.",
            hint="write sizes as ints (`256`, not `256.0`); compute them with // "
            "(floor division), not /.",
        )
    raise Mismatch(f"{what} is {type_phrase(value)} ({value!r}), not an int.")


def constant_factor(expected_got_pairs, least: int = 1) -> float | None:
    """The factor k when ``got = k · expected`` everywhere (k ≠ 0, 1), from at least
    ``least`` elements, else None."""
    ratios = []
    for expected, got in expected_got_pairs:
        expected = np.ravel(np.asarray(expected, dtype=np.float64))
        got = np.ravel(np.asarray(got, dtype=np.float64))
        if expected.shape != got.shape:
            return None
        scale = np.max(np.abs(expected), initial=0.0)
        usable = np.abs(expected) > 1e-6 * scale + 1e-12
        with no_warnings():
            ratios.extend((got[usable] / expected[usable]).tolist())
    if len(ratios) < least:
        return None
    factor = float(np.median(ratios))
    if not np.allclose(ratios, factor, rtol=RTOL * 10, atol=0):
        return None
    if np.isclose(factor, 1.0) or abs(factor) < 1e-6:
        return None
    return factor


def factor_text(factor: float) -> str:
    """2, 0.5, -3, 1/3: the simplest exact spelling of a factor, else 8 digits."""
    if abs(factor * 1000 - round(factor * 1000)) < 1e-6:
        return f"{factor:g}"
    for denominator in range(3, 13):
        numerator = factor * denominator
        if abs(numerator - round(numerator)) < 1e-6:
            return f"{round(numerator)}/{denominator}"
    return number_text(factor)


def factor_hint(factor: float, what: str) -> str:
    if np.isclose(factor, -1.0):
        return f"wrong sign: your {what} is the negative of the true one everywhere."
    return (
        f"your {what} is {factor_text(factor)}× the true one everywhere: a constant "
        "factor is off."
    )


def compare_output(got, case) -> None:
    """The usual comparison of a numpy exercise: a float64 array equal to
    ``case.expected`` within the course's tolerance."""
    compare_values(require_ndarray(got), case.expected, what="output", label="y")
