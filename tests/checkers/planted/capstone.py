"""network_prediction and same_network: correct answers and planted mistakes."""

from __future__ import annotations

import torch

import labs
from labs import check

from ..registry import Entry, Planted


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
