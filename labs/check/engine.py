"""Checkers for chapter 7, "Build an autograd engine": backward passes and a graph sort.

The learner writes each backward pass as a plain numpy function: the op's inputs, then
``grad_output`` (the gradient of the loss with respect to the op's output), then the
op's options; it returns the gradient for each input, each of that input's shape::

    mul_backward(a, b, grad_output)                 -> (grad_a, grad_b)
    matmul_backward(a, b, grad_output)              -> (grad_a, grad_b)
    sum_backward(x, grad_output, dim, keepdim)      -> grad_x
    relu_backward(x, grad_output)                   -> grad_x
    conv1d_backward(x, w, grad_output, stride=1)    -> (grad_x, grad_w)

The expected gradients come from ``torch.autograd.grad`` of the same forward
computation, in float64, with a random, non-uniform ``grad_output`` (all ones would hide
a transposed or misrouted gradient). Shapes are hand-picked first (broadcasting of every
kind, square matrices, exact zeros, strides that leave input positions unread), then
seeded random ones.

:func:`topological_sort` checks ``fn(root) -> list`` on graphs of the checker's own
nodes (each has ``.parents`` and ``.name``): diamonds, a node used twice by the same
operation, random graphs, and a chain of 10,000 nodes. The nodes notice a search that
calls itself, and such a search is refused, whatever the recursion limit.

Each usual mistake (a broadcast axis not summed, a matrix not transposed, the mask
``x >= 0``, a flipped kernel, ``=`` instead of ``+=``, ...) is a :class:`Mistake` about
one gradient of the answer; it is named only when it gives the learner's gradient on
every case.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import sys
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._compare import compare_values, none_mismatch
from labs.check._core import Case, Cases, Exercise, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import shape_text, type_phrase

__all__ = [
    "mul_backward",
    "matmul_backward",
    "sum_backward",
    "relu_backward",
    "conv1d_backward",
    "topological_sort",
]


# --- The checkers ---------------------------------------------------------------------


def mul_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(a, b, grad_output) -> (grad_a, grad_b)``, the backward of ``a * b``.

    ``a`` and ``b`` are float64 numpy arrays whose shapes broadcast together (numpy's
    and PyTorch's rules); ``grad_output`` has the shape of ``a * b``. The answer is a
    pair of float64 arrays (a 0-d input may get a numpy float64 scalar), ``grad_a`` of
    the shape of ``a`` and ``grad_b`` of the shape of ``b``: ``grad_output * b`` and
    ``grad_output * a``, each summed over the axes along which its input was broadcast.
    Arguments are passed by position.

    Cases: 8 hand-picked ones (equal shapes, a missing leading axis, both kinds of
    broadcasting at once, size-1 axes on both sides, a 0-d input, ...), then seeded
    random shapes up to 16.
    """
    return check(_MUL, fn, raise_on_failure=raise_on_failure)


def matmul_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(a, b, grad_output) -> (grad_a, grad_b)``, the backward of ``a @ b``.

    ``a`` has shape ``(n, k)``, ``b`` shape ``(k, m)``, ``grad_output`` shape
    ``(n, m)``, all float64. The answer is ``(grad_output @ b.T, a.T @ grad_output)``,
    of the shapes of ``a`` and ``b``. Arguments are passed by position.

    Cases: 6 hand-picked ones (square matrices, where a missing transpose keeps the
    shape right, a row times a column, a column times a row, ...), then seeded random
    shapes up to 14 (sizes 1 to 5).
    """
    return check(_MATMUL, fn, raise_on_failure=raise_on_failure)


def sum_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(x, grad_output, dim, keepdim) -> grad_x``, the backward of a sum.

    The forward is ``x.sum(dim, keepdim=keepdim)`` (numpy: ``x.sum(axis=dim,
    keepdims=keepdim)``) with ``dim`` an int, possibly negative; ``grad_output`` has the
    shape of that sum. The answer is a float64 array of the shape of ``x``:
    ``grad_output`` copied along axis ``dim``. Arguments are passed by position.

    Cases: 10 hand-picked ones (a vector to a 0-d sum, keepdim both ways, negative dims,
    square inputs where broadcasting without re-inserting the axis, or re-inserting it
    in the wrong place, gives the right shape and the wrong values), then seeded random
    ones up to 16.
    """
    return check(_SUM, fn, raise_on_failure=raise_on_failure)


def relu_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(x, grad_output) -> grad_x``, the backward of ``relu(x)``.

    ``x`` and ``grad_output`` are float64 arrays of the same shape. The answer is
    ``grad_output`` where ``x > 0`` and 0 elsewhere, including where ``x`` is exactly 0
    (PyTorch's choice of subgradient at the kink). Arguments are passed by position.

    Cases: 6 hand-picked ones, most with exact zeros in ``x``, then seeded random ones
    up to 12, where some entries of ``x`` are set to 0.
    """
    return check(_RELU, fn, raise_on_failure=raise_on_failure)


def conv1d_backward(
    fn: Callable, *, stride: bool = True, raise_on_failure: bool = False
) -> Result:
    """Check ``fn(x, w, grad_output, stride=1) -> (grad_x, grad_w)``, conv1d's backward.

    The forward is ``torch.nn.functional.conv1d(x, w, stride=stride)``, no padding, no
    bias, with float64 arrays ``x`` of shape ``(N, C_in, L)`` and ``w`` of shape
    ``(C_out, C_in, K)``; ``grad_output`` has shape ``(N, C_out, L_out)`` with
    ``L_out = floor((L - K) / stride) + 1``. The answer is ``(grad_x, grad_w)`` of the
    shapes of ``x`` and ``w``::

        grad_x[n, c, t·stride + j] += grad_output[n, o, t] · w[o, c, j]
        grad_w[o, c, j]            += grad_output[n, o, t] · x[n, c, t·stride + j]

    summed over every ``n, o, t, j`` (and ``c``). ``x``, ``w`` and ``grad_output`` are
    passed by position, ``stride`` by keyword; with ``stride=False`` it is never passed
    (``fn(x, w, grad_output)``, stride 1).

    Cases: 7 hand-picked ones (a tiny readable one, a kernel of size 1, a kernel as long
    as the input, a stride larger than the kernel, a stride that leaves the last input
    positions unread, channels with batch 2), then seeded random ones up to 20 (N <= 2,
    C_in, C_out <= 3, L <= 12, K <= 5, stride <= 3).
    """
    exercise = _CONV1D if stride else _CONV1D_STRIDE_1
    return check(exercise, fn, raise_on_failure=raise_on_failure)


def topological_sort(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(root) -> list``: the nodes ``root`` depends on, parents first.

    The checker builds graphs of its own nodes. A node has ``.parents``, the tuple of
    nodes it was computed from (a node used twice by one operation, as in ``a * a``,
    appears twice), and ``.name`` (a str, for messages). The answer must be a list (or
    tuple) holding every node reachable from ``root`` through ``.parents``, ``root``
    included, each exactly once, in an order where every node comes after all of its
    parents: inputs first, ``root`` last. Any such order is accepted.

    The sort must not recurse, as the exercise says: a function that calls itself
    while reading ``.parents`` is refused on the first graph with a path of two edges,
    whatever ``sys.setrecursionlimit`` allows.

    Cases: a single node, a chain, ``b = a·a + a``, a diamond, two inputs, a ladder of
    30 diamonds (which also catches a search that explores the same node again each
    time it is reached: it is stopped with a verdict), random graphs of up to 100 nodes,
    a chain of 10,000 nodes and a node with 3,000 inputs.
    """
    return check(_SORT, fn, raise_on_failure=raise_on_failure)


# --- What the backward checkers share -------------------------------------------------


def _backward_exercise(
    name: str,
    inputs: tuple[str, ...],
    cases: Callable,
    mistakes: tuple[Mistake, ...],
    *,
    explain: Callable | None = None,
    shape_hint: Callable | None = None,
) -> Exercise:
    """One backward exercise: ``inputs`` names the inputs that get a gradient, in the
    order of the answer; ``cases()`` builds the cases (each with ``expected``, one
    gradient per input); ``shape_hint(case, index, got)`` explains a wrong shape of the
    gradient ``index``; ``explain(case, error)`` an exception."""

    def describe(case: Case, answer, wrong: Mismatch) -> str | None:
        if shape_hint is None or wrong.part is None:
            return None
        got = np.asarray(_answers(answer, inputs)[wrong.part], dtype=np.float64)
        if got.shape == case.expected[wrong.part].shape:
            return None
        return shape_hint(case, wrong.part, got)

    def explain_error(case: Case, error: Exception) -> str | None:
        if isinstance(error, TypeError) and _SIGNATURE_ERROR.search(str(error)):
            call = ", ".join([*case.positional, *(f"{k}=..." for k in case.keywords)])
            return f"the checker calls your function as `fn({call})`."
        return explain(case, error) if explain is not None else None

    return Exercise(
        name,
        cases,
        lambda answer, case: _compare_gradients(inputs, answer, case.expected),
        mistakes=mistakes,
        describe=describe,
        explain_error=explain_error,
        parts=lambda answer: _answers(answer, inputs),
    )


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float64))


def _torch_backward(forward: Callable, inputs, rng) -> tuple[np.ndarray, tuple]:
    """A random grad_output for ``forward(*inputs)``, and torch's gradient per input."""
    leaves = [_tensor(x).requires_grad_() for x in inputs]
    output = forward(*leaves)
    grad_output = np.asarray(rng.standard_normal(tuple(output.shape)))
    grads = torch.autograd.grad(output, leaves, _tensor(grad_output), allow_unused=True)
    expected = tuple(
        np.zeros(np.shape(x)) if g is None else g.numpy() for g, x in zip(grads, inputs)
    )
    return grad_output, expected


# --- Type, shape and values of the answer --------------------------------------------


def _gradient_array(value, name: str) -> np.ndarray:
    """The learner's gradient for input ``name`` as a float64 array, type-checked."""
    label = f"grad_{name}"
    if value is None:
        raise Mismatch(
            f"{label} is None.",
            hint=f"return an array of the shape of {name} (np.zeros(...) where it gets "
            "no gradient). Did you forget `return`?",
        )
    if isinstance(value, torch.Tensor):
        raise Mismatch(
            f"{label} is a torch.Tensor, not a numpy array.",
            hint="compute with numpy: this engine's backward functions take and return "
            "numpy arrays.",
        )
    if isinstance(value, (list, tuple)):
        raise Mismatch(
            f"{label} is {type_phrase(value)}, not a numpy array.",
            hint="return numpy arrays (np.asarray(...) converts a list).",
        )
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        value = np.asarray(value)  # a 0-d input's gradient may come back as a scalar
    if not isinstance(value, np.ndarray):
        raise Mismatch(f"{label} is {type_phrase(value)}, not a numpy array.")
    if value.dtype != np.float64:
        hint = "keep float64, the dtype of the inputs."
        if value.dtype == np.bool_ or np.issubdtype(value.dtype, np.integer):
            hint = (
                "a mask such as `x > 0` is a bool array: multiply it by a float64 "
                "array (grad_output * (x > 0)) rather than returning it."
            )
        raise Mismatch(
            f"{label} has dtype {value.dtype}; it should be float64, like the inputs.",
            hint=hint,
        )
    return value


def _answers(got, names) -> list:
    """The learner's answer as one value per input, after checking its structure."""
    wanted = ", ".join(f"grad_{n}" for n in names)
    if len(names) == 1:
        if isinstance(got, tuple) and len(got) == 1:
            name = f"grad_{names[0]}"
            raise Mismatch(
                f"your function returned a tuple holding one array; return {name} "
                "itself.",
                hint=f"write `return {name}`, not `return ({name},)`.",
            )
        if got is None:
            raise none_mismatch()
        return [got]
    if got is None:
        raise none_mismatch()
    if not isinstance(got, (tuple, list)):
        raise Mismatch(
            f"your function returned {type_phrase(got)}; it should return the pair "
            f"({wanted}).",
            hint=f"return one gradient per input, in order: `return {wanted}`.",
        )
    if len(got) != len(names):
        raise Mismatch(
            f"your function returned {len(got)} values; it should return {len(names)}: "
            f"({wanted}).",
            hint=f"return one gradient per input, in order: `return {wanted}`.",
        )
    return list(got)


def _compare_gradients(names, got, expected) -> None:
    for index, (value, want, name) in enumerate(
        zip(_answers(got, names), expected, names)
    ):
        array = _gradient_array(value, name)
        compare_values(
            array, want, what=f"gradient for {name}", label=f"grad_{name}", part=index
        )


_SIGNATURE_ERROR = re.compile(r"positional argument|multiple values|unexpected keyword")


def _swapped(names) -> Callable:
    pair = ", ".join(f"grad_{n}" for n in names)
    return lambda index: Mistake(
        "swapped-order",
        f"you returned the gradients in the wrong order: return ({pair}).",
        lambda case: case.expected[1 - index],
        part=index,
    )


# --- mul ------------------------------------------------------------------------------


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes along which an array of ``shape`` was broadcast."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def _broadcast_axes(shape: tuple, out_shape: tuple) -> tuple:
    """The axes of ``out_shape`` along which an array of ``shape`` was broadcast."""
    extra = len(out_shape) - len(shape)
    return tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and out_shape[extra + i] != 1
    )


def _mul_cases() -> Cases:
    return Cases(16, _generate_mul_cases)


def _generate_mul_cases():
    rng = np.random.default_rng(3001)
    shapes = [
        ((2, 1), (4, 1, 3)),  # a lacks a leading axis and has a size-1 axis
        ((2, 1), (1, 3)),  # size-1 axes on both sides
        ((), (2, 3)),  # a 0-d input
        ((4, 1, 3), (2, 1)),
        ((2, 3, 4), (2, 3, 4)),
        ((3,), (2, 2, 3)),
    ]
    yield _mul_case(
        np.array([1.0, 2, 3]), np.array([4.0, -1, 2]), np.array([1.0, -2, 0.5])
    )
    yield _mul_case(  # b lacks the leading axis: small enough to show value by value
        np.array([[1.0, 2, 3], [4, 5, 6]]),
        np.array([1.0, -1, 2]),
        np.array([[1.0, 0.5, -1], [2, -1, 1]]),
    )
    for shape_a, shape_b in shapes:
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        yield _mul_case(a, b, rng=rng)
    while True:
        ndim = int(rng.integers(1, 4))
        out = tuple(int(n) for n in rng.integers(2, 5, size=ndim))
        pair = []
        for _ in range(2):
            drop = int(rng.integers(0, ndim + 1))  # leading axes the input lacks
            shape = tuple(n if rng.random() < 0.6 else 1 for n in out[drop:])
            pair.append(shape)
        if rng.random() < 0.5:
            pair.reverse()
        a, b = rng.standard_normal(pair[0]), rng.standard_normal(pair[1])
        yield _mul_case(a, b, rng=rng)


def _mul_case(a, b, grad_output=None, rng=None) -> Case:
    a, b = np.asarray(a), np.asarray(b)
    if grad_output is None:
        grad_output, expected = _torch_backward(torch.mul, (a, b), rng)
    else:
        _, expected = _torch_backward(torch.mul, (a, b), _Fixed(grad_output))
    return Case({"a": a, "b": b, "grad_output": grad_output}, expected=expected)


class _Fixed:
    """Stands in for a random generator to give a hand-picked grad_output."""

    def __init__(self, value):
        self.value = np.asarray(value, dtype=np.float64)

    def standard_normal(self, shape):
        assert self.value.shape == tuple(shape), (self.value.shape, shape)
        return self.value


class _MulPart:
    """One input of ``a * b`` seen from its gradient: ``index`` 0 for a, 1 for b."""

    def __init__(self, case: Case, index: int):
        a, b, self.g = case["a"], case["b"], case["grad_output"]
        self.name, self.other_name = ("a", "b") if index == 0 else ("b", "a")
        self.mine, self.other = (a, b) if index == 0 else (b, a)
        self.shape, self.out = np.shape(self.mine), np.shape(self.g)
        self.axes = _broadcast_axes(self.shape, self.out)
        self.product = self.g * self.other


def _mul_mistakes(name: str, hint: Callable, gives: Callable) -> list[Mistake]:
    """The mistake ``name`` on each of the two gradients."""
    return [
        Mistake(
            name,
            lambda case, index=index: hint(_MulPart(case, index)),
            lambda case, index=index: gives(_MulPart(case, index)),
            part=index,
        )
        for index in (0, 1)
    ]


def _not_summed_hint(m: _MulPart) -> str:
    return (
        f"you forgot to sum over the broadcast axes: {m.name} has shape "
        f"{shape_text(m.shape)} but was broadcast to the output's {shape_text(m.out)}, "
        "so each of its elements was used at several output positions, and the "
        f"gradients from all of them add up. Sum grad_output · {m.other_name} over "
        f"{_axes_text(m.axes)} of the output (keepdims=True for the axes where "
        f"{m.name} has size 1)."
    )


def _leading_axes_only(m: _MulPart) -> np.ndarray:
    return m.product.sum(axis=tuple(range(len(m.out) - len(m.shape))))


def _averaged(m: _MulPart) -> np.ndarray:
    count = int(np.prod([m.out[i] for i in m.axes]))
    return _unbroadcast(m.product, m.shape) / count


_MUL_MISTAKES = (
    *_mul_mistakes(
        "own-value",
        lambda m: (
            f"your grad_{m.name} is grad_output · {m.name}, which is the gradient for "
            f"{m.other_name}: the derivative of a·b with respect to a is b, and with "
            "respect to b is a. Return (grad_a, grad_b), in that order."
        ),
        lambda m: _unbroadcast(m.g * m.mine, m.shape),
    ),
    *map(_swapped(["a", "b"]), (0, 1)),
    *_mul_mistakes(
        "not-summed", _not_summed_hint, lambda m: np.broadcast_to(m.product, m.out)
    ),
    *_mul_mistakes(
        "leading-axes-only",
        lambda m: (
            f"you summed away the leading axes that {m.name} lacks, but not the axes "
            f"where {m.name} has size 1: sum those too, with keepdims=True, so that "
            f"grad_{m.name} has shape {shape_text(m.shape)}."
        ),
        _leading_axes_only,
    ),
    *_mul_mistakes(
        "keepdims-dropped",
        lambda m: (
            f"you summed over the right axes but dropped them: grad_{m.name} must have "
            f"{m.name}'s shape {shape_text(m.shape)}; keep the size-1 axes with "
            "keepdims=True."
        ),
        lambda m: m.product.sum(axis=m.axes),
    ),
    *_mul_mistakes(
        "averaged",
        lambda m: (
            "you averaged over the broadcast axes: the gradients from every position "
            "an element was used at add up, so sum them (no division)."
        ),
        _averaged,
    ),
    *_mul_mistakes(
        "summed-every-axis",
        lambda m: (
            f"you summed over every axis: sum only over the axes along which {m.name} "
            f"was broadcast, so that grad_{m.name} has shape {shape_text(m.shape)}."
        ),
        lambda m: m.product.sum(),
    ),
    *_mul_mistakes(
        "grad-output-left-out",
        lambda m: (
            f"you left out grad_output: by the chain rule grad_{m.name} = grad_output · "
            f"{m.other_name} (then summed over the broadcast axes)."
        ),
        lambda m: _unbroadcast(np.broadcast_to(m.other, m.out) * 1.0, m.shape),
    ),
)


def _axes_text(axes) -> str:
    """'axis 0', 'axes 0 and 2', 'axes 0, 1 and 3'."""
    axes = [str(a) for a in axes]
    if len(axes) == 1:
        return f"axis {axes[0]}"
    return f"axes {', '.join(axes[:-1])} and {axes[-1]}"


def _mul_shape_hint(case: Case, index: int, got: np.ndarray) -> str:
    name = "ab"[index]
    shape = np.shape(case[name])
    out = shape_text(case["grad_output"].shape)
    return (
        f"grad_{name} must have the shape of {name}, {shape_text(shape)}: sum "
        "grad_output · (the other input) over the axes along which "
        f"{name} was broadcast to the output's shape {out}."
    )


_MUL = _backward_exercise(
    "mul_backward", ("a", "b"), _mul_cases, _MUL_MISTAKES, shape_hint=_mul_shape_hint
)


# --- matmul ---------------------------------------------------------------------------


def _matmul_cases() -> Cases:
    return Cases(14, _generate_matmul_cases)


def _generate_matmul_cases():
    rng = np.random.default_rng(3002)
    a = np.array([[1.0, 2], [3, -1]])
    b = np.array([[2.0, 0], [1, 3]])
    g = np.array([[1.0, -1], [2, 0.5]])
    _, expected = _torch_backward(torch.matmul, (a, b), _Fixed(g))
    yield Case({"a": a, "b": b, "grad_output": g}, expected=expected)
    sizes = [(2, 3, 4), (3, 3, 3), (1, 4, 1), (4, 1, 3), (3, 2, 3)]  # (n, k, m)
    while True:
        n, k, m = sizes.pop(0) if sizes else (int(v) for v in rng.integers(1, 6, 3))
        a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
        grad_output, expected = _torch_backward(torch.matmul, (a, b), rng)
        yield Case({"a": a, "b": b, "grad_output": grad_output}, expected=expected)


_MATMUL_RIGHT = ("grad_output @ b.T", "a.T @ grad_output")
_MATMUL_INPUTS = ("a", "a.T", "b", "b.T")
_MATMUL_TERMS = (
    *_MATMUL_INPUTS,
    "grad_output",
    "grad_output.T",
    "np.ones_like(grad_output)",
    "np.ones_like(grad_output).T",
)


def _matmul_terms(case: Case) -> dict:
    a, b, g = case["a"], case["b"], case["grad_output"]
    ones = np.ones_like(g)
    return {
        "a": a,
        "a.T": a.T,
        "b": b,
        "b.T": b.T,
        "grad_output": g,
        "grad_output.T": g.T,
        "np.ones_like(grad_output)": ones,
        "np.ones_like(grad_output).T": ones.T,
    }


def _product_mistake(index: int, left: str, right: str) -> Mistake:
    """grad_a (index 0) or grad_b (1) computed as the product ``left @ right``."""
    name = "ab"[index]
    why = ""
    if "ones_like" in left or "ones_like" in right:
        why = " You left out grad_output (chain rule)."

    def hint(case: Case) -> str:
        terms = _matmul_terms(case)
        factors = ("grad_output", "b.T") if index == 0 else ("a.T", "grad_output")
        shapes = " @ ".join(shape_text(terms[f].shape) for f in factors)
        return (
            f"your grad_{name} equals {left} @ {right}.{why} The gradient of a @ b with "
            f"respect to {name} is {_MATMUL_RIGHT[index]}: {shapes} gives {name}'s "
            f"shape {shape_text(case.expected[index].shape)}."
        )

    def gives(case: Case) -> np.ndarray:
        terms = _matmul_terms(case)
        return terms[left] @ terms[right]

    return Mistake(f"{left} @ {right}", hint, gives, part=index)


def _transposed_gradient(index: int) -> Mistake:
    name = "ab"[index]
    return Mistake(
        "gradient-transposed",
        lambda case: (
            f"your grad_{name} is the transpose of the gradient: it must have the shape "
            f"of {name}, {shape_text(case.expected[index].shape)}; grad_{name} = "
            f"{_MATMUL_RIGHT[index]}."
        ),
        lambda case: case.expected[index].T,
        part=index,
    )


_MATMUL_MISTAKES = (
    *map(_transposed_gradient, (0, 1)),
    *map(_swapped(["a", "b"]), (0, 1)),
    *(
        _product_mistake(index, left, right)
        for index in (0, 1)
        for left, right in itertools.permutations(_MATMUL_TERMS, 2)
        if (left in _MATMUL_INPUTS) != (right in _MATMUL_INPUTS)
        and f"{left} @ {right}" != _MATMUL_RIGHT[index]
    ),
)


def _matmul_shape_hint(case: Case, index: int, got: np.ndarray) -> str:
    name = "ab"[index]
    right = "grad_output @ b.T" if index == 0 else "a.T @ grad_output"
    return (
        f"grad_{name} must have the shape of {name}, "
        f"{shape_text(case.info['expected'][index].shape)}: grad_{name} = {right}."
    )


def _explain_matmul_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, ValueError) and "matmul" in str(error):
        return (
            "the shapes of a product do not fit. Write the shapes down: a is (n, k), "
            "b is (k, m), grad_output is (n, m); grad_a must be (n, k) and grad_b "
            "(k, m). Which product of grad_output with b or b.T gives (n, k)?"
        )
    return None


_MATMUL = _backward_exercise(
    "matmul_backward",
    ("a", "b"),
    _matmul_cases,
    _MATMUL_MISTAKES,
    explain=_explain_matmul_error,
    shape_hint=_matmul_shape_hint,
)


# --- sum ------------------------------------------------------------------------------


def _sum_cases() -> Cases:
    return Cases(16, _generate_sum_cases)


def _generate_sum_cases():
    rng = np.random.default_rng(3003)
    configs = [
        ((3,), 0, False),  # to a 0-d sum
        ((2, 3), 1, False),
        ((2, 3), 0, True),
        ((4, 4), -1, False),  # broadcasting back without the axis fits, transposed
        ((3, 3, 3), 0, False),  # the axis re-inserted anywhere still broadcasts
        ((2, 3, 4), 1, True),
        ((2, 3, 4), -2, False),
        ((3, 1), 1, False),  # a size-1 axis
        ((2, 3, 4), 0, False),
    ]
    x = np.array([[1.0, 2, 3], [4, 5, 6]])
    yield _sum_case(x, 1, False, rng, np.array([1.0, -2]))
    for shape, dim, keepdim in configs:
        yield _sum_case(rng.standard_normal(shape), dim, keepdim, rng)
    while True:
        ndim = int(rng.integers(1, 5))
        shape = tuple(int(n) for n in rng.integers(1, 5, size=ndim))
        dim = int(rng.integers(-ndim, ndim))
        yield _sum_case(rng.standard_normal(shape), dim, bool(rng.random() < 0.5), rng)


def _sum_case(x, dim, keepdim, rng, grad_output=None) -> Case:
    def forward(t):
        return t.sum(dim, keepdim=keepdim)

    source = rng if grad_output is None else _Fixed(grad_output)
    grad_output, expected = _torch_backward(forward, (x,), source)
    return Case(
        {"x": x, "grad_output": grad_output, "dim": dim, "keepdim": keepdim},
        expected=expected,
    )


def _sum_parts(case: Case):
    x, g, dim, keepdim = case["x"], case["grad_output"], case["dim"], case["keepdim"]
    return x, g, dim, keepdim, dim % x.ndim


def _broadcast_without_axis(case: Case) -> np.ndarray:
    x, g, dim, keepdim, axis = _sum_parts(case)
    return case.expected[0] if keepdim else np.broadcast_to(g, x.shape)


def _inserted_at(position: Callable) -> Callable:
    """grad_x with the summed axis put back at ``position(x.ndim)`` (when it is gone)."""

    def gives(case: Case) -> np.ndarray:
        x, g, dim, keepdim, axis = _sum_parts(case)
        if keepdim:
            return case.expected[0]
        return np.broadcast_to(np.expand_dims(g, position(x.ndim)), x.shape)

    return gives


def _inserted_hint(position: Callable) -> Callable:
    def hint(case: Case) -> str:
        x, g, dim, keepdim, axis = _sum_parts(case)
        return (
            f"you re-inserted the summed axis at position {position(x.ndim)}, but the "
            f"sum was over dim={dim} (axis {axis} of x): "
            "`np.expand_dims(grad_output, dim)`."
        )

    return hint


def _last(ndim: int) -> int:
    return ndim - 1


_SUM_MISTAKES = (
    Mistake(
        "broadcast-without-axis",
        lambda case: (
            f"with keepdim=False the summed axis {case['dim']} is gone from grad_output "
            f"{shape_text(case['grad_output'].shape)}, so broadcasting it to x's shape "
            f"{shape_text(case['x'].shape)} lines its axes up with the wrong axes of x. "
            "Put the axis back first: `np.expand_dims(grad_output, dim)`, then "
            "broadcast."
        ),
        _broadcast_without_axis,
    ),
    Mistake("inserted-at-the-end", _inserted_hint(_last), _inserted_at(_last)),
    *(
        Mistake(
            f"inserted-at-{position}",
            _inserted_hint(lambda ndim, p=position: p),
            _inserted_at(lambda ndim, p=position: p),
        )
        for position in range(4)
    ),
    Mistake(
        "ones",
        "you returned ones: each element of x receives the gradient of the sum it went "
        "into, grad_output, not 1 (chain rule).",
        lambda case: np.ones(case["x"].shape),
    ),
    Mistake(
        "mean",
        lambda case: (
            f"you divided by the size of the summed axis "
            f"({case['x'].shape[case['dim']]}): that is the gradient of mean. For a "
            "sum, each element gets grad_output unchanged."
        ),
        lambda case: case.expected[0] / case["x"].shape[case["dim"]],
    ),
    Mistake(
        "grad-output-unchanged",
        lambda case: (
            "you returned grad_output as it is; grad_x must have x's shape "
            f"{shape_text(case['x'].shape)}: copy grad_output along axis {case['dim']} "
            "(`np.expand_dims` when keepdim=False, then `np.broadcast_to(..., x.shape)`)."
        ),
        lambda case: case["grad_output"],
    ),
)


def _sum_shape_hint(case: Case, index: int, got: np.ndarray) -> str:
    x = case["x"]
    return (
        f"grad_x must have the shape of x, {shape_text(x.shape)}: every element of x "
        "went into one of the sums, and receives that sum's gradient. Copy grad_output "
        f"along axis {case['dim']}."
    )


def _explain_sum_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, ValueError) and not isinstance(error, IndexError):
        if case["keepdim"]:
            return (
                "with keepdim=True grad_output already has the summed axis (with size "
                "1): broadcast it to x's shape as it is, without np.expand_dims."
            )
        return (
            f"with keepdim=False the summed axis {case['dim']} is gone from "
            "grad_output; put it back with np.expand_dims(grad_output, dim) before "
            "broadcasting to x's shape."
        )
    if isinstance(error, IndexError) and case["dim"] < 0:
        return f"dim may be negative (here {case['dim']}): it counts from the end."
    return None


_SUM = _backward_exercise(
    "sum_backward",
    ("x",),
    _sum_cases,
    _SUM_MISTAKES,
    explain=_explain_sum_error,
    shape_hint=_sum_shape_hint,
)


# --- relu -----------------------------------------------------------------------------


def _relu_cases() -> Cases:
    return Cases(12, _generate_relu_cases)


def _generate_relu_cases():
    rng = np.random.default_rng(3004)
    yield _relu_case(np.array([-2.0, -1, 0, 1, 2]), rng, np.array([1.0, -2, 3, 4, -5]))
    yield _relu_case(np.array([[0.0, -0.0, 3], [-1, 0, 2]]), rng)
    yield _relu_case(np.array(0.0), rng)
    yield _relu_case(np.array(1.5), rng)
    shapes = [(2, 3, 4), (7,), (1, 2, 2, 3)]
    while True:
        shape = (
            shapes.pop(0)
            if shapes
            else tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 4))))
        )
        x = rng.standard_normal(shape)
        x[rng.random(shape) < 0.25] = 0.0
        yield _relu_case(x, rng)


def _relu_case(x, rng, grad_output=None) -> Case:
    source = rng if grad_output is None else _Fixed(grad_output)
    grad_output, expected = _torch_backward(torch.relu, (x,), source)
    return Case({"x": x, "grad_output": grad_output}, expected=expected)


def _relu_mistake(name: str, hint: str, gives: Callable) -> Mistake:
    """A mistaken relu backward: ``gives(x, grad_output)``."""
    return Mistake(name, hint, lambda case: gives(case["x"], case["grad_output"]))


_RELU_MISTAKES = (
    _relu_mistake(
        "gradient-at-zero",
        "your gradient is grad_output at x = 0 too: relu has no derivative at 0, and "
        "PyTorch uses 0 there (the gradient passes only where x > 0). Use `x > 0`, not "
        "`x >= 0`.",
        lambda x, g: g * (x >= 0),
    ),
    _relu_mistake(
        "mask-only",
        "you returned the mask only: multiply it by grad_output (chain rule).",
        lambda x, g: (x > 0) * 1.0,
    ),
    _relu_mistake(
        "unchanged",
        "you passed grad_output through unchanged: it must be zeroed where x <= 0.",
        lambda x, g: g,
    ),
    _relu_mistake(
        "mask-from-grad-output",
        "the mask must come from the input x (where relu let the value through), not "
        "from grad_output.",
        lambda x, g: g * (g > 0),
    ),
    _relu_mistake(
        "times-relu",
        "you multiplied by relu(x) itself; its derivative is 1 where x > 0 and 0 "
        "elsewhere: `grad_output * (x > 0)`.",
        lambda x, g: g * np.maximum(x, 0),
    ),
    _relu_mistake(
        "inverted",
        "your mask is inverted: the gradient passes where x > 0 and is 0 where x <= 0.",
        lambda x, g: g * (x <= 0),
    ),
)


_RELU = _backward_exercise("relu_backward", ("x",), _relu_cases, _RELU_MISTAKES)


# --- conv1d ---------------------------------------------------------------------------


def _conv1d_cases(use_stride: bool) -> Cases:
    return Cases(20, functools.partial(_generate_conv1d_cases, use_stride))


def _generate_conv1d_cases(use_stride: bool):
    rng = np.random.default_rng(3005)
    # (N, C_in, C_out, L, K, stride)
    configs = [
        (1, 2, 3, 6, 1, 1),  # a kernel of size 1
        (1, 2, 2, 4, 4, 1),  # a kernel as long as the input
        (1, 1, 2, 10, 2, 3),  # a stride larger than the kernel
        (1, 2, 1, 9, 3, 2),  # stride 2, every position read
        (2, 3, 2, 12, 3, 2),  # the last input position is read by no window
        (2, 3, 4, 9, 3, 1),  # channels and batch 2
    ]
    tiny_x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    tiny_w = np.array([[[1.0, 2.0, -1.0]]])
    yield _conv1d_case(tiny_x, tiny_w, 1, use_stride, np.array([[[1.0, -1.0, 2.0]]]))
    for n, c_in, c_out, length, k, stride in configs:
        if stride > 1 and not use_stride:
            continue
        x = rng.standard_normal((n, c_in, length))
        w = rng.standard_normal((c_out, c_in, k))
        yield _conv1d_case(x, w, stride, use_stride, rng)
    while True:
        n, c_in, c_out = (int(v) for v in rng.integers(1, 4, size=3))
        n = min(n, 2)
        k = int(rng.integers(1, 6))
        length = int(rng.integers(k, 13))
        stride = int(rng.integers(1, 4)) if use_stride else 1
        x = rng.standard_normal((n, c_in, length))
        w = rng.standard_normal((c_out, c_in, k))
        yield _conv1d_case(x, w, stride, use_stride, rng)


def _conv1d_case(x, w, stride, use_stride, source) -> Case:
    """``source`` is the random generator, or a hand-picked grad_output."""
    if isinstance(source, np.ndarray):
        source = _Fixed(source)

    def forward(x, w):
        return TF.conv1d(x, w, stride=stride)

    grad_output, expected = _torch_backward(forward, (x, w), source)
    keywords = {"stride": stride} if use_stride else {}
    return Case(
        {"x": x, "w": w, "grad_output": grad_output}, keywords, expected=expected
    )


def _grad_x_loops(w, g, length, stride, flip=False):
    """Accumulate grad_output · w into input positions t·stride + j (flip: mirrored)."""
    k = w.shape[2]
    kernel = w[:, :, ::-1] if flip else w
    grad = np.zeros((g.shape[0], w.shape[1], length))
    for t in range(g.shape[2]):
        for j in range(k):
            grad[:, :, t * stride + j] += g[:, :, t] @ kernel[:, :, j]
    return grad


def _grad_w_loops(x, g, k, stride, samples=slice(None)):
    """Accumulate grad_output · x[t·stride + j] into w[o, c, j], over ``samples``."""
    x, g = x[samples], g[samples]
    grad = np.zeros((g.shape[1], x.shape[1], k))
    for t in range(g.shape[2]):
        for j in range(k):
            grad[:, :, j] += g[:, :, t].T @ x[:, :, t * stride + j]
    return grad


def _grad_x_assigned(w, g, length, stride, order):
    """grad_x with `=` instead of `+=` in loops over (o, t, j) taken in ``order``."""
    c_out, _, k = w.shape
    ranges = {"o": range(c_out), "t": range(g.shape[2]), "j": range(k)}
    grad = np.zeros((g.shape[0], w.shape[1], length))
    for values in itertools.product(*(ranges[name] for name in order)):
        index = dict(zip(order, values))
        o, t, j = index["o"], index["t"], index["j"]
        grad[:, :, t * stride + j] = g[:, o, t, None] * w[o, :, j]
    return grad


def _grad_x_windows_assigned(w, g, length, stride, per_channel, outer="o"):
    """grad_x with whole windows assigned (=): per output channel, or summed over o."""
    c_out, _, k = w.shape
    grad = np.zeros((g.shape[0], w.shape[1], length))
    if not per_channel:
        for t in range(g.shape[2]):
            window = slice(t * stride, t * stride + k)
            grad[:, :, window] = np.einsum("no,ock->nck", g[:, :, t], w)
        return grad
    pairs = itertools.product(range(c_out), range(g.shape[2]))
    if outer == "t":
        pairs = ((o, t) for t, o in itertools.product(range(g.shape[2]), range(c_out)))
    for o, t in pairs:
        grad[:, :, t * stride : t * stride + k] = g[:, o, t, None, None] * w[o]
    return grad


def _conv1d_parts(case: Case):
    x, w, g = case["x"], case["w"], case["grad_output"]
    return x, w, g, case.get("stride", 1)


_ASSIGNED = (
    "several (output position, kernel tap) pairs reach the same {what}, and their "
    "contributions add up: you assigned (=) where you must accumulate (+=)."
)


def _grad_x_mistake(name: str, hint: str, gives: Callable) -> Mistake:
    """A mistaken grad_x: ``gives(w, grad_output, length, stride)``."""

    def grad_x(case: Case) -> np.ndarray:
        x, w, g, stride = _conv1d_parts(case)
        return gives(w, g, x.shape[2], stride)

    return Mistake(name, hint, grad_x, part=0)


def _grad_w_mistake(name: str, hint: str, gives: Callable) -> Mistake:
    """A mistaken grad_w: ``gives(x, grad_output, kernel size, stride, expected)``."""

    def grad_w(case: Case) -> np.ndarray:
        x, w, g, stride = _conv1d_parts(case)
        return gives(x, g, w.shape[2], stride, case.expected[1])

    return Mistake(name, hint, grad_w, part=1)


def _last_window_assigned(x, g, k, stride, expected) -> np.ndarray:
    last = (g.shape[2] - 1) * stride + np.arange(k)  # the taps of the last window
    return g[-1, :, -1][:, None, None] * x[-1][:, last][None]


_CONV1D_MISTAKES = (
    *map(_swapped(["x", "w"]), (0, 1)),
    _grad_x_mistake(
        "grad-x-kernel-flipped",
        "your grad_x uses the kernel flipped. Output position t multiplied "
        "x[n, c, t·stride + j] by w[o, c, j], so it sends grad_output[n, o, t] · "
        "w[o, c, j] back to that same position: the kernel as it is (a transposed "
        "convolution). If you correlated the zero-padded grad_output with the kernel, "
        "that correlation needs the kernel flipped.",
        lambda w, g, length, stride: _grad_x_loops(w, g, length, stride, flip=True),
    ),
    _grad_x_mistake(
        "grad-x-stride-ignored",
        "you ignored the stride: output position t read the inputs from t·stride to "
        "t·stride + K - 1, so that is where its gradient goes.",
        lambda w, g, length, stride: _grad_x_loops(w, g, length, 1),
    ),
    _grad_x_mistake(
        "grad-x-last-output-channel",
        "your grad_x only holds the last output channel's contribution: every output "
        "channel o read the input, so sum over o.",
        lambda w, g, length, stride: _grad_x_loops(w[-1:], g[:, -1:], length, stride),
    ),
    *(
        _grad_x_mistake(
            f"grad-x-assigned-{''.join(order)}",
            _ASSIGNED.format(what="input position"),
            functools.partial(
                lambda w, g, length, stride, order: _grad_x_assigned(
                    w, g, length, stride, order
                ),
                order=order,
            ),
        )
        for order in itertools.permutations("otj")
    ),
    *(
        _grad_x_mistake(
            f"grad-x-windows-assigned-{per_channel}-{outer}",
            _ASSIGNED.format(what="input position"),
            functools.partial(
                lambda w, g, length, stride, per_channel, outer: (
                    _grad_x_windows_assigned(w, g, length, stride, per_channel, outer)
                ),
                per_channel=per_channel,
                outer=outer,
            ),
        )
        for per_channel, outer in ((False, "o"), (True, "o"), (True, "t"))
    ),
    _grad_w_mistake(
        "grad-w-flipped",
        "your grad_w is flipped along the kernel axis: grad_w[o, c, j] = Σ_n Σ_t "
        "grad_output[n, o, t] · x[n, c, t·stride + j]; tap j pairs with the input at "
        "t·stride + j (a correlation of x with grad_output, nothing flipped).",
        lambda x, g, k, stride, expected: expected[:, :, ::-1],
    ),
    _grad_w_mistake(
        "grad-w-stride-ignored",
        "you ignored the stride: tap j of output position t multiplied "
        "x[n, c, t·stride + j].",
        lambda x, g, k, stride, expected: _grad_w_loops(x, g, k, 1),
    ),
    _grad_w_mistake(
        "grad-w-last-sample",
        "your grad_w only holds the last sample of the batch: the same weight served "
        "every sample, so the gradients of all samples add up (accumulate over n with "
        "+=, don't assign).",
        lambda x, g, k, stride, expected: _grad_w_loops(
            x, g, k, stride, slice(-1, None)
        ),
    ),
    _grad_w_mistake(
        "grad-w-first-sample",
        "your grad_w only holds the first sample of the batch: sum over the batch axis "
        "n.",
        lambda x, g, k, stride, expected: _grad_w_loops(x, g, k, stride, slice(0, 1)),
    ),
    _grad_w_mistake(
        "grad-w-batch-mean",
        "you averaged over the batch: the same weight served every sample, and the "
        "gradients add up (sum, no division).",
        lambda x, g, k, stride, expected: expected / x.shape[0],
    ),
    _grad_w_mistake(
        "grad-w-assigned",
        _ASSIGNED.format(what="weight entry"),
        _last_window_assigned,
    ),
)


def _conv1d_shape_hint(case: Case, index: int, got: np.ndarray) -> str:
    x, w = case["x"], case["w"]
    if index == 0:
        length = x.shape[2]
        if got.ndim == 3 and got.shape[:2] == x.shape[:2] and got.shape[2] < length:
            return (
                f"grad_x must have x's shape {shape_text(x.shape)}, including the last "
                "input positions that no window read (their gradient is 0): start from "
                "np.zeros(x.shape)."
            )
        return f"grad_x must have the shape of x, {shape_text(x.shape)}."
    return f"grad_w must have the shape of w, {shape_text(w.shape)}: (C_out, C_in, K)."


def _explain_conv1d_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, IndexError):
        x, w = case["x"], case["w"]
        return (
            f"an index ran past the end. Here L = {x.shape[2]}, K = {w.shape[2]}, "
            f"stride = {case.get('stride', 1)}: output position t (0 ≤ t < "
            f"{case['grad_output'].shape[2]}) read x[..., t·stride + j] for 0 ≤ j < K."
        )
    return None


def _conv1d_backward_exercise(use_stride: bool) -> Exercise:
    return _backward_exercise(
        "conv1d_backward",
        ("x", "w"),
        functools.partial(_conv1d_cases, use_stride),
        _CONV1D_MISTAKES,
        explain=_explain_conv1d_error,
        shape_hint=_conv1d_shape_hint,
    )


_CONV1D = _conv1d_backward_exercise(True)
_CONV1D_STRIDE_1 = _conv1d_backward_exercise(False)


# --- topological_sort -----------------------------------------------------------------


class SearchTooLong(RuntimeError):
    """Raised from ``Node.parents`` when a search reads them far too often."""


class RecursionUsed(RuntimeError):
    """Raised from ``Node.parents`` when the learner's function has called itself."""


class _Budget:
    """How often the nodes of one graph may have their parents read (10 times per node
    and edge, plenty for any search that explores each node once), and whether the
    search was seen calling itself."""

    def __init__(self):
        self.reads = 0
        self.limit = 0
        self.size = ""  # "63 nodes and 122 edges", for the message
        self.recursion: str | None = None  # the function that called itself

    def reset(self) -> None:
        self.reads, self.recursion = 0, None


_CHECKER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def _calls_itself(frame) -> str | None:
    """The name of a function of the learner's that is running twice on the stack
    above ``frame`` (recursion), up to the checker's own frames; None if there is
    none."""
    seen = set()
    while frame is not None:
        code = frame.f_code
        if code in seen:
            return code.co_name
        ours = _OURS.get(code)
        if ours is None:
            ours = _OURS[code] = os.path.abspath(code.co_filename).startswith(
                _CHECKER_DIR
            )
        if ours:
            return None
        seen.add(code)
        frame = frame.f_back
    return None


_OURS: dict = {}  # code object -> whether it belongs to labs.check


class Node:
    """A node of the checker's graphs: ``.name``, and ``.parents`` (the nodes it came
    from). Reading ``.parents`` is counted, and a search that calls itself to read them
    is noticed."""

    def __init__(self, name: str, parents, budget: _Budget):
        self.name = name
        self._parents = tuple(parents)
        self._budget = budget

    @property
    def parents(self) -> tuple:
        budget = self._budget
        budget.reads += 1
        if budget.reads > budget.limit:
            raise SearchTooLong(
                f"stopped after reading .parents {budget.reads:,} times, in a graph of "
                f"{budget.size}"
            )
        if budget.recursion is None:
            caller = _calls_itself(sys._getframe(1))
            if caller is not None:
                budget.recursion = caller
                raise RecursionUsed(f"{caller} calls itself")
        return self._parents

    def __repr__(self) -> str:
        return f"Node({self.name!r})"


def _graph_case(
    root: Node, description: str, nodes: list[Node], budget: _Budget
) -> Case:
    """A case whose argument is the root of a graph, described in words."""
    return Case(
        {"root": root},
        label=f"root={root!r} of {description}",
        nodes=nodes,
        budget=budget,
    )


class _Graph:
    """Builds the nodes of one case; each node lists its parents by name."""

    def __init__(self):
        self.budget = _Budget()
        self.nodes: dict[str, Node] = {}

    def add(self, name: str, *parents: str) -> Node:
        node = Node(name, [self.nodes[p] for p in parents], self.budget)
        self.nodes[name] = node
        return node

    def case(self, root: Node, description: str) -> Case:
        reachable = _reachable(root)
        edges = sum(len(node._parents) for node in reachable)
        self.budget.limit = 10 * (len(reachable) + edges) + 100
        self.budget.size = f"{len(reachable):,} nodes and {edges:,} edges"
        if description is None:
            description = "the graph " + "; ".join(
                f"{node.name} ← {', '.join(p.name for p in node._parents)}"
                for node in reversed(reachable)
                if node._parents
            )
        return _graph_case(root, description, reachable, self.budget)


def _sort_answer(learner, case: Case):
    """The learner's order for one graph; a search that called itself is refused,
    whether or not it finished (a raised recursion limit lets it finish)."""
    budget = case.info["budget"]
    budget.reset()
    try:
        answer = learner.call(case)
    except Mismatch:
        if budget.recursion is None:
            raise
        answer = None
    if budget.recursion is not None:
        raise Mismatch(
            f"your function calls itself ({budget.recursion} → {budget.recursion} → "
            "…): it is recursive.",
            details=[("where", f"in {budget.recursion}")],
            got=answer,
            hint="sort without recursion, as the exercise asks. A network's graph gets "
            "deep easily (a recurrent network unrolled over a long sequence; this "
            "checker has a chain of 10,000 nodes), deeper than Python's recursion "
            "limit, and raising the limit with `sys.setrecursionlimit` only trades the "
            "RecursionError for a crash of the interpreter. Keep your own stack in a "
            "list instead.",
        )
    return answer


def _reachable(root: Node) -> list[Node]:
    """The nodes reachable from ``root`` in a valid order (iterative post-order DFS)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _graph_cases():
    """Yields the 12 graph cases, smallest first."""
    rng = np.random.default_rng(3006)

    g = _Graph()
    yield g.case(g.add("x"), "a single node with no parents")

    g = _Graph()
    g.add("x"), g.add("y", "x")
    yield g.case(g.add("z", "y"), None)

    g = _Graph()
    g.add("a"), g.add("m", "a", "a")
    yield g.case(g.add("b", "m", "a"), "the graph of b = a·a + a: b ← m, a; m ← a, a")

    g = _Graph()
    g.add("a"), g.add("b", "a"), g.add("c", "a")
    yield g.case(g.add("d", "b", "c"), "a diamond: d ← b, c; b ← a; c ← a")

    g = _Graph()
    g.add("w"), g.add("x"), g.add("m", "w", "x"), g.add("s", "m", "w")
    yield g.case(g.add("loss", "s"), None)

    g = _Graph()
    g.add("l0"), g.add("r0")
    for level in range(1, 31):
        g.add(f"l{level}", f"l{level - 1}", f"r{level - 1}")
        g.add(f"r{level}", f"r{level - 1}", f"l{level - 1}")
    yield g.case(
        g.add("top", "l30", "r30"),
        "a ladder of 30 diamonds (63 nodes, 2^30 paths from top to l0)",
    )

    for size in (12, 25, 50, 100):
        g = _Graph()
        for number in range(size):
            count = int(rng.integers(0, 4)) if number else 0
            parents = rng.integers(0, max(number, 1), size=count)
            g.add(f"n{number}", *(f"n{int(p)}" for p in parents))
        root = g.add("root", *(f"n{number}" for number in range(size - 3, size)))
        reachable = len(_reachable(root))
        yield g.case(
            root,
            f"a random graph of {size + 1} nodes ({reachable} reachable from the root)",
        )

    g = _Graph()
    g.add("n0")
    for number in range(1, 10_000):
        g.add(f"n{number}", f"n{number - 1}")
    yield g.case(g.nodes["n9999"], "a chain of 10,000 nodes: n9999 ← n9998 ← … ← n0")

    g = _Graph()
    inputs = [g.add(f"x{number}").name for number in range(3000)]
    yield g.case(g.add("total", *inputs), "a node with 3,000 parents (all inputs)")


def _verify_order(answer, case: Case) -> None:
    """Type, then membership, then duplicates, then completeness, then the order."""
    if answer is None:
        raise none_mismatch()
    if isinstance(answer, Node):
        raise Mismatch(
            "your function returned a single node, not a list of nodes.",
            hint="return a list even when the graph has one node: [root].",
        )
    if not isinstance(answer, (list, tuple)):
        kind = type_phrase(answer)
        raise Mismatch(
            f"your function returned {kind}, not a list of nodes.",
            hint="collect the nodes in a list and return it (list(...) converts other "
            "iterables).",
        )
    nodes = case.info["nodes"]
    known = {id(node) for node in nodes}
    for position, item in enumerate(answer):
        if not isinstance(item, Node):
            raise Mismatch(
                f"element {position} of your list is {type_phrase(item)}, not a node.",
                hint="return the nodes themselves (the objects with .parents), not "
                "their names or values.",
            )
        if id(item) not in known:
            raise Mismatch(
                f"your list holds {item!r}, which the root does not depend on."
            )
    counts: dict[int, int] = {}
    for item in answer:
        counts[id(item)] = counts.get(id(item), 0) + 1
    twice = [item for item in answer if counts[id(item)] > 1]
    if twice:
        raise Mismatch(
            f"{twice[0]!r} appears {counts[id(twice[0])]} times in your list; every "
            "node must appear exactly once.",
            hint="a node reached along several paths (a diamond, or a node used twice "
            "as in a·a) is visited again along each path: keep a set of the nodes "
            "already visited and skip them.",
        )
    missing = [node for node in nodes if id(node) not in counts]
    if missing:
        root = case["root"]
        if any(node is root for node in missing):
            hint = "the root belongs in the order too: last, after all it depends on."
        elif all(not node._parents for node in missing):
            hint = (
                "the nodes without parents (the inputs) belong in the order too: "
                "backward gives them their gradients."
            )
        else:
            hint = "follow every parent of every node, not only the first one."
        shown = ", ".join(repr(node) for node in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise Mismatch(
            f"your list has {len(answer)} of the {len(nodes)} nodes reachable from the "
            f"root; missing: {shown}{more}.",
            hint=hint,
        )
    position = {id(item): index for index, item in enumerate(answer)}
    for node in answer:
        for parent in node._parents:
            if position[id(parent)] > position[id(node)]:
                reverse = _valid(list(reversed(answer)))
                raise Mismatch(
                    f"{node!r} (at position {position[id(node)]}) comes before its "
                    f"parent {parent!r} (at position {position[id(parent)]}).",
                    hint=(
                        "your order is reversed: it starts with the root. Backward "
                        "walks the nodes in that order, but the function must return "
                        "the opposite: every node after its parents, the root last."
                        if reverse
                        else "add a node to the order only after all of its parents "
                        "have been added (post-order depth-first search); an order "
                        "from a breadth-first search is not topological in general."
                    ),
                )


def _valid(order: list[Node]) -> bool:
    position = {id(item): index for index, item in enumerate(order)}
    return all(
        position[id(parent)] < position[id(node)]
        for node in order
        for parent in node._parents
    )


def _explain_sort_error(case: Case, error: Exception) -> str | None:
    if isinstance(error, RecursionError):
        return (
            f"your function calls itself once per node along a path, and this graph "
            f"is {len(case.info['nodes']):,} nodes deep: more than Python's recursion "
            f"limit ({sys.getrecursionlimit():,} nested calls). A network's graph "
            "gets this deep easily (a recurrent network unrolled over a long "
            "sequence). Keep your own stack in a list instead of recursing."
        )
    if isinstance(error, SearchTooLong):
        return (
            "your search explores a node again every time it reaches it along another "
            "path, and the number of paths doubles with every diamond in the graph. "
            "Keep a set of the nodes already visited and skip them."
        )
    if isinstance(error, AttributeError) and "Node" in str(error):
        return (
            "the checker's nodes have two attributes: .parents (a tuple of nodes) and "
            ".name (a str)."
        )
    return None


_SORT = Exercise(
    "topological_sort",
    lambda: Cases(12, _graph_cases),
    _verify_order,
    answer=_sort_answer,
    explain_error=_explain_sort_error,
)
