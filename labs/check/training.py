"""Checkers for chapter 7's exercises on hooks and memory (training deep networks).

``gradient_norms`` checks a function that uses ``Tensor.register_hook`` to report the
norm of each weight's gradient during one backward pass. It calls the learner's function
twice on the same model, then compares the norms with ``.grad`` after a plain
``backward``, checks that the hooks left ``.grad`` as it would be without them, and that
no hook is left registered on the model.

``checkpointed_forward`` checks a forward pass through a list of blocks that uses
``torch.utils.checkpoint``: the same output and the same gradients as the plain forward,
in float64, and at most :data:`SAVED_FRACTION` of the bytes the plain forward saves for
backward (measured with ``torch.autograd.graph.saved_tensors_hooks``, around the
learner's call).

Both take and return PyTorch modules and graphs, so the grader runs them in the
student's kernel (``IN_KERNEL`` in ``labs/grading/grader.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from labs.check._compare import compare_values, none_mismatch
from labs.check._core import Case, Cases, Exercise, Mismatch, Mistake, check
from labs.check._result import Result
from labs.check._text import type_phrase

__all__ = ["gradient_norms", "checkpointed_forward"]

# The most a checkpointed forward may save, as a fraction of the plain forward's bytes.
SAVED_FRACTION = 0.5


def _seeded(seed: int, build: Callable):
    """``build()`` with torch's global generator seeded, and put back afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _weights(model: nn.Module) -> list:
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def _hooks_left(model: nn.Module) -> int:
    """Hooks still registered on the model's parameters and modules."""
    count = 0
    for p in model.parameters():
        count += len(getattr(p, "_backward_hooks", None) or {})
        count += len(getattr(p, "_post_accumulate_grad_hooks", None) or {})
    for m in model.modules():
        for table in (
            m._forward_hooks,
            m._forward_pre_hooks,
            m._backward_hooks,
            m._backward_pre_hooks,
        ):
            count += len(table)
    return count


# --- gradient_norms -------------------------------------------------------------------


_MODELS = [
    (
        "an MLP: Linear(6, 8), Tanh, Linear(8, 8), Tanh, Linear(8, 3); MSE loss",
        lambda: nn.Sequential(
            nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)
        ),
        (5, 6),
        "mse",
    ),
    (
        "a deep MLP without biases: 5 x (Linear(8, 8), Sigmoid), Linear(8, 4); "
        "cross-entropy loss",
        lambda: nn.Sequential(
            *[
                layer
                for _ in range(5)
                for layer in (nn.Linear(8, 8, bias=False), nn.Sigmoid())
            ],
            nn.Linear(8, 4, bias=False),
        ),
        (6, 8),
        "cross_entropy",
    ),
    (
        "a CNN: Conv2d(1, 3, 3), ReLU, Conv2d(3, 2, 3), ReLU, Flatten, Linear(32, 3); "
        "cross-entropy loss",
        lambda: nn.Sequential(
            nn.Conv2d(1, 3, 3),
            nn.ReLU(),
            nn.Conv2d(3, 2, 3),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32, 3),
        ),
        (2, 1, 8, 8),
        "cross_entropy",
    ),
    (
        "an MLP: Linear(4, 16), ReLU, Linear(16, 16), ReLU, Linear(16, 2); MSE loss",
        lambda: nn.Sequential(
            nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2)
        ),
        (7, 4),
        "mse",
    ),
]

_LOSSES = {
    "mse": torch.nn.functional.mse_loss,
    "cross_entropy": torch.nn.functional.cross_entropy,
}


def _norm_cases():
    for number, (label, build, shape, loss) in enumerate(_MODELS):
        seed = 100 + number
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(shape, generator=generator, dtype=torch.float64)
        model = _seeded(seed, lambda build=build: build().double())
        with torch.no_grad():
            width = model(x).shape[1]
        if loss == "mse":
            y = torch.randn((shape[0], width), generator=generator, dtype=torch.float64)
        else:
            y = torch.randint(0, width, (shape[0],), generator=generator)

        def make(seed=seed, build=build):
            return _seeded(seed, lambda: build().double())

        yield Case(
            label=label,
            make=make,
            x=x,
            y=y,
            loss_fn=_LOSSES[loss],
            expected=_true_norms(make(), _LOSSES[loss], x, y),
        )


def _true_norms(model, loss_fn, x, y) -> list:
    loss_fn(model(x), y).backward()
    return [float(w.grad.norm()) for w in _weights(model)]


def _true_grads(case: Case) -> list:
    model = case.info["make"]()
    case.info["loss_fn"](model(case.info["x"]), case.info["y"]).backward()
    return [w.grad for w in _weights(model)]


class _Norms:
    """What the learner's function did on one case, called twice on one model."""

    def __init__(self, first, second, grads, hooks_left):
        self.first, self.second = first, second
        self.grads, self.hooks_left = grads, hooks_left
        self.values = _as_floats(first)
        self.second_values = _as_floats(second)


def _as_floats(answer):
    if not isinstance(answer, (list, tuple, np.ndarray, torch.Tensor)):
        return None
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError, RuntimeError):
        return None
    return values


def _norms_answer(learner, case: Case) -> _Norms:
    model = case.info["make"]()
    answers, grads = [], None
    for _ in range(2):
        for p in model.parameters():
            p.grad = None
        x, y = case.info["x"].clone(), case.info["y"].clone()
        loss_fn = case.info["loss_fn"]
        answers.append(
            learner.run(
                lambda x=x, y=y, loss_fn=loss_fn: learner.fn(model, loss_fn, x, y)
            )
        )
        if grads is None:
            grads = [
                None if w.grad is None else w.grad.detach().clone()
                for w in _weights(model)
            ]
    return _Norms(answers[0], answers[1], grads, _hooks_left(model))


def _compare_norms(answer: _Norms, case: Case) -> None:
    first = answer.first
    if first is None:
        raise none_mismatch()
    if answer.values is None:
        raise Mismatch(
            f"your function returned {type_phrase(first)}, not a list of numbers.",
            got=first,
            hint="return a list with one number per weight: `[n1, n2, ...]`, where "
            "each number is `grad.norm().item()`.",
        )
    expected = case.expected
    if len(answer.values) != len(expected):
        raise Mismatch(
            f"your list has {len(answer.values)} numbers; the model has "
            f"{len(expected)} weights (parameters named ...weight).",
            got=answer.values,
            diagnosable=True,
        )
    for number, got in enumerate(answer.grads, 1):
        if got is None:
            raise Mismatch(
                f"after your function returned, weight {number}'s `.grad` was None.",
                got=answer.values,
                hint="your function should run one backward pass, "
                "`loss_fn(model(x), y).backward()`, with the hooks registered.",
            )
    compare_values(answer.values, expected, what="list of norms", label="norms")
    true = _true_grads(case)
    for number, (got, want) in enumerate(zip(answer.grads, true), 1):
        if not torch.allclose(got, want, rtol=1e-6, atol=1e-8):
            raise Mismatch(
                f"your hooks changed the gradients: after your function, weight "
                f"{number}'s `.grad` is not the gradient of the loss.",
                got=answer.values,
                hint="a hook that returns a tensor replaces the gradient, and so "
                "changes training. A hook that only watches must return None (and "
                "must not change its argument in place).",
            )
    second = answer.second_values
    if (
        second is None
        or len(second) != len(expected)
        or not np.allclose(second, expected, rtol=1e-6, atol=1e-8)
    ):
        raise Mismatch(
            "called a second time on the same model, your function gave a different "
            "answer.",
            details=[("second call", _summary(answer.second))],
            got=answer.second,
            hint="hooks registered by the first call are still there and run again: "
            "keep the handles that `register_hook` returns and call `handle.remove()` "
            "on each before returning, and start from an empty list on every call.",
        )
    if answer.hooks_left:
        raise Mismatch(
            f"your function left {answer.hooks_left} hook"
            f"{'s' if answer.hooks_left != 1 else ''} registered on the model after it "
            "returned.",
            got=answer.values,
            hint="every later backward pass through this model would run them again. "
            "Keep the handles that `register_hook` returns and call `handle.remove()` "
            "on each (in a `finally:` block) before returning.",
        )


def _summary(answer) -> str:
    values = _as_floats(answer)
    if values is None:
        return type_phrase(answer)
    shown = ", ".join(f"{v:.4g}" for v in values[:8])
    more = ", ..." if len(values) > 8 else ""
    return f"{len(values)} numbers: [{shown}{more}]"


def _layer_outputs(case: Case, gradients: bool) -> list:
    """The norm of each weighted layer's output, or of the gradient with respect to
    it, in the order of the layers."""
    model = case.info["make"]()
    layers = [m for m in model.modules() if getattr(m, "weight", None) is not None]
    outputs = {}
    handles = [
        layer.register_forward_hook(
            lambda module, args, out, i=i: outputs.__setitem__(i, out)
        )
        for i, layer in enumerate(layers)
    ]
    try:
        loss = case.info["loss_fn"](model(case.info["x"]), case.info["y"])
    finally:
        for handle in handles:
            handle.remove()
    if not gradients:
        return [float(outputs[i].norm()) for i in range(len(layers))]
    grads = torch.autograd.grad(loss, [outputs[i] for i in range(len(layers))])
    return [float(g.norm()) for g in grads]


_NORM_MISTAKES = [
    Mistake(
        "squared",
        "these are the squared norms, the sums of squares: take the square root, or "
        "use `grad.norm()`.",
        lambda case: [n**2 for n in case.expected],
    ),
    Mistake(
        "reversed-order",
        "these are the right norms in reverse order: backward reaches the last layer "
        "first, so hooks that append to a list fill it from the last layer. Store each "
        "norm at its layer's index instead.",
        lambda case: list(reversed(case.expected)),
    ),
    Mistake(
        "weights-not-gradients",
        "these are the norms of the weights themselves: the hook's argument is the "
        "gradient, take its norm (`grad.norm()`), not the parameter's.",
        lambda case: [float(w.norm()) for w in _weights(case.info["make"]())],
    ),
    Mistake(
        "activations",
        "these are the norms of the layers' outputs (the activations) from the "
        "forward pass: the exercise asks for the gradients, which a hook registered "
        "with `weight.register_hook` receives during backward.",
        lambda case: _layer_outputs(case, gradients=False),
    ),
    Mistake(
        "output-gradients",
        "these are the norms of the gradients with respect to the layers' outputs: "
        "the exercise asks for the gradients with respect to the weights "
        "(`weight.register_hook`).",
        lambda case: _layer_outputs(case, gradients=True),
    ),
    Mistake(
        "biases-too",
        "your list has a norm for every parameter, biases included: keep only the "
        "weights (the parameters whose name ends in `weight`).",
        lambda case: _all_parameter_norms(case),
    ),
]


def _all_parameter_norms(case: Case) -> list:
    model = case.info["make"]()
    case.info["loss_fn"](model(case.info["x"]), case.info["y"]).backward()
    return [float(p.grad.norm()) for p in model.parameters()]


GRADIENT_NORMS = Exercise(
    "gradient_norms",
    lambda: Cases(len(_MODELS), _norm_cases),
    _compare_norms,
    mistakes=_NORM_MISTAKES,
    answer=_norms_answer,
    same=lambda predicted, answer: (
        answer.values is not None
        and len(predicted) == len(answer.values)
        and bool(np.allclose(predicted, answer.values, rtol=1e-6, atol=1e-8))
    ),
)


def gradient_norms(fn, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(model, loss_fn, x, y) -> list`` (chapter 7, "Hooks").

    ``fn`` must run one backward pass of ``loss_fn(model(x), y)`` and return, for each
    parameter of ``model`` whose name ends in ``weight`` (in the order of
    ``model.named_parameters()``), the norm of the loss's gradient with respect to it,
    read by a hook (``register_hook``). The checker calls ``fn`` twice on each of four
    seeded float64 models (MLPs and a CNN), each time with ``.grad`` cleared, and
    compares the norms with ``weight.grad.norm()`` after a plain backward. It also
    checks that after ``fn`` returns the weights' ``.grad`` holds the true gradient (a
    hook that returns a tensor would change it) and that no hook is left on the model.
    """
    return check(GRADIENT_NORMS, fn, raise_on_failure=raise_on_failure)


# --- checkpointed_forward -------------------------------------------------------------


def _saved_bytes(run: Callable, exclude=()) -> tuple:
    """``(run(), bytes)``: the bytes of the distinct storages that the graph built by
    ``run()`` saves for backward (counted by a ``saved_tensors_hooks`` pack hook),
    leaving out the storages of the tensors in ``exclude`` (the parameters, which are
    in memory anyway)."""
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    seen = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = run()
    return out, sum(seen.values())


def _mlp_block(width, activation):
    return lambda: nn.Sequential(
        *[layer for _ in range(3) for layer in (nn.Linear(width, width), activation())]
    )


def _conv_block(channels):
    return lambda: nn.Sequential(
        nn.Conv1d(channels, channels, 3, padding=1),
        nn.Tanh(),
        nn.Conv1d(channels, channels, 3, padding=1),
        nn.Tanh(),
    )


_STACKS = [
    (
        "4 blocks of 3 x (Linear(16, 16), Tanh); x of shape (8, 16)",
        4,
        _mlp_block(16, nn.Tanh),
        (8, 16),
    ),
    (
        "6 blocks of 3 x (Linear(12, 12), ReLU); x of shape (5, 12)",
        6,
        _mlp_block(12, nn.ReLU),
        (5, 12),
    ),
    (
        "3 blocks of Conv1d(4, 4, 3, padding=1), Tanh, Conv1d(4, 4, 3, padding=1), "
        "Tanh; x of shape (2, 4, 10)",
        3,
        _conv_block(4),
        (2, 4, 10),
    ),
]


def _stack_cases():
    for number, (label, count, block, shape) in enumerate(_STACKS):
        seed = 200 + number

        def make(seed=seed, count=count, block=block):
            return _seeded(seed, lambda: [block().double() for _ in range(count)])

        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(shape, generator=generator, dtype=torch.float64)
        blocks = make()
        source = x.clone().requires_grad_()
        parameters = [p for b in blocks for p in b.parameters()]

        def plain(blocks=blocks, source=source):
            h = source
            for b in blocks:
                h = b(h)
            return h

        out, plain_bytes = _saved_bytes(plain, parameters)
        upstream = torch.randn(out.shape, generator=generator, dtype=torch.float64)
        out.backward(upstream)
        yield Case(
            label=label,
            make=make,
            x=x,
            upstream=upstream,
            expected=out.detach(),
            grads=[source.grad, *[p.grad for p in parameters]],
            plain_bytes=plain_bytes,
        )


class _Checkpointed:
    def __init__(self, out, saved, grads):
        self.out, self.saved, self.grads = out, saved, grads


def _checkpoint_answer(learner, case: Case) -> _Checkpointed:
    blocks = case.info["make"]()
    parameters = [p for b in blocks for p in b.parameters()]
    x = case.info["x"].clone().requires_grad_()
    out, saved = _saved_bytes(
        lambda: learner.run(lambda: learner.fn(blocks, x)), parameters
    )
    grads = None
    if (
        isinstance(out, torch.Tensor)
        and out.requires_grad
        and out.shape == case.expected.shape
    ):
        upstream = case.info["upstream"]
        learner.run(
            lambda: out.backward(upstream), role="the backward pass through your graph"
        )
        grads = [x.grad, *[p.grad for p in parameters]]
    return _Checkpointed(out, saved, grads)


def _compare_checkpointed(answer: _Checkpointed, case: Case) -> None:
    out = answer.out
    if out is None:
        raise none_mismatch()
    if not isinstance(out, torch.Tensor):
        raise Mismatch(
            f"your function returned {type_phrase(out)}, not a tensor.",
            got=out,
            hint="return the output of the last block, a torch.Tensor.",
        )
    compare_values(out.detach(), case.expected, what="output", label="out")
    if not out.requires_grad:
        raise Mismatch(
            "your output has no graph: `out.requires_grad` is False, so no gradient "
            "can reach the blocks' parameters.",
            got=out.detach(),
            hint="the blocks ran under `torch.no_grad()` or their output was "
            "detached. Run each block through `checkpoint(block, h, "
            "use_reentrant=False)`, which keeps the output attached to the graph.",
        )
    names = ["x", *[f"parameter {n}" for n in range(1, len(answer.grads))]]
    for name, got, want in zip(names, answer.grads, case.info["grads"]):
        if got is None:
            raise Mismatch(
                f"after backward, the gradient of {name} is None: no path of the graph "
                "leads from your output back to it.",
                got=out.detach(),
                hint="the graph was cut between blocks: `.detach()` (or a block run "
                "under `torch.no_grad()`) stops gradients. Give each block the previous "
                "block's output as it is.",
            )
        compare_values(got, want, what=f"gradient of {name}", label=f"grad[{name}]")
    plain = case.info["plain_bytes"]
    if answer.saved > SAVED_FRACTION * plain:
        raise Mismatch(
            f"your forward saved {answer.saved:,} bytes for backward; the plain forward "
            f"saves {plain:,}, and the exercise asks for at most "
            f"{SAVED_FRACTION:g} of that.",
            got=out.detach(),
            hint="wrap each block in `torch.utils.checkpoint.checkpoint(block, h, "
            "use_reentrant=False)`: it saves only the block's input and runs the block "
            "again during backward.",
        )


CHECKPOINTED_FORWARD = Exercise(
    "checkpointed_forward",
    lambda: Cases(len(_STACKS), _stack_cases),
    _compare_checkpointed,
    answer=_checkpoint_answer,
)


def checkpointed_forward(fn, *, raise_on_failure: bool = False) -> Result:
    """Check ``fn(blocks, x) -> out`` (chapter 7, "The memory cost of reverse mode").

    ``blocks`` is a list of modules applied in turn to ``x``; ``fn`` must return the
    last block's output, computed with ``torch.utils.checkpoint.checkpoint``. On three
    seeded float64 stacks (MLP and convolution blocks) the checker compares the output,
    and the gradients of ``x`` and of every parameter after ``backward`` with a random
    upstream gradient, with the plain forward's; and it counts the bytes the learner's
    forward saves for backward (``_saved_bytes``, parameters left out), which must be at
    most :data:`SAVED_FRACTION` of the plain forward's.
    """
    return check(CHECKPOINTED_FORWARD, fn, raise_on_failure=raise_on_failure)
