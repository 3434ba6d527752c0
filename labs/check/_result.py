"""The verdict every checker returns, as plain text and as HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable

from labs.check._text import labelled, labelled_block, plain, to_html

_SYMBOL = {"passed": "✔", "failed": "✘", "not attempted": "…"}
_WORD = {"passed": "Passed", "failed": "Failed", "not attempted": "Not attempted yet"}
_COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "not attempted": "#757575"}


class CheckFailed(AssertionError):
    """Raised by :meth:`Result.raise_for_failure` when a check did not pass."""


class Detail(tuple):
    """One labelled line of a verdict: ``(label, value)``.

    ``value`` is a sentence whose code is between backticks, or, for a ``block``
    (what the learner's code printed), a list of lines shown as they are.
    """

    def __new__(cls, label: str, value, block: bool = False):
        return super().__new__(cls, (label, value))

    def __init__(self, label: str, value, block: bool = False):
        self.block = block


class Result:
    """The verdict of a checker: truthy only if every case passed.

    Attributes: ``passed`` (bool), ``status`` ("passed", "failed" or "not attempted"),
    ``name`` (the checker, e.g. "conv1d"), ``cases`` (cases run, all of them passed
    when ``passed``), ``total`` (cases planned) and ``message`` (the plain-text
    verdict). For a failure also ``case`` (the arguments of the first failing case),
    ``expected``, ``got`` (the learner's answer, or None), ``hint`` (str or None) and
    ``mistake``: the name of the usual mistake the hint names, when one reproduces the
    learner's answers on every case (None otherwise).
    """

    def __init__(
        self,
        name: str,
        status: str,
        summary: str,
        *,
        cases: int = 0,
        total: int = 0,
        details: Iterable = (),
        case: dict | None = None,
        expected=None,
        got=None,
        hint: str | None = None,
        mistake: str | None = None,
    ):
        if status not in _SYMBOL:
            raise ValueError(f"unknown status {status!r}")
        self.name = name
        self.status = status
        self._summary = summary
        self.cases = cases
        self.total = total
        self.details = tuple(d if isinstance(d, Detail) else Detail(*d) for d in details)
        self.case = case
        self.expected = expected
        self.got = got
        self._hint = hint
        self.mistake = mistake

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    @property
    def summary(self) -> str:
        """The first line after the checker's name, e.g. "failed on case 3 of 40."."""
        return plain(self._summary)

    @property
    def hint(self) -> str | None:
        """The hint as plain text, or None."""
        return None if self._hint is None else plain(self._hint)

    def _lines(self) -> list[Detail]:
        lines = list(self.details)
        if self._hint:
            lines.append(Detail("hint", self._hint))
        return lines

    @property
    def message(self) -> str:
        """The plain-text verdict: a summary line, then one labelled line per detail."""
        text = [f"{_SYMBOL[self.status]} {self.name}: {self.summary}"]
        for detail in self._lines():
            label, value = detail
            if detail.block:
                text.append(labelled_block(label, value))
            else:
                text.append(labelled(label, plain(value)))
        return "\n".join(text)

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        head = (
            f"<strong>{_SYMBOL[self.status]} {_WORD[self.status]}</strong> "
            f"&middot; {html.escape(self.name)}: {to_html(self._summary)}"
        )
        rows = "".join(
            f'<tr><td style="padding: 0 1em 0 0; vertical-align: top; border: none">'
            f"<em>{html.escape(detail[0])}</em></td>"
            f'<td style="text-align: left; border: none; white-space: pre-wrap">'
            f"{_html_value(detail)}</td></tr>"
            for detail in self._lines()
        )
        table = f'<table style="margin: 0.3em 0 0 0">{rows}</table>' if rows else ""
        return (
            f'<div style="border-left: 0.3em solid {colour}; padding: 0.3em 0.8em; '
            f'margin: 0.3em 0; font-family: monospace">{head}{table}</div>'
        )

    def raise_for_failure(self) -> Result:
        """Raise :class:`CheckFailed` with the verdict unless every case passed."""
        if not self.passed:
            raise CheckFailed(self.message)
        return self


def _html_value(detail: Detail) -> str:
    if detail.block:
        return html.escape("\n".join(detail[1]))
    return to_html(detail[1])


def finish(result: Result, raise_on_failure: bool) -> Result:
    """Return ``result``, or raise :class:`CheckFailed` if asked to and it failed."""
    return result.raise_for_failure() if raise_on_failure else result
