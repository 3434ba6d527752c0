"""Checkers for the numpy convolution exercises: conv1d, conv2d, conv_transpose2d.

Each checker runs the learner's function on a few hand-picked edge cases, then on seeded
random ones, and compares with ``torch.nn.functional`` in float64. Only configurations
that PyTorch accepts are used. The keyword flags of a checker (``bias``, ``stride``,
...) say which features the exercise covers: a feature that is switched off is never
passed to the learner's function, and its default is used in every case.

Each usual mistake (kernel flipped, bias left out, padding on one side only, ...)
recomputes a case with PyTorch as the mistake would; it is named only when it gives the
learner's output on every case.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._compare import compare_values, require_ndarray
from labs.check._core import Case, Exercise, Impossible, Mistake, check
from labs.check._result import Result
from labs.check._text import join_words

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]

_DEFAULTS = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}


def conv1d(
    fn: Callable,
    *,
    bias: bool = True,
    stride: bool = True,
    padding: bool = True,
    dilation: bool = True,
    raise_on_failure: bool = False,
) -> Result:
    """Check a learner's numpy ``conv1d`` against ``torch.nn.functional.conv1d``.

    The learner writes ``fn(x, w, b=None, stride=1, padding=0, dilation=1)`` with
    numpy float64 arrays

    - ``x``: input of shape ``(N, C_in, L)``,
    - ``w``: weight of shape ``(C_out, C_in, K)``,
    - ``b``: bias of shape ``(C_out,)``, or None,

    and int ``stride``, ``padding`` (zeros on each side) and ``dilation``, returning
    the cross-correlation as a float64 array of shape ``(N, C_out, L_out)`` with
    ``L_out = floor((L + 2·padding - dilation·(K - 1) - 1) / stride) + 1``.

    A flag set to False leaves that feature out of the exercise: the argument is never
    passed (``conv1d(fn, bias=False, stride=False, padding=False, dilation=False)``
    checks ``fn(x, w)``). With ``bias=True``, ``b`` is always passed third, by position
    (an array in most cases, None in the others); the others are passed by keyword.

    Cases: 9 hand-picked ones (a tiny readable one, a kernel of size 1, a kernel as
    long as the input, a stride larger than the kernel, several channels with batch 2,
    padding, padding larger than K - 1, dilation, all together), then seeded random ones
    up to 40 in all (N ≤ 2, C_in, C_out ≤ 3, L ≤ 12, K ≤ 5, stride ≤ 3, padding ≤ 3,
    dilation ≤ 3).
    """
    features = {
        "bias": bias,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    return _check(_CONV1D, fn, features, False, raise_on_failure)


def conv2d(
    fn: Callable,
    *,
    bias: bool = True,
    stride: bool = True,
    padding: bool = True,
    dilation: bool = True,
    tuples: bool = True,
    raise_on_failure: bool = False,
) -> Result:
    """Check a learner's numpy ``conv2d`` against ``torch.nn.functional.conv2d``.

    The learner writes ``fn(x, w, b=None, stride=1, padding=0, dilation=1)`` with
    numpy float64 arrays

    - ``x``: input of shape ``(N, C_in, H, W)``,
    - ``w``: weight of shape ``(C_out, C_in, kH, kW)``,
    - ``b``: bias of shape ``(C_out,)``, or None,

    returning a float64 array of shape ``(N, C_out, H_out, W_out)`` with
    ``H_out = floor((H + 2·padding[0] - dilation[0]·(kH - 1) - 1) / stride[0]) + 1``
    and the same for ``W_out`` with index 1.

    ``stride``, ``padding`` and ``dilation`` come as an int in some cases and as a pair
    ``(height, width)`` in others, as in PyTorch: the function must accept both
    (``tuples=False`` passes ints only). The flags work as in :func:`conv1d`.

    Cases: 9 hand-picked ones (a tiny readable one, a 1×1 kernel, a kernel as large as
    the input, a non-square kernel with batch 2, stride, padding, dilation, pairs, a
    stride larger than the kernel), then seeded random ones up to 25 in all (N ≤ 2,
    C_in, C_out ≤ 3, H, W ≤ 7, kH, kW ≤ 4, stride ≤ 3, padding ≤ 2, dilation ≤ 2).
    """
    features = {
        "bias": bias,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    return _check(_CONV2D, fn, features, tuples, raise_on_failure)


def conv_transpose2d(
    fn: Callable,
    *,
    bias: bool = True,
    stride: bool = True,
    padding: bool = True,
    output_padding: bool = True,
    dilation: bool = True,
    tuples: bool = True,
    raise_on_failure: bool = False,
) -> Result:
    """Check a learner's numpy ``conv_transpose2d`` against PyTorch's.

    The learner writes
    ``fn(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1)`` with
    numpy float64 arrays

    - ``x``: input of shape ``(N, C_in, H, W)``,
    - ``w``: weight in the transposed layout ``(C_in, C_out, kH, kW)``,
    - ``b``: bias of shape ``(C_out,)``, or None,

    returning a float64 array of shape ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H - 1)·stride[0] - 2·padding[0] + dilation[0]·(kH - 1)
    + output_padding[0] + 1`` and the same for ``W_out``. The argument order is the
    learner's; PyTorch's own is ``output_padding, groups, dilation``.

    Hyperparameters come as an int or a pair ``(height, width)``, as in
    :func:`conv2d` (``tuples=False`` passes ints only); the flags work as in
    :func:`conv1d`.

    Cases: 8 hand-picked ones (a tiny readable one, C_in ≠ C_out, C_in = C_out with
    batch 2, stride, stride with padding and output_padding, dilation, output_padding
    with dilation, pairs), then seeded random ones up to 25 in all (N ≤ 2,
    C_in, C_out ≤ 3, H, W ≤ 5, kH, kW ≤ 3, stride ≤ 3, padding ≤ 2,
    output_padding ≤ 2, dilation ≤ 2).
    """
    features = {
        "bias": bias,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    return _check(_TRANSPOSED2D, fn, features, tuples, raise_on_failure)


# --- What differs between the three operations ---------------------------------------


@dataclass(frozen=True)
class _Operation:
    name: str
    dims: int
    transposed: bool
    oracle: Callable
    hyper: tuple[str, ...]  # hyperparameter names, in the learner's argument order
    ranges: dict  # name -> (low, high) for random cases, both included
    edge_cases: tuple
    count: int  # cases in all
    seed: int


def _edge(batch, c_in, c_out, size, kernel, bias=False, x=None, w=None, **hyper):
    """A hand-picked configuration; explicit x and w give a readable tiny case."""
    shapes = dict(batch=batch, c_in=c_in, c_out=c_out, size=size, kernel=kernel)
    return dict(shapes, bias=bias, x=x, w=w, **hyper)


def _ranges(size, kernel, stride, padding, dilation, output_padding=None) -> dict:
    """(low, high) of each random draw, both included."""
    ranges = dict(size=size, kernel=kernel, stride=stride, padding=padding)
    ranges.update(dilation=dilation, output_padding=output_padding)
    return ranges


# The tiny first case of each checker, small integers so that a verdict can show them.
_TINY_1D = np.arange(1.0, 6.0).reshape(1, 1, 5), np.array([[[1.0, 2.0, -1.0]]])
_TINY_2D = np.arange(1.0, 10.0).reshape(1, 1, 3, 3), np.array([[[[1.0, 2.0], [0, -1]]]])
_TINY_T2D = np.array([[[[1.0, 2.0], [3, 4]]]]), np.array([[[[1.0, -1.0], [2, 0]]]])

_CONV1D = _Operation(
    name="conv1d",
    dims=1,
    transposed=False,
    oracle=TF.conv1d,
    hyper=("stride", "padding", "dilation"),
    ranges=_ranges(
        size=(1, 12), kernel=(1, 5), stride=(1, 3), padding=(0, 3), dilation=(1, 3)
    ),
    edge_cases=(
        _edge(1, 1, 1, (5,), (3,), x=_TINY_1D[0], w=_TINY_1D[1]),
        _edge(1, 2, 3, (6,), (1,), bias=True),  # kernel of size 1
        _edge(1, 2, 2, (4,), (4,)),  # kernel as long as the input
        _edge(1, 1, 2, (10,), (2,), bias=True, stride=3),  # stride > kernel size
        _edge(2, 3, 4, (9,), (3,), bias=True),  # several channels, batch 2
        _edge(1, 2, 2, (6,), (3,), bias=True, padding=1),
        _edge(1, 1, 1, (4,), (2,), padding=3),  # padding larger than K - 1
        _edge(1, 2, 1, (9,), (3,), dilation=2),
        _edge(2, 2, 3, (11,), (3,), bias=True, stride=2, padding=2, dilation=3),
    ),
    count=40,
    seed=1001,
)

_CONV2D = _Operation(
    name="conv2d",
    dims=2,
    transposed=False,
    oracle=TF.conv2d,
    hyper=("stride", "padding", "dilation"),
    ranges=_ranges(
        size=(1, 7), kernel=(1, 4), stride=(1, 3), padding=(0, 2), dilation=(1, 2)
    ),
    edge_cases=(
        _edge(1, 1, 1, (3, 3), (2, 2), x=_TINY_2D[0], w=_TINY_2D[1]),
        _edge(1, 2, 3, (4, 5), (1, 1), bias=True),  # 1×1 kernel
        _edge(1, 2, 2, (3, 4), (3, 4)),  # kernel as large as the input
        _edge(2, 3, 2, (5, 6), (2, 3), bias=True),  # non-square kernel, batch 2
        _edge(1, 2, 2, (7, 7), (3, 3), bias=True, stride=2),
        _edge(1, 1, 2, (5, 5), (3, 3), bias=True, padding=1),
        _edge(1, 2, 1, (7, 6), (2, 2), dilation=2),
        _edge(
            1,
            2,
            2,
            (6, 7),
            (3, 2),
            bias=True,
            stride=(2, 1),
            padding=(0, 2),
            dilation=(1, 2),
        ),
        _edge(1, 1, 1, (7, 7), (2, 2), bias=True, stride=3),  # stride > kernel size
    ),
    count=25,
    seed=1002,
)

_TRANSPOSED2D = _Operation(
    name="conv_transpose2d",
    dims=2,
    transposed=True,
    oracle=TF.conv_transpose2d,
    hyper=("stride", "padding", "output_padding", "dilation"),
    ranges=_ranges(
        size=(1, 5),
        kernel=(1, 3),
        stride=(1, 3),
        padding=(0, 2),
        dilation=(1, 2),
        output_padding=(0, 2),
    ),
    edge_cases=(
        _edge(1, 1, 1, (2, 2), (2, 2), x=_TINY_T2D[0], w=_TINY_T2D[1]),
        _edge(1, 2, 3, (3, 3), (2, 2), bias=True),  # C_in ≠ C_out
        _edge(2, 2, 2, (3, 4), (3, 2), bias=True),  # C_in = C_out, batch 2
        _edge(1, 1, 2, (3, 3), (3, 3), stride=2),
        _edge(
            1, 2, 1, (3, 4), (3, 3), bias=True, stride=2, padding=1, output_padding=1
        ),
        _edge(1, 1, 1, (3, 3), (2, 2), dilation=2),
        _edge(1, 1, 2, (3, 3), (2, 2), bias=True, output_padding=1, dilation=2),
        _edge(
            1,
            2,
            2,
            (3, 3),
            (2, 3),
            bias=True,
            stride=(2, 1),
            padding=(1, 0),
            output_padding=(1, 0),
            dilation=(1, 2),
        ),
    ),
    count=25,
    seed=1003,
)


# --- Cases ----------------------------------------------------------------------------


def _check(
    op: _Operation, fn: Callable, features: dict, tuples: bool, raise_on_failure: bool
) -> Result:
    exercise = Exercise(
        op.name,
        lambda: _cases(op, features, tuples),
        _compare,
        mistakes=_MISTAKES[op.name],
        describe=functools.partial(_shape_hint, op),
        explain_error=functools.partial(_explain_error, op),
    )
    return check(exercise, fn, raise_on_failure=raise_on_failure)


def _cases(op: _Operation, features: dict, tuples: bool) -> list[Case]:
    """The hand-picked cases the exercise covers, then random ones up to op.count."""
    rng = np.random.default_rng(op.seed)
    cases, seen = [], set()

    def add(config: dict) -> None:
        key = repr(sorted((k, v) for k, v in config.items() if k not in ("x", "w")))
        if key in seen:
            return
        case = _make_case(op, config, features, rng)
        if case is not None:
            seen.add(key)
            cases.append(case)

    for config in op.edge_cases:
        if tuples or not any(isinstance(config.get(n), tuple) for n in op.hyper):
            add(_restrict(op, config, features))
    while len(cases) < op.count:
        add(_random_config(op, features, tuples, rng))
    return cases


def _restrict(op: _Operation, config: dict, features: dict) -> dict:
    """The configuration with each feature the exercise leaves out at its default."""
    config = {**{name: _DEFAULTS[name] for name in op.hyper}, **config}
    for name in op.hyper:
        if not features[name]:
            config[name] = _DEFAULTS[name]
    config["bias"] = config["bias"] and features["bias"]
    return config


def _random_config(op: _Operation, features: dict, tuples: bool, rng) -> dict:
    def draw(name: str):
        low, high = op.ranges[name]
        if name in ("size", "kernel"):
            return tuple(int(v) for v in rng.integers(low, high + 1, size=op.dims))
        if op.dims == 2 and tuples and rng.random() < 0.5:  # a pair (height, width)
            return tuple(int(v) for v in rng.integers(low, high + 1, size=2))
        return int(rng.integers(low, high + 1))

    config = {
        "batch": int(rng.integers(1, 3)),
        "c_in": int(rng.integers(1, 4)),
        "c_out": int(rng.integers(1, 4)),
        "size": draw("size"),
        "kernel": draw("kernel"),
        "bias": bool(features["bias"] and rng.random() < 2 / 3),
    }
    for name in op.hyper:
        config[name] = draw(name) if features[name] else _DEFAULTS[name]
    return config


def _make_case(op: _Operation, config: dict, features: dict, rng) -> Case | None:
    """Arrays for a configuration and PyTorch's answer; None if PyTorch rejects it."""
    c_in, c_out = config["c_in"], config["c_out"]
    x, w = config.get("x"), config.get("w")
    if x is None:
        x = rng.standard_normal((config["batch"], c_in, *config["size"]))
    if w is None:
        channels = (c_in, c_out) if op.transposed else (c_out, c_in)
        w = rng.standard_normal((*channels, *config["kernel"]))
    x, w = x.copy(), w.copy()  # each case owns its arrays
    b = rng.standard_normal(c_out) if config["bias"] else None
    hyper = {name: config[name] for name in op.hyper}
    try:
        expected = _oracle(op, x, w, b, hyper)
    except RuntimeError:  # PyTorch rejects this configuration
        return None
    positional = {"x": x, "w": w}
    if features["bias"]:
        positional["b"] = b
    keywords = {name: value for name, value in hyper.items() if features[name]}
    return Case(positional, keywords, expected=expected)


def _oracle(op: _Operation, x, w, b, hyper: dict) -> np.ndarray:
    def tensor(array):
        return None if array is None else torch.from_numpy(np.ascontiguousarray(array))

    return op.oracle(tensor(x), tensor(w), tensor(b), **hyper).numpy()


def _compare(got, case: Case) -> None:
    compare_values(require_ndarray(got), case.expected, what="output", label="out")


# --- Hints ----------------------------------------------------------------------------


def _pairs(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, tuple) else (value,) * dims


def _again(op: _Operation, case: Case, **changes) -> np.ndarray:
    """PyTorch's answer to ``case`` with some arguments changed, as a mistake has them."""
    arguments = {"x": case["x"], "w": case["w"], "b": case.get("b")}
    arguments.update({k: changes.pop(k) for k in ("x", "w", "b") if k in changes})
    hyper = {name: case.get(name, _DEFAULTS[name]) for name in op.hyper}
    return _oracle(
        op, arguments["x"], arguments["w"], arguments["b"], {**hyper, **changes}
    )


def _c_in(case: Case) -> int:
    return case["x"].shape[1]


def _input_channel(op: _Operation, case: Case, index: slice) -> np.ndarray:
    """The case computed from one input channel only."""
    w = case["w"][index] if op.transposed else case["w"][:, index]
    return _again(op, case, x=case["x"][:, index], w=w)


def _swapped_channel_axes(op: _Operation, case: Case) -> np.ndarray:
    w = case["w"]
    if w.shape[0] != w.shape[1]:
        raise Impossible("the swapped weight does not fit the input's channels")
    return _again(op, case, w=w.swapaxes(0, 1))


def _bias_on_last_axis(op: _Operation, case: Case) -> np.ndarray:
    b = case.get("b")
    return _again(op, case) if b is None else _again(op, case, b=None) + b


def _padded_one_side(op: _Operation, case: Case, side: int) -> np.ndarray:
    padding = _pairs(case.get("padding", 0), op.dims)
    widths = [(p, 0) if side == 0 else (0, p) for p in padding]
    return _again(op, case, x=np.pad(case["x"], [(0, 0), (0, 0), *widths]), padding=0)


def _swapped_pair(op: _Operation, name: str, case: Case) -> np.ndarray:
    value = case.get(name, _DEFAULTS[name])
    return (
        _again(op, case, **{name: value[::-1]})
        if isinstance(value, tuple)
        else (_again(op, case))
    )


def _swapped_pair_hint(name: str) -> Callable:
    def hint(case: Case) -> str:
        value = case.get(name)
        return (
            f"you swapped the height and width of {name}: a pair is (height, width), "
            f"so {name}={value} means {value[0]} along the height (axis 2) and "
            f"{value[1]} along the width (axis 3)."
        )

    return hint


def _count_divided(op: _Operation, case: Case) -> np.ndarray:
    """The output cut to (size + 2p - span + 1) // stride positions along each axis."""
    expected = case.info["expected"]
    sizes, kernel = case["x"].shape[2:], case["w"].shape[2:]
    settings = (_pairs(case.get(n, _DEFAULTS[n]), op.dims) for n in op.hyper)
    cut = tuple(
        slice(0, (size + 2 * p - d * (k - 1)) // s)
        for size, k, s, p, d in zip(sizes, kernel, *settings)
    )
    return expected[(slice(None), slice(None), *cut)]


def _mistakes(op: _Operation) -> tuple[Mistake, ...]:
    """The usual mistakes of one operation, each computed with PyTorch."""
    spatial = tuple(range(2, 2 + op.dims))
    if op.transposed:
        flipped = (
            "your output matches the result with the kernel flipped. A transposed "
            "convolution adds each input value times the kernel as it is: "
            "out[n, o, i·stride + k·dilation] += x[n, c, i] · w[c, o, k] (per axis)."
        )
    else:
        flipped = (
            "your output matches a true convolution (kernel flipped). "
            f"{op.name} in PyTorch is a cross-correlation: out[n, o, j] = "
            "Σ_c Σ_k w[o, c, k] · x[n, c, j·stride + k·dilation] (per axis), with the "
            "kernel as it is."
        )
    mistakes = [
        Mistake(
            "kernel-flipped",
            flipped,
            lambda case: _again(op, case, w=np.flip(case["w"], spatial)),
        ),
        Mistake(
            "bias-missing",
            "your output matches the result without the bias: add b[o] to every value "
            "of output channel o.",
            lambda case: _again(op, case, b=None),
        ),
        Mistake(
            "bias-per-input-channel",
            "you added the bias once per input channel: add it once per output value, "
            "after the sum over the input channels.",
            lambda case: _again(
                op, case, b=None if case.get("b") is None else case["b"] * _c_in(case)
            ),
        ),
        Mistake(
            "bias-on-last-axis",
            "the bias was added along the last axis: it belongs to the channel axis 1, "
            f"`out += b[None, :, {', '.join(['None'] * op.dims)}]`.",
            functools.partial(_bias_on_last_axis, op),
        ),
        Mistake(
            "first-input-channel-only",
            "your output only uses the first input channel: sum over all C_in input "
            "channels.",
            lambda case: _input_channel(op, case, slice(0, 1)),
        ),
        Mistake(
            "last-input-channel-only",
            "your output only uses the last input channel: in the loop over input "
            "channels the result was assigned (=) instead of accumulated (+=).",
            lambda case: _input_channel(op, case, slice(-1, None)),
        ),
        Mistake(
            "channel-axes-swapped",
            "you swapped the two channel axes of the weight: its layout is "
            f"{_layout(op)}.",
            functools.partial(_swapped_channel_axes, op),
        ),
    ]
    if not op.transposed:
        sides = ["on the left", "on the right"]
        if op.dims == 2:
            sides = ["at the top and left", "at the bottom and right"]
        mistakes += [
            Mistake(
                f"padding-one-side-{side}",
                f"you padded only {words}: padding p adds p zeros on each side of every "
                "spatial axis (2p in all).",
                functools.partial(_padded_one_side, op, side=side),
            )
            for side, words in enumerate(sides)
        ]
    mistakes.append(
        Mistake(
            "stride-dilation-swapped",
            "you swapped stride and dilation: the stride is the step between output "
            "positions, the dilation the step between kernel taps.",
            lambda case: _again(
                op, case, stride=case.get("dilation", 1), dilation=case.get("stride", 1)
            ),
        )
    )
    ignored = {
        "stride": "successive outputs are stride input positions apart",
        "padding": "it adds zeros on each side of the input",
        "output_padding": "it adds output_padding rows/columns at the bottom/right end "
        "of the output (they receive only the bias)",
        "dilation": "the kernel taps are dilation apart",
    }
    if op.transposed:
        ignored["stride"] = "successive inputs are scattered stride positions apart"
        ignored["padding"] = "it crops padding elements from each side of the output"
    mistakes += [
        Mistake(
            f"{name}-ignored",
            f"you ignored {name}: {ignored[name]}.",
            functools.partial(
                lambda name, case: _again(op, case, **{name: _DEFAULTS[name]}), name
            ),
        )
        for name in op.hyper
    ]
    if not op.transposed:
        mistakes.append(
            Mistake(
                "count-divided-by-stride",
                "you computed the number of outputs as (L + 2p - d(K - 1)) // stride, "
                "the count for stride 1 divided by the stride, which is one short "
                "whenever the stride does not divide it. The first output is at "
                "position 0, then one every stride positions: "
                f"{_size_formula(op)}.",
                functools.partial(_count_divided, op),
            )
        )
    if op.dims == 2:
        mistakes += [
            Mistake(
                f"{name}-height-width-swapped",
                _swapped_pair_hint(name),
                functools.partial(_swapped_pair, op, name),
            )
            for name in op.hyper
        ]
    return tuple(mistakes)


def _layout(op: _Operation) -> str:
    if op.transposed:
        return "(C_in, C_out, kH, kW)"
    return "(C_out, C_in, K)" if op.dims == 1 else "(C_out, C_in, kH, kW)"


def _size_formula(op: _Operation) -> str:
    if op.transposed:
        return (
            "H_out = (H - 1)·stride - 2·padding + dilation·(kH - 1) "
            "+ output_padding + 1 (per axis)"
        )
    if op.dims == 1:
        return "L_out = floor((L + 2·padding - dilation·(K - 1) - 1) / stride) + 1"
    return (
        "H_out = floor((H + 2·padding - dilation·(kH - 1) - 1) / stride) + 1 (per axis)"
    )


def _shape_hint(op: _Operation, case: Case, got, wrong=None) -> str | None:
    """A hint from the shape alone, when no mistake reproduced the learner's output."""
    expected = case.info["expected"]
    got = np.asarray(got)
    if got.shape == expected.shape:
        return None
    if got.ndim != expected.ndim:
        axes = "(N, C_out, L_out)" if op.dims == 1 else "(N, C_out, H_out, W_out)"
        return (
            f"the output has {expected.ndim} axes: {axes}, with the batch axis first."
        )
    if got.shape[0] != expected.shape[0]:
        return f"the first axis is the batch: N = x.shape[0] = {expected.shape[0]}."
    if got.shape[1] != expected.shape[1]:
        source = "w.shape[1]" if op.transposed else "w.shape[0]"
        return (
            f"the output has C_out = {source} = {expected.shape[1]} channels (axis 1): "
            f"the weight's layout is {_layout(op)}."
        )
    diffs = [g - e for g, e in zip(got.shape[2:], expected.shape[2:])]
    sizes = ", ".join(map(str, expected.shape[2:]))
    formula = f"{_size_formula(op)}, which is {sizes} here"
    if op.transposed:
        padding = _pairs(case.get("padding", 0), op.dims)
        extra = _pairs(case.get("output_padding", 0), op.dims)
        if any(extra) and diffs == [-a for a in extra]:
            return (
                "your output is output_padding too small along each axis, as if "
                f"output_padding were 0: {formula}."
            )
        if any(padding) and diffs == [4 * p for p in padding]:
            return (
                "your output is 4·padding too large: padding in a transposed "
                f"convolution is cropped from the output, not added: {formula}."
            )
        if any(padding) and diffs == [2 * p for p in padding]:
            return (
                "your output is 2·padding too large: crop padding elements from each "
                f"side of the output: {formula}."
            )
    elif set(diffs) <= {-1, 0, 1}:
        axes = ["length"] if op.dims == 1 else ["height", "width"]
        off = [
            f"one too {'long' if d > 0 else 'short'} in {a}"
            for d, a in zip(diffs, axes)
            if d
        ]
        return (
            f"your output is {join_words(off)}. A kernel spanning K inputs fits at "
            f"L - K + 1 positions in an input of length L (not L - K, not L); in "
            f"general {formula}. Check the range of your loop."
        )
    return f"check the output size: {formula}."


_SIGNATURE_ERROR = re.compile(r"positional argument|multiple values|unexpected keyword")


def _explain_error(op: _Operation, case: Case, error: Exception) -> str | None:
    """A hint for an exception raised by the learner's function."""
    text = str(error)
    if isinstance(error, TypeError) and _SIGNATURE_ERROR.search(text):
        call = ", ".join([*case.positional, *(f"{k}=..." for k in case.keywords)])
        return (
            f"the checker calls your function as fn({call}). Give it these parameters "
            "in this order, or leave out the features your exercise does not cover "
            f"with the checker's flags, e.g. check.{op.name}(fn, bias=False)."
        )
    no_bias = "b" in case and case["b"] is None
    if no_bias and isinstance(error, TypeError) and "None" in text:
        return "b can be None, meaning no bias: add the bias only `if b is not None`."
    pairs = [name for name in op.hyper if isinstance(case.get(name), tuple)]
    if pairs and isinstance(error, (TypeError, ValueError, IndexError)):
        return (
            f"this case passes {join_words(pairs)} as pairs (height, width), as PyTorch "
            "allows. If your function expects ints, accept both, e.g. "
            "`sh, sw = (stride, stride) if isinstance(stride, int) else stride`."
        )
    if isinstance(error, IndexError):
        return (
            "an index went past the end of an array: check your loop bounds against "
            f"the output size, {_size_formula(op)}, and which input positions you read."
        )
    return None


_MISTAKES = {op.name: _mistakes(op) for op in (_CONV1D, _CONV2D, _TRANSPOSED2D)}
