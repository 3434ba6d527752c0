"""PyTorch's own test samples (OpInfo sample and error inputs) run through labs.

See tests/engine/opinfo.py for how a sample is converted, run and compared, and for the
list of what labs deliberately does not support (EXCLUSIONS).
"""

from __future__ import annotations

import collections

import pytest
from torch.testing._internal.common_methods_invocations import op_db

import labs

from .opinfo import EXCLUSIONS, OPS, run_op

OPINFOS = {
    op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""): op
    for op in op_db
}

# labs's public ops that have no OpInfo of their own, and why they are still covered
NO_OPINFO = {
    "sum_to": "an engine helper (the adjoint of broadcasting), tested in test_ops.py",
    "to_dtype": "reached through float(), double(), long(), int() (their OpInfos)",
    "index": "reached through __getitem__ (its OpInfo)",
    "clip": "an alias of clamp (its OpInfo)",
    "relu": "nn.functional.relu's OpInfo",
}


def test_every_labs_op_is_run_against_pytorch_samples():
    mapped = {getattr(fn, "__name__", "") for fn in OPS.values()}
    public = set(labs.ops.__all__) | set(labs.functional.__all__)
    missing = sorted(
        name
        for name in public - mapped - set(NO_OPINFO)
        if not any(key.split(".")[-1] == name for key in OPS)
    )
    assert not missing, (
        f"labs ops with no OpInfo run in tests/engine/opinfo.py: {missing}"
    )
    assert set(OPS) <= set(OPINFOS), sorted(set(OPS) - set(OPINFOS))


def test_every_exclusion_has_a_reason():
    for exclusion in EXCLUSIONS:
        assert exclusion.reason and (exclusion.op == "*" or exclusion.op in OPS)


@pytest.mark.parametrize("name", sorted(OPS))
def test_pytorch_samples(name):
    opinfo = OPINFOS[name]
    outcomes = run_op(opinfo)
    counts = collections.Counter(kind for kind, _ in outcomes)
    failures = [detail for kind, detail in outcomes if kind == "fail"]
    assert outcomes, f"{name}: PyTorch gave no samples"
    assert counts["pass"] >= 0.99 * len(outcomes) - counts["excluded"], (
        f"{name}: {len(failures)} of {len(outcomes)} samples fail:\n"
        + "\n".join(failures)
    )
    assert counts["excluded"] <= 0.25 * len(outcomes), (
        f"{name}: {counts['excluded']} of {len(outcomes)} samples excluded"
    )
    if opinfo.supports_autograd:
        backward = sum(detail == "forward and backward" for _, detail in outcomes)
        assert backward, f"{name}: no sample compared gradients"


def test_the_comparison_catches_planted_bugs(monkeypatch):
    """The harness is only worth something if it fails on a wrong labs."""
    tanh = OPINFOS["tanh"]
    monkeypatch.setattr(
        labs.ops.Tanh,
        "backward",
        staticmethod(lambda ctx, g: g * (1 - ctx.saved_tensors[0])),
    )
    assert any(kind == "fail" and "gradient" in detail for kind, detail in run_op(tanh))
    monkeypatch.undo()

    monkeypatch.setattr(labs.ops.Exp, "forward", staticmethod(lambda ctx, x: x + 1))
    assert any(
        kind == "fail" and "values differ" in detail
        for kind, detail in run_op(OPINFOS["exp"])
    )
    monkeypatch.undo()

    # an op that accepts what PyTorch refuses (negating a bool tensor)
    monkeypatch.setitem(OPS, "neg", lambda input: input)
    assert any(
        kind == "fail" and "labs did not" in detail
        for kind, detail in run_op(OPINFOS["neg"])
    )
