"""tanh_init_std: what its verdicts say. The contract test runs the planted answers of
``planted/vanishing.py``."""

from __future__ import annotations

import numpy as np

from labs import check
from labs.check import vanishing

from .verdicts import assert_passed, flat


def test_the_ratio_grows_with_the_standard_deviation():
    stds = np.array([0.5, 1.0, 1.5, 2.0, 3.0]) / np.sqrt(64)
    first_seed = [vanishing._ratios(std)[0] for std in stds]
    assert all(a < b for a, b in zip(first_seed, first_seed[1:]))


def test_verdict_gives_every_seed_and_the_direction():
    result = check.tanh_init_std(0.5 / np.sqrt(64))
    assert "vanishes" in flat(result) and "seeds 0, 1, 2 give" in flat(result)
    assert "raise std" in flat(result)
    result = check.tanh_init_std(3 / np.sqrt(64))
    assert "explodes" in flat(result) and "lower std" in flat(result)


def test_pytorchs_tanh_gain_passes():
    import torch

    gain = torch.nn.init.calculate_gain("tanh")
    assert_passed(check.tanh_init_std(gain / np.sqrt(64)))
