"""Bad input raises the same exception type as PyTorch, with a message that states the rule.

Each case calls labs and torch with the same arguments. The labs message must also name
the sizes involved, so a learner can see what went wrong without a debugger.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import labs
import labs.functional as F

from .helpers import same_error


def both(*shapes, dtype=np.float64):
    """Zero arrays of the given shapes, as (labs tensors, torch tensors)."""
    arrays = [np.zeros(s, dtype=dtype) for s in shapes]
    return [labs.tensor(a) for a in arrays], [torch.from_numpy(a) for a in arrays]


# (description, function name, input shapes, keyword arguments, words the message must contain)
CONV_ERRORS = [
    (
        "channel mismatch",
        "conv2d",
        [(1, 3, 5, 5), (4, 2, 3, 3)],
        {},
        ["2 channels", "3 channels", "[4, 2, 3, 3]"],
    ),
    (
        "kernel larger than padded input",
        "conv2d",
        [(1, 3, 2, 2), (4, 3, 3, 3)],
        {},
        ["(2 x 2)", "(3 x 3)"],
    ),
    (
        "dilated kernel too large",
        "conv1d",
        [(1, 1, 5), (1, 1, 3)],
        {"dilation": 3},
        ["(5)", "(7)"],
    ),
    (
        "5-D input to conv2d",
        "conv2d",
        [(1, 1, 3, 5, 5), (4, 1, 3, 3)],
        {},
        ["[1, 1, 3, 5, 5]", "4D"],
    ),
    ("2-D weight to conv1d", "conv1d", [(1, 2, 5), (4, 2)], {}, ["[4, 2]"]),
    (
        "groups not dividing out channels",
        "conv2d",
        [(1, 4, 5, 5), (4, 2, 3, 3)],
        {"groups": 3},
        ["groups=3", "[4, 2, 3, 3]"],
    ),
    (
        "groups not matching in channels",
        "conv2d",
        [(1, 4, 5, 5), (4, 1, 3, 3)],
        {"groups": 2},
        ["2 channels", "4 channels"],
    ),
    (
        "negative padding",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"padding": -1},
        ["negative padding"],
    ),
    ("zero stride", "conv2d", [(1, 4, 5, 5), (4, 4, 3, 3)], {"stride": 0}, ["stride"]),
    (
        "zero dilation",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"dilation": 0},
        ["dilation", "[0, 0]"],
    ),
    ("zero groups", "conv2d", [(1, 4, 5, 5), (4, 4, 3, 3)], {"groups": 0}, ["groups"]),
    (
        "same padding with stride",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"stride": 2, "padding": "same"},
        ["strided"],
    ),
    (
        "unknown padding string",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"padding": "full"},
        ["'full'"],
    ),
    (
        "stride of the wrong length",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"stride": (1, 1, 1)},
        ["[1, 1, 1]"],
    ),
    (
        "padding tuple too long in 1-D",
        "conv1d",
        [(1, 4, 5), (4, 4, 3)],
        {"padding": (1, 1)},
        ["[1, 1]"],
    ),
    (
        "bias of the wrong size",
        "conv2d",
        [(1, 4, 5, 5), (4, 4, 3, 3), (3,)],
        {},
        ["4 elements", "[3]"],
    ),
    ("empty kernel", "conv2d", [(1, 4, 5, 5), (4, 4, 0, 3)], {}, ["greater than zero"]),
    (
        "output_padding equal to stride",
        "conv_transpose2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"stride": 2, "output_padding": 2},
        ["output padding", "stride"],
    ),
    (
        "output_padding without stride",
        "conv_transpose2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"output_padding": 1},
        ["smaller than either stride or dilation"],
    ),
    (
        "transposed channel mismatch",
        "conv_transpose2d",
        [(1, 3, 5, 5), (4, 4, 3, 3)],
        {},
        ["transposed=1", "4 channels", "3 channels"],
    ),
    (
        "transposed output too small",
        "conv_transpose1d",
        [(1, 2, 2), (2, 2, 3)],
        {"padding": 3},
        ["(2)", "Output size is too small"],
    ),
    (
        "transposed with string padding",
        "conv_transpose2d",
        [(1, 4, 5, 5), (4, 4, 3, 3)],
        {"padding": "same"},
        ["padding"],
    ),
    (
        "non-integer stride",
        "conv1d",
        [(1, 4, 5), (4, 4, 3)],
        {"stride": 1.5},
        ["stride"],
    ),
]


@pytest.mark.parametrize("case", CONV_ERRORS, ids=[c[0] for c in CONV_ERRORS])
def test_convolution_errors(case):
    _, name, shapes, kwargs, words = case
    labs_args, torch_args = both(*shapes)
    message = same_error(
        lambda: getattr(F, name)(*labs_args, **kwargs),
        lambda: getattr(TF, name)(*torch_args, **kwargs),
    )
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_dtype_mismatch():
    x, w = (
        labs.tensor(np.zeros((1, 2, 5))),
        labs.tensor(np.zeros((3, 2, 3), np.float32)),
    )
    message = same_error(
        lambda: F.conv1d(x, w),
        lambda: TF.conv1d(
            torch.zeros(1, 2, 5, dtype=torch.float64), torch.zeros(3, 2, 3)
        ),
    )
    assert "float64" in message and "float32" in message


POOL_ERRORS = [
    (
        "padding more than half the kernel",
        "max_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 3, "padding": 2},
        ["pad=2", "kernel_size=3"],
    ),
    (
        "avg padding more than half",
        "avg_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 3, "padding": 2},
        ["pad=2"],
    ),
    (
        "negative padding",
        "max_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 3, "padding": -1},
        ["non-negative"],
    ),
    (
        "kernel larger than input",
        "max_pool2d",
        (1, 1, 2, 2),
        {"kernel_size": 3},
        ["(1x2x2)", "too small"],
    ),
    (
        "kernel larger than 1-D input",
        "avg_pool1d",
        (1, 1, 2),
        {"kernel_size": 3},
        ["too small"],
    ),
    (
        "zero kernel",
        "max_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 0},
        ["kernel_size", "[0, 0]"],
    ),
    (
        "zero stride",
        "max_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 2, "stride": 0},
        ["stride"],
    ),
    (
        "zero dilation",
        "max_pool1d",
        (1, 1, 5),
        {"kernel_size": 2, "dilation": 0},
        ["dilation"],
    ),
    (
        "5-D input",
        "max_pool2d",
        (1, 1, 1, 5, 5),
        {"kernel_size": 2},
        ["[1, 1, 1, 5, 5]"],
    ),
    ("2-D input to a 2-D pool", "max_pool2d", (5, 5), {"kernel_size": 2}, ["[5, 5]"]),
    (
        "zero divisor",
        "avg_pool2d",
        (1, 1, 5, 5),
        {"kernel_size": 2, "divisor_override": 0},
        ["divisor"],
    ),
]


@pytest.mark.parametrize("case", POOL_ERRORS, ids=[c[0] for c in POOL_ERRORS])
def test_pooling_errors(case):
    _, name, shape, kwargs, words = case
    (x,), (tx,) = both(shape)
    message = same_error(
        lambda: getattr(F, name)(x, **kwargs), lambda: getattr(TF, name)(tx, **kwargs)
    )
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


PAD_ERRORS = [
    ("odd length", (1, 2, 5), (1,), "constant", ["divisible by 2"]),
    (
        "longer than the input has dimensions",
        (5,),
        (1, 1, 1, 1),
        "constant",
        ["padding length 4", "dimension 1"],
    ),
    ("reflect on a 1-D tensor", (5,), (1, 1), "reflect", ["1D"]),
    (
        "reflect of three dims of a 3-D tensor",
        (2, 5, 5),
        (1, 1, 1, 1, 1, 1),
        "reflect",
        ["3D"],
    ),
    (
        "reflect as wide as the input",
        (1, 2, 3),
        (3, 3),
        "reflect",
        ["(3, 3)", "[1, 2, 3]"],
    ),
    (
        "circular wrapping twice",
        (1, 2, 3),
        (4, 0),
        "circular",
        ["wrapping around more than once"],
    ),
    ("replicate of an empty dimension", (1, 2, 0), (1, 1), "replicate", ["[1, 2, 0]"]),
    ("unknown mode", (1, 2, 3), (1, 1), "zeros", ["zeros"]),
]


@pytest.mark.parametrize("case", PAD_ERRORS, ids=[c[0] for c in PAD_ERRORS])
def test_pad_errors(case):
    _, shape, amounts, mode, words = case
    (x,), (tx,) = both(shape)
    message = same_error(
        lambda: F.pad(x, amounts, mode=mode), lambda: TF.pad(tx, amounts, mode=mode)
    )
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_pad_value_with_a_non_constant_mode():
    (x,), (tx,) = both((1, 2, 3))
    same_error(
        lambda: F.pad(x, (1, 1), mode="reflect", value=1.0),
        lambda: TF.pad(tx, (1, 1), mode="reflect", value=1.0),
    )


OP_ERRORS = [
    ("matmul inner sizes", lambda lib, a, b: a @ b, [(2, 3), (4, 5)], ["2x3", "4x5"]),
    ("matmul of a scalar", lambda lib, a, b: lib.matmul(a, b), [(), (3,)], ["1D"]),
    (
        "reshape to a wrong size",
        lambda lib, a: a.reshape(4, 2),
        [(2, 3)],
        ["[4, 2]", "6"],
    ),
    (
        "two inferred dims",
        lambda lib, a: a.reshape(-1, -1),
        [(2, 3)],
        ["one dimension"],
    ),
    ("dim out of range", lambda lib, a: a.sum(3), [(2, 3)], ["[-2, 1]", "3"]),
    (
        "permute of the wrong length",
        lambda lib, a: a.permute(0, 1, 2),
        [(2, 3)],
        ["2", "3"],
    ),
    (
        "expand of a non-singleton dim",
        lambda lib, a: a.expand(4, 3),
        [(2, 3)],
        ["(4)", "(2)"],
    ),
    (
        "cat with mismatched sizes",
        lambda lib, a, b: lib.cat([a, b], 0),
        [(2, 3), (2, 4)],
        ["[2, 3]", "[2, 4]"],
    ),
    ("item of many elements", lambda lib, a: a.item(), [(2, 3)], ["6 elements"]),
    (
        "cross_entropy target too large",
        lambda lib, a: (
            lib.nn.functional.cross_entropy(a, lib.tensor([0, 5]))
            if lib is torch
            else F.cross_entropy(a, labs.tensor([0, 5]))
        ),
        [(2, 3)],
        ["5"],
    ),
    (
        "cross_entropy target shape",
        lambda lib, a: (
            lib.nn.functional.cross_entropy(a, lib.tensor([0]))
            if lib is torch
            else F.cross_entropy(a, labs.tensor([0]))
        ),
        [(2, 3)],
        ["[2]", "[1]"],
    ),
]


@pytest.mark.parametrize("case", OP_ERRORS, ids=[c[0] for c in OP_ERRORS])
def test_op_errors(case):
    _, fn, shapes, words = case
    labs_args, torch_args = both(*shapes)
    message = same_error(lambda: fn(labs, *labs_args), lambda: fn(torch, *torch_args))
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_functional_rejects_non_tensors():
    with pytest.raises(TypeError, match="must be a labs.Tensor, not ndarray"):
        F.conv1d(np.zeros((1, 1, 4)), labs.tensor(np.zeros((1, 1, 2))))
