"""The capstone's checkers pass right answers and reject planted wrong ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import labs
from labs import check


def deeper(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.Tanh(),
        nn.Flatten(), nn.Linear(128, 64), nn.Tanh(), nn.Linear(64, 10),
    )


RIGHT_COUNT = 160 + 4640 + 9248 + 8256 + 650
RIGHT_SHAPES = [(5, 16, 8, 8), (5, 16, 8, 8), (5, 16, 4, 4), (5, 32, 4, 4), (5, 32, 4, 4),
                (5, 32, 2, 2), (5, 32, 2, 2), (5, 32, 2, 2), (5, 128), (5, 64), (5, 64),
                (5, 10)]


def predict(parameters=RIGHT_COUNT, shapes=RIGHT_SHAPES):
    return check.network_prediction(deeper, parameters, shapes, input_shape=(5, 1, 8, 8))


def test_right_prediction_passes():
    result = predict()
    assert result and result.status == "passed"


def test_missing_prediction_is_not_attempted():
    assert predict(parameters=None).status == "not attempted"
    assert predict(shapes=...).status == "not attempted"
    # the advice fits a value left blank, not a function that raises
    assert "in place of the `None`s" in predict(parameters=None).message


@pytest.mark.parametrize("wrong, hint", [
    (dict(parameters=RIGHT_COUNT - 16 - 32 - 32 - 64 - 10), "biases"),
    (dict(parameters=RIGHT_COUNT + 1), "layer by layer"),
    (dict(parameters=float(RIGHT_COUNT)), None),
    (dict(shapes=RIGHT_SHAPES[:-1]), "every layer"),
    (dict(shapes=RIGHT_SHAPES[:2] + [(5, 16, 8, 8)] + RIGHT_SHAPES[3:]), "pooling"),
    (dict(shapes=RIGHT_SHAPES[:8] + [(5, 32)] + RIGHT_SHAPES[9:]), "Flatten"),
], ids=["no biases", "off by one", "float count", "a layer missing", "pooling ignored",
        "flatten wrong"])
def test_wrong_predictions_are_rejected(wrong, hint):
    result = predict(**wrong)
    assert not result and result.status == "failed"
    if hint:
        assert hint in result.message


def test_prediction_names_the_wrong_layer():
    result = predict(shapes=RIGHT_SHAPES[:2] + [(5, 16, 8, 8)] + RIGHT_SHAPES[3:])
    assert "after layer 2, MaxPool2d" in result.message
    assert "(5, 16, 4, 4)" in result.message


def average_pooling(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64, 10),
    )


def test_same_network_passes_the_right_network():
    result = check.same_network(average_pooling, average_pooling, lib=labs,
                                input_shape=(3, 1, 8, 8))
    assert result and "3 cases" in result.message


def test_same_network_rejects_max_instead_of_average():
    def max_pooling(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64, 10))

    result = check.same_network(max_pooling, average_pooling, lib=labs,
                                input_shape=(3, 1, 8, 8))
    assert not result and "output" in result.message


def test_same_network_rejects_different_layers():
    def wider(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2),
                             nn.Flatten(), nn.Linear(128, 10))

    result = check.same_network(wider, average_pooling, lib=labs, input_shape=(3, 1, 8, 8))
    assert not result and "parameters of your network differ" in result.message


def test_same_network_stub_and_errors():
    def stub(lib):
        raise NotImplementedError

    def broken(lib):
        raise ValueError("no such layer")

    assert check.same_network(stub, average_pooling, lib=labs,
                              input_shape=(3, 1, 8, 8)).status == "not attempted"
    result = check.same_network(broken, average_pooling, lib=labs, input_shape=(3, 1, 8, 8))
    assert result.status == "failed" and "ValueError: no such layer" in result.message


def test_checkers_leave_the_global_random_state_alone():
    torch.manual_seed(5)
    np.random.seed(5)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    predict()
    check.same_network(average_pooling, average_pooling, lib=labs, input_shape=(2, 1, 8, 8))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
