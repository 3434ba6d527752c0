"""The capstone's data, network and training loop (labs.capstone) in both libraries."""

import numpy as np
import pytest
import torch

import labs
from labs import capstone


@pytest.fixture(scope="module")
def data():
    return capstone.load_digits_split()


def test_split_is_stratified_and_scaled(data):
    X_train, X_test, y_train, y_test = data
    assert X_train.shape == (1347, 1, 8, 8) and X_test.shape == (450, 1, 8, 8)
    assert X_train.dtype == np.float32
    assert X_train.min() >= 0 and X_train.max() == 1
    # every digit as common in the test set as in the training set, to within one image
    expected = np.bincount(y_train) * len(y_test) / len(y_train)
    assert np.all(np.abs(np.bincount(y_test) - expected) <= 1)


@pytest.mark.parametrize("n, size", [(1347, 32), (10, 3), (64, 32)])
def test_batches_cover_every_index_once(n, size):
    batches = list(capstone.batches(n, epoch=3, size=size))
    assert all(len(b) == size for b in batches[:-1]) and 0 < len(batches[-1]) <= size
    assert sorted(np.concatenate(batches)) == list(range(n))
    assert not np.array_equal(np.concatenate(batches), np.arange(n))  # shuffled
    again = np.concatenate(list(capstone.batches(n, epoch=3, size=size)))
    assert np.array_equal(np.concatenate(batches), again)  # the same for both libraries


def test_network_parameters_match_torch():
    ours, theirs = capstone.make_network(labs), capstone.make_network(torch)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert sum(p.numel() for p in ours.parameters()) == 13706


def test_training_steps_agree_with_torch_in_float64(data):
    X_train, _, y_train, _ = data
    torch.manual_seed(1)
    theirs = capstone.make_network(torch).double()
    ours = capstone.make_network(labs).double()
    ours.load_state_dict(theirs.state_dict())
    sgd_t = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    sgd_l = labs.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    X, y = X_train[:160], y_train[:160]
    losses_t = capstone.train_epoch(
        torch, theirs, sgd_t, X, y, epoch=5, dtype=np.float64
    )
    losses_l = capstone.train_epoch(labs, ours, sgd_l, X, y, epoch=5, dtype=np.float64)
    assert len(losses_l) == 5
    np.testing.assert_allclose(losses_l, losses_t, rtol=1e-12, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert losses_l[-1] != losses_l[0]  # training moved the weights


def test_predict_and_accuracy(data):
    _, X_test, _, y_test = data
    torch.manual_seed(0)
    theirs = capstone.make_network(torch)
    ours = capstone.make_network(labs)
    ours.load_state_dict(theirs.state_dict())
    predictions = capstone.predict(labs, ours, X_test)
    assert predictions.shape == (450,) and set(predictions) <= set(range(10))
    np.testing.assert_array_equal(predictions, capstone.predict(torch, theirs, X_test))
    assert capstone.accuracy(labs, ours, X_test, y_test) == np.mean(
        predictions == y_test
    )
    assert capstone.accuracy(labs, ours, X_test, predictions) == 1.0
