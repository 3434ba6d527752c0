"""output_size and transposed_output_size: what their verdicts say.

The contract test (``test_contract.py``) runs every planted mistake of
``planted/sizes.py``; these tests pin down details of the verdicts."""

from __future__ import annotations

from labs import check

from .planted.sizes import (
    OUTPUT_SIZE_MISTAKES,
    TRANSPOSED_SIZE_MISTAKES,
    output_size,
    transposed_output_size,
)
from .verdicts import assert_not_attempted, assert_passed, flat, stub


def test_output_size_runs_the_whole_valid_grid():
    result = check.output_size(output_size)
    assert_passed(result)
    assert result.cases == result.total > 2000
    assert result.message == f"✔ output_size: passed all {result.cases} cases."


def test_transposed_output_size_runs_the_whole_valid_grid():
    result = check.transposed_output_size(transposed_output_size)
    assert_passed(result)
    assert result.cases > 4000


def test_stub_is_not_attempted_without_markdown():
    result = check.output_size(stub)
    assert_not_attempted(result)
    assert result.message == (
        "… output_size: not attempted yet — replace the raise NotImplementedError "
        "with your code and run this cell again."
    )
    assert "<code>raise NotImplementedError</code>" in result._repr_html_()


def test_failure_names_the_case():
    result = check.output_size(OUTPUT_SIZE_MISTAKES["total-padding"][0])
    assert result.case == {"i": 1, "k": 1, "s": 1, "p": 1, "d": 1}
    assert (result.expected, result.got) == (3, 2)
    assert result.mistake == "total-padding"


def test_error_verdict_names_the_exception():
    result = check.output_size(OUTPUT_SIZE_MISTAKES["raises-value-error"][0])
    assert "ValueError: invalid literal for int()" in flat(result)
    assert "Traceback" not in flat(result) and result.got is None


def test_slips_once_taken_for_i_times_s_get_their_own_hint():
    """The issue's misleading hints: a -p slip and a d·k slip were diagnosed as "you
    used i·s", the one mistake that matched the failing case. Now a mistake must match
    every case."""
    for name in ("minus-p", "d-times-k"):
        result = check.transposed_output_size(TRANSPOSED_SIZE_MISTAKES[name][0])
        assert "i·s" not in result.hint, result.message
        assert result.mistake == name


def test_two_slips_at_once_get_the_facts_and_no_hint():
    result = check.transposed_output_size(
        TRANSPOSED_SIZE_MISTAKES["i-times-s-and-minus-p"][0]
    )
    assert result.hint is None and result.mistake is None
    assert "expected: " in flat(result) and "got: " in flat(result)


def test_passing_a_number_instead_of_the_function():
    result = check.output_size(3)
    assert result.status == "failed" and "without calling it" in result.hint
