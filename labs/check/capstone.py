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

from labs.check._compare import compare_values, int_or_mismatch
from labs.check._core import Case, Exercise, Mismatch, Mistake, NotAttempted, check
from labs.check._result import Result
from labs.check._text import shape_text, type_phrase

__all__ = ["network_prediction", "same_network"]


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


def _missing(value) -> bool:
    return value is None or value is Ellipsis


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
        if _missing(parameters) or _missing(shapes):
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
