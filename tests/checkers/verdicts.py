"""Reading a checker's verdict in tests: the shared assertions.

Every assertion here also checks what every verdict must be: a :class:`Result` whose
text has no traceback, no memory address and no literal Markdown backticks (code is
rendered as ``<code>`` in the HTML and plainly in the text).
"""

from __future__ import annotations

from labs.check import Result


def stub(*args, **kwargs):
    """A learner's function that has not been attempted yet."""
    raise NotImplementedError


def flat(result: Result) -> str:
    """The verdict text with line wrapping undone, to search for phrases."""
    return " ".join(result.message.split())


def _own(result: Result) -> Result:
    """The verdict without what the learner's code printed (shown as it was)."""
    kept = [d for d in result.details if not d.block]
    return Result(
        result.name, result.status, result._summary, details=kept, hint=result._hint
    )


def assert_clean(result: Result) -> None:
    """What every verdict must be, passed or not."""
    assert isinstance(result, Result), result
    assert repr(result) == str(result) == result.message
    text = _own(result).message
    assert "Traceback" not in text, text
    assert "0x" not in text, text  # no memory addresses
    assert "`" not in text, text  # code is rendered, never shown as Markdown
    assert "`" not in (result.hint or ""), text
    page = result._repr_html_()
    assert page.startswith("<div"), page
    assert "`" not in _own(result)._repr_html_(), page


def assert_passed(result: Result, cases: int | None = None) -> None:
    """Passed and truthy, every case run, no failure details."""
    assert_clean(result)
    assert result.status == "passed", result.message
    assert result and result.passed
    assert result.hint is None and result.case is None
    assert result.message.startswith(f"✔ {result.name}: "), result.message
    if cases is not None:
        assert result.cases == cases, result.message


def assert_not_attempted(result: Result) -> None:
    assert_clean(result)
    assert result.status == "not attempted", result.message
    assert not result
    assert result.message.startswith(f"… {result.name}: not "), result.message


def assert_rejected(
    result: Result,
    hint: str | None,
    *words: str,
    name: str | None = None,
    headline: str = "failed",
) -> None:
    """A clean rejection: failed and falsy, the verdict starting ``✘ name: headline``,
    the expected hint (unless ``hint`` is None), and every word in the text.

    ``name`` is the checker's name (default: the one the result reports); ``headline``
    is what follows it ("failed" for most checkers, the kind of mistake for some).
    """
    assert_clean(result)
    assert result.status == "failed", result.message
    assert not result and not result.passed
    assert result.message.startswith(f"✘ {name or result.name}: {headline}"), (
        result.message
    )
    if hint is not None:
        assert result.hint is not None and hint in " ".join(result.hint.split()), (
            result.message
        )
    for word in words:
        assert word in flat(result), result.message
