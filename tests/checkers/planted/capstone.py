"""network_prediction, same_network and the small engine's pieces (log_softmax,
cross_entropy_backward, max_pool2d_backward, sgd_step, adam_step): correct answers and planted
mistakes."""

from __future__ import annotations

import functools

import numpy as np
import torch

import labs
from labs import check

from ..registry import Entry, Planted, planted


def deeper(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(128, 64),
        nn.Tanh(),
        nn.Linear(64, 10),
    )


RIGHT_COUNT = 160 + 4640 + 9248 + 8256 + 650
RIGHT_SHAPES = [
    (5, 16, 8, 8),
    (5, 16, 8, 8),
    (5, 16, 4, 4),
    (5, 32, 4, 4),
    (5, 32, 4, 4),
    (5, 32, 2, 2),
    (5, 32, 2, 2),
    (5, 32, 2, 2),
    (5, 128),
    (5, 64),
    (5, 64),
    (5, 10),
]


def predict(parameters=RIGHT_COUNT, shapes=RIGHT_SHAPES, build=deeper):
    return check.network_prediction(build, parameters, shapes, input_shape=(5, 1, 8, 8))


def _with_shape(index: int, shape) -> list:
    return RIGHT_SHAPES[:index] + [shape] + RIGHT_SHAPES[index + 1 :]


PREDICTION_MISTAKES = {
    "no-biases": (dict(parameters=RIGHT_COUNT - 16 - 32 - 32 - 64 - 10), "biases"),
    "off-by-one": (dict(parameters=RIGHT_COUNT + 1), "layer by layer"),
    "float-count": (dict(parameters=float(RIGHT_COUNT)), "ints", ("a float",)),
    "string-count": (dict(parameters=str(RIGHT_COUNT)), None, ("a str",)),
    "a-layer-missing": (dict(shapes=RIGHT_SHAPES[:-1]), "every layer"),
    "pooling-ignored": (
        dict(shapes=_with_shape(2, (5, 16, 8, 8))),
        "pooling",
        ("after layer 2, MaxPool2d", "(5, 16, 4, 4)"),
    ),
    "flatten-wrong": (dict(shapes=_with_shape(8, (5, 32))), "Flatten"),
    # sizes that int() would have accepted: the 4.5, 8.9, 256.0 and "32"
    "size-4.5": (dict(shapes=_with_shape(2, (5, 16, 4.5, 4))), "ints", ("a float",)),
    "size-8.9": (dict(shapes=_with_shape(0, (5, 16, 8.9, 8))), "ints", ("a float",)),
    "size-256.0": (
        dict(shapes=_with_shape(8, (5, 128.0))),
        "ints",
        ("a float (128.0)",),
    ),
    "size-as-string": (dict(shapes=_with_shape(9, (5, "64"))), None, ("a str",)),
    "shape-as-int": (dict(shapes=_with_shape(9, 64)), None, ("not a tuple of ints",)),
    "shapes-not-a-list": (dict(shapes="(5, 10)"), None, ("a list of tuples",)),
}


def average_pooling(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def max_pooling(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def wider(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 10),
    )


def forgot_return(lib):
    average_pooling(lib)


def list_of_layers(lib):
    return list(average_pooling(lib))


def torch_layers(lib):
    return average_pooling(torch)


def builder_raises(lib):
    raise ValueError("no such layer")


def same(build, reference=average_pooling, input_shape=(3, 1, 8, 8)):
    return check.same_network(build, reference, lib=labs, input_shape=input_shape)


NETWORK_MISTAKES = {
    "max-instead-of-average": (max_pooling, None, ("output",)),
    "different-layers": (wider, "same layers", ("parameters of your network differ",)),
    "forgot-return": (forgot_return, "forget return", ("returned None",)),
    "list-of-layers": (list_of_layers, "nn.Sequential(*layers)", ("a list of layers",)),
    "torch-nn-instead-of-lib": (torch_layers, "lib.nn", ("built a torch network",)),
    "builder-raises": (builder_raises, None, ("ValueError: no such layer",)),
}

ENTRIES = [
    Entry(
        "network_prediction",
        learner=lambda behaviour: predict(build=behaviour),
        solutions=(("right prediction", predict),),
        mistakes=tuple(
            Planted(
                name,
                lambda arguments=arguments: predict(**arguments),
                hint,
                tuple(words[0]) if words else (),
            )
            for name, (arguments, hint, *words) in PREDICTION_MISTAKES.items()
        )
        + (
            Planted(
                "missing-prediction",
                lambda: predict(parameters=None),
                None,
                ("in place of the Nones",),
                headline="not attempted",
            ),
            Planted(
                "ellipsis-prediction",
                lambda: predict(shapes=...),
                None,
                headline="not attempted",
            ),
        ),
    ),
    Entry(
        "same_network",
        learner=lambda behaviour: same(behaviour),
        solutions=(("right network", lambda: same(average_pooling)),),
        mistakes=tuple(
            Planted(
                name,
                lambda build=build: same(build),
                hint,
                tuple(words[0]) if words else (),
            )
            for name, (build, hint, *words) in NETWORK_MISTAKES.items()
        ),
    ),
]


# --- The pieces of the small engine ----------------------------------------------------


def log_softmax_shifted(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def log_softmax_logsumexp(scores):
    m = scores.max(axis=1, keepdims=True)
    return scores - (m + np.log(np.exp(scores - m).sum(axis=1, keepdims=True)))


def log_softmax_torch(scores):
    return torch.log_softmax(torch.from_numpy(scores), dim=1).numpy()


def _naive_log_softmax(scores):
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def _softmax_only(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _max_not_added_back(scores):
    m = scores.max(axis=1, keepdims=True)
    return scores - np.log(np.exp(scores - m).sum(axis=1, keepdims=True))


def _global_max(scores):
    return _naive_log_softmax(scores - scores.max())


def _over_columns(scores):
    return log_softmax_shifted(scores.T).T


def _log_softmax_float32(scores):
    return log_softmax_shifted(scores).astype(np.float32)


LOG_SOFTMAX_MISTAKES = {
    "naive": (_naive_log_softmax, "Subtract each row's maximum", ("NaN or inf",)),
    "softmax-only": (_softmax_only, "you returned the softmax"),
    "max-not-added-back": (_max_not_added_back, "but not outside it"),
    "one-max-for-all-rows": (_global_max, "each row's maximum"),
    "over-columns": (_over_columns, "batch axis"),
    "float32": (_log_softmax_float32, None, ("float32",)),
    "returns-a-list": (lambda s: log_softmax_shifted(s).tolist(), None, ("a list",)),
}


def ce_backward(scores, labels, grad_output):
    p = _softmax_only(scores)
    p[np.arange(len(labels)), labels] -= 1
    return grad_output * p / len(labels)


def ce_backward_one_hot(scores, labels, grad_output):
    one_hot = np.eye(scores.shape[1])[labels]
    return grad_output * (_softmax_only(scores) - one_hot) / len(labels)


def ce_backward_torch(scores, labels, grad_output):
    s = torch.from_numpy(scores).requires_grad_()
    loss = torch.nn.functional.cross_entropy(s, torch.from_numpy(labels))
    loss.backward(torch.from_numpy(np.asarray(grad_output)))
    return s.grad.numpy()


def _ce_with(change):
    def backward(scores, labels, grad_output):
        p = _softmax_only(scores)
        y = np.eye(scores.shape[1])[labels]
        return change(p, y, len(labels), grad_output)

    return backward


def _ce_naive_softmax(scores, labels, grad_output):
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return grad_output * p / len(labels)


CE_MISTAKES = {
    "sum-not-mean": (_ce_with(lambda p, y, n, g: g * (p - y)), "divided by N"),
    "grad-output-ignored": (_ce_with(lambda p, y, n, g: (p - y) / n), "grad_output"),
    "no-one-hot": (_ce_with(lambda p, y, n, g: g * p / n), "one-hot term"),
    "sign": (_ce_with(lambda p, y, n, g: g * (y - p) / n), "wrong sign"),
    "mean-over-classes": (
        _ce_with(lambda p, y, n, g: g * (p - y) / (n * p.shape[1])),
        "N·C",
    ),
    "naive-softmax": (_ce_naive_softmax, "exp(s - m)", ("NaN or inf",)),
    "returns-a-tensor": (
        lambda s, y, g: torch.from_numpy(ce_backward(s, y, g)),
        None,
        ("torch.Tensor",),
    ),
}


def pool_backward(x, grad_output):
    n, c, h, w = grad_output.shape
    grad = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            window = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].reshape(n, c, 4)
            first = window.argmax(axis=2)
            for a in range(n):
                for b in range(c):
                    di, dj = divmod(int(first[a, b]), 2)
                    grad[a, b, 2 * i + di, 2 * j + dj] += grad_output[a, b, i, j]
    return grad


def pool_backward_torch(x, grad_output):
    t = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.max_pool2d(t, 2).backward(torch.from_numpy(grad_output))
    return t.grad.numpy()


def _pool_every_tie(x, grad_output):
    n, c, h, w = grad_output.shape
    grad = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            window = x[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            grad[:, :, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2] += (
                mask * grad_output[:, :, i : i + 1, j : j + 1]
            )
    return grad


def _pool_average(x, grad_output):
    grad = np.zeros_like(x)
    n, c, h, w = grad_output.shape
    spread = np.repeat(np.repeat(grad_output, 2, axis=2), 2, axis=3) / 4
    grad[:, :, : 2 * h, : 2 * w] = spread
    return grad


def _pool_even_only(x, grad_output):
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2)  # fails on odd sizes
    del windows
    return pool_backward(x, grad_output)


POOL_MISTAKES = {
    "every-tie": (_pool_every_tie, "first of them only", ("case 1 of 12",)),
    "average": (_pool_average, "average pooling"),
    "odd-sizes-crash": (_pool_even_only, "odd size", ("ValueError",)),
    "returns-none": (lambda x, g: None, "forget", ()),
}


def sgd(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        g = p.grad + weight_decay * p.data
        v *= momentum
        v += g
        p.data -= lr * v


def sgd_slices(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        v[...] = momentum * v + p.grad + weight_decay * p.data
        p.data[...] = p.data - lr * v


def sgd_scaled_velocity(parameters, velocities, lr, momentum, weight_decay):
    """Sutskever's form, v = momentum·v + lr·g, p -= v: the same steps at a
    constant learning rate."""
    for p, v in zip(parameters, velocities):
        v *= momentum
        v += lr * (p.grad + weight_decay * p.data)
        p.data -= v


def _sgd_rebinds_velocity(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        v = momentum * v + p.grad + weight_decay * p.data
        p.data -= lr * v


def _sgd_rebinds_data(parameters, velocities, lr, momentum, weight_decay):
    for p in parameters:
        data = p.data
        data = data - lr * p.grad  # noqa: F841 (the mistake: a local name)


def _sgd_ascent(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        v *= momentum
        v += p.grad + weight_decay * p.data
        p.data += lr * v


def _sgd_decay_outside(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        v *= momentum
        v += p.grad
        p.data -= lr * (v + weight_decay * p.data)


def _sgd_no_decay(parameters, velocities, lr, momentum, weight_decay):
    sgd(parameters, velocities, lr, momentum, 0.0)


def _sgd_dampened(parameters, velocities, lr, momentum, weight_decay):
    for p, v in zip(parameters, velocities):
        v *= momentum
        v += (1 - momentum) * (p.grad + weight_decay * p.data)
        p.data -= lr * v


def _sgd_replaces_data(parameters, velocities, lr, momentum, weight_decay):
    for p in parameters:
        p.data = list(p.data - lr * p.grad)


SGD_MISTAKES = {
    "velocity-rebound": (_sgd_rebinds_velocity, "rebinds a local name", ("step 2",)),
    "data-rebound": (_sgd_rebinds_data, "in place", ("left every parameter",)),
    "ascent": (_sgd_ascent, "goes up the gradient"),
    "decay-outside-momentum": (_sgd_decay_outside, "after the momentum"),
    "no-weight-decay": (_sgd_no_decay, "left out the weight decay", ("case 3 of 4",)),
    "dampened": (_sgd_dampened, "(1 - momentum)"),
    "data-becomes-a-list": (_sgd_replaces_data, "in place", ("a list",)),
}


def adam(
    parameters, ms, vs, step, lr, betas, eps, *, correct=(True, True), inside=False
):
    """Adam as PyTorch steps; the keywords plant a mistake: a bias correction left
    out (``correct`` for m and v), or eps inside the square root (``inside``)."""
    b1, b2 = betas
    for p, m, v in zip(parameters, ms, vs):
        m *= b1
        m += (1 - b1) * p.grad
        v *= b2
        v += (1 - b2) * p.grad**2
        m_hat = m / (1 - b1**step) if correct[0] else m
        v_hat = v / (1 - b2**step) if correct[1] else v
        root = np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps
        p.data -= lr * m_hat / root


def adam_slices(parameters, ms, vs, step, lr, betas, eps):
    """The corrections folded into the step size, as the Adam paper's last form
    writes it (with eps scaled to match PyTorch's)."""
    b1, b2 = betas
    size = lr * np.sqrt(1 - b2**step) / (1 - b1**step)
    for p, m, v in zip(parameters, ms, vs):
        m[...] = b1 * m + (1 - b1) * p.grad
        v[...] = b2 * v + (1 - b2) * p.grad * p.grad
        p.data[...] = p.data - size * m / (np.sqrt(v) + eps * np.sqrt(1 - b2**step))


_adam_v_uncorrected = functools.partial(adam, correct=(True, False))


def _adam_rebinds_state(parameters, ms, vs, step, lr, betas, eps):
    b1, b2 = betas
    for p, m, v in zip(parameters, ms, vs):
        m = b1 * m + (1 - b1) * p.grad
        v = b2 * v + (1 - b2) * p.grad**2
        m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
        p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)


def _adam_from_zero(parameters, ms, vs, step, lr, betas, eps):
    adam(parameters, ms, vs, step + 1, lr, betas, eps)


def _adam_ascent(parameters, ms, vs, step, lr, betas, eps):
    for p in parameters:
        p.grad = -p.grad
    adam(parameters, ms, vs, step, lr, betas, eps)


ADAM_MISTAKES = {
    "no-bias-correction": (
        functools.partial(adam, correct=(False, False)),
        "both bias corrections",
    ),
    "v-uncorrected": (_adam_v_uncorrected, "squared average is not bias-corrected"),
    "eps-inside-the-root": (
        functools.partial(adam, inside=True),
        "outside the square root",
    ),
    "state-rebound": (_adam_rebinds_state, None, ("step 2",)),
    "step-shifted": (_adam_from_zero, "wrong step number"),
    "ascent": (_adam_ascent, "goes up the gradient"),
}


def _pieces_entry(name, solutions, mistakes):
    checker = getattr(check, name)
    return Entry(
        name,
        learner=checker,
        solutions=tuple(
            (fn.__name__, functools.partial(checker, fn)) for fn in solutions
        ),
        mistakes=planted(checker, mistakes),
    )


ENTRIES += [
    _pieces_entry(
        "log_softmax",
        (log_softmax_shifted, log_softmax_logsumexp, log_softmax_torch),
        LOG_SOFTMAX_MISTAKES,
    ),
    _pieces_entry(
        "cross_entropy_backward",
        (ce_backward, ce_backward_one_hot, ce_backward_torch),
        CE_MISTAKES,
    ),
    _pieces_entry(
        "max_pool2d_backward", (pool_backward, pool_backward_torch), POOL_MISTAKES
    ),
    _pieces_entry("sgd_step", (sgd, sgd_slices, sgd_scaled_velocity), SGD_MISTAKES),
    _pieces_entry("adam_step", (adam, adam_slices), ADAM_MISTAKES),
]
