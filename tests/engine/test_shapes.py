"""labs.shapes against the sizes PyTorch actually produces, over whole parameter grids."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import labs
import labs.functional as F
from labs import shapes


def torch_conv_size(i, k, s, p, d):
    x = torch.empty(1, 1, i, device="meta")
    w = torch.empty(1, 1, k, device="meta")
    return TF.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]


def test_conv_output_size_over_a_grid():
    checked = 0
    for i, k, s, p, d in itertools.product(
        range(1, 13), range(1, 6), range(1, 5), range(4), range(1, 4)
    ):
        if i + 2 * p < d * (k - 1) + 1:
            with pytest.raises(ValueError, match="no window fits"):
                shapes.conv_output_size(i, k, s, p, d)
            continue
        assert shapes.conv_output_size(i, k, s, p, d) == torch_conv_size(i, k, s, p, d)
        checked += 1
    assert checked > 2000


def test_conv_transpose_output_size_over_a_grid():
    checked = 0
    for i, k, s, p, d, e in itertools.product(
        range(1, 9), range(1, 6), range(1, 4), range(4), range(1, 4), range(3)
    ):
        if e >= s and e >= d:
            with pytest.raises(ValueError, match="output_padding"):
                shapes.conv_transpose_output_size(i, k, s, p, d, e)
            continue
        x = torch.empty(1, 1, i, device="meta")
        w = torch.empty(1, 1, k, device="meta")
        try:
            expected = TF.conv_transpose1d(
                x, w, stride=s, padding=p, output_padding=e, dilation=d
            ).shape[-1]
        except RuntimeError:
            with pytest.raises(ValueError):
                shapes.conv_transpose_output_size(i, k, s, p, d, e)
            continue
        assert shapes.conv_transpose_output_size(i, k, s, p, d, e) == expected
        checked += 1
    assert checked > 1000


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_over_a_grid(ceil_mode):
    for i, k, s, p, d in itertools.product(
        range(1, 10), range(1, 5), range(1, 4), range(3), range(1, 3)
    ):
        x = torch.zeros(1, 1, i)
        try:
            expected = TF.max_pool1d(x, k, s, p, d, ceil_mode=ceil_mode).shape[-1]
        except RuntimeError:
            with pytest.raises(ValueError):
                shapes.pool_output_size(i, k, s, p, d, ceil_mode)
            with pytest.raises(RuntimeError):
                F.max_pool1d(labs.zeros(1, 1, i), k, s, p, d, ceil_mode=ceil_mode)
            continue
        assert shapes.pool_output_size(i, k, s, p, d, ceil_mode) == expected
        # the layers themselves agree too (average pooling has no dilation)
        assert (
            F.max_pool1d(labs.zeros(1, 1, i), k, s, p, d, ceil_mode).shape[-1]
            == expected
        )
        if d == 1:
            assert (
                F.avg_pool1d(labs.zeros(1, 1, i), k, s, p, ceil_mode).shape[-1]
                == expected
            )


def test_pool_stride_defaults_to_the_kernel():
    assert shapes.pool_output_size(9, 3) == 3
    assert shapes.pool_output_size(10, 3) == 3
    assert shapes.pool_output_size(10, 3, ceil_mode=True) == 4


def test_the_transposed_size_inverts_the_convolution_size():
    for i, k, s, p in itertools.product(
        range(3, 12), range(1, 4), range(1, 4), range(2)
    ):
        if i + 2 * p < k:
            continue
        o = shapes.conv_output_size(i, k, s, p)
        leftover = (
            i + 2 * p - k
        ) % s  # relationship 14: the output_padding that restores i
        assert (
            shapes.conv_transpose_output_size(o, k, s, p, output_padding=leftover) == i
        )


def gradient_receptive_field(layers, length=129):
    """Receptive field measured, not computed: which inputs does one output depend on?"""
    x = torch.zeros(1, 1, length, requires_grad=True, dtype=torch.float64)
    y = x
    for k, s, d in layers:
        y = TF.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, y.shape[-1] // 2].backward()
    touched = np.flatnonzero(x.grad[0, 0].numpy())
    return touched[-1] - touched[0] + 1


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 3)),
        min_size=1,
        max_size=4,
    )
)
def test_receptive_field_matches_the_gradient(layers):
    assert shapes.receptive_field(layers).size == gradient_receptive_field(layers)


def test_receptive_field_of_dilated_stack():
    """Dilations 1, 2, 4, 8 with k = 2 (WaveNet-style): 16 inputs; undilated: 5."""
    assert (
        shapes.receptive_field([(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)]).size == 16
    )
    assert shapes.receptive_field([(2, 1)] * 4).size == 5
    assert shapes.receptive_field([(3, 2), (3, 2)]) == shapes.ReceptiveField(
        size=7, jump=4
    )


def test_bad_arguments():
    with pytest.raises(TypeError, match="int"):
        shapes.conv_output_size(5.0, 3)
    with pytest.raises(ValueError, match="stride"):
        shapes.conv_output_size(5, 3, s=0)
    with pytest.raises(ValueError, match=r"\(k, s\)"):
        shapes.receptive_field([(3,)])
    assert shapes.effective_kernel_size(3, 2) == 5
