"""Helpers that several chapters use, defined once here instead of in each notebook.

    from labs.notebook import assert_close, show_source

``show_source`` prints a function or class of the installed package (chapters 3, 7
and 9 read the engine's own lines with it); ``assert_close`` is the float64 comparison
that the chapters and the formula sheet use to verify a claim on the page. Both are
printed by the book (``show_source(assert_close)`` in chapter 3), so their lines fit
the website's code box (76 columns; see CONTRIBUTING.md, "Printed functions").

Like the rest of ``labs``, this module never imports torch: a torch tensor is read
through ``detach()`` and numpy's array protocol, as a labs tensor is.
"""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

__all__ = ["assert_close", "show_source"]


def show_source(obj) -> None:
    """Print the source of a function or class, as it is in the installed package."""
    print(textwrap.dedent(inspect.getsource(obj)).rstrip())


def assert_close(actual, expected, rtol=1e-10, atol=1e-12) -> None:
    """Same shape, and the same values up to float64 rounding.

    Each side may be a labs or torch tensor, an array, a list or a number.
    """
    actual, expected = _float64(actual), _float64(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def _float64(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a labs or torch tensor: its values only
        value = value.detach()
    return np.asarray(value, dtype=np.float64)
