"""tanh_init_std: designs that keep the gradient within a factor of 10, and ones that
do not."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch

from labs import check

from ..registry import Entry, Planted, planted

GOOD = {
    "1/sqrt(n)": 1 / np.sqrt(64),
    "xavier-tanh-gain": 5 / 3 / np.sqrt(64),
    "numpy-float": np.float64(0.15),
    "a-function": lambda: 0.2,
    "a-torch-number": torch.tensor(0.18),
}

BAD = {
    "torch-default": (1 / np.sqrt(3 * 64), "raise std", ("vanishes",)),
    "std-1": (1.0, "lower std", ("explodes",)),
    "three-over-sqrt-n": (3 / np.sqrt(64), "lower std", ("explodes",)),
    "zero": (0.0, "no gradient", ("positive number",)),
    "negative": (-0.1, None, ("positive number",)),
    "nan": (float("nan"), None, ("positive number",)),
    "a-string": ("0.125", "a number", ("a str",)),
    "a-bool": (True, None, ("a bool",)),
    "function-returns-none": (lambda: None, "return the standard deviation", ()),
}


def _any_headline(planted_answers):
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


ENTRIES = [
    Entry(
        "tanh_init_std",
        learner=check.tanh_init_std,
        solutions=tuple(
            (name, functools.partial(check.tanh_init_std, std))
            for name, std in GOOD.items()
        ),
        mistakes=_any_headline(planted(check.tanh_init_std, BAD))
        + (
            Planted(
                "left-as-none",
                lambda: check.tanh_init_std(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
]
