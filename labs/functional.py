"""Layers as functions, with ``torch.nn.functional``'s names, signatures and semantics.

Read it as ``import labs.functional as F``. Every function here checks its arguments
the way PyTorch does (same exception type, a message that states the rule and echoes
the sizes), then calls a :class:`~labs.autograd.Function` whose ``forward`` and
``backward`` call the numpy kernels in :mod:`labs.kernels`.

Layouts are PyTorch's: inputs ``(N, C, L)`` or ``(N, C, H, W)`` (the batch dimension may
be left out), convolution weights ``(C_out, C_in / groups, *kernel)``, transposed
convolution weights ``(C_in, C_out / groups, *kernel)``.

Output sizes, per spatial dimension (derived in chapters 3 and 4)::

    conv:            o = floor((i + 2p - d(k - 1) - 1) / s) + 1
    conv_transpose:  o = (i - 1)s - 2p + d(k - 1) + output_padding + 1
    pooling:         the conv formula, with ceil instead of floor if ceil_mode=True
"""

from __future__ import annotations

import numbers

import numpy as np

from labs import kernels
from labs.autograd import Function
from labs.ops import (
    log_softmax,
    relu,
    sigmoid,
    softmax,
    squeeze,
    tanh,
    unsqueeze,
)
from labs.shapes import pool_window_count, transposed_length
from labs.tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "pad",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "linear",
    "relu",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "nll_loss",
    "cross_entropy",
    "mse_loss",
]


# --------------------------------------------------------------------------------------
# Argument checking shared by the layers
# --------------------------------------------------------------------------------------


def _sizes(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _require_tensor(value, name: str, function: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{function}(): argument '{name}' must be a labs.Tensor, not {type(value).__name__}"
        )
    return value


def _int_tuple(value, nd: int, name: str, function: str) -> tuple:
    """An int or a sequence of ``nd`` ints, as a tuple of ``nd`` ints."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items
    ):
        raise TypeError(
            f"{function}(): argument '{name}' must be an int or a tuple of {nd} ints, "
            f"but got {value!r}"
        )
    if len(items) == 1:
        items = items * nd
    if len(items) != nd:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {nd} values to match "
            f"the convolution dimensions, but got {name}={list(items)}"
        )
    return tuple(int(v) for v in items)


def _batched(input: Tensor, nd: int, function: str):
    """Add the batch dimension to an unbatched input; return (input, whether it was added)."""
    if input.ndim == nd + 1:
        return unsqueeze(input, 0), True
    if input.ndim == nd + 2:
        return input, False
    raise RuntimeError(
        f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {function}, "
        f"but got input of size: {_sizes(input.shape)}"
    )


def _check_same_dtype(function: str, **tensors) -> None:
    dtypes = {name: t.dtype for name, t in tensors.items() if t is not None}
    if len(set(dtypes.values())) > 1:
        described = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise RuntimeError(
            f"{function}() expected all tensors to have the same dtype, got {described}"
        )
    if any(d.kind != "f" for d in dtypes.values()):
        raise RuntimeError(f"{function}() needs floating-point tensors, got {dtypes}")


# --------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------


class ConvNd(Function):
    """Convolution (cross-correlation) in any number of spatial dimensions."""

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, dilation, groups):
        cols, _ = kernels.columns(
            input, weight.shape[2:], stride, dilation, padding, groups
        )
        # The weight's gradient needs the same columns: keep them instead of redoing them.
        ctx.save_for_backward(input, weight, cols if ctx.needs_input_grad[1] else None)
        ctx.config = stride, padding, dilation, groups
        output = kernels.conv_forward(
            input, weight, stride, padding, dilation, groups, cols
        )
        if bias is not None:
            output += bias.reshape((1, -1) + (1,) * (output.ndim - 2))
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, cols = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.config
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_input = grad_weight = grad_bias = None
        # For speed only: the weight's gradient, and the input's where no column
        # needs zero margins, multiply a copy of grad_output in the columns'
        # order; make it once.
        grouped = None
        if needs_input and needs_weight:
            grouped = kernels.grouped_grad_output(grad_output, groups)
        if needs_input:
            grad_input = kernels.conv_input_grad(
                input.shape,
                weight,
                grad_output,
                stride,
                padding,
                dilation,
                groups,
                grouped,
            )
        if needs_weight:
            grad_weight = kernels.conv_weight_grad(
                input,
                weight.shape,
                grad_output,
                stride,
                padding,
                dilation,
                groups,
                cols,
                grouped,
            )
        if needs_bias:  # summed over the batch and every position
            positions = tuple(range(2, grad_output.ndim))
            grad_bias = grad_output.sum(axis=(0,) + positions)
        return grad_input, grad_weight, grad_bias, None, None, None, None


class ConvTransposeNd(Function):
    """Transposed convolution: the gradient of a convolution with respect to its input.

    Forward scatters each input value, scaled by the kernel, into the output (the
    convolution's input-gradient kernel); backward runs the ordinary convolution.
    """

    @staticmethod
    def forward(
        ctx, input, weight, bias, stride, padding, dilation, groups, output_size
    ):
        ctx.save_for_backward(input, weight)
        ctx.config = stride, padding, dilation, groups
        n = input.shape[0]
        c_out = weight.shape[1] * groups
        output = kernels.conv_input_grad(
            (n, c_out) + output_size, weight, input, stride, padding, dilation, groups
        )
        if bias is not None:
            output += bias.reshape((1, -1) + (1,) * (output.ndim - 2))
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.config
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_input = grad_weight = grad_bias = None
        # Both gradients read the same windows of grad_output: make the columns once.
        # Only the first windows count: with output_padding >= stride (allowed when
        # dilation is larger) the convolution would yield extra positions that no
        # input value reached.
        if needs_input or needs_weight:
            cols, _ = kernels.columns(
                grad_output,
                weight.shape[2:],
                stride,
                dilation,
                padding,
                groups,
                tuple(input.shape[2:]),
            )
        if needs_input:
            grad_input = kernels.conv_forward(
                grad_output,
                weight,
                stride,
                padding,
                dilation,
                groups,
                cols,
                input.shape[2:],
            )
        if needs_weight:
            grad_weight = kernels.conv_weight_grad(
                grad_output,
                weight.shape,
                input,
                stride,
                padding,
                dilation,
                groups,
                cols,
            )
        if needs_bias:
            grad_bias = grad_output.sum(axis=(0,) + tuple(range(2, grad_output.ndim)))
        return grad_input, grad_weight, grad_bias, None, None, None, None, None


def _check_conv_args(
    function, nd, input, weight, bias, stride, dilation, groups, transposed
):
    """The checks PyTorch makes before any convolution; returns normalized stride, dilation."""
    _require_tensor(input, "input", function)
    _require_tensor(weight, "weight", function)
    if bias is not None:
        _require_tensor(bias, "bias", function)
    stride = _int_tuple(stride, nd, "stride", function)
    dilation = _int_tuple(dilation, nd, "dilation", function)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool):
        raise TypeError(
            f"{function}(): argument 'groups' must be int, not {type(groups).__name__}"
        )
    if any(s <= 0 for s in stride):
        raise RuntimeError(
            f"non-positive stride is not supported, but got stride={list(stride)}"
        )
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got {list(dilation)}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"non-positive groups is not supported, but got groups={groups}"
        )
    layout = (
        "(in_channels, out_channels/groups"
        if transposed
        else "(out_channels, in_channels/groups"
    )
    kernel_names = ", kL" if nd == 1 else ", kH, kW"
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{function}() expected a {nd + 2}-dimensional weight {layout}{kernel_names}), "
            f"but got weight of size {_sizes(weight.shape)}"
        )
    kernel = weight.shape[2:]
    if any(k <= 0 for k in kernel):
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel size {_sizes(kernel)}"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size {_sizes(weight.shape)} instead"
        )
    expected_channels = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != expected_channels:
        prefix = (
            "Given transposed=1, weight"
            if transposed
            else f"Given groups={groups}, weight"
        )
        raise RuntimeError(
            f"{prefix} of size {_sizes(weight.shape)}, expected input{_sizes(input.shape)} to "
            f"have {expected_channels} channels, but got {input.shape[1]} channels instead"
        )
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(
            f"Given weight of size {_sizes(weight.shape)}, expected bias to be 1-dimensional "
            f"with {out_channels} elements, but got bias of size {_sizes(bias.shape)} instead"
        )
    _check_same_dtype(function, input=input, weight=weight, bias=bias)
    return stride, dilation


def _conv_padding(padding, nd, kernel, stride, dilation, function):
    """PyTorch's ``padding`` (int, tuple, 'valid' or 'same') as (before, after) pairs."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError(
                "padding='same' is not supported for strided convolutions"
            )
        # Total padding d(k - 1) keeps the size; any odd leftover goes after, as in PyTorch.
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _int_tuple(padding, nd, "padding", function)
    if any(p < 0 for p in pads):
        raise RuntimeError(
            f"negative padding is not supported, but got padding={list(pads)}"
        )
    return tuple((p, p) for p in pads)


def _conv(function, nd, input, weight, bias, stride, padding, dilation, groups):
    _require_tensor(input, "input", function)
    input, unbatched = _batched(input, nd, function)
    stride, dilation = _check_conv_args(
        function, nd, input, weight, bias, stride, dilation, groups, transposed=False
    )
    kernel = weight.shape[2:]
    pads = _conv_padding(padding, nd, kernel, stride, dilation, function)
    padded = [i + b + a for i, (b, a) in zip(input.shape[2:], pads)]
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(e > p for e, p in zip(effective, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, effective))}). "
            "Kernel size can't be greater than actual input size"
        )
    output = ConvNd.apply(input, weight, bias, stride, pads, dilation, groups)
    return squeeze(output, 0) if unbatched else output


def conv1d(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1
) -> Tensor:
    """1-D convolution (cross-correlation), as ``torch.nn.functional.conv1d``.

    Args:
        input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``.
        weight: ``(C_out, C_in / groups, k)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: an int or a 1-tuple; ``padding`` may also be
            ``'valid'`` (none) or ``'same'`` (keep the length; stride 1 only).
        groups: split the channels into this many independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = floor((L_in + 2p - d(k - 1) - 1) / s) + 1``.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1
) -> Tensor:
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation: an int or an (h, w) pair; ``padding`` may also be
            ``'valid'`` or ``'same'`` (stride 1 only; an odd total goes after).
        groups: split the channels into this many independent convolutions.

    Returns:
        ``(N, C_out, H_out, W_out)``, each size ``floor((i + 2p - d(k - 1) - 1) / s) + 1``.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    function, nd, input, weight, bias, stride, padding, output_padding, groups, dilation
):
    _require_tensor(input, "input", function)
    input, unbatched = _batched(input, nd, function)
    stride, dilation = _check_conv_args(
        function, nd, input, weight, bias, stride, dilation, groups, transposed=True
    )
    if isinstance(padding, str):
        raise TypeError(
            f"{function}(): argument 'padding' must be tuple of ints, not str "
            "(transposed convolutions have no 'same' or 'valid' padding)"
        )
    pads = _int_tuple(padding, nd, "padding", function)
    if any(p < 0 for p in pads):
        raise RuntimeError(
            f"negative padding is not supported, but got padding={list(pads)}"
        )
    extra = _int_tuple(output_padding, nd, "output_padding", function)
    if any(e < 0 for e in extra):
        raise RuntimeError(
            f"negative output_padding is not supported, but got output_padding={list(extra)}"
        )
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding={list(extra)}, stride={list(stride)}, dilation={list(dilation)}"
        )
    kernel = weight.shape[2:]
    size = tuple(
        transposed_length(i, k, s, p, d, e)
        for i, k, s, p, d, e in zip(
            input.shape[2:], kernel, stride, pads, dilation, extra
        )
    )
    if any(o <= 0 for o in size):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))}). "
            f"Calculated output size per channel: ({' x '.join(map(str, size))}). "
            "Output size is too small"
        )
    pairs = tuple((p, p) for p in pads)
    output = ConvTransposeNd.apply(
        input, weight, bias, stride, pairs, dilation, groups, size
    )
    return squeeze(output, 0) if unbatched else output


def conv_transpose1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    Note PyTorch's argument order: ``output_padding, groups, dilation``.

    Args:
        input: ``(N, C_in, L_in)`` or ``(C_in, L_in)``.
        weight: ``(C_in, C_out / groups, k)`` (in and out swapped compared with conv1d).
        bias: ``(C_out,)`` or None.
        padding: removed from both ends of the output.
        output_padding: extra length added at the end of the output, smaller than
            the stride or the dilation; it selects one of the input sizes that a
            strided convolution maps to the same output size.

    Returns:
        ``(N, C_out, L_out)`` with ``L_out = (L_in - 1)s - 2p + d(k - 1) + output_padding + 1``.
    """
    return _conv_transpose(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    Note PyTorch's argument order: ``output_padding, groups, dilation``.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: an int or an (h, w) pair.

    Returns:
        ``(N, C_out, H_out, W_out)``, each size ``(i - 1)s - 2p + d(k - 1) + output_padding + 1``.
    """
    return _conv_transpose(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


# --------------------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------------------


class Pad(Function):
    @staticmethod
    def forward(ctx, x, padding, mode, value):
        ctx.shape, ctx.padding, ctx.mode = x.shape, padding, mode
        return kernels.pad_forward(x, padding, mode, value)

    @staticmethod
    def backward(ctx, grad_output):
        grad = kernels.pad_backward(grad_output, ctx.shape, ctx.padding, ctx.mode)
        return grad, None, None, None


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None) -> Tensor:
    """Pad the last dimensions of ``input``, as ``torch.nn.functional.pad``.

    ``pad`` lists (before, after) amounts starting from the *last* dimension:
    ``(left, right)`` pads the last one, ``(left, right, top, bottom)`` the last two.
    Negative amounts crop. Modes:

    * ``'constant'``: fill with ``value`` (default 0); any dimensions;
    * ``'reflect'``: mirror without repeating the edge; each amount < the size;
    * ``'replicate'``: repeat the edge value;
    * ``'circular'``: wrap around; each amount <= the size.

    The last three pad 1, 2 or 3 trailing dimensions of an input with one or two
    more dimensions than that (a channel dimension, and optionally a batch one).
    """
    _require_tensor(input, "input", "pad")
    amounts = tuple(pad)
    if not all(
        isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in amounts
    ):
        raise TypeError(
            f"pad(): argument 'pad' must be a tuple of ints, but got {pad!r}"
        )
    if len(amounts) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    padded_dims = len(amounts) // 2
    if padded_dims > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(amounts)} and input of dimension {input.ndim}"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(
            f"Unrecognised padding mode {mode}; expected one of {', '.join(_PAD_MODES)}"
        )
    # Pairs per dimension, first dimension first (the argument lists the last one first).
    pairs = [(0, 0)] * (input.ndim - padded_dims) + [
        (amounts[2 * j], amounts[2 * j + 1]) for j in reversed(range(padded_dims))
    ]
    if mode == "constant":
        for axis, (before, after) in enumerate(pairs):
            if input.shape[axis] + before + after < 0:
                raise RuntimeError(
                    f"pad(): cropping {-before} and {-after} from dimension {axis} of input "
                    f"{_sizes(input.shape)} leaves a negative size"
                )
        fill = 0.0 if value is None else value
        return Pad.apply(input, tuple(pairs), mode, fill)
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if input.ndim not in (padded_dims + 1, padded_dims + 2) or padded_dims > 3:
        raise NotImplementedError(
            f"Padding size {len(amounts)} is not supported for {input.ndim}D input tensor. "
            f"Non-constant padding of {padded_dims} dimension(s) needs a "
            f"{padded_dims + 1}D or {padded_dims + 2}D input (at most 3 padded dimensions)"
        )
    for axis in range(input.ndim - padded_dims, input.ndim):
        size = input.shape[axis]
        before, after = pairs[axis]
        if size == 0:
            raise RuntimeError(
                f"pad(): mode '{mode}' needs non-empty padded dimensions, but dimension {axis} "
                f"of input {_sizes(input.shape)} is empty"
            )
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                "Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({before}, {after}) at dimension {axis} of input {_sizes(input.shape)}"
            )
        kept = size - max(-before, 0) - max(-after, 0)
        if mode == "circular" and (before > kept or after > kept):
            raise RuntimeError(
                "Padding value causes wrapping around more than once: padding "
                f"({before}, {after}) at dimension {axis} of input {_sizes(input.shape)} "
                f"wraps around {kept} remaining positions"
            )
        if size + before + after < 0:
            raise RuntimeError(
                f"pad(): padding ({before}, {after}) leaves a negative size at dimension {axis}"
            )
    return Pad.apply(input, tuple(pairs), mode, None)


# --------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------


class MaxPoolNd(Function):
    @staticmethod
    def forward(ctx, input, kernel, stride, padding, dilation, out, return_indices):
        values, argmax = kernels.max_pool_forward(
            input, kernel, stride, padding, dilation, out
        )
        ctx.argmax, ctx.shape = argmax, input.shape
        ctx.config = kernel, stride, padding, dilation
        if not return_indices:
            return values
        # Flat index into the input's spatial dimensions, as return_indices gives it.
        position = np.unravel_index(argmax, kernel)
        flat = np.zeros(argmax.shape, dtype=np.int64)
        for axis, (s, p, d) in enumerate(zip(stride, padding, dilation)):
            start = (np.arange(out[axis]) * s - p).reshape(
                (-1,) + (1,) * (len(out) - axis - 1)
            )
            flat = flat * input.shape[2 + axis] + start + position[axis] * d
        ctx.mark_non_differentiable(flat)
        return values, flat

    @staticmethod
    def backward(ctx, grad_output, *grad_indices):
        kernel, stride, padding, dilation = ctx.config
        grad = kernels.max_pool_backward(
            grad_output, ctx.argmax, ctx.shape, kernel, stride, padding, dilation
        )
        return grad, None, None, None, None, None, None


class AvgPoolNd(Function):
    @staticmethod
    def forward(
        ctx, input, kernel, stride, padding, out, count_include_pad, divisor_override
    ):
        ctx.shape = input.shape
        ctx.config = kernel, stride, padding, count_include_pad, divisor_override
        return kernels.avg_pool_forward(
            input, kernel, stride, padding, out, count_include_pad, divisor_override
        )

    @staticmethod
    def backward(ctx, grad_output):
        kernel, stride, padding, count_include_pad, divisor_override = ctx.config
        grad = kernels.avg_pool_backward(
            grad_output,
            ctx.shape,
            kernel,
            stride,
            padding,
            count_include_pad,
            divisor_override,
        )
        return grad, None, None, None, None, None, None


def _pool_args(function, nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check pooling arguments as PyTorch does; return normalized values and output size."""
    _require_tensor(input, "input", function)
    if (
        input.ndim not in (nd + 1, nd + 2)
        or input.numel() == 0
        and input.ndim == nd + 1
    ):
        raise RuntimeError(
            f"{function}() expected a {nd + 1}D (unbatched) or {nd + 2}D (batched) input, "
            f"but got input of size: {_sizes(input.shape)}"
        )
    # PyTorch max-pools integers too (the result has no gradient); labs averages only
    # floating-point numbers (PyTorch averages int64 with its own rounding)
    kinds = "fiu" if function.startswith("max") else "f"
    if input.dtype.kind not in kinds:
        what = "a floating-point or integer" if kinds == "fiu" else "a floating-point"
        raise RuntimeError(f"{function}() needs {what} input, got {input.dtype}")
    kernel = _int_tuple(kernel_size, nd, "kernel_size", function)
    stride = (
        kernel
        if stride is None or stride == ()
        else _int_tuple(stride, nd, "stride", function)
    )
    padding = _int_tuple(padding, nd, "padding", function)
    dilation = _int_tuple(dilation, nd, "dilation", function)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(
            f"{function}() kernel_size must be greater than zero, but got {list(kernel)}"
        )
    if any(s <= 0 for s in stride):
        raise RuntimeError(
            f"{function}() stride must be greater than zero, but got {list(stride)}"
        )
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"{function}() dilation must be greater than zero, but got {list(dilation)}"
        )
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {list(padding)}")
    for k, p in zip(kernel, padding):
        if p > k // 2:  # PyTorch's rule uses the kernel size, even when dilated
            raise RuntimeError(
                f"pad should be at most half of kernel size, but got pad={p} and kernel_size={k}"
            )
    sizes = input.shape[-nd:]
    out = [
        pool_window_count(i, k, s, p, d, ceil_mode)
        for i, k, s, p, d in zip(sizes, kernel, stride, padding, dilation)
    ]
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, input.shape[-nd - 1 :]))}). Calculated "
            f"output size: ({'x'.join(map(str, (input.shape[-nd - 1],) + tuple(out)))}). "
            "Output size is too small"
        )
    return kernel, stride, padding, dilation, tuple(out)


def _max_pool(
    function,
    nd,
    input,
    kernel_size,
    stride,
    padding,
    dilation,
    ceil_mode,
    return_indices,
):
    kernel, stride, padding, dilation, out = _pool_args(
        function, nd, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    batched, unbatched = _batched(input, nd, function)
    # the indices are computed (and returned by the Function) only when asked for
    outputs = MaxPoolNd.apply(
        batched, kernel, stride, padding, dilation, out, return_indices
    )
    outputs = outputs if return_indices else (outputs,)
    if unbatched:
        outputs = tuple(squeeze(output, 0) for output in outputs)
    return outputs if return_indices else outputs[0]


def max_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Input ``(N, C, L)`` or ``(C, L)``; ``stride`` defaults to ``kernel_size``; padding
    (at most half the dilated kernel) never wins the max. The gradient flows only to
    the position of each window's maximum.
    """
    return _max_pool(
        "max_pool1d",
        1,
        input,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        return_indices,
    )


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Input ``(N, C, H, W)`` or ``(C, H, W)``; each output size is
    ``floor((i + 2p - d(k - 1) - 1) / s) + 1`` (ceil with ``ceil_mode=True``).
    With ``return_indices=True`` also returns each maximum's flat index in ``H * W``.
    """
    return _max_pool(
        "max_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        dilation,
        ceil_mode,
        return_indices,
    )


def _avg_pool(
    function,
    nd,
    input,
    kernel_size,
    stride,
    padding,
    ceil_mode,
    count_include_pad,
    divisor_override,
):
    kernel, stride, padding, _, out = _pool_args(
        function, nd, input, kernel_size, stride, padding, 1, ceil_mode
    )
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    batched, unbatched = _batched(input, nd, function)
    output = AvgPoolNd.apply(
        batched, kernel, stride, padding, out, bool(count_include_pad), divisor_override
    )
    return squeeze(output, 0) if unbatched else output


def avg_pool1d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
) -> Tensor:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``.

    With ``count_include_pad=True`` (the default) padded zeros count in each mean.
    """
    return _avg_pool(
        "avg_pool1d",
        1,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        None,
    )


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Each output is the window's sum divided by the window size (padding included
    or not, per ``count_include_pad``), or by ``divisor_override`` if given.
    """
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


# --------------------------------------------------------------------------------------
# Linear layers and losses
# --------------------------------------------------------------------------------------


class Linear(Function):
    """``input @ weight.T + bias`` as one node of the graph, as PyTorch records it.

    The arithmetic is that of ``input @ weight.t() + bias``, which would record three
    nodes; on small batches each node's bookkeeping costs more than its arithmetic.
    Performance only: :func:`linear` uses it when the operands are plain (see there).
    """

    supports_double_backward = True

    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight)
        output = np.matmul(input, weight.T)
        if bias is not None:
            output += bias
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        n_out, n_in = weight.shape
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output @ weight
        rows = grad_output.reshape(-1, n_out)  # every leading dimension is a row
        if ctx.needs_input_grad[1]:
            grad_weight = rows.swapaxes(0, 1) @ input.reshape(-1, n_in)
        if ctx.needs_input_grad[2]:
            grad_bias = rows.sum(0)
        return grad_input, grad_weight, grad_bias


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias``, as ``torch.nn.functional.linear``.

    ``input`` is ``(*, in_features)``, ``weight`` ``(out_features, in_features)``, ``bias``
    ``(out_features,)``.
    """
    plain = (
        isinstance(input, Tensor)
        and isinstance(weight, Tensor)
        and input.ndim >= 1
        and weight.ndim == 2
        and input.shape[-1] == weight.shape[1]
        and input.dtype == weight.dtype
        and input.dtype.kind == "f"
        and (
            bias is None
            or isinstance(bias, Tensor)
            and bias.shape == weight.shape[:1]
            and bias.dtype == weight.dtype
        )
    )
    if plain:  # one node; anything else gets the composed version's checks and errors
        return Linear.apply(input, weight, bias)
    output = input @ weight.t()
    return output if bias is None else output + bias


class NLLLoss(Function):
    """Negative log-likelihood of the target classes, given log-probabilities along dim 1."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        valid = target != ignore_index
        safe = np.where(valid, target, 0)
        picked = np.take_along_axis(logp, np.expand_dims(safe, 1), axis=1).squeeze(1)
        w = np.ones(logp.shape[1], logp.dtype) if weight is None else weight
        scale = np.where(valid, w[safe], 0).astype(logp.dtype)
        losses = -picked * scale
        ctx.saved = logp.shape, safe, scale, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        ctx.total = scale.sum()
        return losses.sum() / ctx.total

    @staticmethod
    def backward(ctx, grad_output):
        shape, safe, scale, reduction = ctx.saved
        g = -scale * grad_output
        if reduction == "mean":
            g = g / ctx.total
        grad = np.zeros(shape, dtype=scale.dtype)
        np.put_along_axis(grad, np.expand_dims(safe, 1), np.expand_dims(g, 1), axis=1)
        return grad, None, None, None, None


def nll_loss(
    input, target, weight=None, *, ignore_index=-100, reduction="mean"
) -> Tensor:
    """Negative log-likelihood loss, as ``torch.nn.functional.nll_loss``.

    ``input``: log-probabilities ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``;
    ``target``: class indices ``(N,)``, ``(N, d1, ...)`` or ``()``, an integer tensor.
    """
    _require_tensor(input, "input", "nll_loss")
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.dtype.kind not in "iu":
        raise RuntimeError(
            "nll_loss expects class indices as an integer tensor for target, "
            f"but got dtype {target_array.dtype}"
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = input.ndim == 1
    if unbatched:
        input, target_array = unsqueeze(input, 0), target_array.reshape(1)
    if input.ndim < 2 or target_array.shape != (input.shape[0],) + input.shape[2:]:
        raise ValueError(
            f"Expected target of size {_sizes((input.shape[0],) + input.shape[2:])} for input "
            f"of size {_sizes(input.shape)}, got target of size {_sizes(target_array.shape)}"
        )
    classes = input.shape[1]
    valid = target_array != ignore_index
    if np.any((target_array[valid] < 0) | (target_array[valid] >= classes)):
        raise IndexError(f"Target {target_array[valid].max()} is out of bounds.")
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {classes} classes or no "
                f"classes but got weight tensor of shape: {_sizes(w.shape)}"
            )
        w = w.astype(input.dtype)
    loss = NLLLoss.apply(
        input, target_array.astype(np.int64), w, ignore_index, reduction
    )
    return squeeze(loss, 0) if unbatched and reduction == "none" else loss


def cross_entropy(
    input,
    target,
    weight=None,
    *,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
) -> Tensor:
    """Cross-entropy of logits against a target (``torch.nn.functional.cross_entropy``).

    ``target`` holds either class indices (an integer tensor of shape ``(N, d1, ...)``):
    then it is ``nll_loss(log_softmax(input, 1), target)``; or class probabilities (a
    float tensor of the same shape as ``input``): then it is
    ``-sum_c weight[c] target[:, c] log_softmax(input)[:, c]``, averaged over the
    ``N x d1 x ...`` positions. ``label_smoothing`` mixes the target with the uniform
    distribution over the classes, as in PyTorch.
    """
    _require_tensor(input, "input", "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, dim)
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    classes = input.shape[dim]
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        w = w.astype(input.dtype).reshape((classes,) + (1,) * (input.ndim - dim - 1))
    if target_array.dtype.kind == "f":
        if target_array.shape != input.shape:
            raise RuntimeError(
                f"Expected target size {_sizes(input.shape)}, got {_sizes(target_array.shape)}"
            )
        target = target if isinstance(target, Tensor) else Tensor(target_array)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        weighted = logp * target if w is None else logp * target * w
        losses = -weighted.sum(dim)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        if reduction == "mean":
            return losses.sum() / max(losses.numel(), 1)
        raise ValueError(f"{reduction} is not a valid value for reduction")
    loss = nll_loss(
        logp, target, weight, ignore_index=ignore_index, reduction=reduction
    )
    if not label_smoothing:
        return loss
    # the smoothing term: the mean over classes of -log p, weighted, on non-ignored rows
    ignored = target_array == ignore_index
    weighted = logp if w is None else logp * w
    smooth = -weighted.sum(dim) * Tensor(np.where(ignored, 0, 1).astype(input.dtype))
    if reduction == "none":
        smooth_loss = smooth
    elif reduction == "sum":
        smooth_loss = smooth.sum()
    elif w is None:
        smooth_loss = smooth.sum() / max(int((~ignored).sum()), 1)
    else:
        picked = np.where(
            ignored, 0, np.take(w.reshape(-1), np.where(ignored, 0, target_array))
        )
        smooth_loss = smooth.sum() / float(picked.sum())
    return loss * (1 - label_smoothing) + smooth_loss * (label_smoothing / classes)


def mse_loss(input, target, *, reduction="mean") -> Tensor:
    """Mean squared error, as ``torch.nn.functional.mse_loss``."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    squared = (input - target) ** 2
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()
