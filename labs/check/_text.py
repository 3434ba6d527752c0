"""How verdicts write things: code names, values, numbers, shapes.

Verdict sentences are written once, with code between backticks (```x.clamp(min=0)```),
and rendered twice: as plain text (the backticks dropped) for ``Result.message`` and
tracebacks, and as HTML (``<code>...</code>``) for the notebook. Text that comes from
outside the checker (an exception's message, what the learner's code printed) goes
through :func:`literal` first, so that a backtick in it is never taken for markup.

Numbers are printed with as many significant digits as it takes to tell a wrong value
from the expected one (:func:`digits_to_differ`), and no more: a difference of 1e-6
shows, last-bit noise of a correct value does not.
"""

from __future__ import annotations

import html
import re
import textwrap

import numpy as np

# Arrays with at most this many elements are shown value by value in a verdict.
TINY = 9

_CODE = re.compile(r"`([^`]+)`")
_LABEL_WIDTH = 10
_TEXT_WIDTH = 88


# --- Markup ---------------------------------------------------------------------------


def plain(text: str) -> str:
    """The plain-text form: code between backticks loses its backticks."""
    return _CODE.sub(r"\1", text)


def to_html(text: str) -> str:
    """The HTML form: escaped, with code between backticks in ``<code>``."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def literal(text: str) -> str:
    """Outside text (an exception message, printed output) made safe for the markup."""
    return text.replace("`", "'")


def labelled(label: str, value: str) -> str:
    """One plain-text detail line, ``  label:   value``, wrapped with a hanging indent."""
    indent = " " * (2 + _LABEL_WIDTH)
    return textwrap.fill(
        value,
        width=_TEXT_WIDTH,
        initial_indent=f"  {label + ':':<{_LABEL_WIDTH}}",
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def labelled_block(label: str, lines: list[str]) -> str:
    """A detail kept line by line (printed output): no wrapping, a hanging indent."""
    indent = " " * (2 + _LABEL_WIDTH)
    first = f"  {label + ':':<{_LABEL_WIDTH}}"
    return "\n".join(
        (first if n == 0 else indent) + line for n, line in enumerate(lines)
    )


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# --- Values ---------------------------------------------------------------------------


def type_phrase(value) -> str:
    """'a float', 'a list', 'a torch.Tensor': a type named without any repr."""
    kind = type(value)
    if value is None:
        return "None"
    if kind.__module__ == "builtins":
        name = kind.__name__
    elif kind.__module__.startswith("torch") and kind.__name__ == "Tensor":
        name = "torch.Tensor"
    elif isinstance(value, np.ndarray):
        name = "numpy array"
    else:
        name = f"{kind.__module__.split('.')[0]}.{kind.__qualname__}"
    article = "an" if name[0] in "aeiou" else "a"
    return f"{article} {name}"


def shape_text(shape) -> str:
    return str(tuple(int(n) for n in shape))


def index_text(label: str, index: tuple) -> str:
    return f"{label}[{', '.join(map(str, index))}]" if index else label


def number_text(value, digits: int = 8) -> str:
    """A float with ``digits`` significant digits; whole numbers without a point."""
    return f"{float(value):.{digits}g}"


def array_text(array, digits: int = 4) -> str:
    """A small array on one line, e.g. ``[[1, 2.5], [-3, 4]]``."""
    array = np.asarray(array)
    if array.ndim == 0:
        return number_text(array, digits)
    return "[" + ", ".join(array_text(row, digits) for row in array) + "]"


def digits_to_differ(got, expected, wrong, *, least: int = 4) -> int:
    """The fewest significant digits (at least ``least``) at which every wrong element
    of ``got`` prints differently from the expected one; 17 tells any two floats."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    wrong = np.broadcast_to(np.asarray(wrong, dtype=bool), got.shape)
    pairs = [
        (float(g), float(e))
        for g, e, w in zip(got.ravel(), expected.ravel(), wrong.ravel())
        if w and np.isfinite(g) and np.isfinite(e)
    ]
    for digits in range(least, 18):
        if all(number_text(g, digits) != number_text(e, digits) for g, e in pairs):
            return digits
    return 17


def describe_value(name: str, value) -> str:
    """How one argument appears in a verdict: tiny arrays by value, others by shape."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().numpy()
    if isinstance(value, np.ndarray):
        if value.size <= TINY:
            return f"{name}={array_text(value)}"
        return f"{name} of shape {shape_text(value.shape)}"
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return f"{name}={literal(repr(value))}"


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message, without memory addresses."""
    lines = str(error).strip().splitlines()
    message = re.sub(r" at 0x[0-9a-fA-F]+", "", lines[0] if lines else "")
    message = literal(message)
    return message if len(message) <= limit else message[: limit - 1] + "…"


def describe_exception(error: BaseException) -> str:
    """``ValueError: the first line of the message``."""
    message = first_line(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
