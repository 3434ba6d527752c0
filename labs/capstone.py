"""The capstone's data, network and training loop (chapter 9), for either library.

Every function that builds or trains takes the library as its first argument, ``labs``
or ``torch``: because ``labs`` mirrors PyTorch's API, the same lines of code build and
train the network in both, and the chapter can compare them step by step. The
benchmarks (``benchmarks/run.py``) time one epoch of exactly this code.

    X_train, X_test, y_train, y_test = load_digits_split()
    network = make_network(labs)
    optimizer = labs.optim.Adam(network.parameters(), lr=0.005)
    for epoch in range(10):
        train_epoch(labs, network, optimizer, X_train, y_train, epoch)
    print(accuracy(labs, network, X_test, y_test))

Only the library passed in is used: this module imports neither torch nor scikit-learn
at import time.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "load_digits_split",
    "make_network",
    "batches",
    "train_epoch",
    "predict",
    "accuracy",
]


def load_digits_split(dtype=np.float32):
    """scikit-learn's 8×8 handwritten digits, split 75/25, every digit in
    proportion.

    Returns ``X_train, X_test, y_train, y_test``: images of shape
    ``(N, 1, 8, 8)`` scaled from 0..16 to 0..1, and integer labels 0..9. The
    data ships with scikit-learn, so nothing is downloaded.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16).astype(dtype)[:, None]
    return train_test_split(
        images,
        digits.target,
        test_size=0.25,
        random_state=0,
        stratify=digits.target,
    )


def make_network(lib):
    """A small LeNet-style network for 1×8×8 images: two conv-tanh-pool
    blocks, two linear layers."""
    nn = lib.nn
    return nn.Sequential(
        # 1×8×8 -> 16×8×8 -> 16×4×4
        nn.Conv2d(1, 16, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        # -> 32×4×4 -> 32×2×2
        nn.Conv2d(16, 32, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),  # 128 numbers per image
        nn.Linear(128, 64),
        nn.Tanh(),
        nn.Linear(64, 10),  # a score per digit
    )


def batches(n: int, epoch: int, size: int = 32):
    """Index arrays of the mini-batches of one epoch: a shuffle seeded by
    the epoch, so both libraries see the same batches in the same order."""
    order = np.random.default_rng(epoch).permutation(n)
    for start in range(0, n, size):
        yield order[start : start + size]


def train_epoch(
    lib,
    network,
    optimizer,
    X,
    y,
    epoch: int,
    size: int = 32,
    dtype=np.float32,
):
    """One pass over ``(X, y)`` in mini-batches; the loss of every step."""
    loss_fn = lib.nn.CrossEntropyLoss()
    losses = []
    for index in batches(len(X), epoch, size):
        optimizer.zero_grad()
        scores = network(lib.tensor(X[index].astype(dtype)))
        loss = loss_fn(scores, lib.tensor(y[index]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def predict(lib, network, X, dtype=np.float32):
    """The predicted digit for every image, as a numpy array."""
    with lib.no_grad():
        return network(lib.tensor(X.astype(dtype))).argmax(dim=1).numpy()


def accuracy(lib, network, X, y, dtype=np.float32) -> float:
    """The fraction of images in ``X`` predicted as their label in ``y``."""
    return float(np.mean(predict(lib, network, X, dtype) == y))
