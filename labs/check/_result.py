"""The verdict every checker returns, as plain text and as HTML."""

from __future__ import annotations

import html
from collections.abc import Iterable

from labs.check._text import labelled, labelled_block, plain, to_html

_SYMBOL = {"passed": "✔", "failed": "✘", "not attempted": "…"}
_WORD = {"passed": "Passed", "failed": "Failed", "not attempted": "Not attempted yet"}
_COLOUR = {"passed": "#2e7d32", "failed": "#c62828", "not attempted": "#757575"}
# one label or value of a verdict's details: every property a page's styles might set
_CELL = (
    "margin: 0; padding: 0; border: none; background: none; text-align: left; "
    "vertical-align: top"
)


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
        self.details = tuple(
            d if isinstance(d, Detail) else Detail(*d) for d in details
        )
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
        # Divisions with inline styles, not a table: JupyterLab's output styles
        # (.jp-RenderedHTMLCommon) stripe, right-align and centre tables, and the
        # website's theme has its own table styles. Every box property is set here,
        # so neither page's stylesheet can change how a verdict looks.
        colour = _COLOUR[self.status]
        head = (
            f"<strong>{_SYMBOL[self.status]} {_WORD[self.status]}</strong> "
            f"&middot; {html.escape(self.name)}: {to_html(self._summary)}"
        )
        cells = "".join(
            f'<div style="{_CELL}"><em>{html.escape(detail[0])}</em></div>'
            f'<div style="{_CELL}; white-space: pre-wrap; overflow-wrap: anywhere">'
            f"{_html_value(detail)}</div>"
            for detail in self._lines()
        )
        details = (
            f'<div style="display: grid; grid-template-columns: max-content '
            f'minmax(0, 1fr); gap: 0 1em; margin: 0.3em 0 0; padding: 0">{cells}</div>'
            if cells
            else ""
        )
        return (
            f'<div class="labs-verdict" style="border: none; border-left: 0.3em solid '
            f"{colour}; padding: 0.3em 0.8em; margin: 0.3em 0; background: none; "
            f'text-align: left; font-family: monospace">'
            f"<div>{head}</div>{details}</div>"
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
