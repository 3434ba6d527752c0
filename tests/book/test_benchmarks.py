"""How benchmarks/run.py measures: the method, checked with a fake clock (no timing).

Timing labs and PyTorch call by call, alternately, once measured each library's call
plus the other library's still-spinning threads (about 4 ms for a 0.3 ms convolution
on two cores; README, "Performance"). These tests pin the method that replaced it:
blocks of calls per library, each started after an untimed settling period.
"""

from __future__ import annotations

import types

import pytest

from benchmarks import run


class FakeClock:
    """A clock that moves only when a fake library call says how long it took."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def _library(name, seconds, clock, calls):
    def call():
        calls.append(name)
        clock.now += seconds

    return call


def test_each_library_is_timed_in_settled_blocks(monkeypatch):
    clock, calls = FakeClock(), []
    monkeypatch.setattr(
        run, "time", types.SimpleNamespace(perf_counter=clock.perf_counter)
    )
    ours = _library("labs", 0.002, clock, calls)
    theirs = _library("torch", 0.001, clock, calls)
    labs_time, torch_time = run.side_by_side(ours, theirs, repeats=30, rounds=3)
    assert (labs_time, torch_time) == (pytest.approx(0.002), pytest.approx(0.001))
    # the calls come in 6 blocks, labs and torch in turn, never interleaved call by call
    blocks = [calls[0]]
    for previous, name in zip(calls, calls[1:]):
        if name != previous:
            blocks.append(name)
    assert blocks == ["labs", "torch"] * 3
    # and every block ran untimed for the settling period before its 10 timed calls
    per_library = {"labs": 0.002, "torch": 0.001}
    for name, seconds in per_library.items():
        settling = run.SETTLE_SECONDS / seconds
        assert calls.count(name) >= 3 * (settling + 10)


def test_a_settled_median_ignores_the_slow_first_calls(monkeypatch):
    """The first calls after the other library (slow: its threads still spin) are not
    among the timed ones."""
    slow = 0.06  # five of these fill the 0.25 s settling period; with one untimed
    # warm-up call instead, four would be timed and the median would be slow
    clock, durations = FakeClock(), iter([slow] * 5 + [0.001] * 10_000)

    def call():
        clock.now += next(durations)

    monkeypatch.setattr(
        run, "time", types.SimpleNamespace(perf_counter=clock.perf_counter)
    )
    assert run.median_seconds(call, repeats=5) == pytest.approx(0.001)
