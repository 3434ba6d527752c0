"""gradient_norms and checkpointed_forward (chapter 7, hooks and memory): correct
answers and planted mistakes, each written as a learner might write it."""

from __future__ import annotations

import torch
from torch.utils.checkpoint import checkpoint

from labs import check

from ..registry import Entry, planted


def _weights(model):
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def norms_by_index(model, loss_fn, x, y):
    weights = _weights(model)
    norms = [None] * len(weights)
    handles = []
    for i, w in enumerate(weights):

        def record(grad, i=i):
            norms[i] = grad.norm().item()

        handles.append(w.register_hook(record))
    try:
        loss_fn(model(x), y).backward()
    finally:
        for handle in handles:
            handle.remove()
    return norms


def norms_appended_then_reversed(model, loss_fn, x, y):
    """Hooks fire from the last layer back: append, then reverse. Tensors returned."""
    norms = []
    handles = [
        w.register_hook(lambda g: norms.append(g.norm())) for w in _weights(model)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms[::-1]


def norms_with_autograd_grad(model, loss_fn, x, y):
    """No hook at all: right numbers, and `.grad` filled by a backward pass too."""
    loss = loss_fn(model(x), y)
    loss.backward()
    return [float(w.grad.norm()) for w in _weights(model)]


def _appended(model, loss_fn, x, y):
    norms = []
    handles = [
        w.register_hook(lambda g: norms.append(g.norm().item()))
        for w in _weights(model)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _squared(model, loss_fn, x, y):
    return [n**2 for n in norms_by_index(model, loss_fn, x, y)]


def _never_removed(model, loss_fn, x, y):
    weights = _weights(model)
    norms = [None] * len(weights)
    for i, w in enumerate(weights):
        w.register_hook(lambda g, i=i: norms.__setitem__(i, g.norm().item()))
    loss_fn(model(x), y).backward()
    return norms


def _never_removed_shared(model, loss_fn, x, y):
    """Hooks kept, entries stored on the model, which outlives the call: they pile
    up."""
    norms = model.__dict__.setdefault("norms", [])
    for w in _weights(model):
        w.register_hook(lambda g: norms.append(g.norm().item()))
    loss_fn(model(x), y).backward()
    return norms[::-1]


def _modifying_hook(model, loss_fn, x, y):
    weights = _weights(model)
    norms = [None] * len(weights)
    handles = []
    for i, w in enumerate(weights):

        def record(grad, i=i):
            norms[i] = grad.norm().item()
            return grad / grad.norm()  # "normalised": replaces the gradient

        handles.append(w.register_hook(record))
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _in_place_hook(model, loss_fn, x, y):
    weights = _weights(model)
    norms = [None] * len(weights)
    handles = []
    for i, w in enumerate(weights):

        def record(grad, i=i):
            norms[i] = grad.pow_(2).sum().sqrt().item()  # squares .grad in place

        handles.append(w.register_hook(record))
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _weight_norms(model, loss_fn, x, y):
    weights = _weights(model)
    norms = [None] * len(weights)
    handles = [
        w.register_hook(lambda g, i=i, w=w: norms.__setitem__(i, w.norm().item()))
        for i, w in enumerate(weights)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _layers(model):
    return [m for m in model.modules() if getattr(m, "weight", None) is not None]


def _activation_norms(model, loss_fn, x, y):
    layers = _layers(model)
    norms = [None] * len(layers)
    handles = [
        layer.register_forward_hook(
            lambda m, a, out, i=i: norms.__setitem__(i, out.norm().item())
        )
        for i, layer in enumerate(layers)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _output_gradient_norms(model, loss_fn, x, y):
    layers = _layers(model)
    norms = [None] * len(layers)

    def watch(module, args, out, i):
        out.register_hook(lambda g: norms.__setitem__(i, g.norm().item()))

    handles = [
        layer.register_forward_hook(lambda m, a, out, i=i: watch(m, a, out, i))
        for i, layer in enumerate(layers)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _all_parameters(model, loss_fn, x, y):
    params = list(model.parameters())
    norms = [None] * len(params)
    handles = [
        p.register_hook(lambda g, i=i: norms.__setitem__(i, g.norm().item()))
        for i, p in enumerate(params)
    ]
    loss_fn(model(x), y).backward()
    for handle in handles:
        handle.remove()
    return norms


def _no_backward(model, loss_fn, x, y):
    return [0.0 for _ in _weights(model)]


NORM_MISTAKES = {
    "appended-in-backward-order": (_appended, "reverse order"),
    "squared-norms": (_squared, "squared norms"),
    "hooks-never-removed": (_never_removed, "handle.remove()", "left 6 hooks"),
    "hooks-never-removed-entries-pile-up": (
        _never_removed_shared,
        "still there and run again",
        "second time",
    ),
    "hook-returns-a-modified-gradient": (_modifying_hook, "replaces the gradient"),
    "hook-changes-the-gradient-in-place": (_in_place_hook, "in place"),
    "norms-of-the-weights": (_weight_norms, "weights themselves"),
    "norms-of-the-activations": (_activation_norms, "activations"),
    "gradients-of-the-layer-outputs": (_output_gradient_norms, "layers' outputs"),
    "biases-included": (_all_parameters, "biases included"),
    "no-backward-pass": (_no_backward, "one backward pass"),
    "a-number": (lambda model, loss_fn, x, y: 1.0, "list", "not a list"),
}


def checkpointed(blocks, x):
    h = x
    for block in blocks:
        h = checkpoint(block, h, use_reentrant=False)
    return h


def checkpointed_in_pairs(blocks, x):
    """Segments of two blocks: fewer boundaries saved still."""

    def segment(h, *pair):
        for block in pair:
            h = block(h)
        return h

    h = x
    for start in range(0, len(blocks), 2):
        h = checkpoint(segment, h, *blocks[start : start + 2], use_reentrant=False)
    return h


def checkpointed_reentrant(blocks, x):
    h = x
    for block in blocks:
        h = checkpoint(block, h, use_reentrant=True)
    return h


def _plain(blocks, x):
    h = x
    for block in blocks:
        h = block(h)
    return h


def _detached(blocks, x):
    h = x
    for block in blocks:
        h = checkpoint(block, h, use_reentrant=False).detach().requires_grad_()
    return h


def _under_no_grad(blocks, x):
    with torch.no_grad():
        return _plain(blocks, x)


def _last_block_only(blocks, x):
    h = _plain(blocks[:-1], x)
    return checkpoint(blocks[-1], h, use_reentrant=False)


CHECKPOINT_MISTAKES = {
    "no-checkpointing": (_plain, "torch.utils.checkpoint.checkpoint", "bytes"),
    "last-block-only": (_last_block_only, "saves only the block's input"),
    "output-detached": (_detached, "graph was cut", "gradient of x is None"),
    "under-no-grad": (_under_no_grad, "torch.no_grad()", "no graph"),
    "block-skipped": (
        lambda blocks, x: checkpointed(blocks[1:], x),
        None,
        "output is wrong",
    ),
    "returns-the-blocks": (lambda blocks, x: blocks, None, "not a tensor"),
}


ENTRIES = [
    Entry(
        "gradient_norms",
        learner=lambda behaviour: check.gradient_norms(behaviour),
        solutions=(
            ("by-index", lambda: check.gradient_norms(norms_by_index)),
            (
                "reversed-tensors",
                lambda: check.gradient_norms(norms_appended_then_reversed),
            ),
            ("without-hooks", lambda: check.gradient_norms(norms_with_autograd_grad)),
        ),
        mistakes=planted(check.gradient_norms, NORM_MISTAKES),
    ),
    Entry(
        "checkpointed_forward",
        learner=lambda behaviour: check.checkpointed_forward(behaviour),
        solutions=(
            ("every-block", lambda: check.checkpointed_forward(checkpointed)),
            ("pairs", lambda: check.checkpointed_forward(checkpointed_in_pairs)),
            ("reentrant", lambda: check.checkpointed_forward(checkpointed_reentrant)),
        ),
        mistakes=planted(check.checkpointed_forward, CHECKPOINT_MISTAKES),
    ),
]
