"""Chapter 5's checkers: the expected answers agree with the formulas the chapter
teaches and with PyTorch computed another way, the hand-picked cases come first, and
the verdicts say what the exercises promise. The contract test runs the planted
mistakes of ``planted/dilated.py``."""

from __future__ import annotations

import itertools

import numpy as np

from labs import check, shapes
from labs.check import dilated

from .planted.dilated import RIGHT_PREDICTION, _input_dilated, conv_taps
from .verdicts import flat


def _offsets(dilations, k):
    """The offsets one output depends on, as a sum of sets: one tap per layer."""
    return sorted(
        {sum(t) for t in itertools.product(*[range(0, d * k, d) for d in dilations])}
    )


def test_prediction_agrees_with_the_formulas():
    setting = dilated.PREDICTION_SETTING
    k, dilations, length = setting["k"], setting["dilations"], setting["length"]
    field = shapes.receptive_field([(k, 1, d) for d in dilations]).size
    expected = (
        shapes.effective_kernel_size(k, dilations[-1]),
        field,
        len(_offsets(dilations, k)),
        length - field + 1,
    )
    assert dilated._measured_prediction() == expected == RIGHT_PREDICTION


def test_prediction_has_holes_that_the_recipe_predicts():
    """The exercise asks for the count because the stack leaves holes: dilation 3
    comes after a field of 2."""
    offsets = _offsets((1, 3, 9), 2)
    assert offsets == [0, 1, 3, 4, 9, 10, 12, 13]


def test_wrong_prediction_does_not_show_the_right_number():
    result = check.dilated_stack_prediction((10, 14, 14, 87))
    text = flat(result)
    assert "number of inputs the output depends on is wrong" in text
    assert " 8" not in text.replace("87", "")
    assert check.dilated_stack_prediction(RIGHT_PREDICTION).message == (
        "✔ dilated_stack_prediction: your prediction is right."
    )


def test_conv_cases_agree_with_loops_and_come_hand_picked_first():
    cases = dilated._CONV.cases()
    assert len(cases) == 20
    assert [cases[i]["dilation"] for i in range(8)] == [1, 3, 2, 5, 4, 4, 3, 7]
    np.testing.assert_array_equal(cases[1]["w"], [[[1.0, 10.0, 100.0]]])
    np.testing.assert_array_equal(cases[1].expected, [[[630.0, 741.0, 852.0, 963.0]]])
    for i in range(20):
        case = cases[i]
        x, w, d = case["x"], case["w"], case["dilation"]
        loops = np.zeros(case.expected.shape)
        for n, o, t in np.ndindex(*loops.shape):
            loops[n, o, t] = sum(
                w[o, c, j] * x[n, c, t + j * d]
                for c in range(x.shape[1])
                for j in range(w.shape[2])
            )
        np.testing.assert_allclose(case.expected, loops, rtol=1e-12, atol=1e-12)
        assert case.expected.shape[-1] == shapes.conv_output_size(
            x.shape[-1], w.shape[-1], d=d
        )


def test_the_exercise_bug_gives_every_dth_output():
    """The bug of the exercise computes the right outputs at multiples of d, which
    the hint says."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 29)), rng.standard_normal((4, 3, 3))
    for d in (2, 3, 4):
        right = conv_taps(x, w, d)
        np.testing.assert_allclose(_input_dilated(x, w, d), right[..., ::d])


def test_conv_verdicts():
    result = check.dilated_conv1d(_input_dilated)
    assert "Dilate the kernel, not the input" in flat(result)
    assert check.dilated_conv1d(conv_taps).message == (
        "✔ dilated_conv1d: passed all 20 cases."
    )


def test_design_is_measured_with_gradients():
    reached, _ = dilated._reached([1, 3, 9, 27], 3)
    assert reached.tolist() == list(range(81))
    reached, _ = dilated._reached([2, 2, 2, 2], 3)
    assert reached.tolist() == list(range(0, 17, 2))
    # the order of stride-1 layers does not change the field
    for order in itertools.permutations([1, 5, 9, 27]):
        assert dilated._reached(order, 3)[0].tolist() == _offsets(order, 3)


def test_design_verdict_names_every_failed_constraint():
    result = check.dilation_design([2, 2, 2, 2])
    text = flat(result)
    assert "8 holes" in text and "17 inputs, fewer than 64" in text
    assert "multiple of 2" in text
    assert check.dilation_design([1, 3, 9, 27]).message == (
        "✔ dilation_design: your design meets every constraint."
    )


def test_every_hole_free_design_passes_and_no_other():
    """Over a grid of dilations: the checker passes exactly the designs whose
    field, counted as a sum of sets, reaches 64 with no hole."""
    for dilations in itertools.product((1, 2, 3, 5, 8, 9, 20, 27), repeat=4):
        if list(dilations) != sorted(dilations):
            continue  # the order does not matter (tested above)
        offsets = _offsets(dilations, 3)
        good = len(offsets) >= 64 and offsets == list(range(len(offsets)))
        assert bool(check.dilation_design(list(dilations))) == good, dilations


def test_offsets_cases_agree_with_sums_of_taps_and_come_hand_picked_first():
    """Each expected list, measured from a gradient, is the set of sums of one tap
    offset per layer, J·d·j with J the product of the strides before the layer."""
    cases = dilated._OFFSETS.cases()
    assert len(cases) == 30
    assert [tuple(cases[i]["layers"]) for i in range(10)] == [
        tuple(layers) for layers in dilated._OFFSETS_HAND_PICKED
    ]
    assert cases[1].expected == [0, 4, 8]
    assert cases[2].expected == list(range(0, 13, 2))
    assert cases[9].expected == [0]
    for i in range(30):
        layers = cases[i]["layers"]
        jumps = [1]
        for _, s, _ in layers:
            jumps.append(jumps[-1] * s)
        taps = [range(0, J * d * k, J * d) for (k, _, d), J in zip(layers, jumps)]
        assert cases[i].expected == sorted({sum(t) for t in itertools.product(*taps)})
        field = shapes.receptive_field(layers).size if layers else 1
        assert cases[i].expected[-1] + 1 == field


def test_offsets_verdict_lists_what_is_missed():
    result = check.field_offsets(lambda layers: [0, 1, 2])
    text = flat(result)
    assert "missed" in text and "[4, 8]" in text
