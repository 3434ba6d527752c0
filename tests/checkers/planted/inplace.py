"""inplace_errors: the right prediction in several forms, and planted wrong ones."""

from __future__ import annotations

import dataclasses

import numpy as np

from labs import check

from ..registry import Entry, Planted, planted

# step_before_backward, exp_then_add, scale_then_add, change_through_detach,
# change_through_data, change_a_clone
RIGHT = [True, True, False, True, False, False]


def _flipped(*indices):
    return [not v if i in indices else v for i, v in enumerate(RIGHT)]


MISTAKES = {
    # every in-place change is an error
    "all-raise": ([True] * 6, "saves no tensor", ("3 of your 6",)),
    # nothing raises: the version counter forgotten
    "none-raise": ([False] * 6, "version 1", ("3 of your 6", "step_before_backward")),
    "optimizer-step": (_flipped(0), "step after backward"),
    "exp-output": (_flipped(1), "exp saves its output"),
    "detach-copies": (_flipped(3), "same version counter"),
    "data-is-checked": (_flipped(4), "silently wrong gradient"),
    "clone-shares": (_flipped(5), "new memory"),
    "ints": ([1, 1, 0, 1, 0, 0], "True where", ("an int", "not True or False")),
    "five": (RIGHT[:5], "6 booleans", ("a list of 5",)),
    "strings": (["raises"] * 6, "True where", ("a str",)),
    "a-number": (3, "6 booleans", ("an int",)),
}


def _any_headline(planted_answers):
    return tuple(dataclasses.replace(p, headline="") for p in planted_answers)


ENTRIES = [
    Entry(
        "inplace_errors",
        learner=check.inplace_errors,
        solutions=(
            ("list", lambda: check.inplace_errors(RIGHT)),
            ("tuple", lambda: check.inplace_errors(tuple(RIGHT))),
            ("numpy bools", lambda: check.inplace_errors(list(np.array(RIGHT)))),
            ("a function", lambda: check.inplace_errors(lambda: RIGHT)),
        ),
        mistakes=_any_headline(planted(check.inplace_errors, MISTAKES))
        + (
            Planted(
                "left-as-none",
                lambda: check.inplace_errors(None),
                None,
                ("in place of the None",),
                headline="not attempted",
            ),
        ),
    ),
]
