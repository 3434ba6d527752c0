"""Output sizes and receptive fields, per spatial dimension (chapters 3 to 5).

Notation (as in Dumoulin & Visin's guide and PyTorch's docs): input size ``i``, kernel
size ``k``, stride ``s``, zero padding ``p`` on *each* side, dilation ``d`` (``d = 1``
is an ordinary kernel), output size ``o``.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    "effective_kernel_size",
    "window_count",
    "transposed_length",
    "pool_window_count",
    "ReceptiveField",
    "receptive_field",
]


# The formulas themselves, unchecked: the engine (labs.functional, labs.kernels) calls
# these and raises PyTorch's errors itself when a result is not positive; the checked
# versions below are what the chapters use.


def window_count(padded: int, k: int, s: int = 1, d: int = 1) -> int:
    """How many windows of a kernel of size ``k`` (dilation ``d``) fit in ``padded``
    positions at stride ``s``: ``floor((padded - d(k - 1) - 1) / s) + 1``."""
    return (padded - d * (k - 1) - 1) // s + 1


def transposed_length(
    i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0
) -> int:
    """``(i - 1)s - 2p + d(k - 1) + output_padding + 1``, unchecked."""
    return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def pool_window_count(
    i: int, k: int, s: int, p: int = 0, d: int = 1, ceil_mode: bool = False
) -> int:
    """Pooling windows over ``i`` positions padded by ``p`` on each side, unchecked.

    With ``ceil_mode`` the division rounds up, but a last window that would start
    beyond the input and its left padding is dropped (PyTorch's rule).
    """
    span = i + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= i + p:
        o -= 1
    return o


def _check(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}")


def effective_kernel_size(k: int, d: int = 1) -> int:
    """The span of a dilated kernel: ``k + (k - 1)(d - 1) = d(k - 1) + 1``."""
    _check(k=k, d=d)
    if k < 1 or d < 1:
        raise ValueError(
            f"kernel size and dilation must be at least 1, got k={k}, d={d}"
        )
    return d * (k - 1) + 1


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output size of a convolution: ``o = floor((i + 2p - d(k - 1) - 1) / s) + 1``.

    The floor drops input positions left over after the last full stride: they are
    never covered by a window. Raises ValueError when no window fits.
    """
    _check(i=i, k=k, s=s, p=p, d=d)
    if s < 1 or p < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got s={s}, p={p}")
    span = effective_kernel_size(k, d)
    if i + 2 * p < span:
        raise ValueError(
            f"the kernel spans {span} positions but the padded input has only {i + 2 * p} "
            f"(i={i}, p={p}): no window fits"
        )
    return window_count(i + 2 * p, k, s, d)


def conv_transpose_output_size(
    i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0
) -> int:
    """Output size of a transposed convolution.

    ``o = (i - 1)s - 2p + d(k - 1) + output_padding + 1``, the inverse of
    :func:`conv_output_size`: a convolution with the same (k, s, p, d) maps o back to i.
    ``output_padding`` (smaller than s or d) picks one of the s sizes that a strided
    convolution maps to the same i.
    """
    _check(i=i, k=k, s=s, p=p, d=d, output_padding=output_padding)
    if i < 1 or s < 1 or p < 0 or output_padding < 0:
        raise ValueError(
            f"need i >= 1, s >= 1, p >= 0 and output_padding >= 0, got i={i}, s={s}, p={p}, "
            f"output_padding={output_padding}"
        )
    if output_padding >= s and output_padding >= d:
        raise ValueError(
            f"output_padding must be smaller than the stride or the dilation, got "
            f"output_padding={output_padding}, s={s}, d={d}"
        )
    effective_kernel_size(k, d)  # checks k and d
    o = transposed_length(i, k, s, p, d, output_padding)
    if o < 1:
        raise ValueError(
            f"the output would have size {o}: padding p={p} crops everything"
        )
    return o


def pool_output_size(
    i: int,
    k: int,
    s: int | None = None,
    p: int = 0,
    d: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output size of max or average pooling (``s`` defaults to ``k``, as in PyTorch).

    The convolution formula; with ``ceil_mode`` the division rounds up, except that
    a last window starting beyond the input and its left padding is dropped.
    """
    s = k if s is None else s
    _check(i=i, k=k, s=s, p=p, d=d)
    if s < 1 or p < 0:
        raise ValueError(f"stride must be >= 1 and padding >= 0, got s={s}, p={p}")
    span = effective_kernel_size(k, d)
    if p > k // 2:
        raise ValueError(
            f"padding must be at most half the kernel size ({k}), got p={p}"
        )
    o = pool_window_count(i, k, s, p, d, ceil_mode)
    if o < 1:
        raise ValueError(
            f"the kernel spans {span} positions but the padded input has {i + 2 * p}: "
            "no window fits"
        )
    return o


class ReceptiveField(NamedTuple):
    """Receptive field of the last layer of a stack, in input positions.

    ``size``: how many input positions one output depends on; ``jump``: how far apart
    (in input positions) neighbouring outputs are, the product of the strides.
    """

    size: int
    jump: int


def receptive_field(layers) -> ReceptiveField:
    """Receptive field of a stack of layers, each a (k, s, d) triple or a (k, s) pair.

    Each layer widens the field by ``d(k - 1)`` steps of the current jump, then
    multiplies the jump by its stride: ``r += d(k - 1) * jump; jump *= s``.
    Padding does not change the size of the field, only where it sits.
    """
    size, jump = 1, 1
    for index, layer in enumerate(layers):
        layer = tuple(layer)
        if len(layer) not in (2, 3):
            raise ValueError(
                f"layer {index} should be (k, s) or (k, s, d), got {layer!r}"
            )
        k, s, d = layer if len(layer) == 3 else layer + (1,)
        _check(k=k, s=s, d=d)
        if k < 1 or s < 1 or d < 1:
            raise ValueError(
                f"layer {index}: k, s and d must be at least 1, got {layer!r}"
            )
        size += d * (k - 1) * jump
        jump *= s
    return ReceptiveField(size, jump)
