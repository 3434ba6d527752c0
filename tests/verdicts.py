"""Helpers for the checkers' tests: a stub, and reading a checker's verdict."""

from __future__ import annotations

from labs.check import Result


def stub(*args, **kwargs):
    """A learner's function that has not been attempted yet."""
    raise NotImplementedError


def flat(result: Result) -> str:
    """The verdict text with line wrapping undone, to search for phrases."""
    return " ".join(result.message.split())


def assert_rejected(result: Result, hint: str | None, *words: str, name: str | None = None,
                    headline: str = "failed") -> None:
    """A clean rejection: failed and falsy, the verdict starting ``✘ name: headline``,
    the expected hint (unless ``hint`` is None), every word in the text, and no
    traceback or memory address in it.

    ``name`` is the checker's name (default: the one the result reports); ``headline``
    is what follows it ("failed" for most checkers, the kind of mistake for some).
    """
    assert isinstance(result, Result)
    assert result.status == "failed", result.message
    assert not result and not result.passed
    assert result.message.startswith(f"✘ {name or result.name}: {headline}"), result.message
    if hint is not None:
        assert result.hint is not None and hint in result.hint, result.message
    for word in words:
        assert word in flat(result), result.message
    assert "Traceback" not in result.message
    assert "0x" not in result.message  # no memory addresses
