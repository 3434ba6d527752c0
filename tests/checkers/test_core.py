"""The runner every checker shares (``labs.check._core``, ``_guard``, ``_text``,
``_result``): an exercise declared once, hints only when confirmed on every case, time
limits, captured output, the known state, and how verdicts are written."""

from __future__ import annotations

import random
import signal
import threading
import time
import warnings

import numpy as np
import pytest
import torch

import labs
from labs.check import CheckFailed, Result, _core
from labs.check._compare import compare_int
from labs.check._core import Case, Exercise, Mistake, check, raised_by_learner
from labs.check._guard import Output, TimeLimit, time_limit
from labs.check._text import digits_to_differ, plain, to_html

from .verdicts import (
    assert_clean,
    assert_not_attempted,
    assert_passed,
    assert_rejected,
)

# --- An exercise in one small declaration ----------------------------------------------

# "Write half(n), n // 2 rounded down": three cases, their answers, two usual mistakes.
HALF = Exercise(
    "half",
    [Case({"n": n}, expected=n // 2) for n in (4, 7, -3)],
    lambda answer, case: compare_int(answer, case.expected, what="half"),
    mistakes=[
        Mistake.formula(
            "rounded-up", "you rounded up: use `n // 2`.", lambda n: -(-n // 2)
        ),
        Mistake.formula(
            "toward-zero",
            "`int(n / 2)` rounds toward zero; `//` rounds down.",
            lambda n: int(n / 2),
        ),
    ],
)


def test_a_new_exercise_is_one_declaration():
    assert_passed(check(HALF, lambda n: n // 2), cases=3)
    result = check(HALF, lambda n: -(-n // 2))
    assert_rejected(result, "you rounded up: use n // 2.")
    assert result.mistake == "rounded-up" and result.summary == "failed on case 2 of 3."
    assert "<code>n // 2</code>" in result._repr_html_()


def test_a_hint_is_named_only_when_its_mistake_matches_every_case():
    """int(n / 2) agrees with rounding up on -3 but not on 7: the second mistake is
    named. A function that rounds up only for 7 matches no mistake everywhere."""
    assert check(HALF, lambda n: int(n / 2)).mistake == "toward-zero"
    odd_one_out = check(HALF, lambda n: 4 if n == 7 else n // 2)
    assert_rejected(odd_one_out, None, "expected: 3", "got: 4")
    assert odd_one_out.hint is None and odd_one_out.mistake is None


def test_a_case_the_learner_cannot_answer_is_no_evidence():
    def crashes_on_negatives(n):
        if n < 0:
            raise ValueError("negative")
        return -(-n // 2)

    assert check(HALF, crashes_on_negatives).mistake == "rounded-up"


def test_answers_are_computed_once_per_case():
    calls = []

    def counted(n):
        calls.append(n)
        return -(-n // 2)

    check(HALF, counted)
    assert sorted(calls) == [-3, 4, 7]  # the failing case's evidence reuses answers


def test_raise_on_failure_and_raise_for_failure():
    passed = check(HALF, lambda n: n // 2, raise_on_failure=True)
    assert passed.raise_for_failure() is passed
    with pytest.raises(CheckFailed) as error:
        check(HALF, lambda n: n, raise_on_failure=True)
    assert str(error.value).startswith("✘ half: failed on case 1 of 3.")
    assert issubclass(CheckFailed, AssertionError)


def test_an_answer_too_strange_to_compare_gets_a_verdict():
    class Strange:
        def __eq__(self, other):
            raise RuntimeError("no comparison")

        def __index__(self):
            raise RuntimeError("not an index")

    exercise = Exercise(
        "strange",
        [Case({"n": 1}, expected=1)],
        lambda answer, case: answer == case.expected,
    )
    result = check(exercise, lambda n: Strange())
    assert_rejected(result, "kind of value", "could not compare", "no comparison")


# --- Time ------------------------------------------------------------------------------


def _forever(*args):
    while True:
        pass


def test_an_infinite_loop_is_cut_within_its_limit(monkeypatch):
    monkeypatch.setattr(_core, "CALL_LIMIT", 0.2)
    start = time.perf_counter()
    result = check(HALF, _forever)
    assert time.perf_counter() - start < 0.2 + 5  # generous slack for a busy machine
    assert_rejected(
        result, "a loop that never ends", "case: n=4", "did not return within 0.2 s"
    )


def test_time_limit_restores_the_previous_handler_and_timer():
    def previous(signum, frame):
        pass

    old = signal.signal(signal.SIGALRM, previous)
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    try:
        with pytest.raises(TimeLimit):
            with time_limit(0.05):
                _forever()
        assert signal.getsignal(signal.SIGALRM) is previous
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < left <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_time_limit_outside_the_main_thread_uses_a_watcher(monkeypatch):
    monkeypatch.setattr(_core, "CALL_LIMIT", 0.2)
    results = []
    worker = threading.Thread(target=lambda: results.append(check(HALF, _forever)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert_rejected(results[0], "a loop that never ends", "did not return within 0.2 s")


def test_a_slow_correct_function_passes_the_cases_that_fit_the_budget(monkeypatch):
    monkeypatch.setattr(_core, "BUDGET", 0.3)
    many = Exercise(
        "half", [Case({"n": n}, expected=n // 2) for n in range(200)], HALF.compare
    )

    def slow(n):
        time.sleep(0.005)
        return n // 2

    result = check(many, slow)
    assert_passed(result)
    assert 0 < result.cases < result.total == 200
    assert f"passed {result.cases} of 200 cases in the time budget" in result.message
    text = " ".join(result.message.split())
    assert "per case" in text and "spread over all kinds" in text


# --- Output and warnings ---------------------------------------------------------------


def test_printed_output_is_captured_and_cut_short(capsys):
    def chatty(n):
        for line in range(1000):
            print("line", line)
        return n

    result = check(HALF, chatty)
    assert capsys.readouterr().out == ""
    block = [d for d in result.details if d.block][0]
    assert block[1][0] == "line 0" and block[1][-1] == "… (992 more lines)"
    assert len(result.message.splitlines()) < 20


def test_a_correct_function_that_prints_passes_and_says_so(capsys):
    def talkative(n):
        print("computing", n)
        return n // 2

    result = check(HALF, talkative)
    assert_passed(result)
    assert "printed 3 lines during the check" in result.message
    assert capsys.readouterr().out == ""


def test_learner_warnings_are_captured():
    def warns(n):
        np.log(np.array(-1.0))
        warnings.warn("careful", UserWarning)  # noqa: B028 (as a learner writes it)
        return n

    result = check(HALF, warns)  # pytest turns warnings into errors: none escapes
    assert "RuntimeWarning: invalid value encountered in log" in result.message
    assert "UserWarning: careful" in result.message


def test_output_keeps_lines_written_in_pieces():
    output = Output()
    with output.capture():
        for n in range(12):
            print("a", n, "b")
    assert (
        output.last[:2] == ["a 0 b", "a 1 b"] and output.last[-1] == "… (4 more lines)"
    )


# --- The known state -------------------------------------------------------------------


def test_the_learner_runs_in_the_known_state_and_gets_its_own_back():
    seen = {}

    def looks(n):
        seen.update(
            grad=torch.is_grad_enabled(),
            inference=torch.is_inference_mode_enabled(),
            labs=labs.is_grad_enabled(),
            errors=np.geterr(),
            precision=np.get_printoptions()["precision"],
        )
        np.random.rand(), random.random(), torch.rand(1)  # the learner uses them
        return n // 2

    np.random.seed(3)
    random.seed(3)
    torch.manual_seed(3)
    states = np.random.get_state()[1].copy(), random.getstate(), torch.get_rng_state()
    with torch.inference_mode(), labs.no_grad(), np.errstate(all="raise"):
        with np.printoptions(precision=2):
            assert check(HALF, looks)
            assert torch.is_inference_mode_enabled() and not labs.is_grad_enabled()
            assert np.geterr()["divide"] == "raise"
            assert np.get_printoptions()["precision"] == 2
    assert seen == dict(
        grad=True,
        inference=False,
        labs=True,
        errors={"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"},
        precision=8,
    )
    np.testing.assert_array_equal(np.random.get_state()[1], states[0])
    assert random.getstate() == states[1]
    assert torch.equal(torch.get_rng_state(), states[2])


# --- Refusals ---------------------------------------------------------------------------


def test_a_refusal_must_be_a_raise_of_the_learners_own():
    def own(n):
        if n:
            raise ValueError("no")

    def accidental(n):
        first, second = [n]
        return first + second

    errors = []
    for fn in (own, accidental):
        try:
            fn(1)
        except ValueError as error:
            errors.append(error)
    assert raised_by_learner(errors[0]) and not raised_by_learner(errors[1])
    try:
        int("x")
    except ValueError as error:
        assert not raised_by_learner(error)


# --- How verdicts are written ------------------------------------------------------------


def test_code_is_marked_up_in_html_and_plain_in_text():
    assert plain("use `n // 2`, not `n / 2`") == "use n // 2, not n / 2"
    assert to_html("use `a < b`") == "use <code>a &lt; b</code>"
    result = Result(
        "demo",
        "failed",
        "failed.",
        details=[("problem", "`x` is <wrong>")],
        hint="write `x.copy()`",
    )
    assert_clean(result)
    assert "x is <wrong>" in result.message and "write x.copy()" in result.message
    assert "<code>x</code> is &lt;wrong&gt;" in result._repr_html_()


def test_digits_are_enough_to_show_the_difference():
    assert digits_to_differ([2.0], [2.5], [True]) == 4
    assert digits_to_differ([2.00001], [2.0], [True]) == 6
    assert digits_to_differ([1.0 + 1e-12], [1.0], [True]) == 13
    assert digits_to_differ([5.0, 1.0000001], [5.0, 1.0], [False, True]) == 8


def test_a_stub_is_not_attempted_and_says_what_to_do():
    result = check(HALF, lambda n: (_ for _ in ()).throw(NotImplementedError))
    assert_not_attempted(result)
    assert result.message == (
        "… half: not attempted yet — replace the raise NotImplementedError with your "
        "code and run this cell again."
    )
