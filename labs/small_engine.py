"""Chapter 7's small engine, grown until it trains a CNN on the digits (chapter 9).

Chapter 7's exercises build an engine of about forty lines: a :class:`Tensor` holds a
float64 array, the tensors it was computed from (``parents``) and a ``backward_fn``;
``backward()`` walks a topological order from the loss and adds each node's gradients
into its parents. This module is that engine, with the chapter-7 pieces in their worked
form, plus what a small CNN on the 8×8 digits needs::

    unfold (3×3 windows as rows) -> matmul -> add bias -> relu
      -> channels first -> max_pool2d -> flatten -> matmul -> add bias
      -> cross_entropy

The functions an :class:`Engine` calls are its *pieces*, named in :data:`PIECES`:
chapter 7's ``topological_sort``, ``matmul_backward`` and ``relu_backward``, and
chapter 9's ``log_softmax``, ``cross_entropy_backward``, ``max_pool2d_backward`` and
``sgd_step``. ``Engine(**pieces)`` uses the ones it is given (a learner's) and the
course's for the rest; :func:`mine_or_reference` picks, for each piece, the learner's if
it passes its checker. The other operations (unfold, bias, reshapes) come with their
backward written here, since they teach nothing new.

Only numpy is imported: like ``labs``, the engine never calls torch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PIECES",
    "Tensor",
    "Engine",
    "SmallCNN",
    "make_small_network",
    "mine_or_reference",
]

PIECES = (
    "topological_sort",
    "matmul_backward",
    "relu_backward",
    "log_softmax",
    "cross_entropy_backward",
    "max_pool2d_backward",
    "sgd_step",
)


class Tensor:
    """Chapter 7's tensor: an array, its parents, and how to send them gradients."""

    def __init__(self, data, parents=(), backward_fn=None):
        self.data = np.asarray(data, dtype=np.float64)
        self.parents = tuple(parents)
        # grad_output -> one gradient per parent
        self.backward_fn = backward_fn
        self.grad = None


# --- The course's pieces: chapter 7's worked solutions, and chapter 9's --------------


def _topological_sort(root):
    order, seen, stack = [], {id(root)}, [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:
            order.append(node)
            stack.pop()
    return order


def _matmul_backward(a, b, grad_output):
    return grad_output @ b.T, a.T @ grad_output


def _relu_backward(x, grad_output):
    return grad_output * (x > 0)


def _log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy_backward(scores, labels, grad_output):
    probabilities = np.exp(_log_softmax(scores))
    probabilities[np.arange(len(labels)), labels] -= 1
    return grad_output * probabilities / len(labels)


def _max_pool2d_backward(x, grad_output):
    n, c, h, w = grad_output.shape
    windows = (
        x[:, :, : 2 * h, : 2 * w]
        .reshape(n, c, h, 2, w, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h, w, 4)
    )
    first = windows.argmax(axis=-1)  # the first maximum, as torch
    routed = (np.arange(4) == first[..., None]) * grad_output[..., None]
    grad = np.zeros_like(x)
    grad[:, :, : 2 * h, : 2 * w] = (
        routed.reshape(n, c, h, w, 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, 2 * h, 2 * w)
    )
    return grad


def _sgd_step(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        g = p.grad + weight_decay * p.data
        v *= momentum
        v += g
        p.data -= lr * v


REFERENCE = {
    "topological_sort": _topological_sort,
    "matmul_backward": _matmul_backward,
    "relu_backward": _relu_backward,
    "log_softmax": _log_softmax,
    "cross_entropy_backward": _cross_entropy_backward,
    "max_pool2d_backward": _max_pool2d_backward,
    "sgd_step": _sgd_step,
}


# --- The engine -----------------------------------------------------------------------


class Engine:
    """The operations of a small CNN on :class:`Tensor`; each backward that a chapter
    asks the learner to write calls the piece of that name.

    ``Engine(max_pool2d_backward=mine)`` uses ``mine`` and the course's pieces for the
    rest; ``engine.uses`` says, for each piece, ``"yours"`` or ``"the course's"``.
    """

    def __init__(self, **pieces):
        unknown = set(pieces) - set(PIECES)
        if unknown:
            raise TypeError(f"unknown pieces {sorted(unknown)}; known: {PIECES}")
        self.pieces = {**REFERENCE, **pieces}
        self.uses = {
            name: "yours" if name in pieces else "the course's" for name in PIECES
        }

    # chapter 7's operations
    def matmul(self, a, b):
        backward = self.pieces["matmul_backward"]
        return Tensor(
            a.data @ b.data,
            (a, b),
            lambda g: backward(a.data, b.data, g),
        )

    def relu(self, x):
        backward = self.pieces["relu_backward"]
        return Tensor(np.maximum(x.data, 0), (x,), lambda g: (backward(x.data, g),))

    def backward(self, loss):
        """Chapter 7's backward pass, from a one-element ``loss``."""
        loss.grad = np.ones_like(loss.data)
        for node in reversed(self.pieces["topological_sort"](loss)):
            if node.backward_fn is None:
                continue  # a leaf
            grads = node.backward_fn(node.grad)
            for parent, grad in zip(node.parents, grads):
                if parent.grad is None:
                    parent.grad = grad
                else:
                    parent.grad = parent.grad + grad

    # chapter 9's operations
    def max_pool2d(self, x):
        """2×2 max pooling with stride 2 of ``(N, C, H, W)``, as ``MaxPool2d(2)``."""
        n, c, h, w = x.data.shape
        windows = x.data[:, :, : h // 2 * 2, : w // 2 * 2]
        out = windows.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        backward = self.pieces["max_pool2d_backward"]
        return Tensor(out, (x,), lambda g: (backward(x.data, g),))

    def cross_entropy(self, scores, labels):
        """The mean of ``-log_softmax(scores)[i, labels[i]]``: one number."""
        log_p = self.pieces["log_softmax"](scores.data)
        loss = -log_p[np.arange(len(labels)), labels].mean()
        backward = self.pieces["cross_entropy_backward"]
        return Tensor(loss, (scores,), lambda g: (backward(scores.data, labels, g),))

    def sgd_step(self, parameters, velocities, lr, momentum, weight_decay=0.0):
        self.pieces["sgd_step"](parameters, velocities, lr, momentum, weight_decay)

    # given operations, with their backward
    def add_bias(self, x, bias):
        """``x`` (M, C) plus ``bias`` (C,), added to every row."""
        return Tensor(x.data + bias.data, (x, bias), lambda g: (g, g.sum(axis=0)))

    def reshape(self, x, shape):
        return Tensor(x.data.reshape(shape), (x,), lambda g: (g.reshape(x.data.shape),))

    def channels_first(self, x, n, h, w):
        """Rows ``(N·H·W, C)`` of a matrix product back to ``(N, C, H, W)``."""
        c = x.data.shape[1]
        out = x.data.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return Tensor(out, (x,), lambda g: (g.transpose(0, 2, 3, 1).reshape(-1, c),))

    def unfold(self, x, size=3, padding=1):
        """Every ``size``×``size`` window of ``x`` (N, C, H, W), one per row of an
        ``(N·H_out·W_out, C·size·size)`` matrix, in the order of a flattened
        ``Conv2d`` weight: a convolution is then one matrix product (chapter 10)."""
        n, c, h, w = x.data.shape
        padded = np.pad(x.data, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2))
        h_out, w_out = h + 2 * padding - size + 1, w + 2 * padding - size + 1
        offsets = [(i, j) for i in range(size) for j in range(size)]
        columns = np.stack(
            [padded[:, :, i : i + h_out, j : j + w_out] for i, j in offsets], axis=2
        )  # (N, C, size², H_out, W_out)
        rows = columns.transpose(0, 3, 4, 1, 2).reshape(n * h_out * w_out, -1)

        def backward(g):
            g = g.reshape(n, h_out, w_out, c, size * size).transpose(0, 3, 4, 1, 2)
            grad = np.zeros_like(padded)
            for k, (i, j) in enumerate(offsets):
                grad[:, :, i : i + h_out, j : j + w_out] += g[:, :, k]
            return (grad[:, :, padding : padding + h, padding : padding + w],)

        return Tensor(rows, (x,), backward)


# --- The network ------------------------------------------------------------------------


def make_small_network(lib):
    """The network :class:`SmallCNN` computes, in ``lib`` (torch or labs):
    a convolution with 8 kernels, ReLU, 2×2 max pooling, one linear layer."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),  # 1×8×8 -> 8×8×8
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> 8×4×4
        nn.Flatten(),  # 128 numbers per image
        nn.Linear(128, 10),  # a score per digit
    )


class SmallCNN:
    """``make_small_network``'s network on an :class:`Engine`, with the weights of
    ``state_dict`` (from the torch or labs network), as float64 leaves."""

    def __init__(self, engine, state_dict):
        def leaf(array):
            return Tensor(np.array(array, dtype=np.float64))

        state = {k: np.asarray(v.detach()) for k, v in state_dict.items()}
        self.engine = engine
        # a 3×3 kernel per output channel, flattened as unfold's rows: (9, 8)
        self.conv_weight = leaf(state["0.weight"].reshape(8, -1).T)
        self.conv_bias = leaf(state["0.bias"])
        self.weight = leaf(state["4.weight"].T)  # (128, 10)
        self.bias = leaf(state["4.bias"])

    def parameters(self):
        return [self.conv_weight, self.conv_bias, self.weight, self.bias]

    def state_dict(self):
        """The weights in the layout of ``make_small_network``'s."""
        return {
            "0.weight": self.conv_weight.data.T.reshape(8, 1, 3, 3),
            "0.bias": self.conv_bias.data,
            "4.weight": self.weight.data.T,
            "4.bias": self.bias.data,
        }

    def __call__(self, x):
        e = self.engine
        n, _, h, w = x.data.shape
        rows = e.matmul(e.unfold(x), self.conv_weight)  # (N·8·8, 8)
        hidden = e.relu(e.add_bias(rows, self.conv_bias))
        pooled = e.max_pool2d(e.channels_first(hidden, n, h, w))
        flat = e.reshape(pooled, (n, -1))  # (N, 128)
        return e.add_bias(e.matmul(flat, self.weight), self.bias)


def mine_or_reference(**pieces) -> Engine:
    """An :class:`Engine` on each of the learner's ``pieces`` that passes its checker
    (``check.log_softmax(fn)`` for ``log_softmax=fn``, ...), on the course's for the
    others; it prints which it uses. A piece left as the stub, or failing its checker,
    is replaced by the course's, so that the chapter runs either way."""
    from labs.check import capstone as checks
    from labs.check import engine as chapter7

    checkers = {
        "topological_sort": chapter7.topological_sort,
        "matmul_backward": chapter7.matmul_backward,
        "relu_backward": chapter7.relu_backward,
        "log_softmax": checks.log_softmax,
        "cross_entropy_backward": checks.cross_entropy_backward,
        "max_pool2d_backward": checks.max_pool2d_backward,
        "sgd_step": checks.sgd_step,
    }
    mine = {}
    for name, fn in pieces.items():
        if checkers[name](fn).passed:
            mine[name] = fn
            print(f"{name}: yours (it passes its checker)")
        else:
            print(f"{name}: the course's (yours does not pass its checker yet)")
    return Engine(**mine)
