"""The basic differentiable operations, one small :class:`~labs.autograd.Function` each.

Every op keeps its ``backward`` right under its ``forward`` (chapter 7). The lower-case
functions at the bottom of each section are the public entry points: they convert
arguments, apply PyTorch's type promotion, and call ``.apply``.

Broadcasting: when an input was broadcast in ``forward``, its gradient must be summed
over the broadcast axes so that it has the input's shape again. :func:`sum_to` does that.
"""

from __future__ import annotations

import builtins
import collections
import math
import numbers

import numpy as np

from labs.autograd import Function, sum_to
from labs.tensor import Tensor

__all__ = [
    "sum_to",
    "add",
    "sub",
    "rsub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "sin",
    "cos",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "clamp",
    "clip",
    "matmul",
    "mm",
    "sum",
    "mean",
    "max",
    "min",
    "argmax",
    "reshape",
    "flatten",
    "unsqueeze",
    "squeeze",
    "expand",
    "transpose",
    "permute",
    "index",
    "cat",
    "stack",
    "log_softmax",
    "softmax",
    "to_dtype",
    "maximum",
    "minimum",
    "where",
    "clone",
]


def _value(x):
    """The numpy array behind ``x`` (an array already, or a tensor in double backward)."""
    return x.data if isinstance(x, Tensor) else x


# --------------------------------------------------------------------------------------
# Type promotion (PyTorch's rules, which differ from numpy's for int + float)
# --------------------------------------------------------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_DEFAULT_FOR_CATEGORY = {
    0: np.dtype(np.bool_),
    1: np.dtype(np.int64),
    2: np.dtype(np.float32),
}


def _result_dtype(*values) -> np.dtype:
    """The dtype PyTorch gives the result of an elementwise op on ``values``.

    Tensors with dimensions win over zero-dimensional tensors, which win over Python
    numbers, unless a lower tier holds a higher category (bool < int < float):
    ``float32 tensor * 2.5`` stays float32, ``int64 tensor * 2.5`` becomes float32.
    """
    tiers = ([], [], [])
    for v in values:
        if isinstance(v, Tensor):
            tiers[0 if v.ndim else 1].append(v.dtype)
        elif isinstance(v, (bool, np.bool_)):
            tiers[2].append(np.dtype(np.bool_))
        elif isinstance(v, numbers.Integral):
            tiers[2].append(np.dtype(np.int64))
        else:
            tiers[2].append(np.dtype(np.float32))
    result, category = None, -1
    for rank, dtypes in enumerate(tiers):
        if not dtypes:
            continue
        top = builtins.max(_CATEGORY[d.kind] for d in dtypes)
        if top > category:
            same = [d for d in dtypes if _CATEGORY[d.kind] == top]
            result = _DEFAULT_FOR_CATEGORY[top] if rank == 2 else np.result_type(*same)
            category = top
    return result


def _operand(value):
    """A Tensor stays a Tensor; an array becomes one; a number becomes a Python number."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Number):
        return value
    raise TypeError(f"unsupported operand type for a labs op: {type(value).__name__}")


def _cast(value, dtype):
    if isinstance(value, Tensor) and value.dtype != dtype:
        return to_dtype(value, dtype)
    return value


def _binary(function, a, b, float_result=False):
    a, b = _operand(a), _operand(b)
    dtype = _result_dtype(a, b)
    if float_result and dtype.kind != "f":
        dtype = np.dtype(np.float32)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(
            np.asarray(a, dtype)
        )  # two numbers: a 0-d tensor of the default dtype
    return function.apply(_cast(a, dtype), _cast(b, dtype))


def _tensor_argument(value, name: str, function: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{function}(): argument '{name}' must be Tensor, not "
            f"{type(value).__name__}"
        )
    return value


# --------------------------------------------------------------------------------------
# Elementwise arithmetic
# --------------------------------------------------------------------------------------


class ToDtype(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        if isinstance(grad_output, Tensor):
            return grad_output.to(ctx.input_dtype), None
        return grad_output.astype(ctx.input_dtype), None


class Clone(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def clone(input: Tensor) -> Tensor:
    """A copy in new memory; the gradient passes through unchanged (``torch.clone``)."""
    return Clone.apply(input)


def to_dtype(input: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    return ToDtype.apply(input, dtype)


class Add(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad_output, shape_a), sum_to(grad_output, shape_b)


class Sub(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad_output, shape_a), sum_to(-grad_output, shape_b)


class Mul(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = sum_to(grad_output * b, np.shape(a))
        if ctx.needs_input_grad[1]:
            grad_b = sum_to(grad_output * a, np.shape(b))
        return grad_a, grad_b


class Div(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = (
            sum_to(grad_output / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        )
        grad_b = (
            sum_to(-grad_output * a / (b * b), np.shape(b))
            if ctx.needs_input_grad[1]
            else None
        )
        return grad_a, grad_b


class Pow(Function):
    """``base ** exponent``; either may be a tensor.

    PyTorch's conventions at the edges: the gradient for the base is 0 where the
    exponent is 0 (even at base 0), and the gradient for the exponent is 0 where the
    base is 0 and the exponent is non-negative.
    """

    supports_double_backward = True  # for a constant exponent (a number)

    @staticmethod
    def forward(ctx, base, exponent):
        result = np.power(base, exponent)
        ctx.save_for_backward(base, exponent, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        base, exponent, result = ctx.saved_tensors
        grad_base = grad_exponent = None
        if ctx.needs_input_grad[0]:
            if isinstance(exponent, numbers.Number):  # also works on tensors
                local = 0 * base if exponent == 0 else exponent * base ** (exponent - 1)
            else:
                base_, exponent_ = _value(base), _value(exponent)
                local = np.where(
                    exponent_ == 0, 0.0, exponent_ * np.power(base_, exponent_ - 1)
                )
            grad_base = sum_to(grad_output * local, np.shape(base))
        if ctx.needs_input_grad[1]:
            base_, result_ = _value(base), _value(result)
            local = np.where(
                (base_ == 0) & (_value(exponent) >= 0), 0.0, result_ * np.log(base_)
            )
            grad_exponent = sum_to(grad_output * local, np.shape(exponent))
        return grad_base, grad_exponent


class Neg(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class RoundedDiv(Function):
    """``a / b`` rounded toward zero ("trunc") or down ("floor"); its gradient is 0."""

    @staticmethod
    def forward(ctx, a, b, rounding_mode):
        ctx.shapes = np.shape(a), np.shape(b)
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            if (b == 0).any():
                raise RuntimeError("ZeroDivisionError")
            if rounding_mode == "floor":
                return np.floor_divide(a, b)
            return (np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(a.dtype)
        if rounding_mode == "floor":
            return np.floor_divide(a, b)
        return np.trunc(a / b)

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        return (
            np.zeros(shape_a, grad_output.dtype),
            np.zeros(shape_b, grad_output.dtype),
            None,
        )


def _scaled(other, alpha):
    """``alpha * other``, for the ``alpha`` argument of add and sub."""
    if alpha == 1:
        return other
    if (
        isinstance(other, Tensor)
        and other.dtype.kind in "iub"
        and isinstance(alpha, float)
    ):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a "
            "floating point number."
        )
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def _no_bool_subtraction(*values) -> None:
    bools = [
        v
        for v in values
        if isinstance(v, (Tensor, bool, np.bool_))
        and (v.dtype == np.bool_ if isinstance(v, Tensor) else True)
    ]
    if len(bools) == 2:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not "
            "supported. Use the `^` or `logical_xor()` operator instead."
        )
    if bools:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not "
            "supported. If you are trying to invert a mask, use the `~` or "
            "`logical_not()` operator instead."
        )


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` (``torch.add``)."""
    return _binary(Add, input, _scaled(_operand(other), alpha))


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` (``torch.sub``)."""
    _no_bool_subtraction(_operand(input), _operand(other))
    return _binary(Sub, input, _scaled(_operand(other), alpha))


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (``torch.rsub``)."""
    return sub(other, _tensor_argument(input, "input", "rsub"), alpha=alpha)


def mul(input, other) -> Tensor:
    return _binary(Mul, input, other)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """Division (``torch.div``).

    Without ``rounding_mode`` it is true division, and integer inputs give a float32
    result, as in PyTorch. ``rounding_mode="trunc"`` rounds toward zero and "floor"
    rounds down; both keep integer dtypes, and their gradient is 0 everywhere.
    """
    if rounding_mode is None:
        return _binary(Div, input, other, float_result=True)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or "
            f"'floor' but found '{rounding_mode}'"
        )
    a, b = _operand(input), _operand(other)
    dtype = _result_dtype(a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(np.asarray(a, dtype))
    return RoundedDiv.apply(
        _cast(a, dtype),
        _cast(b, dtype) if isinstance(b, Tensor) else np.asarray(b, dtype),
        rounding_mode,
    )


def pow(input, exponent) -> Tensor:
    """``input ** exponent``; at least one of them must be a tensor (``torch.pow``)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(
            "pow() received an invalid combination of arguments: got "
            f"({type(input).__name__}, {type(exponent).__name__}), but at "
            "least one of input and exponent must be a Tensor"
        )
    return _binary(Pow, input, exponent)


def neg(input: Tensor) -> Tensor:
    if input.dtype == np.bool_:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. "
            "If you are trying to invert a mask, use the `~` or "
            "`logical_not()` operator instead."
        )
    return Neg.apply(input)


# --------------------------------------------------------------------------------------
# Elementwise functions
# --------------------------------------------------------------------------------------


class Exp(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        result = np.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class Log(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


class Sin(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (cos(x) if isinstance(x, Tensor) else np.cos(x))


class Cos(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * (sin(x) if isinstance(x, Tensor) else np.sin(x))


class Sqrt(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        result = np.sqrt(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output / (2 * result)


class Abs(Function):
    """|x|, with PyTorch's subgradient sign(0) = 0 at the kink (and 0 at NaN)."""

    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * np.nan_to_num(np.sign(_value(x)))


class Tanh(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        result = np.tanh(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * (1 - result * result)


class Sigmoid(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        # exp(-|x|) never overflows, so both branches are safe for large |x|.
        e = np.exp(-np.abs(x))
        result = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result * (1 - result)


class ReLU(Function):
    """max(x, 0); the gradient at exactly 0 is 0 (and 1 at NaN), as in PyTorch."""

    supports_double_backward = True

    @staticmethod
    def forward(ctx, x):
        result = np.maximum(x, 0)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * ~(_value(result) <= 0)


class Clamp(Function):
    """Clip to [min, max], either of which may be a tensor: ``min(max(x, min), max)``.

    The gradient goes to whichever of ``x``, ``min`` and ``max`` gives the result, ``x``
    keeping it at the ends of the interval, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x, low, high)
        result = x if low is None else np.maximum(x, low)
        return result if high is None else np.minimum(result, high)

    @staticmethod
    def backward(ctx, grad_output):
        x, low, high = ctx.saved_tensors
        # PyTorch's masks (comparisons with NaN are False, so NaN sends nothing anywhere)
        to_low = to_high = None
        if low is None:
            to_x, to_high = x <= high, x > high
        elif high is None:
            to_x, to_low = x >= low, x < low
        else:
            to_x = (x >= low) & (x <= high)
            to_low = (x < low) & (low < high)
            to_high = (x > high) | (high < low)
        grads = [grad_output * to_x]
        for bound, mask, index in ((low, to_low, 1), (high, to_high, 2)):
            wanted = bound is not None and ctx.needs_input_grad[index]
            grads.append(
                sum_to(grad_output * mask, np.shape(bound)) if wanted else None
            )
        return tuple(grads)


class Maximum(Function):
    """Elementwise maximum; on ties the gradient is split evenly, as in PyTorch.

    Where either side is NaN, both receive the whole gradient (PyTorch's convention).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return _binary_extremum_grads(grad_output, a, b, a < b, a > b)


class Minimum(Function):
    """Elementwise minimum, with the conventions of :class:`Maximum`."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return _binary_extremum_grads(grad_output, a, b, a > b, a < b)


def _binary_extremum_grads(grad_output, a, b, a_loses, b_loses):
    """Gradients of a binary max or min: half each on ties, none to the side that lost."""
    shared = np.where(a == b, grad_output / 2, grad_output)
    zero = np.zeros((), grad_output.dtype)
    return (
        sum_to(np.where(a_loses, zero, shared), np.shape(a)),
        sum_to(np.where(b_loses, zero, shared), np.shape(b)),
    )


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = np.shape(a), np.shape(b)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        zero = np.zeros((), grad_output.dtype)
        return (
            None,
            sum_to(np.where(ctx.condition, grad_output, zero), shape_a),
            sum_to(np.where(ctx.condition, zero, grad_output), shape_b),
        )


def exp(input: Tensor) -> Tensor:
    return Exp.apply(input)


def log(input: Tensor) -> Tensor:
    return Log.apply(input)


def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


def sqrt(input: Tensor) -> Tensor:
    return Sqrt.apply(input)


def abs(input: Tensor) -> Tensor:
    return Abs.apply(input)


def tanh(input: Tensor) -> Tensor:
    return Tanh.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    return Sigmoid.apply(input)


def relu(input: Tensor) -> Tensor:
    return ReLU.apply(input)


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Clip to [min, max]; the bounds may be numbers or tensors (``torch.clamp``)."""
    if min is None and max is None:
        raise RuntimeError(
            "torch.clamp: At least one of 'min' or 'max' must not be None"
        )
    bounds = [_operand(b) if b is not None else None for b in (min, max)]
    tensors = [b for b in bounds if isinstance(b, Tensor)]
    if tensors:
        dtype = _result_dtype(input, *tensors)
        input = _cast(input, dtype)
        bounds = [_cast(b, dtype) for b in bounds]
    elif input.dtype.kind in "iub" and any(isinstance(b, float) for b in bounds):
        input = _cast(input, np.dtype(np.float32))
    return Clamp.apply(input, *bounds)


clip = clamp


def maximum(input, other) -> Tensor:
    """Elementwise maximum of two tensors (``torch.maximum``)."""
    input = _tensor_argument(input, "input", "maximum")
    other = _tensor_argument(other, "other", "maximum")
    return _binary(Maximum, input, other)


def minimum(input, other) -> Tensor:
    """Elementwise minimum of two tensors (``torch.minimum``)."""
    input = _tensor_argument(input, "input", "minimum")
    other = _tensor_argument(other, "other", "minimum")
    return _binary(Minimum, input, other)


def where(condition, input, other) -> Tensor:
    condition = (
        condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    )
    if condition.dtype != np.bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, "
            f"but got a tensor with dtype {condition.dtype}"
        )
    a, b = _operand(input), _operand(other)
    dtype = _result_dtype(a, b)
    return Where.apply(condition, _cast(a, dtype), _cast(b, dtype))


# --------------------------------------------------------------------------------------
# Matrix product
# --------------------------------------------------------------------------------------


class MatMul(Function):
    """``a @ b`` with numpy's (and PyTorch's) rules for 1-D operands and batch broadcasting."""

    supports_double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        # Treat 1-D operands as a row (a) or a column (b) matrix, as matmul itself does.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad_output
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = sum_to(g @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = sum_to(a2.swapaxes(-1, -2) @ g, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(input, other) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dimensions."""
    a, b = _operand(input), _operand(other)
    if (
        not isinstance(a, Tensor)
        or not isinstance(b, Tensor)
        or a.ndim == 0
        or b.ndim == 0
    ):
        dims = [x.ndim if isinstance(x, Tensor) else 0 for x in (a, b)]
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {dims[0]}D and "
            f"{dims[1]}D"
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        rows = a.shape[-2] if a.ndim > 1 else 1
        cols = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} and "
            f"{inner_b}x{cols}); the last dimension of the first must equal the "
            "first matrix dimension of the second"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: batch dimensions {list(a.shape[:-2])} and {list(b.shape[:-2])} "
            "cannot be broadcast together"
        ) from None
    return _binary(MatMul, a, b)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices, both 2-D (``torch.mm``)."""
    for name, value in (("self", input), ("mat2", mat2)):
        if not isinstance(value, Tensor) or value.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix")
    return matmul(input, mat2)


# --------------------------------------------------------------------------------------
# Reductions
# --------------------------------------------------------------------------------------


def _axis(dim: int, ndim: int) -> int:
    """One dimension index, possibly negative, checked against ``ndim`` like PyTorch."""
    rank = builtins.max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
            f"but got {dim})"
        )
    return dim % rank


def _normalize_dims(dim, ndim: int) -> tuple:
    """Turn ``dim`` (None, an int or a sequence, possibly negative) into sorted axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    axes = [_axis(d, ndim) for d in dims]
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return tuple(sorted(axes)) if ndim else ()


def _expand_back(grad, shape, axes, keepdim):
    """Undo a reduction over ``axes``: re-insert them and broadcast to ``shape``."""
    if isinstance(grad, Tensor):  # double backward: the same, recorded
        if not keepdim and axes:
            grad = reshape(grad, [1 if i in axes else n for i, n in enumerate(shape)])
        return expand(grad, shape)
    if not keepdim and axes:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        return _expand_back(grad_output, ctx.shape, ctx.axes, ctx.keepdim), None, None


class Mean(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        return np.mean(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        grad = _expand_back(grad_output / ctx.count, ctx.shape, ctx.axes, ctx.keepdim)
        return grad, None, None


class Extremum(Function):
    """max or min over all elements: the gradient is shared evenly among tied extremes."""

    @staticmethod
    def forward(ctx, x, reducer):
        result = reducer(x)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        x, result = ctx.saved_tensors
        mask = x == result
        return grad_output * mask / np.count_nonzero(mask), None


class ExtremumDim(Function):
    """max or min along one dimension, returning (values, indices) like PyTorch.

    The gradient goes to the position given by ``indices`` only.
    """

    @staticmethod
    def forward(ctx, x, dim, keepdim, arg_reducer):
        indices = np.expand_dims(arg_reducer(x, axis=dim), dim)
        values = np.take_along_axis(x, indices, axis=dim)
        ctx.shape, ctx.dim, ctx.indices = x.shape, dim, indices
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        indices = indices.astype(np.int64)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        grad = np.zeros(ctx.shape, dtype=grad_values.dtype)
        values = grad_values.reshape(ctx.indices.shape)
        np.put_along_axis(grad, ctx.indices, values, axis=ctx.dim)
        return grad, None, None, None


MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def _extremum(input, dim, keepdim, reducer, arg_reducer, result_type, name):
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return Extremum.apply(input, reducer)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{name}() takes one dimension (an int), got {dim!r}")
    axis = _axis(dim, input.ndim)
    if input.ndim == 0:
        return result_type(input, Tensor(np.zeros((), np.int64)))
    if input.shape[axis] == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {dim} to have non-zero size."
        )
    values, indices = ExtremumDim.apply(input, axis, keepdim, arg_reducer)
    return result_type(values, indices)


def sum(
    input: Tensor,
    dim=None,
    keepdim: bool = False,
    *,
    dtype=None,
    axis=None,
    keepdims=None,
) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all), optionally in ``dtype``.

    ``axis`` and ``keepdims`` are accepted as numpy-style aliases, as PyTorch does.
    Booleans and integers are summed as int64.
    """
    dim = axis if dim is None else dim
    keepdim = keepdim if keepdims is None else keepdims
    if dtype is not None:
        input = to_dtype(input, dtype)
    elif input.dtype.kind in "biu":
        input = to_dtype(input, np.int64)
    return Sum.apply(input, _normalize_dims(dim, input.ndim), bool(keepdim))


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or None for all); needs a floating dtype."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {dtype}"
            )
        input = to_dtype(input, dtype)
    if input.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {input.dtype}"
        )
    return Mean.apply(input, _normalize_dims(dim, input.ndim), keepdim)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The largest element, ``(values, indices)`` along ``dim``, or, when the second
    argument is a tensor, the elementwise maximum (``torch.max``)."""
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    return _extremum(input, dim, keepdim, np.max, np.argmax, MaxResult, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest element, ``(values, indices)`` along ``dim``, or, when the second
    argument is a tensor, the elementwise minimum (``torch.min``)."""
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    return _extremum(input, dim, keepdim, np.min, np.argmin, MinResult, "min")


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (flattened when ``dim`` is None); not differentiable."""
    if dim is None:
        return Tensor(np.asarray(np.argmax(input.data), dtype=np.int64))
    if input.ndim == 0:
        return Tensor(np.zeros((), np.int64))
    axis = _axis(dim, input.ndim)
    return Tensor(np.argmax(input.data, axis=axis, keepdims=keepdim).astype(np.int64))


# --------------------------------------------------------------------------------------
# Shape operations
# --------------------------------------------------------------------------------------


class Reshape(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.shape), None


class Permute(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(int(i) for i in np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad_output):
        if isinstance(grad_output, Tensor):
            return permute(grad_output, ctx.inverse), None
        return np.transpose(grad_output, ctx.inverse), None


class Expand(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return sum_to(grad_output, ctx.shape), None


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def reshape(input: Tensor, *shape) -> Tensor:
    """Same data in a new shape; one entry may be -1 (``torch.reshape``)."""
    shape = _shape_arg(shape)
    known = [n for n in shape if n != -1]
    total = int(np.prod(known)) if known else 1
    wildcard = shape.count(-1)
    if wildcard > 1:
        raise RuntimeError("only one dimension can be inferred")
    if (wildcard == 0 and total != input.numel()) or (
        wildcard == 1 and (total == 0 or input.numel() % total)
    ):
        raise RuntimeError(
            f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {input.numel()}"
        )
    return Reshape.apply(input, shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one (``torch.flatten``)."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = _axis(start_dim, input.ndim), _axis(end_dim, input.ndim)
    if start > end:
        raise RuntimeError(
            "flatten() has invalid args: start_dim cannot come after end_dim"
        )
    merged = math.prod(input.shape[start : end + 1])
    return reshape(input, input.shape[:start] + (merged,) + input.shape[end + 1 :])


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    rank = input.ndim + 1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
            f"but got {dim})"
        )
    shape = list(input.shape)
    shape.insert(dim % rank, 1)
    return reshape(input, shape)


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim``)."""
    axes = _normalize_dims(dim, input.ndim)
    shape = [n for i, n in enumerate(input.shape) if not (i in axes and n == 1)]
    return reshape(input, shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes`` without copying (``torch.Tensor.expand``); -1 keeps a size."""
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({input.ndim})"
        )
    offset = len(sizes) - input.ndim
    shape = tuple(
        input.shape[i - offset] if n == -1 and i >= offset else n
        for i, n in enumerate(sizes)
    )
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[i + offset]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[i + offset]}) must match the existing "
                f"size ({n}) at non-singleton dimension {i + offset}.  Target sizes: "
                f"[{', '.join(map(str, sizes))}].  "
                f"Tensor sizes: [{', '.join(map(str, input.shape))}]"
            )
    return Expand.apply(input, shape)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions (``torch.permute``)."""
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(
            "permute(): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    return Permute.apply(input, _normalize_dims_ordered(dims, input.ndim))


def _normalize_dims_ordered(dims, ndim):
    axes = tuple(_axis(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return axes


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (``torch.transpose``)."""
    if input.ndim == 0:
        return input
    a, b = _axis(dim0, input.ndim), _axis(dim1, input.ndim)
    dims = list(range(input.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


# --------------------------------------------------------------------------------------
# Indexing and joining
# --------------------------------------------------------------------------------------


class Index(Function):
    """``x[index]`` for any numpy index; the gradient is scattered back with ``np.add.at``.

    ``np.add.at`` (rather than ``grad[index] += g``) makes repeated indices add up,
    e.g. ``x[[0, 0]]`` sends both gradients to ``x[0]``.
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad_output):
        grad = np.zeros(ctx.shape, dtype=grad_output.dtype)
        np.add.at(grad, ctx.index, grad_output)
        return grad, None


def index(input: Tensor, index) -> Tensor:
    if isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index)
    try:
        input.data[index]
    except IndexError as error:
        raise IndexError(str(error)) from None
    return Index.apply(input, index)


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        return (None, *np.split(grad_output, ctx.splits, axis=ctx.axis))


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (``torch.cat``)."""
    tensors = [_operand(t) for t in tensors]
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got "
                f"{type(t).__name__}"
            )
        if t.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    dtype = _result_dtype(*tensors)
    # PyTorch's legacy rule: 1-D empty tensors are skipped, whatever the other shapes
    tensors = [_cast(t, dtype) for t in tensors if t.shape != (0,)] or [
        _cast(t, dtype) for t in tensors
    ]
    axis = _axis(dim, tensors[0].ndim)
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], start=1):
        if t.ndim != len(first) or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, first)) if d != axis
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {axis}. Expected size "
                f"{list(first)} but got size {list(t.shape)} for tensor number {i} in the list."
            )
    return Cat.apply(axis, *tensors)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors along a new dimension (``torch.stack``)."""
    tensors = [_operand(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], start=1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    return cat([unsqueeze(t, dim) for t in tensors], dim)


# --------------------------------------------------------------------------------------
# Softmax family
# --------------------------------------------------------------------------------------


def _exp(x):
    return exp(x) if isinstance(x, Tensor) else np.exp(x)


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along ``dim``, computed stably by subtracting the maximum."""

    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:
            result = x.copy()
        else:
            shifted = x - np.max(x, axis=dim, keepdims=True)
            result = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        total = grad_output.sum(axis=ctx.dim, keepdims=True)
        return grad_output - _exp(result) * total, None


class Softmax(Function):
    supports_double_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:
            result = x.copy()
        else:
            e = np.exp(x - np.max(x, axis=dim, keepdims=True))
            result = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        inner = (grad_output * result).sum(axis=ctx.dim, keepdims=True)
        return result * (grad_output - inner), None


def _softmax_input(input: Tensor, dim: int, dtype, function: str):
    axis = _axis(dim, input.ndim)
    if dtype is not None:
        input = to_dtype(input, dtype)
    if input.dtype.kind != "f":
        raise RuntimeError(
            f"{function}: expected a floating point input, got {input.dtype}"
        )
    return input, (axis if input.ndim else None)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log(softmax(input)) along ``dim``, computed without overflow."""
    return LogSoftmax.apply(*_softmax_input(input, dim, dtype, "log_softmax"))


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(input) normalized to sum to 1 along ``dim``."""
    return Softmax.apply(*_softmax_input(input, dim, dtype, "softmax"))
