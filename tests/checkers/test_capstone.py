"""network_prediction, same_network and the small engine's pieces: what their verdicts
say. The contract test
runs the planted mistakes of ``planted/capstone.py``."""

from __future__ import annotations

import numpy as np
import torch

from labs import check

from .planted.capstone import (
    RIGHT_SHAPES,
    _with_shape,
    average_pooling,
    predict,
    same,
)
from .verdicts import assert_passed, flat


def test_right_prediction_passes():
    assert_passed(predict())


def test_prediction_names_the_wrong_layer():
    result = predict(shapes=_with_shape(2, (5, 16, 8, 8)))
    assert "after layer 2, MaxPool2d" in flat(result) and "(5, 16, 4, 4)" in flat(
        result
    )


def test_sizes_must_be_ints_not_things_int_accepts():
    """The issue: 4.5, 8.9, 256.0 and "32" went through int()."""
    for size in (4.5, 8.9, 16.0, "16"):
        result = predict(shapes=_with_shape(2, (5, size, 4, 4)))
        assert result.status == "failed", result.message
    assert predict(
        shapes=_with_shape(2, (5, np.int64(16), 4, 4))
    )  # numpy ints are ints
    assert predict(shapes=[list(shape) for shape in RIGHT_SHAPES])  # lists of ints too


def test_same_network_passes_the_right_network():
    result = same(average_pooling)
    assert_passed(result)
    assert "3 cases" in result.message


def test_same_network_under_labs_no_grad():
    """Building and back-propagating a labs network needs labs' gradients on."""
    import labs

    with labs.no_grad(), torch.no_grad():
        assert same(average_pooling)
        assert not labs.is_grad_enabled() and not torch.is_grad_enabled()


# --- The small engine's pieces ----------------------------------------------------------


def test_naive_log_softmax_passes_small_scores_and_fails_on_large_ones():
    from .planted.capstone import _naive_log_softmax

    result = check.log_softmax(_naive_log_softmax)
    assert "case 2 of 12" in flat(result)  # right on case 1, small scores
    assert "Subtract each row's maximum" in flat(result)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    from .planted.capstone import ce_backward_one_hot

    assert_passed(check.cross_entropy_backward(ce_backward_one_hot), cases=12)


def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order():
    """What the checker's expected answers rest on: torch's choice among ties."""
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(x, 2).backward(torch.ones(1, 1, 1, 1).double())
    assert x.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_max_pool_every_tie_is_named():
    from .planted.capstone import _pool_every_tie

    result = check.max_pool2d_backward(_pool_every_tie)
    assert result.mistake == "every-tie", result.message


def test_sgd_in_sutskever_form_passes_and_a_rebound_velocity_is_named():
    from .planted.capstone import _sgd_rebinds_velocity, sgd_scaled_velocity

    assert_passed(check.sgd_step(sgd_scaled_velocity), cases=4)
    result = check.sgd_step(_sgd_rebinds_velocity)
    assert result.mistake == "no-momentum" and "rebinds" in flat(result)


def test_mine_or_reference_uses_a_piece_only_when_it_passes(capsys):
    from labs import small_engine

    from .planted.capstone import _pool_every_tie, pool_backward
    from .verdicts import stub

    engine = small_engine.mine_or_reference(
        max_pool2d_backward=pool_backward, log_softmax=stub
    )
    assert engine.pieces["max_pool2d_backward"] is pool_backward
    assert engine.pieces["log_softmax"] is small_engine.REFERENCE["log_softmax"]
    engine = small_engine.mine_or_reference(max_pool2d_backward=_pool_every_tie)
    assert engine.uses["max_pool2d_backward"] == "the course's"
    printed = capsys.readouterr().out
    assert "max_pool2d_backward: yours" in printed
    assert "log_softmax: the course's" in printed


def test_small_engine_trains_like_torch_sgd():
    from labs import capstone, small_engine

    X, _, y, _ = capstone.load_digits_split(dtype=np.float64)
    torch.manual_seed(0)
    reference = small_engine.make_small_network(torch).double()
    engine = small_engine.Engine()
    network = small_engine.SmallCNN(engine, reference.state_dict())
    velocities = [np.zeros_like(p.data) for p in network.parameters()]
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for index in list(capstone.batches(len(X), epoch=0))[:5]:
        for p in network.parameters():
            p.grad = None
        x = small_engine.Tensor(X[index])
        engine.backward(engine.cross_entropy(network(x), y[index]))
        engine.sgd_step(network.parameters(), velocities, 0.05, 0.9)
        optimizer.zero_grad()
        scores = reference(torch.from_numpy(X[index]))
        torch.nn.functional.cross_entropy(scores, torch.from_numpy(y[index])).backward()
        optimizer.step()
    for name, value in network.state_dict().items():
        np.testing.assert_allclose(
            value, reference.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12
        )


def test_adam_without_the_second_correction_is_named_and_the_paper_form_passes():
    """The chapter's buggy_adam_step leaves v uncorrected; the hint must say so. The
    Adam paper's form (corrections folded into the step size) is the same update."""
    from .planted.capstone import _adam_v_uncorrected, adam_slices

    assert_passed(check.adam_step(adam_slices), cases=3)
    result = check.adam_step(_adam_v_uncorrected)
    assert not result.passed
    assert "squared average is not bias-corrected" in result.hint
    assert "case 1 of 3" in result.message
