"""The animations show what PyTorch computes: each frame's cells are checked against
the gradient of the real convolution, and the player works offline."""

from __future__ import annotations

import base64
import re

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

from labs import viz


def inputs_read_by(output_cell, i, k, s, p, d):
    """Input cells that one output of torch's conv2d depends on (found through the gradient)."""
    x = torch.zeros(1, 1, *i, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, *k, dtype=torch.float64)
    y = TF.conv2d(x, w, stride=s, padding=p, dilation=d)
    y[(0, 0) + output_cell].backward()
    return {
        tuple(int(v) for v in cell) for cell in np.argwhere(x.grad[0, 0].numpy() != 0)
    }


@st.composite
def conv_config(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    i = tuple(
        draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), 6))
        for kk, pp, dd in zip(k, p, d)
    )
    return i, k, s, p, d


@settings(max_examples=25)
@given(config=conv_config())
def test_each_frame_reads_exactly_the_cells_torch_reads(config):
    i, k, s, p, d = config
    steps, out, padded = viz.conv_steps(i, k, s, p, d)
    expected_out = TF.conv2d(
        torch.zeros(1, 1, *i), torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d
    ).shape[2:]
    assert out == tuple(expected_out)
    assert padded == (i[0] + 2 * p[0], i[1] + 2 * p[1])
    assert [step.output for step in steps] == [
        (r, c) for r in range(out[0]) for c in range(out[1])
    ]
    for step in steps:
        inside = {
            (r - p[0], c - p[1])
            for r, c in step.window
            if 0 <= r - p[0] < i[0] and 0 <= c - p[1] < i[1]
        }
        assert inside == inputs_read_by(step.output, i, k, s, p, d)


@settings(max_examples=25)
@given(config=conv_config(), extra=st.integers(0, 2))
def test_transposed_frames_write_where_torch_writes(config, extra):
    i, k, s, p, d = config
    e = (min(extra, max(s[0], d[0]) - 1), min(extra, max(s[1], d[1]) - 1))
    try:
        expected = TF.conv_transpose2d(
            torch.zeros(1, 1, *i),
            torch.zeros(1, 1, *k),
            stride=s,
            padding=p,
            output_padding=e,
            dilation=d,
        )
    except RuntimeError:
        return  # output would be empty
    steps, out, canvas = viz.conv_transpose_steps(i, k, s, p, d, e)
    assert out == tuple(expected.shape[2:])
    for step in steps:
        x = torch.zeros(1, 1, *i, dtype=torch.float64)
        x[(0, 0) + step.input] = 1.0
        y = TF.conv_transpose2d(
            x,
            torch.ones(1, 1, *k, dtype=torch.float64),
            stride=s,
            padding=p,
            output_padding=e,
            dilation=d,
        )
        touched = {tuple(int(v) for v in c) for c in np.argwhere(y[0, 0].numpy() != 0)}
        visible = {
            (r - p[0], c - p[1])
            for r, c in step.targets
            if 0 <= r - p[0] < out[0] and 0 <= c - p[1] < out[1]
        }
        assert visible == touched


def test_player_is_self_contained_and_described():
    animation = viz.animate_conv(4, 3, stride=1, padding=0)
    page = animation._repr_html_()
    assert len(animation) == 4
    stills = re.findall(
        r'<img class="labs-grids" src="data:image/svg\+xml;base64,([^"]+)"', page
    )
    assert len(stills) == 1, "one drawing; frames are states of its cells"
    drawing = base64.b64decode(stills[0]).decode()
    assert drawing.startswith("<svg") and drawing.count("<svg") == 1
    assert len(page) < 20_000, "a small animation is a few kilobytes of HTML"
    assert not re.search(r"(src|href)=\"https?://", page), (
        "the player must work offline"
    )
    assert 'aria-label="Animation of a 3×3 kernel sliding over a 4×4 input' in drawing
    assert 'alt="Animation of a 3×3 kernel sliding over a 4×4 input' in page
    assert (
        "Step 1 of 4: output (0, 0) reads input rows 0 to 2 and columns 0 to 2." in page
    )
    assert page == animation._repr_html_(), "the HTML must be deterministic for nbval"


def test_player_degrades_to_a_still_and_a_note_without_its_script():
    """JupyterLab shows a saved output of a notebook it does not trust without its
    script, style or inline SVG: what is left must be a still of the first frame and a
    note saying how to play it, not buttons that do nothing. The script removes both."""
    page = viz.animate_conv(4, 3)._repr_html_()
    assert f'<p class="labs-animation-note">{viz.RUN_TO_PLAY}</p>' in page
    assert '<div class="labs-animation-controls" style="display:none">' in page
    script = page[page.index("<script>") :]
    assert "note.remove()" in script and 'removeAttribute("style")' in script


def test_sliders_say_how_to_show_them():
    """A saved slider output, or one without ipywidgets' extension, shows a sentence."""
    sliders = viz.explore_conv(input_size=7, kernel_size=3, stride=2, padding=1)
    assert sliders._repr_mimebundle_()["text/plain"] == viz.EXPLORE_TEXT
    sliders.close_all()


def test_buttons_are_named_by_their_visible_labels():
    """WCAG 2.5.3: a control's accessible name contains the words it shows."""
    page = viz.animate_conv(4, 3)._repr_html_()
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", page)
    assert [
        re.sub(r"<span aria-hidden=\"true\">.*?</span>", "", b).strip() for b in buttons
    ] == ["Back", "Play", "Next"]
    assert "aria-label" not in "".join(re.findall(r"<button[^>]*>", page))


def test_frames_are_cell_states():
    """Frame n: the window's nine cells in state "w", earlier outputs done, output n now."""
    animation = viz.animate_conv(4, 3)
    states, counts = animation.frames[1]
    assert counts is None
    assert len(states) == 16 + 4
    assert states[:16].count("w") == 9 and states[16:] == "dnee"
    for index, (states, _) in enumerate(viz.animate_conv(5, 3, padding=1).frames):
        assert states.count("n") == 1 and states.count("d") == index


def test_one_dimensional_descriptions_and_never_read_cells():
    animation = viz.animate_conv((1, 9), (1, 3), stride=(1, 2), dilation=(1, 2))
    assert animation.description.startswith(
        "Animation of a width-3 kernel sliding along a length-9 signal"
    )
    assert "4 input cells are never read" in animation.description
    assert (
        animation.captions[1]
        == "Step 2 of 3: output (1) reads input positions 2, 4 and 6."
    )


def test_transposed_animation_counts_overlaps():
    animation = viz.animate_conv_transpose(3, 3, stride=2, padding=1, output_padding=1)
    assert len(animation) == 9
    assert "giving a 6×6 output" in animation.description
    one_d = viz.animate_conv_transpose((1, 5), (1, 4))
    assert one_d.description.startswith(
        "Animation of a transposed convolution: each sample of a length-5 signal adds a "
        "width-4 copy of the kernel to the output, 1 cell apart"
    )


def test_transposed_frames_count_the_patches():
    animation = viz.animate_conv_transpose(2, 3, stride=2)
    states, counts = animation.frames[-1]
    assert max(counts) == 4 and sum(counts) == 4 * 9  # the centre cell: four patches


def test_still_frames_and_gallery():
    figure = viz.draw_conv(5, 3, stride=2, padding=1, step=4)
    assert figure.svg.startswith("<svg") and "Shown: step 5 of 9." in figure.description
    gallery = viz.gallery_conv(
        [
            dict(input_size=7, kernel_size=3),
            dict(input_size=7, kernel_size=3, dilation=2),
        ]
    )
    page = gallery._repr_html_()
    assert page.count("<figure>") == 2 and "i=7, k=3, s=1, p=0, d=2  →  o=3" in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "two figures on a page must not share an id"
