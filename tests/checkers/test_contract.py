"""The contract every checker keeps, run over the registry (``registry.py``).

For every checker in ``labs.check``:

- each worked solution of the course (every checker call the ``solutions/`` notebooks
  make) gives the same verdict under every hostile condition a notebook may have left
  switched on (grad mode off in torch or labs, inference mode, ``np.seterr(all="raise")``,
  odd print options, all at once), and the learner's state is left as it was;
- each correct answer written in the tests passes;
- each planted wrong answer fails, with the hint aimed at its mistake (or, where no
  single mistake explains it, no hint), and its verdict does not change under the
  hostile conditions;
- a learner's code that is a stub, raises, loops forever (even swallowing the time
  limit), returns garbage or prints thousands of lines gets a clear verdict, in
  bounded time, with the printed output cut short.

And every verdict is clean: no traceback, no memory address, no Markdown backticks.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
import torch

from labs import check
from labs.check import CheckFailed, _core

from .registry import (
    BEHAVIOURS,
    CHECKERS,
    CONDITIONS,
    NO_HINT,
    all_planted,
    all_solutions,
    entries,
    learner_state,
    worked_call_list,
    worked_calls,
)
from .verdicts import assert_clean, assert_not_attempted, assert_passed, assert_rejected

WORKED = worked_call_list()


def test_every_checker_is_registered_and_used_by_a_solution():
    assert sorted(entries()) == sorted(CHECKERS)
    assert {call.checker for call in WORKED} == set(CHECKERS)


@pytest.mark.parametrize("notebook", sorted({call.notebook for call in WORKED}))
def test_solutions_notebooks_make_the_calls_their_source_shows(notebook):
    """The calls recorded by running a notebook are the ones its source shows, in
    order, so that the parametrization below replays each of them."""
    recorded = [name for name, *_ in worked_calls(notebook)]
    assert recorded == [c.checker for c in WORKED if c.notebook == notebook]


@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("call", WORKED, ids=[c.id for c in WORKED])
def test_worked_solution_verdict_survives_hostile_condition(call, condition):
    name, args, kwargs, plain = worked_calls(call.notebook)[call.number]
    assert_clean(plain)
    kwargs = {k: v for k, v in kwargs.items() if k != "raise_on_failure"}
    with CONDITIONS[condition]():
        before = learner_state()
        hostile = getattr(check, name)(*args, **kwargs)
        assert learner_state() == before  # the checker put everything back
    assert hostile.message == plain.message
    assert hostile.status == plain.status


@pytest.mark.parametrize(
    "checker, name, solution",
    all_solutions(),
    ids=[f"{c}-{n}" for c, n, _ in all_solutions()],
)
def test_correct_answer_passes(checker, name, solution):
    assert_passed(solution())


@pytest.mark.parametrize(
    "checker, mistake", all_planted(), ids=[f"{c}-{m.name}" for c, m in all_planted()]
)
def test_planted_mistake_is_rejected(checker, mistake):
    result = mistake.call()
    if mistake.headline == "not attempted":
        assert_not_attempted(result)
        for word in mistake.words:
            assert word in " ".join(result.message.split()), result.message
    elif mistake.hint == NO_HINT:
        assert_rejected(result, None, *mistake.words, headline=mistake.headline)
        assert result.mistake is None, result.message  # only facts, no mistake named
    else:
        assert_rejected(result, mistake.hint, *mistake.words, headline=mistake.headline)


@pytest.mark.slow  # every planted mistake again, over 300 cases: make test runs it
@pytest.mark.parametrize(
    "checker, mistake", all_planted(), ids=[f"{c}-{m.name}" for c, m in all_planted()]
)
def test_planted_verdict_survives_hostile_conditions(checker, mistake):
    plain = mistake.call()
    with CONDITIONS["all at once"]():
        before = learner_state()
        hostile = mistake.call()
        assert learner_state() == before
    assert hostile.message == plain.message


def _loops(behaviour: str) -> bool:
    """Whether the hostile answer never returns (its verdict says the call was cut)."""
    return "did not return within" in BEHAVIOURS[behaviour][2]


@pytest.fixture
def short_time_limits(monkeypatch, behaviour):
    """Time limits short enough for a test: 0.1 s per call for an answer that loops,
    0.3 s for the others.

    A looping answer spins a core until the limit stops it: 0.1 s, not 0.3 s, over
    about a hundred cases is 20 CPU seconds less. The others keep 0.3 s, so that a
    stall of the machine cannot make a quick answer look like a loop.
    """
    limit = 0.1 if _loops(behaviour) else 0.3
    monkeypatch.setattr(_core, "CALL_LIMIT", limit)
    monkeypatch.setattr(_core, "EVIDENCE_BUDGET", 0.5)
    return limit


@pytest.mark.slow  # each case waits for time limits to expire: make test runs it
@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
@pytest.mark.parametrize("checker", CHECKERS)
def test_hostile_learner_gets_a_clear_verdict(checker, behaviour, short_time_limits):
    function, status, phrase = BEHAVIOURS[behaviour]
    start = time.perf_counter()
    result = entries()[checker].learner(function)
    elapsed = time.perf_counter() - start
    assert_clean(result)
    assert result.status == status, result.message
    if behaviour not in ("returns-garbage",):
        assert phrase in " ".join(result.message.split()), result.message
    if _loops(behaviour):
        # cut within the call's limit, plus generous slack for a busy machine
        assert elapsed < short_time_limits + 10, elapsed
    if behaviour == "prints-5000-lines":
        assert len(result.message.splitlines()) < 40, result.message


@pytest.mark.parametrize("call", WORKED, ids=[c.id for c in WORKED])
def test_raise_on_failure_raises_only_for_a_verdict_that_did_not_pass(call):
    name, args, kwargs, plain = worked_calls(call.notebook)[call.number]
    kwargs = {**kwargs, "raise_on_failure": True}
    if plain.passed:
        assert getattr(check, name)(*args, **kwargs).message == plain.message
    else:
        with pytest.raises(CheckFailed, match=plain.summary.split(" ")[0]):
            getattr(check, name)(*args, **kwargs)


@pytest.mark.parametrize("checker", CHECKERS)
def test_random_states_are_left_alone(checker):
    entry = entries()[checker]
    np.random.seed(5)
    random.seed(5)
    torch.manual_seed(5)
    before = np.random.get_state()[1].copy(), random.getstate(), torch.get_rng_state()
    for run in (entry.solutions[0][1], entry.mistakes[0].call):
        run()
    after = np.random.get_state()[1], random.getstate(), torch.get_rng_state()
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1] == after[1] and torch.equal(before[2], after[2])


# checkers that take something else than the learner's function first
_NOT_A_FUNCTION = {
    "function",
    "function_jvp",
    "predicted_grad",
    "network_prediction",
    "separable_costs",
    "inplace_errors",
    "stack_design",
    "dilated_stack_prediction",
    "dilation_design",
    "grouped_conv1d_prediction",
    "conv_pool_prediction",
    "shape_design",
    "tanh_init_std",
    "size_predictions",
    "layer_design",
    "upsampling_design",
    "gradient_prediction",
}


@pytest.mark.parametrize("checker", sorted(set(CHECKERS) - _NOT_A_FUNCTION))
def test_passing_a_value_instead_of_the_function(checker):
    result = entries()[checker].learner(np.ones(3))
    assert_rejected(result, "without calling it")
