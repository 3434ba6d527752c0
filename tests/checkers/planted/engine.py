"""The chapter 7 checkers (backward passes and a topological sort): correct answers
and planted mistakes, each written as a learner might write it."""

from __future__ import annotations

import collections
import functools

import numpy as np
import torch

from labs import check

from ..registry import NO_HINT, Entry, planted


def unbroadcast(grad, shape):
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


def mul_backward(a, b, grad_output):
    return unbroadcast(grad_output * b, a.shape), unbroadcast(grad_output * a, b.shape)


def mul_backward_torch(a, b, grad_output):
    """Any correct way is fine, even torch's autograd (numpy arrays in and out)."""
    ta = torch.from_numpy(a).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    grads = torch.autograd.grad(ta * tb, (ta, tb), torch.from_numpy(grad_output))
    return tuple(g.numpy() for g in grads)


def matmul_backward(a, b, grad_output):
    return grad_output @ b.T, a.T @ grad_output


def matmul_backward_einsum(a, b, grad_output):
    grad_a = np.einsum("nm,km->nk", grad_output, b)
    return grad_a, np.einsum("nk,nm->km", a, grad_output)


def sum_backward(x, grad_output, dim, keepdim):
    if not keepdim:
        grad_output = np.expand_dims(grad_output, dim)
    return np.broadcast_to(grad_output, x.shape).copy()


def sum_backward_repeat(x, grad_output, dim, keepdim):
    axis = dim % x.ndim
    if not keepdim:
        grad_output = np.expand_dims(grad_output, axis)
    return np.repeat(grad_output, x.shape[axis], axis=axis)


def relu_backward(x, grad_output):
    return grad_output * (x > 0)


def relu_backward_where(x, grad_output):
    return np.where(x > 0, grad_output, 0.0)


def conv1d_backward(x, w, grad_output, stride=1):
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    k = w.shape[2]
    for t in range(grad_output.shape[2]):
        window = slice(t * stride, t * stride + k)
        grad_x[:, :, window] += np.einsum("no,ock->nck", grad_output[:, :, t], w)
        grad_w += np.einsum("no,nck->ock", grad_output[:, :, t], x[:, :, window])
    return grad_x, grad_w


def conv1d_backward_loops(x, w, grad_output, stride=1):
    n_batch, c_in, _ = x.shape
    c_out, _, k = w.shape
    grad_x, grad_w = np.zeros(x.shape), np.zeros(w.shape)
    for n in range(n_batch):
        for o in range(c_out):
            for t in range(grad_output.shape[2]):
                for c in range(c_in):
                    for j in range(k):
                        g = grad_output[n, o, t]
                        grad_x[n, c, t * stride + j] += g * w[o, c, j]
                        grad_w[o, c, j] += g * x[n, c, t * stride + j]
    return grad_x, grad_w


def topological_sort(root):
    order, visited = [], {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def topological_sort_kahn(root):
    """Kahn's algorithm: count each node's users, release a node when all are done."""
    users, seen, stack = collections.Counter(), {root}, [root]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            users[parent] += 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    order, ready = [], [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            users[parent] -= 1
            if users[parent] == 0:
                ready.append(parent)
    return order[::-1]


CORRECT = {
    "mul_backward": [mul_backward, mul_backward_torch],
    "matmul_backward": [matmul_backward, matmul_backward_einsum],
    "sum_backward": [sum_backward, sum_backward_repeat],
    "relu_backward": [relu_backward, relu_backward_where],
    "conv1d_backward": [conv1d_backward, conv1d_backward_loops],
    "topological_sort": [topological_sort, topological_sort_kahn],
}
COUNTS = {
    "mul_backward": 16,
    "matmul_backward": 14,
    "sum_backward": 16,
    "relu_backward": 12,
    "conv1d_backward": 20,
    "topological_sort": 12,
}


# --- Planted mistakes: mul ------------------------------------------------------------


def _size_one_axes(shape, out_shape):
    extra = len(out_shape) - len(shape)
    return tuple(i for i, n in enumerate(shape) if n == 1 and out_shape[extra + i] != 1)


def _mul(change):
    def planted(a, b, grad_output):
        return change(a, b, grad_output)

    return planted


MUL_MISTAKES = {
    "no-sum-over-broadcast-axes": (
        _mul(lambda a, b, g: (g * b, g * a)),
        "forgot to sum over the broadcast axes",
    ),
    "leading-axes-only": (
        _mul(
            lambda a, b, g: tuple(
                (g * o).sum(axis=tuple(range(g.ndim - m.ndim)))
                for m, o in ((a, b), (b, a))
            )
        ),
        "not the axes where",
    ),
    "keepdims-dropped": (
        _mul(
            lambda a, b, g: tuple(
                np.squeeze(
                    unbroadcast(g * o, m.shape), _size_one_axes(m.shape, g.shape)
                )
                for m, o in ((a, b), (b, a))
            )
        ),
        "dropped them",
    ),
    "mean-not-sum": (
        _mul(
            lambda a, b, g: tuple(
                unbroadcast(g * o, m.shape) * m.size / g.size
                for m, o in ((a, b), (b, a))
            )
        ),
        "averaged",
    ),
    "own-value": (
        _mul(
            lambda a, b, g: (unbroadcast(g * a, a.shape), unbroadcast(g * b, b.shape))
        ),
        "which is the gradient for b",
    ),
    "swapped-order": (
        _mul(lambda a, b, g: mul_backward(a, b, g)[::-1]),
        "wrong order",
    ),
    "forgot-grad-output": (
        _mul(
            lambda a, b, g: (
                unbroadcast(np.broadcast_to(b, g.shape) * 1.0, a.shape),
                unbroadcast(np.broadcast_to(a, g.shape) * 1.0, b.shape),
            )
        ),
        "left out grad_output",
    ),
    "sum-over-every-axis": (
        _mul(
            lambda a, b, g: (
                (g * b).sum() + 0 * a if a.ndim == 0 else (g * b).sum(),
                (g * a).sum(),
            )
        ),
        "summed over every axis",
    ),
    "returns-tensors": (
        _mul(lambda a, b, g: tuple(torch.from_numpy(x) for x in mul_backward(a, b, g))),
        "compute with numpy",
    ),
    "returns-one-gradient": (
        _mul(lambda a, b, g: mul_backward(a, b, g)[0]),
        "return grad_a, grad_b",
    ),
    "returns-float32": (
        _mul(
            lambda a, b, g: tuple(x.astype(np.float32) for x in mul_backward(a, b, g))
        ),
        "keep float64",
    ),
    "returns-none": (_mul(lambda a, b, g: None), "forget return"),
}


def _mul_in_place(a, b, grad_output):
    grad_output *= b  # changes the caller's array
    return unbroadcast(grad_output, a.shape), unbroadcast(grad_output * 0 + 1, b.shape)


MUL_MISTAKES["modifies-grad-output"] = (_mul_in_place, "work on a copy")


# --- Planted mistakes: matmul ---------------------------------------------------------


MATMUL_MISTAKES = {
    "b-not-transposed": (
        lambda a, b, g: (g @ b, a.T @ g),
        "equals grad_output @ b.",
    ),
    "a-not-transposed": (
        lambda a, b, g: (g @ b.T, a @ g),
        "equals a @ grad_output.",
    ),
    "grad-a-transposed": (
        lambda a, b, g: (b @ g.T, a.T @ g),
        "the transpose of the gradient",
    ),
    "grad-b-transposed": (
        lambda a, b, g: (g @ b.T, g.T @ a),
        "the transpose of the gradient",
    ),
    "swapped-order": (
        lambda a, b, g: (a.T @ g, g @ b.T),
        "wrong order",
    ),
    "factors-in-wrong-order": (
        lambda a, b, g: (b.T @ g, a.T @ g),
        "equals b.T @ grad_output",
    ),
    "forgot-grad-output": (
        lambda a, b, g: (np.ones_like(g) @ b.T, a.T @ np.ones_like(g)),
        "left out grad_output",
    ),
    "shape-of-b-transposed": (
        lambda a, b, g: (np.resize(g @ b.T, (b.shape[1], a.shape[1])), a.T @ g),
        "grad_a must have the shape of a",
    ),
    "returns-list": (
        lambda a, b, g: ((g @ b.T).tolist(), (a.T @ g).tolist()),
        "np.asarray",
    ),
}


def _matmul_shapes_do_not_fit(a, b, grad_output):
    return grad_output @ b.T, a.T @ grad_output.reshape(-1, 1)


MATMUL_MISTAKES["shapes-do-not-fit"] = (
    _matmul_shapes_do_not_fit,
    "Write the shapes down",
)


# --- Planted mistakes: sum ------------------------------------------------------------


def _sum_broadcast_without_axis(x, grad_output, dim, keepdim):
    return np.broadcast_to(grad_output, x.shape).copy()


def _sum_always_expand(x, grad_output, dim, keepdim):
    return np.broadcast_to(np.expand_dims(grad_output, dim), x.shape).copy()


def _sum_square_trap(x, grad_output, dim, keepdim):
    """Re-inserts the axis only when plain broadcasting fails: wrong when square."""
    try:
        return np.broadcast_to(grad_output, x.shape).copy()
    except ValueError:
        return sum_backward(x, grad_output, dim, keepdim)


def _sum_expand_at_the_end(x, grad_output, dim, keepdim):
    if not keepdim:
        grad_output = grad_output[..., None]  # right only when dim is the last axis
    return np.broadcast_to(grad_output, x.shape).copy()


SUM_MISTAKES = {
    "broadcast-without-the-axis": (_sum_broadcast_without_axis, "np.expand_dims"),
    "expand-even-with-keepdim": (_sum_always_expand, "already has the summed axis"),
    "square-trap": (_sum_square_trap, "lines its axes up with the wrong axes"),
    "axis-re-inserted-at-the-end": (
        _sum_expand_at_the_end,
        "re-inserted the summed axis at position 2",
    ),
    "ones": (lambda x, g, dim, keepdim: np.ones(x.shape), "returned ones"),
    "mean": (
        lambda x, g, dim, keepdim: sum_backward(x, g, dim, keepdim) / x.shape[dim],
        "gradient of mean",
    ),
    "grad-output-unchanged": (
        lambda x, g, dim, keepdim: g.copy(),
        "returned grad_output as it is",
    ),
    "returns-tuple": (
        lambda x, g, dim, keepdim: (sum_backward(x, g, dim, keepdim),),
        "not return (grad_x,)",
    ),
    "returns-view": (
        lambda x, g, dim, keepdim: np.broadcast_to(
            g if keepdim else np.expand_dims(g, dim), x.shape
        ).astype(np.float32),
        "keep float64",
    ),
}


# --- Planted mistakes: relu -----------------------------------------------------------


RELU_MISTAKES = {
    "gradient-one-at-zero": (lambda x, g: g * (x >= 0), "x > 0, not x >= 0"),
    "mask-only": (lambda x, g: (x > 0) * 1.0, "multiply it by grad_output"),
    "mask-from-grad-output": (lambda x, g: g * (g > 0), "must come from the input x"),
    "times-relu": (lambda x, g: g * np.maximum(x, 0), "multiplied by relu(x)"),
    "unchanged": (lambda x, g: g.copy(), "passed grad_output through unchanged"),
    "inverted": (lambda x, g: g * (x <= 0), "inverted"),
    "bool-mask": (lambda x, g: x > 0, "bool array"),
}


def _relu_in_place(x, grad_output):
    grad_output[x <= 0] = 0
    return grad_output


RELU_MISTAKES["zeroes-grad-output-in-place"] = (_relu_in_place, "work on a copy")


# --- Planted mistakes: conv1d ---------------------------------------------------------


def _conv1d_planted(
    flip_x=False,
    flip_w=False,
    stride_x=True,
    stride_w=True,
    samples_w=slice(None),
    channels_x=slice(None),
    batch_mean=False,
):
    def planted(x, w, grad_output, stride=1):
        k = w.shape[2]
        wx = w[:, :, ::-1] if flip_x else w
        grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
        xs, gs = x[samples_w], grad_output[samples_w]
        for t in range(grad_output.shape[2]):
            sx = t * (stride if stride_x else 1)
            sw = t * (stride if stride_w else 1)
            grad_x[:, :, sx : sx + k] += np.einsum(
                "no,ock->nck", grad_output[:, channels_x, t], wx[channels_x]
            )
            grad_w += np.einsum("no,nck->ock", gs[:, :, t], xs[:, :, sw : sw + k])
        if flip_w:
            grad_w = grad_w[:, :, ::-1]
        if batch_mean:
            grad_w = grad_w / x.shape[0]
        return grad_x, grad_w

    return planted


def _conv1d_assigned_x(x, w, grad_output, stride=1):
    grad_x, grad_w = conv1d_backward(x, w, grad_output, stride)
    grad_x = np.zeros_like(x)
    for o in range(w.shape[0]):
        for t in range(grad_output.shape[2]):
            for j in range(w.shape[2]):
                grad_x[:, :, t * stride + j] = grad_output[:, o, t, None] * w[o, :, j]
    return grad_x, grad_w


def _conv1d_assigned_windows(x, w, grad_output, stride=1):
    grad_x, grad_w = conv1d_backward(x, w, grad_output, stride)
    k = w.shape[2]
    for t in range(grad_output.shape[2]):
        grad_x[:, :, t * stride : t * stride + k] = np.einsum(
            "no,ock->nck", grad_output[:, :, t], w
        )
    return grad_x, grad_w


def _conv1d_assigned_w(x, w, grad_output, stride=1):
    grad_x, _ = conv1d_backward(x, w, grad_output, stride)
    grad_w = np.zeros_like(w)
    for n in range(x.shape[0]):
        for t in range(grad_output.shape[2]):
            for j in range(w.shape[2]):
                grad_w[:, :, j] = grad_output[n, :, t, None] * x[n, :, t * stride + j]
    return grad_x, grad_w


def _conv1d_short_grad_x(x, w, grad_output, stride=1):
    grad_x, grad_w = conv1d_backward(x, w, grad_output, stride)
    used = (grad_output.shape[2] - 1) * stride + w.shape[2]
    return grad_x[:, :, :used], grad_w


def _conv1d_index_error(x, w, grad_output, stride=1):
    grad_x = np.zeros_like(x)
    for t in range(x.shape[2]):  # the loop runs over the input, not the output
        grad_x[:, :, t] += grad_output[:, 0, t]
    return grad_x, np.zeros_like(w)


CONV1D_MISTAKES = {
    "grad-w-flipped": (_conv1d_planted(flip_w=True), "grad_w is flipped"),
    "grad-x-flipped-kernel": (_conv1d_planted(flip_x=True), "uses the kernel flipped"),
    "grad-x-ignores-stride": (_conv1d_planted(stride_x=False), "ignored the stride"),
    "grad-w-ignores-stride": (_conv1d_planted(stride_w=False), "ignored the stride"),
    "grad-w-last-sample-only": (
        _conv1d_planted(samples_w=slice(-1, None)),
        "only holds the last sample",
    ),
    "grad-w-first-sample-only": (
        _conv1d_planted(samples_w=slice(0, 1)),
        "only holds the first sample",
    ),
    "grad-w-batch-mean": (_conv1d_planted(batch_mean=True), "averaged over the batch"),
    "grad-x-last-output-channel-only": (
        _conv1d_planted(channels_x=slice(-1, None)),
        "only holds the last output channel",
    ),
    "grad-x-assigned": (_conv1d_assigned_x, "assigned (=) where you must accumulate"),
    "grad-x-windows-assigned": (
        _conv1d_assigned_windows,
        "assigned (=) where you must accumulate",
    ),
    "grad-w-assigned": (_conv1d_assigned_w, "assigned (=) where you must accumulate"),
    "swapped-order": (
        lambda x, w, g, stride=1: conv1d_backward(x, w, g, stride)[::-1],
        "wrong order",
    ),
    "grad-x-too-short": (_conv1d_short_grad_x, "no window read"),
    "index-error": (_conv1d_index_error, "an index ran past the end"),
    "no-stride-parameter": (
        lambda x, w, g: conv1d_backward(x, w, g),
        "fn(x, w, grad_output, stride=...)",
    ),
}


# --- Planted mistakes: topological_sort -----------------------------------------------


def _recursive(root):
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def _no_visited_set(root):
    """Post-order with its own stack, but no set of visited nodes: duplicates."""
    order, stack = [], [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        parent = next(parents, None)
        if parent is None:
            stack.pop()
            order.append(node)
        else:
            stack.append((parent, iter(parent.parents)))
    return order


def _recursive_with_a_raised_limit(root):
    """Recursion survives the 10,000-node chain once the limit is raised: still no."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        return _recursive(root)
    finally:
        sys.setrecursionlimit(limit)


def _recursive_generator(root):
    seen = set()

    def visit(node):
        seen.add(node)
        for parent in node.parents:
            if parent not in seen:
                yield from visit(parent)
        yield node

    return list(visit(root))


def _swallows_recursion(root):
    try:
        return _recursive(root)
    except Exception:  # keeps going, with whatever it has
        return topological_sort(root)


def _exponential_then_deduplicated(root):
    """Explores every path, then keeps the first copy of each node: far too slow."""
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((parent, False) for parent in node.parents)
    return list(dict.fromkeys(order))


def _breadth_first_reversed(root):
    order, seen, queue = [], {root}, collections.deque([root])
    while queue:
        node = queue.popleft()
        order.append(node)
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return order[::-1]


def _first_parent_only(root):
    order, node = [], root
    while True:
        order.append(node)
        if not node.parents:
            return order[::-1]
        node = node.parents[0]


TOPOLOGICAL_MISTAKES = {
    "recursive": (_recursive, "without recursion", ("calls itself", "in visit")),
    "recursive-with-raised-limit": (
        _recursive_with_a_raised_limit,
        "without recursion",
    ),
    "recursive-generator": (_recursive_generator, "without recursion"),
    "recursion-error-swallowed": (_swallows_recursion, "without recursion"),
    "no-visited-set": (_no_visited_set, "keep a set of the nodes already visited"),
    "exponential-search": (
        _exponential_then_deduplicated,
        "explores a node again every time",
    ),
    "root-first": (lambda root: topological_sort(root)[::-1], "your order is reversed"),
    "breadth-first": (_breadth_first_reversed, "post-order"),
    "leaves-left-out": (
        lambda root: [n for n in topological_sort(root) if n.parents or n is root],
        "without parents",
    ),
    "root-left-out": (lambda root: topological_sort(root)[:-1], "root belongs"),
    "first-parent-only": (_first_parent_only, "every parent"),
    "names-not-nodes": (
        lambda root: [n.name for n in topological_sort(root)],
        "the nodes themselves",
    ),
    "generator": (lambda root: iter(topological_sort(root)), "list(...)"),
    "micrograd-attribute": (
        lambda root: list(root._prev),
        ".parents (a tuple of nodes)",
    ),
    "returns-none": (lambda root: None, "forget return"),
    "returns-the-root": (lambda root: root, "[root]"),
}


MUL_MISTAKES.update(
    {
        "float32-result": (
            _mul(
                lambda a, b, g: tuple(
                    (x.astype(np.float32) * (1 + 1e-7)).astype(np.float64)
                    for x in mul_backward(a, b, g)
                )
            ),
            "float32",
        ),
        "not-summed-and-swapped": (_mul(lambda a, b, g: (g * a, g * b)), NO_HINT),
    }
)

MATMUL_MISTAKES.update(
    {
        "grad-a-as-b-times-grad-output-transposed": (
            lambda a, b, g: (b @ g.T, a.T @ g),
            "transpose of the gradient",
        ),
    }
)

TOPOLOGICAL_MISTAKES.update(
    {
        "returns-a-set": (lambda root: set(topological_sort(root)), "list(...)"),
    }
)

RELU_MISTAKES.update(
    {
        "times-x": (lambda x, g: g * x, NO_HINT),
        "kink-goes-both-ways": (
            lambda x, g: g * (x > 0) + 0.5 * g * (x == 0),
            NO_HINT,
            ("x=[-2, -1, 0, 1, 2]",),
        ),
    }
)

SUM_MISTAKES.update(
    {
        "mean-when-keepdim": (
            lambda x, g, dim, keepdim: (
                sum_backward(x, g, dim, keepdim) / (x.shape[dim] if keepdim else 1)
            ),
            NO_HINT,
        ),
    }
)


def _entry(name: str, solutions, mistakes) -> Entry:
    checker = getattr(check, name)
    return Entry(
        name,
        learner=checker,
        solutions=tuple(
            (fn.__name__, functools.partial(checker, fn)) for fn in solutions
        ),
        mistakes=planted(checker, mistakes),
    )


ENTRIES = [
    _entry("mul_backward", CORRECT["mul_backward"], MUL_MISTAKES),
    _entry("matmul_backward", CORRECT["matmul_backward"], MATMUL_MISTAKES),
    _entry("sum_backward", CORRECT["sum_backward"], SUM_MISTAKES),
    _entry("relu_backward", CORRECT["relu_backward"], RELU_MISTAKES),
    _entry("conv1d_backward", CORRECT["conv1d_backward"], CONV1D_MISTAKES),
    _entry("topological_sort", CORRECT["topological_sort"], TOPOLOGICAL_MISTAKES),
]
