"""network_prediction and same_network: what their verdicts say. The contract test
runs the planted mistakes of ``planted/capstone.py``."""

from __future__ import annotations

import numpy as np
import torch

from .planted.capstone import (
    RIGHT_SHAPES,
    _with_shape,
    average_pooling,
    predict,
    same,
)
from .verdicts import assert_passed, flat


def test_right_prediction_passes():
    assert_passed(predict())


def test_prediction_names_the_wrong_layer():
    result = predict(shapes=_with_shape(2, (5, 16, 8, 8)))
    assert "after layer 2, MaxPool2d" in flat(result) and "(5, 16, 4, 4)" in flat(
        result
    )


def test_sizes_must_be_ints_not_things_int_accepts():
    """The issue: 4.5, 8.9, 256.0 and "32" went through int()."""
    for size in (4.5, 8.9, 16.0, "16"):
        result = predict(shapes=_with_shape(2, (5, size, 4, 4)))
        assert result.status == "failed", result.message
    assert predict(
        shapes=_with_shape(2, (5, np.int64(16), 4, 4))
    )  # numpy ints are ints
    assert predict(shapes=[list(shape) for shape in RIGHT_SHAPES])  # lists of ints too


def test_same_network_passes_the_right_network():
    result = same(average_pooling)
    assert_passed(result)
    assert "3 cases" in result.message


def test_same_network_under_labs_no_grad():
    """Building and back-propagating a labs network needs labs' gradients on."""
    import labs

    with labs.no_grad(), torch.no_grad():
        assert same(average_pooling)
        assert not labs.is_grad_enabled() and not torch.is_grad_enabled()
