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
import numbers

import numpy as np

from labs.autograd import Function
from labs.tensor import Tensor

__all__ = [
    "sum_to", "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sin", "cos", "sqrt", "abs",
    "tanh", "sigmoid", "relu", "clamp", "matmul", "sum", "mean", "max", "min", "argmax",
    "reshape", "flatten", "unsqueeze", "squeeze", "expand", "transpose", "permute",
    "index", "cat", "stack", "log_softmax", "softmax", "to_dtype", "maximum", "where",
]


def sum_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``grad.shape``.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has
    size 1 are summed with ``keepdims``. ``sum_to(np.ones((2, 3)), (3,))`` is
    ``[2., 2., 2.]``.
    """
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


# --------------------------------------------------------------------------------------
# Type promotion (PyTorch's rules, which differ from numpy's for int + float)
# --------------------------------------------------------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_DEFAULT_FOR_CATEGORY = {0: np.dtype(np.bool_), 1: np.dtype(np.int64), 2: np.dtype(np.float32)}


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
    return function.apply(_cast(a, dtype), _cast(b, dtype))


# --------------------------------------------------------------------------------------
# Elementwise arithmetic
# --------------------------------------------------------------------------------------


class ToDtype(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.astype(ctx.input_dtype), None


def to_dtype(input: Tensor, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    return ToDtype.apply(input, dtype)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad_output, shape_a), sum_to(grad_output, shape_b)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        shape_a, shape_b = ctx.shapes
        return sum_to(grad_output, shape_a), sum_to(-grad_output, shape_b)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad_output * b, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = sum_to(grad_output * a, np.shape(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = sum_to(grad_output / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        grad_b = (
            sum_to(-grad_output * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        )
        return grad_a, grad_b


class Pow(Function):
    """``base ** exponent``; either may be a tensor.

    PyTorch's conventions at the edges: the gradient for the base is 0 where the
    exponent is 0 (even at base 0), and the gradient for the exponent is 0 where the
    base is 0 and the exponent is non-negative.
    """

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
            local = np.where(exponent == 0, 0.0, exponent * np.power(base, exponent - 1))
            grad_base = sum_to(grad_output * local, np.shape(base))
        if ctx.needs_input_grad[1]:
            local = np.where((base == 0) & (exponent >= 0), 0.0, result * np.log(base))
            grad_exponent = sum_to(grad_output * local, np.shape(exponent))
        return grad_base, grad_exponent


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


def add(input, other) -> Tensor:
    return _binary(Add, input, other)


def sub(input, other) -> Tensor:
    return _binary(Sub, input, other)


def mul(input, other) -> Tensor:
    return _binary(Mul, input, other)


def div(input, other) -> Tensor:
    """True division; integer inputs give a float32 result, as in PyTorch."""
    return _binary(Div, input, other, float_result=True)


def pow(input, exponent) -> Tensor:
    return _binary(Pow, input, exponent)


def neg(input: Tensor) -> Tensor:
    return Neg.apply(input)


# --------------------------------------------------------------------------------------
# Elementwise functions
# --------------------------------------------------------------------------------------


class Exp(Function):
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
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output / x


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * np.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return -grad_output * np.sin(x)


class Sqrt(Function):
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
    """|x|, with PyTorch's subgradient sign(0) = 0 at the kink."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * np.sign(x)


class Tanh(Function):
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
    """max(x, 0); the gradient at exactly 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        result = np.maximum(x, 0)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * (result > 0)


class Clamp(Function):
    """Clip to [min, max]; the gradient passes where min <= x <= max (ends included)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return grad_output * inside, None, None


class Maximum(Function):
    """Elementwise maximum; on ties the gradient is split evenly, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        return (
            sum_to(grad_output * share_a, np.shape(a)),
            sum_to(grad_output * (1 - share_a), np.shape(b)),
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
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


def maximum(input, other) -> Tensor:
    return _binary(Maximum, input, other)


def where(condition, input, other) -> Tensor:
    condition = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    a, b = _operand(input), _operand(other)
    dtype = _result_dtype(a, b)
    return Where.apply(condition, _cast(a, dtype), _cast(b, dtype))


# --------------------------------------------------------------------------------------
# Matrix product
# --------------------------------------------------------------------------------------


class MatMul(Function):
    """``a @ b`` with numpy's (and PyTorch's) rules for 1-D operands and batch broadcasting."""

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
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = sum_to(np.matmul(g, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = sum_to(np.matmul(np.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(input, other) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D operands and broadcast batch dimensions."""
    a, b = _operand(input), _operand(other)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.ndim == 0 or b.ndim == 0:
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
    if not keepdim and axes:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_output):
        return _expand_back(grad_output, ctx.shape, ctx.axes, ctx.keepdim), None, None


class Mean(Function):
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


def sum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all)."""
    return Sum.apply(input, _normalize_dims(dim, input.ndim), keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or None for all); needs a floating dtype."""
    if input.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {input.dtype}"
        )
    return Mean.apply(input, _normalize_dims(dim, input.ndim), keepdim)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """The largest element, or ``(values, indices)`` along ``dim`` (``torch.max``)."""
    return _extremum(input, dim, keepdim, np.max, np.argmax, MaxResult, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):
    """The smallest element, or ``(values, indices)`` along ``dim`` (``torch.min``)."""
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
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad_output):
        return np.transpose(grad_output, ctx.inverse), None


class Expand(Function):
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
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    merged = int(np.prod(input.shape[start:end + 1]))
    return reshape(input, input.shape[:start] + (merged,) + input.shape[end + 1:])


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
        input.shape[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(sizes)
    )
    for i, n in enumerate(input.shape):
        if n != 1 and n != shape[i + offset]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[i + offset]}) must match the existing "
                f"size ({n}) at non-singleton dimension {i + offset}.  Target sizes: "
                f"[{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, input.shape))}]"
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
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dtype = _result_dtype(*tensors)
    tensors = [_cast(t, dtype) for t in tensors]
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


class LogSoftmax(Function):
    """x - log(sum(exp(x))) along ``dim``, computed stably by subtracting the maximum."""

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - np.max(x, axis=dim, keepdims=True)
        result = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        total = np.sum(grad_output, axis=ctx.dim, keepdims=True)
        return grad_output - np.exp(result) * total, None


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        result = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(result)
        ctx.dim = dim
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        inner = np.sum(grad_output * result, axis=ctx.dim, keepdims=True)
        return result * (grad_output - inner), None


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """log(softmax(input)) along ``dim``, computed without overflow."""
    axis = _axis(dim, input.ndim)
    return LogSoftmax.apply(input, axis if input.ndim else None)


def softmax(input: Tensor, dim: int) -> Tensor:
    """exp(input) normalized to sum to 1 along ``dim``."""
    axis = _axis(dim, input.ndim)
    return Softmax.apply(input, axis if input.ndim else None)
