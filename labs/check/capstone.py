"""Checkers for the capstone's exercises (chapter 9): whole networks.

``network_prediction`` compares a learner's prediction of a network's size (its
parameter count and the shape after every layer) with the network PyTorch actually
builds. ``same_network`` checks that a network the learner built with ``labs`` computes
exactly what a reference PyTorch network computes, forward and backward, once both
hold the same weights.

Networks are given as builders, functions of a library (``labs`` or ``torch``) that
return an ``nn.Sequential``, as in the chapter. Building a PyTorch network draws its
initial weights from PyTorch's global random generator; like every checker, these run
inside a saved random state, so the learner's random state is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as TF

from labs.check._answers import missing
from labs.check._compare import compare_values, int_or_mismatch, require_ndarray
from labs.check._core import (
    Case,
    Cases,
    Exercise,
    Mismatch,
    Mistake,
    NotAttempted,
    check,
)
from labs.check._result import Result
from labs.check._text import shape_text, type_phrase
from labs.check.engine import (
    _backward_exercise,
    _Fixed,
    _gradient_array,
    _torch_backward,
)

__all__ = [
    "network_prediction",
    "same_network",
    "log_softmax",
    "cross_entropy_backward",
    "max_pool2d_backward",
    "sgd_step",
    "adam_step",
]


def _build(learner, builder: Callable, lib, role: str):
    """``builder(lib)``, run as the learner's code: a stub is "not attempted", an
    error or anything but a network of ``lib`` becomes a verdict."""
    network = learner.run(lambda: builder(lib), role=f"{role}({lib.__name__})")
    if network is None:
        raise Mismatch(
            f"{role}({lib.__name__}) returned None.",
            hint="did you forget `return`? Return the network: "
            "`return nn.Sequential(...)`.",
        )
    if isinstance(network, (list, tuple)):
        raise Mismatch(
            f"{role}({lib.__name__}) returned {type_phrase(network)} of layers, not a "
            "network.",
            hint="wrap the layers in a network: `return nn.Sequential(*layers)`, with "
            f"`nn = {lib.__name__}.nn`.",
        )
    wanted = lib.nn.Module
    if not isinstance(network, wanted):
        if lib is not torch and isinstance(network, torch.nn.Module):
            raise Mismatch(
                f"{role}({lib.__name__}) built a torch network, not a "
                f"{lib.__name__} one.",
                hint="build the layers from the library you are given: "
                "`nn = lib.nn`, then `nn.Conv2d(...)`, not `torch.nn.Conv2d(...)`.",
            )
        raise Mismatch(
            f"{role}({lib.__name__}) returned {type_phrase(network)}, not a network.",
            hint=f"return `{lib.__name__}.nn.Sequential(...)`.",
        )
    return network


def network_prediction(
    build: Callable, parameters, shapes, *, input_shape, raise_on_failure: bool = False
) -> Result:
    """Check a predicted parameter count and per-layer shapes of ``build(torch)``.

    ``build(torch)`` returns an ``nn.Sequential``; ``parameters`` is the predicted total
    number of learnable numbers (an int), ``shapes`` the predicted shape after each
    layer, in order, for an input of shape ``input_shape`` (a list of tuples of ints,
    one per layer, activations and pooling included). Sizes must be ints: ``256.0``,
    ``4.5`` or ``"32"`` are not sizes. Predictions left as None are "not attempted
    yet".
    """

    def answer(learner, case: Case):
        if missing(parameters) or missing(shapes):
            raise NotAttempted(
                todo="write your predictions in place of the `None`s "
                "and run this cell again."
            )
        network = _build(learner, build, torch, "the network builder")
        layers = list(network)
        case.info["layers"] = layers
        case.info["counts"] = [
            sum(p.numel() for p in layer.parameters()) for layer in layers
        ]
        case.info["expected"] = sum(case.info["counts"])
        case.info["shapes"] = _layer_shapes(layers, input_shape)
        return parameters, shapes

    exercise = Exercise(
        "network_prediction",
        [Case({"input_shape": tuple(input_shape)})],
        _compare_prediction,
        mistakes=_PREDICTION_MISTAKES,
        answer=answer,
        validate=lambda value: None,
        role="the network builder",
    )
    return check(exercise, build, raise_on_failure=raise_on_failure)


def _layer_shapes(layers, input_shape):
    x = torch.zeros(input_shape)
    shapes = []
    with torch.no_grad():
        for layer in layers:
            x = layer(x)
            shapes.append(tuple(x.shape))
    return shapes


def _biases(case: Case) -> int:
    return sum(
        layer.bias.numel()
        for layer in case.info["layers"]
        if getattr(layer, "bias", None) is not None
    )


def _compare_prediction(answer, case: Case) -> None:
    parameters, shapes = answer
    layers, counts, total = case.info["layers"], case.info["counts"], case.expected
    count = int_or_mismatch(parameters, "the parameter count")
    if count != total:
        per_layer = ", ".join(
            f"{type(layer).__name__} {n}" for layer, n in zip(layers, counts) if n
        )
        raise Mismatch(
            "the parameter count is wrong.",
            details=[("expected", str(total)), ("got", str(count))],
            diagnosable=True,
            part=0,
            hint=None
            if total - count == _biases(case)
            else (f"count layer by layer, weights and biases: {per_layer}."),
        )
    actual = case.info["shapes"]
    if not isinstance(shapes, (list, tuple)):
        raise Mismatch(
            f"the shapes should be a list of tuples, got {type_phrase(shapes)}."
        )
    if len(shapes) != len(actual):
        raise Mismatch(
            f"the network has {len(actual)} layers (activations and pooling count), but "
            f"{len(shapes)} shapes were predicted.",
            hint="give the shape after every layer of the nn.Sequential, in order.",
        )
    for index, (predicted, expected) in enumerate(zip(shapes, actual)):
        if not isinstance(predicted, (tuple, list)):
            raise Mismatch(
                f"shape {index} is {type_phrase(predicted)} ({predicted!r}), not a tuple "
                "of ints."
            )
        sizes = tuple(int_or_mismatch(n, f"a size in shape {index}") for n in predicted)
        if sizes != expected:
            raise Mismatch(
                f"wrong shape after layer {index}, {layers[index]}.",
                details=[
                    ("expected", shape_text(expected)),
                    ("got", shape_text(sizes)),
                ],
                hint="only convolutions change the channels; a convolution with padding "
                "(k - 1)/2 keeps the size, a 2×2 pooling halves it (with the floor), "
                "and Flatten multiplies everything but the batch.",
            )


_PREDICTION_MISTAKES = (
    Mistake(
        "biases-left-out",
        "you left out the biases: one per output channel or feature.",
        lambda case: case.expected - _biases(case),
        part=0,
    ),
)


def same_network(
    build: Callable,
    reference: Callable,
    *,
    lib,
    input_shape,
    cases: int = 3,
    raise_on_failure: bool = False,
) -> Result:
    """Check that ``build(lib)`` (a labs network) computes what ``reference(torch)`` does.

    Both networks are converted to float64; the reference's weights, drawn by PyTorch,
    are copied into the learner's network with ``load_state_dict`` (so the parameter
    names and shapes must match). On ``cases`` random inputs of shape ``input_shape``
    the outputs must agree, and so must the gradients of every parameter for a random
    upstream gradient. The builder must return a network of ``lib``
    (``lib.nn.Sequential``), not a list of layers and not a ``torch.nn`` network.
    """
    rng = np.random.default_rng(909)

    def answer(learner, case: Case):
        _same_network_case(learner, build, reference, lib, input_shape, rng)
        return True

    exercise = Exercise(
        "same_network",
        [
            Case(
                {"case": i}, label=f"random input {i + 1} of shape {tuple(input_shape)}"
            )
            for i in range(cases)
        ],
        lambda answer, case: None,
        answer=answer,
        role="your network builder",
    )
    return check(exercise, build, raise_on_failure=raise_on_failure)


def _same_network_case(learner, build, reference, lib, input_shape, rng) -> None:
    """One case: same parameters, same output, same gradients; else :class:`Mismatch`."""
    ours = _build(learner, build, lib, "your network builder")
    theirs = _build(learner, reference, torch, "the reference builder").double()
    ours = learner.run(ours.double, role="your network's .double()")
    expected = [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
    got = [(name, tuple(p.shape)) for name, p in ours.named_parameters()]
    if got != expected:
        raise Mismatch(
            "the parameters of your network differ from the reference's.",
            details=[
                ("expected", ", ".join(f"{n} {s}" for n, s in expected)),
                ("got", ", ".join(f"{n} {s}" for n, s in got) or "none"),
            ],
            hint="build the same layers in the same order; only the pooling changes.",
        )
    weights = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    learner.run(lambda: ours.load_state_dict(weights), role="load_state_dict")
    x = rng.standard_normal(input_shape)
    out = learner.run(lambda: ours(lib.tensor(x)), role="your network")
    reference_out = theirs(torch.from_numpy(x))
    compare_values(out.data, reference_out.detach().numpy(), what="output", label="out")
    upstream = rng.standard_normal(tuple(reference_out.shape))
    learner.run(lambda: out.backward(lib.tensor(upstream)), role="backward")
    reference_out.backward(torch.from_numpy(upstream))
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        if p.grad is None:
            raise Mismatch(
                f"after backward, {name}.grad is None: no gradient reached it.",
                hint="every parameter should take part in the forward pass.",
            )
        compare_values(
            p.grad.data,
            q.grad.numpy(),
            what=f"gradient of {name}",
            label=f"{name}.grad",
        )


# --- The pieces of the small engine (chapter 9, "Build it in your engine") -------------


def log_softmax(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(scores) -> log_p``, the log-softmax of each row, without overflow.

    ``scores`` is a float64 array of shape ``(N, C)``; the answer is a float64 array of
    the same shape, ``log_p[i, j] = scores[i, j] - log(sum_k exp(scores[i, k]))``, as
    ``torch.log_softmax(scores, dim=1)``. Cases: a small readable one, rows of scores
    near +1000 and near -1000 (where ``exp`` overflows or underflows unless each row's
    maximum is subtracted first), rows of very different sizes, a single class, then
    seeded random ones up to 12.
    """
    return check(_LOG_SOFTMAX, fn, raise_on_failure=raise_on_failure)


def cross_entropy_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(scores, labels, grad_output) -> grad_scores``, the backward of the
    mean cross-entropy.

    The forward is ``torch.nn.functional.cross_entropy(scores, labels)``: ``scores`` a
    float64 array ``(N, C)``, ``labels`` an int64 array ``(N,)`` of classes, the loss
    the mean over the batch of ``-log_softmax(scores)[i, labels[i]]``. ``grad_output``
    is the loss's gradient, a 0-d float64 array. The answer has the shape of
    ``scores``: ``grad_output · (softmax(scores) - one_hot(labels)) / N``. Cases: a
    small readable one, scores near ±1000, then seeded random ones up to 12.
    """
    return check(_CROSS_ENTROPY, fn, raise_on_failure=raise_on_failure)


def max_pool2d_backward(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(x, grad_output) -> grad_x``, the backward of 2×2 max pooling.

    The forward is ``torch.nn.functional.max_pool2d(x, 2)`` (kernel 2, stride 2, no
    padding) of a float64 array ``x`` ``(N, C, H, W)``; ``grad_output`` has shape
    ``(N, C, H // 2, W // 2)``. The answer has the shape of ``x``: each
    ``grad_output`` value goes to the position of its window's maximum, and where
    several positions tie for the maximum, to the first of them in row-major order
    (top row first), as PyTorch does; everything else, including a last row or column
    that no window covers (odd H or W), gets 0. Cases: ties of all kinds (zeros after
    a ReLU, small integers), odd sizes, then seeded random ones up to 12.
    """
    return check(_MAX_POOL, fn, raise_on_failure=raise_on_failure)


def sgd_step(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(parameters, velocities, lr, momentum, weight_decay)``: one step of
    SGD with momentum and weight decay, in place, as ``torch.optim.SGD``.

    Each parameter has ``.data`` and ``.grad``, float64 arrays of one shape;
    ``velocities`` is a list of float64 arrays, one per parameter, zero before the first
    step, which the function keeps up to date in place. ``fn`` returns nothing; it
    changes ``p.data`` in place. The checker runs three steps, each with new gradients,
    and after each compares every ``p.data`` with what ``torch.optim.SGD(lr=...,
    momentum=..., weight_decay=...)`` gives (``g = grad + weight_decay·p``,
    ``v = momentum·v + g``, ``p -= lr·v``). Cases: momentum 0, then momentum with and
    without weight decay, on parameters of several shapes.
    """
    return check(_SGD, fn, raise_on_failure=raise_on_failure)


def adam_step(fn: Callable, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(parameters, ms, vs, step, lr, betas, eps)``: one step of Adam, in
    place, as ``torch.optim.Adam``.

    Each parameter has ``.data`` and ``.grad``, float64 arrays of one shape; ``ms`` and
    ``vs`` are lists of float64 arrays, one per parameter, zero before the first step,
    which the function keeps up to date in place (the running averages of the gradient
    and of its square); ``step`` is the number of this step, 1 for the first. ``fn``
    returns nothing; it changes ``p.data`` in place. The checker runs three steps, each
    with new gradients, and after each compares every ``p.data`` with what
    ``torch.optim.Adam(lr=..., betas=..., eps=...)`` gives. The hints recognise a
    missing bias correction (of both averages, or of the squared one alone), ε inside
    the square root, the step counted from 0, and a step up the gradient.
    """
    return check(_ADAM, fn, raise_on_failure=raise_on_failure)


# --- log_softmax ----------------------------------------------------------------------


def _log_softmax_cases() -> Cases:
    return Cases(12, _generate_log_softmax_cases)


def _generate_log_softmax_cases():
    rng = np.random.default_rng(9001)
    yield _scores_case(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    yield _scores_case(np.array([[1000.0, 1001.0, 999.0], [1.0, -2.0, 0.5]]))
    yield _scores_case(np.array([[-1000.0, -1001.0, -999.5]]))
    yield _scores_case(np.array([[800.0, 790.0], [-800.0, -805.0]]))
    yield _scores_case(np.array([[3.5], [-2.0]]))
    while True:
        n, c = (int(k) for k in rng.integers(1, 7, size=2))
        scale = float(rng.choice([1.0, 10.0, 300.0]))
        yield _scores_case(scale * rng.standard_normal((n, c)))


def _scores_case(scores) -> Case:
    expected = torch.log_softmax(torch.from_numpy(scores), dim=1).numpy()
    return Case({"scores": scores}, expected=expected)


def _compare_log_p(answer, case: Case) -> None:
    got = require_ndarray(answer)
    try:
        compare_values(got, case.expected, what="log-softmax", label="log_p")
    except Mismatch as wrong:
        if "NaN or inf" in wrong.problem:
            wrong.hint = _OVERFLOW_HINT
        raise


_OVERFLOW_HINT = (
    "exp overflows above about 709 (inf) and underflows below about -745 (0, whose "
    "log is -inf). Subtract each row's maximum first, m = scores.max(axis=1, "
    "keepdims=True): log_softmax(s) = (s - m) - log(sum(exp(s - m))), where the "
    "largest exponent is 0."
)


def _naive_log_softmax(s):
    with np.errstate(all="ignore"):
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


_LOG_SOFTMAX_MISTAKES = (
    Mistake.formula(
        "softmax",
        "you returned the softmax (probabilities); take its log, computed as "
        "(s - m) - log(sum(exp(s - m))) so that nothing overflows.",
        lambda s: (
            np.exp(s - s.max(axis=1, keepdims=True))
            / np.exp(s - s.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
        ),
    ),
    Mistake.formula(
        "maximum-not-added-back",
        "you subtracted the maximum inside the log but not outside it: "
        "log(sum(exp(s))) = m + log(sum(exp(s - m))), so log_softmax(s) = "
        "(s - m) - log(sum(exp(s - m))).",
        lambda s: (
            s
            - np.log(
                np.exp(s - s.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)
            )
        ),
    ),
    Mistake.formula(
        "one-maximum-for-all-rows",
        "you subtracted the maximum of the whole array; a row whose scores are far "
        "below it still underflows. Subtract each row's own maximum: "
        "scores.max(axis=1, keepdims=True).",
        lambda s: _naive_log_softmax(s - s.max()),
    ),
    Mistake.formula(
        "columns",
        "you normalised over the batch axis (axis 0): each row, one example's scores, "
        "is a distribution of its own; sum over axis=1.",
        lambda s: (
            (s - s.max(axis=0, keepdims=True))
            - np.log(
                np.exp(s - s.max(axis=0, keepdims=True)).sum(axis=0, keepdims=True)
            )
        ),
    ),
)

_LOG_SOFTMAX = Exercise(
    "log_softmax",
    _log_softmax_cases,
    _compare_log_p,
    mistakes=_LOG_SOFTMAX_MISTAKES,
)


# --- cross_entropy_backward -------------------------------------------------------------


def _cross_entropy_cases() -> Cases:
    return Cases(12, _generate_cross_entropy_cases)


def _generate_cross_entropy_cases():
    rng = np.random.default_rng(9002)
    yield _cross_entropy_case(
        np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), np.array([2, 0]), 1.0
    )
    yield _cross_entropy_case(np.array([[2.0, -1.0, 0.5, 0.0]]), np.array([1]), 0.5)
    yield _cross_entropy_case(
        np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1003.0, -999.0]]),
        np.array([0, 2]),
        -1.5,
    )
    while True:
        n, c = int(rng.integers(1, 9)), int(rng.integers(2, 7))
        scores = float(rng.choice([1.0, 5.0])) * rng.standard_normal((n, c))
        labels = rng.integers(0, c, size=n)
        yield _cross_entropy_case(scores, labels, float(rng.standard_normal()))


def _cross_entropy_case(scores, labels, grad_output) -> Case:
    s = torch.from_numpy(scores).requires_grad_()
    loss = TF.cross_entropy(s, torch.from_numpy(labels))
    grad_output = np.array(grad_output)
    (expected,) = torch.autograd.grad(loss, s, torch.from_numpy(grad_output))
    return Case(
        {"scores": scores, "labels": labels, "grad_output": grad_output},
        expected=expected.numpy(),
    )


def _compare_grad_scores(answer, case: Case) -> None:
    got = _gradient_array(answer, "scores")
    try:
        compare_values(got, case.expected, what="gradient for scores", label="grad")
    except Mismatch as wrong:
        if "NaN or inf" in wrong.problem:
            wrong.hint = _OVERFLOW_HINT.replace(
                "log_softmax(s) = (s - m) - log(sum(exp(s - m)))",
                "softmax(s) = exp(s - m) / sum(exp(s - m))",
            )
        raise


def _softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(labels, c):
    return np.eye(c)[labels]


def _ce_mistake(name: str, hint: str, gives: Callable) -> Mistake:
    """A mistaken backward: ``gives(softmax, one_hot, n, grad_output)``."""

    def answer(case: Case):
        s, labels = case["scores"], case["labels"]
        return gives(
            _softmax(s), _one_hot(labels, s.shape[1]), len(labels), case["grad_output"]
        )

    return Mistake(name, hint, answer)


_CROSS_ENTROPY_MISTAKES = (
    _ce_mistake(
        "not-divided-by-n",
        "the loss is the mean over the batch, so each example's gradient is divided "
        "by N = len(labels).",
        lambda p, y, n, g: g * (p - y),
    ),
    _ce_mistake(
        "grad-output-ignored",
        "multiply by grad_output (chain rule): it is 1 when the loss is the last "
        "operation, but not in general.",
        lambda p, y, n, g: (p - y) / n,
    ),
    _ce_mistake(
        "one-hot-not-subtracted",
        "the gradient of -log softmax(s)[label] is softmax(s) - one_hot(label): you "
        "left out the one-hot term (subtract 1 at each example's label).",
        lambda p, y, n, g: g * p / n,
    ),
    _ce_mistake(
        "sign",
        "your gradient has the wrong sign: it is softmax - one_hot, not "
        "one_hot - softmax (raising the right class's score lowers the loss).",
        lambda p, y, n, g: g * (y - p) / n,
    ),
    _ce_mistake(
        "mean-over-classes",
        "you divided by N·C, as if the loss were a mean over every score; it is a mean "
        "over the N examples only.",
        lambda p, y, n, g: g * (p - y) / (n * p.shape[1]),
    ),
)

_CROSS_ENTROPY = Exercise(
    "cross_entropy_backward",
    _cross_entropy_cases,
    _compare_grad_scores,
    mistakes=_CROSS_ENTROPY_MISTAKES,
)


# --- max_pool2d_backward ----------------------------------------------------------------


def _max_pool_cases() -> Cases:
    return Cases(12, _generate_max_pool_cases)


def _generate_max_pool_cases():
    rng = np.random.default_rng(9003)
    yield _max_pool_case(
        np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, -1.0, 2.0]]]]),
        np.array([[[[1.0, -2.0]]]]),
    )
    # after a ReLU: windows of zeros, and ties among positives
    yield _max_pool_case(
        np.array([[[[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 2.0]]]]),
        np.array([[[[3.0, -1.5]]]]),
    )
    yield _max_pool_case(np.maximum(rng.standard_normal((2, 3, 4, 4)), 0), rng=rng)
    yield _max_pool_case(rng.integers(0, 3, size=(2, 2, 4, 6)).astype(float), rng=rng)
    yield _max_pool_case(rng.standard_normal((1, 2, 5, 7)), rng=rng)  # odd sizes
    while True:
        n, c = (int(k) for k in rng.integers(1, 4, size=2))
        h, w = (int(k) for k in rng.integers(2, 8, size=2))
        x = rng.standard_normal((n, c, h, w))
        if rng.random() < 0.5:
            x = np.round(x)  # ties
        yield _max_pool_case(x, rng=rng)


def _max_pool_case(x, grad_output=None, rng=None) -> Case:
    source = rng if grad_output is None else _Fixed(grad_output)
    grad_output, expected = _torch_backward(lambda t: TF.max_pool2d(t, 2), (x,), source)
    return Case({"x": x, "grad_output": grad_output}, expected=expected)


def _windows(x, h, w):
    n, c = x.shape[:2]
    return (
        x[:, :, : 2 * h, : 2 * w]
        .reshape(n, c, h, 2, w, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h, w, 4)
    )


def _unwindows(windows, shape):
    n, c, h, w, _ = windows.shape
    grad = np.zeros(shape)
    grad[:, :, : 2 * h, : 2 * w] = (
        windows.reshape(n, c, h, w, 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, 2 * h, 2 * w)
    )
    return grad


def _pool_mistake(name: str, hint: str, route: Callable) -> Mistake:
    """A mistaken routing: ``route(windows, grad_output)`` gives each window's four
    gradients, from the windows of x (N, C, H_out, W_out, 4)."""

    def answer(case: Case):
        x, g = case["x"], case["grad_output"]
        windows = _windows(x, *g.shape[2:])
        return _unwindows(route(windows, g[..., None]), x.shape)

    return Mistake(name, hint, answer)


def _is_max(windows):
    return windows == windows.max(axis=-1, keepdims=True)


def _last_max(windows):
    last = 3 - windows[..., ::-1].argmax(axis=-1)
    return np.arange(4) == last[..., None]


_MAX_POOL_MISTAKES = (
    _pool_mistake(
        "every-tie",
        "where several positions of a window tie for the maximum, you sent the "
        "gradient to each of them, so it is counted several times. PyTorch sends it "
        "to the first of them only, in row-major order: use argmax, which returns the "
        "first maximum, rather than the mask x == max.",
        lambda windows, g: _is_max(windows) * g,
    ),
    _pool_mistake(
        "last-tie",
        "where positions tie for the maximum, you sent the gradient to the last of "
        "them; PyTorch sends it to the first, in row-major order (argmax's choice).",
        lambda windows, g: _last_max(windows) * g,
    ),
    _pool_mistake(
        "averaged",
        "you spread each gradient evenly over its window, a quarter to each position: "
        "that is average pooling's backward. Max pooling's output is one input, the "
        "maximum, so the whole gradient goes there.",
        lambda windows, g: np.broadcast_to(g / 4, windows.shape),
    ),
    _pool_mistake(
        "copied-to-window",
        "you copied each gradient to all four positions of its window; only the "
        "position of the maximum affects the output.",
        lambda windows, g: np.broadcast_to(g, windows.shape),
    ),
)


def _explain_pool_error(case: Case, error: Exception) -> str | None:
    h, w = case["x"].shape[2:]
    if (h % 2 or w % 2) and isinstance(error, (ValueError, IndexError)):
        return (
            f"x is {h}×{w}: with an odd size the last row or column belongs to no "
            "window (the floor in the output size). Pool x[:, :, :2·H_out, :2·W_out] "
            "and leave a zero gradient for the rest."
        )
    return None


_MAX_POOL = _backward_exercise(
    "max_pool2d_backward",
    ("x",),
    _max_pool_cases,
    _MAX_POOL_MISTAKES,
    explain=_explain_pool_error,
)


# --- sgd_step ---------------------------------------------------------------------------


class Parameter:
    """A parameter as the small engine holds it: ``.data`` and ``.grad``."""

    def __init__(self, data, grad=None):
        self.data, self.grad = data, grad

    def __repr__(self) -> str:
        return f"Parameter(shape {shape_text(self.data.shape)})"


_STEPS = 3


def _sgd_cases() -> list[Case]:
    rng = np.random.default_rng(9004)
    settings = [(0.1, 0.0, 0.0), (0.1, 0.9, 0.0), (0.05, 0.8, 0.01), (0.5, 0.5, 0.1)]
    cases = []
    for lr, momentum, decay in settings:
        shapes = [(2, 3), (3,)] if not cases else [(4,), (2, 2, 2), (1,)]
        start = [rng.standard_normal(s) for s in shapes]
        grads = [[rng.standard_normal(s) for s in shapes] for _ in range(_STEPS)]
        settings_text = f"lr={lr}, momentum={momentum}, weight_decay={decay}"
        cases.append(
            Case(
                {"lr": lr, "momentum": momentum, "weight_decay": decay},
                label=f"{_STEPS} steps with {settings_text}, parameters of shapes "
                + ", ".join(shape_text(s) for s in shapes),
                start=start,
                grads=grads,
                expected=_torch_steps(
                    torch.optim.SGD,
                    start,
                    grads,
                    lr=lr,
                    momentum=momentum,
                    weight_decay=decay,
                ),
            )
        )
    return cases


def _torch_steps(optimizer, start, grads, **settings) -> list[list[np.ndarray]]:
    """Every parameter after each step of ``optimizer(params, **settings)`` (a
    ``torch.optim`` class) from ``start``, with the gradients of ``grads``."""
    params = [torch.tensor(p, requires_grad=True) for p in start]
    stepper = optimizer(params, **settings)
    after = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.from_numpy(g.copy())
        stepper.step()
        after.append([p.detach().numpy().copy() for p in params])
    return after


def _learner_steps(learner, case: Case, states: int, call: Callable):
    """Every parameter after each of the learner's steps: ``call(params, state,
    step)`` runs one, with ``state`` the optimizer's ``states`` lists of arrays (zero
    at the start, one array per parameter) and ``step`` counted from 1."""
    start = case.info["start"]
    params = [Parameter(p.copy()) for p in start]
    state = [[np.zeros_like(p) for p in start] for _ in range(states)]
    after = []
    for step, step_grads in enumerate(case.info["grads"], start=1):
        for p, g in zip(params, step_grads):
            p.grad = g.copy()
        learner.run(lambda step=step: call(params, state, step), case=case)
        after.append([_data_after_step(p, number) for number, p in enumerate(params)])
    return after


def _sgd_answer(learner, case: Case):
    return _learner_steps(
        learner,
        case,
        1,
        lambda params, state, step: learner.fn(
            params, state[0], *case.arguments.values()
        ),
    )


def _compare_steps(answer, case: Case) -> None:
    for step, (got, expected) in enumerate(zip(answer, case.expected), start=1):
        before = case.info["start"] if step == 1 else answer[step - 2]
        if all(np.array_equal(g, b) for g, b in zip(got, before)):
            raise Mismatch(
                f"step {step} left every parameter unchanged.",
                hint="update p.data in place: `p.data -= lr * v` changes the array the "
                "network holds, while `p = ...` or `data = data - ...` only rebinds a "
                "local name. Update the optimizer's state in place too (`v *= "
                "momentum; v += g`), or it starts from zero at every step.",
            )
        for number, (g, e) in enumerate(zip(got, expected)):
            compare_values(
                g,
                e,
                what=f"parameter {number} after step {step}",
                label=f"p{number}",
            )


def _sgd_mistake(name: str, hint: str, update: Callable) -> Mistake:
    """A mistaken step: ``update(p, g, v, lr, momentum, decay) -> (p, v)``."""

    def answer(case: Case):
        ps = [p.copy() for p in case.info["start"]]
        vs = [np.zeros_like(p) for p in ps]
        a = case.arguments
        after = []
        for step_grads in case.info["grads"]:
            for i, g in enumerate(step_grads):
                ps[i], vs[i] = update(
                    ps[i], g, vs[i], a["lr"], a["momentum"], a["weight_decay"]
                )
            after.append([p.copy() for p in ps])
        return after

    return Mistake(name, hint, answer)


_SGD_MISTAKES = (
    _sgd_mistake(
        "no-momentum",
        "your step ignores the momentum: the velocity must carry over from step to "
        "step (v = momentum·v + g, updated in place, then p -= lr·v). If you wrote "
        "`v = momentum * v + g`, that rebinds a local name and the list keeps zeros.",
        lambda p, g, v, lr, m, d: (p - lr * (g + d * p), v),
    ),
    _sgd_mistake(
        "ascent",
        "your step goes up the gradient: subtract, p -= lr·v.",
        lambda p, g, v, lr, m, d: (
            p + lr * (m * v + g + d * p),
            m * v + g + d * p,
        ),
    ),
    _sgd_mistake(
        "decay-outside-momentum",
        "you added the weight decay after the momentum; PyTorch adds it to the "
        "gradient first, g = grad + weight_decay·p, and the velocity accumulates that.",
        lambda p, g, v, lr, m, d: (p - lr * (m * v + g + d * p), m * v + g),
    ),
    _sgd_mistake(
        "no-weight-decay",
        "you left out the weight decay: g = grad + weight_decay·p.",
        lambda p, g, v, lr, m, d: (p - lr * (m * v + g), m * v + g),
    ),
    _sgd_mistake(
        "dampened",
        "you scaled the gradient by (1 - momentum) in the velocity; PyTorch's SGD "
        "(dampening 0) uses v = momentum·v + g.",
        lambda p, g, v, lr, m, d: (
            p - lr * (m * v + (1 - m) * (g + d * p)),
            m * v + (1 - m) * (g + d * p),
        ),
    ),
)


_SGD = Exercise(
    "sgd_step",
    _sgd_cases,
    _compare_steps,
    mistakes=_SGD_MISTAKES,
    answer=_sgd_answer,
)


# --- adam_step -------------------------------------------------------------------------


def _adam_cases() -> list[Case]:
    rng = np.random.default_rng(9005)
    settings = [
        (0.01, (0.9, 0.999), 1e-8),
        (0.1, (0.8, 0.99), 1e-8),
        (0.003, (0.5, 0.9), 1e-3),
    ]
    cases = []
    for lr, betas, eps in settings:
        shapes = [(2, 3), (3,)] if not cases else [(4,), (2, 2), (1,)]
        start = [rng.standard_normal(s) for s in shapes]
        # gradients of very different sizes, as Adam is built for
        grads = [
            [rng.standard_normal(s) * 10.0 ** rng.integers(-3, 3, s) for s in shapes]
            for _ in range(_STEPS)
        ]
        cases.append(
            Case(
                {"lr": lr, "betas": betas, "eps": eps},
                label=f"{_STEPS} steps with lr={lr}, betas={betas}, eps={eps}, "
                "parameters of shapes " + ", ".join(shape_text(s) for s in shapes),
                start=start,
                grads=grads,
                expected=_torch_steps(
                    torch.optim.Adam, start, grads, lr=lr, betas=betas, eps=eps
                ),
            )
        )
    return cases


def _adam_answer(learner, case: Case):
    a = case.arguments
    return _learner_steps(
        learner,
        case,
        2,
        lambda params, state, step: learner.fn(
            params, *state, step, a["lr"], a["betas"], a["eps"]
        ),
    )


def _data_after_step(p, number: int) -> np.ndarray:
    if not isinstance(p.data, np.ndarray):
        raise Mismatch(
            f"after a step, parameter {number}'s .data is {type_phrase(p.data)}, not a "
            "numpy array.",
            hint="change p.data in place (p.data -= ...), keeping it an array of its "
            "shape.",
        )
    return p.data.copy()


def _adam_mistake(
    name: str, hint: str, correct_m=True, correct_v=True, **kw
) -> Mistake:
    """Adam with one thing changed: a bias correction left out, ε inside the root
    (``inside``), the step counted from 0 (``shift``), or the sign (``sign``)."""

    def answer(case: Case):
        a = case.arguments
        b1, b2 = a["betas"]
        ps = [p.copy() for p in case.info["start"]]
        ms = [np.zeros_like(p) for p in ps]
        vs = [np.zeros_like(p) for p in ps]
        after = []
        for t, step_grads in enumerate(case.info["grads"], start=1):
            t_used = t + kw.get("shift", 0)
            for i, g in enumerate(step_grads):
                ms[i] = b1 * ms[i] + (1 - b1) * g
                vs[i] = b2 * vs[i] + (1 - b2) * g * g
                m_hat = ms[i] / (1 - b1**t_used) if correct_m else ms[i]
                v_hat = vs[i] / (1 - b2**t_used) if correct_v else vs[i]
                if kw.get("inside"):
                    denominator = np.sqrt(v_hat + a["eps"])
                else:
                    denominator = np.sqrt(v_hat) + a["eps"]
                ps[i] = ps[i] - kw.get("sign", 1) * a["lr"] * m_hat / denominator
            after.append([p.copy() for p in ps])
        return after

    return Mistake(name, hint, answer)


_ADAM_MISTAKES = (
    _adam_mistake(
        "no-bias-correction",
        "you left out both bias corrections: divide m by (1 - beta1**step) and v by "
        "(1 - beta2**step). Both averages start at zero, so without them the early "
        "steps are wrong (too small by a factor 1 - beta1 before the root).",
        correct_m=False,
        correct_v=False,
    ),
    _adam_mistake(
        "v-not-corrected",
        "the squared average is not bias-corrected: divide v by (1 - beta2**step) "
        "too. Left out, the first steps are far too large (by 1/sqrt(1 - beta2), "
        "about 32 with beta2 = 0.999).",
        correct_v=False,
    ),
    _adam_mistake(
        "m-not-corrected",
        "the gradient's average is not bias-corrected: divide m by (1 - beta1**step).",
        correct_m=False,
    ),
    _adam_mistake(
        "eps-inside-root",
        "eps goes outside the square root: sqrt(v_hat) + eps, as PyTorch adds it.",
        inside=True,
    ),
    _adam_mistake(
        "step-counted-from-2",
        "the bias corrections use the wrong step number: `step` is 1 at the first "
        "step, and the correction is 1 - beta**step with that number.",
        shift=1,
    ),
    _adam_mistake(
        "ascent",
        "your step goes up the gradient: subtract, p -= lr · m_hat / (sqrt(v_hat) + eps).",
        sign=-1,
    ),
)


_ADAM = Exercise(
    "adam_step",
    _adam_cases,
    _compare_steps,
    mistakes=_ADAM_MISTAKES,
    answer=_adam_answer,
)
