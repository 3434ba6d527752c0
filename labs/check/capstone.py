"""Checkers for the capstone's exercises (chapter 9): whole networks.

``network_prediction`` compares a learner's prediction of a network's size (its
parameter count and the shape after every layer) with the network PyTorch actually
builds. ``same_network`` checks that a network the learner built with ``labs`` computes
exactly what a reference PyTorch network computes, forward and backward, once both
hold the same weights.

Networks are given as builders, functions of a library (``labs`` or ``torch``) that
return an ``nn.Sequential``, as in the chapter. Building a PyTorch network draws its
initial weights from PyTorch's global random generator; the checkers do that inside
``torch.random.fork_rng()``, so the learner's random state is left as it was.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import torch

from labs.check._core import (
    Case,
    Mismatch,
    NotAttempted,
    Result,
    compare_values,
    describe_exception,
    finish,
    run,
    shape_text,
    type_phrase,
)

__all__ = ["network_prediction", "same_network"]


def _build(builder: Callable, lib, role: str):
    """Call ``builder(lib)``; a stub is "not attempted", other errors become a verdict."""
    try:
        with torch.random.fork_rng():
            return builder(lib)
    except NotImplementedError as error:
        raise NotAttempted(error) from None
    except Exception as error:
        raise Mismatch(f"{role}({lib.__name__}) raised {describe_exception(error)}") from None


def _layer_shapes(network, input_shape):
    x = torch.zeros(input_shape)
    shapes = []
    with torch.no_grad():
        for layer in network:
            x = layer(x)
            shapes.append(tuple(x.shape))
    return shapes


def _missing(value) -> bool:
    return value is None or value is Ellipsis


def network_prediction(build: Callable, parameters, shapes, *, input_shape,
                       raise_on_failure: bool = False) -> Result:
    """Check a predicted parameter count and per-layer shapes of ``build(torch)``.

    ``build(torch)`` returns an ``nn.Sequential``; ``parameters`` is the predicted total
    number of learnable numbers (an int), ``shapes`` the predicted shape after each
    layer, in order, for an input of shape ``input_shape`` (a list of tuples, one per
    layer, activations and pooling included). Predictions left as None are "not
    attempted yet".
    """

    def check_case(case: Case) -> None:
        if _missing(parameters) or _missing(shapes):
            raise NotAttempted(todo="write your predictions in place of the `None`s "
                               "and run this cell again.")
        network = _build(build, torch, "the network builder")
        layers = list(network)
        counts = [sum(p.numel() for p in layer.parameters()) for layer in layers]
        total = sum(counts)
        if isinstance(parameters, bool) or not isinstance(parameters, numbers.Integral):
            raise Mismatch(f"the parameter count should be an int, got "
                           f"{type_phrase(parameters)}.", got=parameters)
        if int(parameters) != total:
            biases = sum(layer.bias.numel() for layer in layers
                         if getattr(layer, "bias", None) is not None)
            per_layer = ", ".join(
                f"{type(layer).__name__} {n}" for layer, n in zip(layers, counts) if n
            )
            hint = (
                "you left out the biases: one per output channel or feature."
                if total - int(parameters) == biases
                else f"count layer by layer, weights and biases: {per_layer}."
            )
            raise Mismatch(
                "the parameter count is wrong.",
                details=[("expected", str(total)), ("got", str(int(parameters)))],
                hint=hint,
            )
        actual = _layer_shapes(network, input_shape)
        if not isinstance(shapes, (list, tuple)):
            raise Mismatch(f"the shapes should be a list of tuples, got {type_phrase(shapes)}.")
        if len(shapes) != len(actual):
            raise Mismatch(
                f"the network has {len(actual)} layers (activations and pooling "
                f"count), but {len(shapes)} shapes were predicted.",
                hint="give the shape after every layer of the nn.Sequential, in order.",
            )
        for index, (predicted, expected) in enumerate(zip(shapes, actual)):
            try:
                predicted_tuple = tuple(int(n) for n in predicted)
            except (TypeError, ValueError):
                raise Mismatch(f"shape {index} is not a tuple of ints: {predicted!r}.") from None
            if predicted_tuple != expected:
                raise Mismatch(
                    f"wrong shape after layer {index}, {layers[index]}.",
                    details=[("expected", shape_text(expected)),
                             ("got", shape_text(predicted_tuple))],
                    hint="only convolutions change the channels; a convolution with "
                    "padding (k - 1)/2 keeps the size, a 2×2 pooling halves it (with "
                    "the floor), and Flatten multiplies everything but the batch.",
                )

    result = run("network_prediction", [Case({"input_shape": tuple(input_shape)})],
                 check_case)
    return finish(result, raise_on_failure)


def same_network(build: Callable, reference: Callable, *, lib, input_shape,
                 cases: int = 3, raise_on_failure: bool = False) -> Result:
    """Check that ``build(lib)`` (a labs network) computes what ``reference(torch)`` does.

    Both networks are converted to float64; the reference's weights, drawn by PyTorch,
    are copied into the learner's network with ``load_state_dict`` (so the parameter
    names and shapes must match). On ``cases`` random inputs of shape ``input_shape``
    the outputs must agree, and so must the gradients of every parameter for a random
    upstream gradient.
    """
    rng = np.random.default_rng(909)

    def check_case(case: Case) -> None:
        ours = _build(build, lib, "your network builder")
        theirs = _build(reference, torch, "the reference builder").double()
        ours = ours.double()
        expected = [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
        got = [(name, tuple(p.shape)) for name, p in ours.named_parameters()]
        if got != expected:
            raise Mismatch(
                "the parameters of your network differ from the reference's.",
                details=[("expected", ", ".join(f"{n} {s}" for n, s in expected)),
                         ("got", ", ".join(f"{n} {s}" for n, s in got))],
                hint="build the same layers in the same order; only the pooling changes.",
            )
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal(input_shape)
        try:
            out = ours(lib.tensor(x))
        except Exception as error:
            raise Mismatch(f"your network raised {describe_exception(error)}") from None
        reference_out = theirs(torch.from_numpy(x))
        compare_values(out.data, reference_out.detach().numpy(), what="output", label="out")
        upstream = rng.standard_normal(tuple(reference_out.shape))
        out.backward(lib.tensor(upstream))
        reference_out.backward(torch.from_numpy(upstream))
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            compare_values(p.grad.data, q.grad.numpy(), what=f"gradient of {name}",
                           label=f"{name}.grad")

    result = run("same_network", [Case({"case": i}) for i in range(cases)], check_case)
    return finish(result, raise_on_failure)
