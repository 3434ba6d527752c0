"""Run PyTorch's own test samples (OpInfo) through labs and compare with torch.

PyTorch describes each of its operators with an ``OpInfo`` in
``torch.testing._internal.common_methods_invocations.op_db``: how to call it, and
generators of *sample inputs* (shapes, broadcasting, scalars, keyword arguments, edge
cases its authors thought of) and *error inputs* (calls that must raise). For every
OpInfo whose operator labs implements (:data:`OPS`), :func:`run_op`

* converts each float64 sample to labs (tensors, dtypes, nested lists and tuples);
* calls torch and labs, and compares the outputs: structure, shape, dtype, values;
* back-propagates the same random upstream gradient through both and compares the
  gradient of every input that requires one;
* runs every error input through labs, which must raise the same exception type.

What labs deliberately does not support is listed in :data:`EXCLUSIONS`, each with its
reason; an excluded sample is counted and reported, never skipped silently.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable

import numpy as np
import torch

import labs
import labs.functional as F

RTOL, ATOL = 1e-7, 1e-9


def _method(name: str) -> Callable:
    return lambda input, *args, **kwargs: getattr(input, name)(*args, **kwargs)


# OpInfo name (with its variant, as "name.variant") -> the labs callable with torch's
# signature for that OpInfo's ``op``.
OPS: dict[str, Callable] = {
    "abs": labs.ops.abs,
    "add": labs.ops.add,
    "sub": labs.ops.sub,
    "rsub": labs.ops.rsub,
    "mul": labs.ops.mul,
    "div.no_rounding_mode": labs.ops.div,
    "div.floor_rounding": labs.ops.div,
    "div.trunc_rounding": labs.ops.div,
    "true_divide": labs.ops.div,
    "pow": labs.ops.pow,
    "neg": labs.ops.neg,
    "exp": labs.ops.exp,
    "log": labs.ops.log,
    "sin": labs.ops.sin,
    "cos": labs.ops.cos,
    "sqrt": labs.ops.sqrt,
    "tanh": labs.ops.tanh,
    "sigmoid": labs.ops.sigmoid,
    "nn.functional.relu": F.relu,
    "clamp": labs.ops.clamp,
    "maximum": labs.ops.maximum,
    "minimum": labs.ops.minimum,
    "max.binary": labs.ops.max,
    "min.binary": labs.ops.min,
    "max.reduction_no_dim": labs.ops.max,
    "max.reduction_with_dim": labs.ops.max,
    "min.reduction_no_dim": labs.ops.min,
    "min.reduction_with_dim": labs.ops.min,
    "argmax": labs.ops.argmax,
    "where": _method("where"),
    "matmul": labs.ops.matmul,
    "mm": labs.ops.mm,
    "sum": labs.ops.sum,
    "mean": labs.ops.mean,
    "reshape": labs.ops.reshape,
    "view": _method("view"),
    "flatten": labs.ops.flatten,
    "unsqueeze": labs.ops.unsqueeze,
    "squeeze": labs.ops.squeeze,
    "expand": _method("expand"),
    "transpose": labs.ops.transpose,
    "permute": labs.ops.permute,
    "t": _method("t"),
    "__getitem__": _method("__getitem__"),
    "cat": labs.ops.cat,
    "stack": labs.ops.stack,
    "clone": _method("clone"),
    "float": _method("float"),
    "double": _method("double"),
    "long": _method("long"),
    "int": _method("int"),
    "__radd__": _method("__radd__"),
    "__rsub__": _method("__rsub__"),
    "__rmul__": _method("__rmul__"),
    "__rdiv__": _method("__rtruediv__"),
    "__rpow__": _method("__rpow__"),
    "__rmatmul__": _method("__rmatmul__"),
    "log_softmax": labs.ops.log_softmax,
    "softmax": labs.ops.softmax,
    "nn.functional.conv1d": F.conv1d,
    "nn.functional.conv2d": F.conv2d,
    "nn.functional.conv_transpose1d": F.conv_transpose1d,
    "nn.functional.conv_transpose2d": F.conv_transpose2d,
    "nn.functional.pad.constant": F.pad,
    "nn.functional.pad.reflect": F.pad,
    "nn.functional.pad.replicate": F.pad,
    "nn.functional.pad.circular": F.pad,
    "nn.functional.max_pool1d": F.max_pool1d,
    "nn.functional.max_pool2d": F.max_pool2d,
    "nn.functional.avg_pool1d": F.avg_pool1d,
    "nn.functional.avg_pool2d": F.avg_pool2d,
    "nn.functional.linear": F.linear,
    "nn.functional.nll_loss": F.nll_loss,
    "nn.functional.cross_entropy": F.cross_entropy,
    "nn.functional.mse_loss": F.mse_loss,
}


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """Samples of one op that labs deliberately does not support, and why."""

    op: str  # an OPS key, or "*" for every op
    applies: Callable  # applies(sample) -> bool
    reason: str


def _has_kwarg(*names):
    return lambda sample: any(name in sample.kwargs for name in names)


# Everything labs deliberately leaves out of PyTorch's API. labs/__init__.py's docstring
# lists the same features for readers.
EXCLUSIONS: list[Exclusion] = [
    Exclusion(
        "*", _has_kwarg("out"), "no out= arguments: labs always returns a new tensor"
    ),
]


def _not_a_tensor(sample):
    return not isinstance(sample.input, torch.Tensor)


ERROR_EXCLUSIONS: list[Exclusion] = [
    # e.g. torch.Tensor.__radd__(3, 3): PyTorch's C methods check the type of ``self``;
    # a Python method (labs's) cannot be called unbound that way by accident, since
    # ``3 + 3`` never reaches it.
    *(
        Exclusion(
            name,
            _not_a_tensor,
            "a Tensor method called with a number as self: "
            "Python never routes an operator there, so labs does not check it",
        )
        for name in ("__radd__", "__rsub__", "__rmul__", "__rdiv__", "__rpow__")
    ),
]


# --------------------------------------------------------------------------------------
# Converting torch values to labs values
# --------------------------------------------------------------------------------------

_DTYPES = {
    torch.float64: np.float64,
    torch.float32: np.float32,
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.bool: np.bool_,
    torch.uint8: np.uint8,
    torch.int16: np.int16,
    torch.int8: np.int8,
    torch.float16: np.float16,
}


class Unsupported(Exception):
    """A sample that cannot be expressed in labs at all (e.g. a complex tensor)."""


def to_labs(value, memo: dict):
    """A labs copy of a (nested) torch value; the same torch tensor maps to one labs tensor."""
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            if value.dtype not in _DTYPES:
                raise Unsupported(f"dtype {value.dtype}")
            array = value.detach().cpu().numpy().copy()
            memo[id(value)] = labs.tensor(array, requires_grad=value.requires_grad)
        return memo[id(value)]
    if isinstance(value, torch.dtype):
        if value not in _DTYPES:
            raise Unsupported(f"dtype {value}")
        return np.dtype(_DTYPES[value])
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, list):
        return [to_labs(v, memo) for v in value]
    if isinstance(value, tuple):
        return tuple(to_labs(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: to_labs(v, memo) for k, v in value.items()}
    if isinstance(value, torch.memory_format):
        return str(value)  # labs accepts memory_format and ignores it
    if isinstance(value, (torch.device, torch.layout)):
        raise Unsupported(type(value).__name__)
    return value


# --------------------------------------------------------------------------------------
# Comparing results
# --------------------------------------------------------------------------------------


class Mismatch(Exception):
    pass


def _flatten(value) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _compare_arrays(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    if got.shape != expected.shape:
        raise Mismatch(f"{what}: shape {got.shape}, torch {expected.shape}")
    if got.dtype != expected.dtype:
        raise Mismatch(f"{what}: dtype {got.dtype}, torch {expected.dtype}")
    if expected.dtype.kind == "f":
        if not np.allclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=True):
            with np.errstate(invalid="ignore"):
                error = np.nan_to_num(np.abs(got - expected), nan=np.inf)
            worst = (
                np.unravel_index(np.argmax(error), error.shape) if error.size else ()
            )
            raise Mismatch(
                f"{what}: values differ, worst at {worst}: "
                f"{got[worst]!r} vs torch {expected[worst]!r}"
            )
    elif not np.array_equal(got, expected):
        raise Mismatch(f"{what}: values differ")


def _as_expected_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def compare_outputs(got, expected) -> None:
    got_leaves, expected_leaves = _flatten(got), _flatten(expected)
    if len(got_leaves) != len(expected_leaves):
        raise Mismatch(f"{len(got_leaves)} outputs, torch {len(expected_leaves)}")
    for index, (g, e) in enumerate(zip(got_leaves, expected_leaves)):
        what = f"output {index}"
        if isinstance(e, torch.Tensor):
            if not isinstance(g, labs.Tensor):
                raise Mismatch(f"{what}: {type(g).__name__}, torch a Tensor")
            _compare_arrays(g.detach().data, _as_expected_array(e), what)
        elif isinstance(e, (bool, numbers.Number)):
            if isinstance(g, labs.Tensor):
                raise Mismatch(f"{what}: a Tensor, torch {type(e).__name__}")
            if not (
                g == e or (isinstance(e, float) and math.isnan(e) and math.isnan(g))
            ):
                raise Mismatch(f"{what}: {g!r}, torch {e!r}")
        elif g != e:
            raise Mismatch(f"{what}: {g!r}, torch {e!r}")


# --------------------------------------------------------------------------------------
# Running one OpInfo
# --------------------------------------------------------------------------------------


def _differentiable(leaves) -> list:
    return [
        t
        for t in leaves
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point
    ]


def _compare_gradients(torch_out, labs_out, torch_inputs, memo, seed) -> bool:
    """Compare the gradients of every input for one random upstream gradient.

    Returns False when no output of torch's requires grad (nothing to compare).
    """
    torch_leaves = [
        t
        for t in _flatten(torch_out)
        if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    if not torch_leaves:
        return False
    labs_all = _flatten(labs_out)
    torch_all = _flatten(torch_out)
    labs_leaves = [
        labs_all[i]
        for i, t in enumerate(torch_all)
        if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    for index, leaf in enumerate(labs_leaves):
        if not (isinstance(leaf, labs.Tensor) and leaf.requires_grad):
            raise Mismatch(f"output {index} does not require grad in labs")
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(t.shape) for t in torch_leaves]
    inputs = torch_inputs
    expected = torch.autograd.grad(
        torch_leaves,
        inputs,
        [torch.from_numpy(u).to(t.dtype) for u, t in zip(upstream, torch_leaves)],
        allow_unused=True,
    )
    got = labs.autograd.grad(
        labs_leaves,
        [memo[id(t)] for t in inputs],
        [u.astype(leaf.dtype) for u, leaf in zip(upstream, labs_leaves)],
        allow_unused=True,
    )
    for index, (g, e) in enumerate(zip(got, expected)):
        shape = inputs[index].shape
        g = np.zeros(shape) if g is None else g.data
        e = np.zeros(shape) if e is None else e.numpy()
        _compare_arrays(g, e, f"gradient of input {index}")
    return True


def _excluded(name: str, sample, exclusions) -> str | None:
    for exclusion in exclusions:
        if exclusion.op in (name, "*") and exclusion.applies(sample):
            return exclusion.reason
    return None


def _labs_call(name: str, sample, exclusions):
    """(labs args, labs kwargs, memo), or the reason the sample is excluded (a str)."""
    reason = _excluded(name, sample, exclusions)
    if reason:
        return reason
    memo: dict = {}
    try:
        return (
            to_labs((sample.input, *sample.args), memo),
            to_labs(dict(sample.kwargs), memo),
            memo,
        )
    except Unsupported as error:
        return f"not expressible in labs: {error}"


def run_sample(name: str, opinfo, sample, seed: int) -> tuple[str, str]:
    """('pass' | 'fail' | 'excluded', detail) for one sample input."""
    call = _labs_call(name, sample, EXCLUSIONS)
    if isinstance(call, str):
        return "excluded", call
    labs_args, labs_kwargs, memo = call
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = opinfo(sample.input, *sample.args, **sample.kwargs)
        except Exception as error:  # torch refuses: labs must refuse with the same type
            try:
                OPS[name](*labs_args, **labs_kwargs)
            except type(error):
                return "pass", "both raised"
            except Exception as other:
                return (
                    "fail",
                    f"torch raised {type(error).__name__}, labs {type(other).__name__}: {other}",
                )
            return "fail", f"torch raised {type(error).__name__}: {error}; labs did not"
        try:
            got = OPS[name](*labs_args, **labs_kwargs)
        except Exception as error:
            return "fail", f"labs raised {type(error).__name__}: {error}"
    checked = "forward"
    try:
        compare_outputs(got, expected)
        if opinfo.supports_autograd:
            torch_inputs = _differentiable(
                _flatten((sample.input, *sample.args, *sample.kwargs.values()))
            )
            torch_inputs = list({id(t): t for t in torch_inputs}.values())
            if torch_inputs and _compare_gradients(
                expected, got, torch_inputs, memo, seed
            ):
                checked = "forward and backward"
    except Mismatch as error:
        return "fail", str(error)
    except Exception as error:
        return "fail", f"labs raised {type(error).__name__} in backward: {error}"
    return "pass", checked


def run_error(name: str, error_input) -> tuple[str, str]:
    call = _labs_call(name, error_input.sample_input, EXCLUSIONS + ERROR_EXCLUSIONS)
    if isinstance(call, str):
        return "excluded", call
    labs_args, labs_kwargs, _ = call
    expected = error_input.error_type
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            OPS[name](*labs_args, **labs_kwargs)
    except expected:
        return "pass", ""
    except Exception as error:
        return "fail", (
            f"error input: torch raises {expected.__name__} "
            f"({error_input.error_regex}), labs {type(error).__name__}: {error}"
        )
    return (
        "fail",
        f"error input: torch raises {expected.__name__} ({error_input.error_regex}); labs did not",
    )


def run_op(opinfo) -> list[tuple[str, str]]:
    """The outcome of every sample and error input of one OpInfo."""
    name = opinfo.name + (
        f".{opinfo.variant_test_name}" if opinfo.variant_test_name else ""
    )
    outcomes = []
    torch.manual_seed(0)
    samples = opinfo.sample_inputs(
        "cpu", torch.float64, requires_grad=opinfo.supports_autograd
    )
    for index, sample in enumerate(samples):
        outcomes.append(run_sample(name, opinfo, sample, seed=index))
    errors = list(opinfo.error_inputs("cpu")) if opinfo.error_inputs_func else []
    for error_input in errors:
        outcomes.append(run_error(name, error_input))
    return outcomes


def summary(outcomes) -> collections.Counter:
    return collections.Counter(kind for kind, _ in outcomes)
