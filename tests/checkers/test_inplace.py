"""inplace_errors: the programs do what the hints say, and the verdicts explain."""

from __future__ import annotations

import torch

from labs import check
from labs.check.inplace import INPLACE_PROGRAMS

from .planted.inplace import RIGHT


def _grad_or_error(program):
    try:
        program()
    except RuntimeError as error:
        return str(error)
    return None


def test_the_programs_raise_exactly_where_the_right_prediction_says():
    for program, raises in zip(INPLACE_PROGRAMS, RIGHT, strict=True):
        error = _grad_or_error(program)
        assert (error is not None) == raises, program.__name__
        if raises:
            assert "modified by an inplace operation" in error


def test_data_write_gives_a_silently_wrong_gradient():
    """The hint for change_through_data says the gradient is computed from the zeroed
    output: 1 - 0² = 1 everywhere, not 1 - tanh(x)²."""
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = x.tanh()
    y.data.zero_()
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones(3))
    assert not torch.allclose(x.grad, 1 - torch.tanh(x.detach()) ** 2)


def test_a_wrong_prediction_names_the_first_wrong_program_and_counts_the_rest():
    wrong = [not RIGHT[0], RIGHT[1], not RIGHT[2]] + RIGHT[3:]
    result = check.inplace_errors(wrong)
    assert not result.passed
    assert "2 of your 6 predictions are wrong" in result.message
    assert "step_before_backward" in result.message
    assert "scale_then_add" not in result.message  # the second is not given away
    assert "step after backward" in result.hint


def test_right_prediction_passes_in_grad_mode_off():
    with torch.no_grad():
        assert check.inplace_errors(RIGHT).passed
