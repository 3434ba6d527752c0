"""Animations and figures of convolutions, drawn by labs for any sizes (chapters 1 to 5).

In the spirit of Dumoulin and Visin's well-known convolution-arithmetic animations, but
generated for any input size, kernel, stride, padding and dilation, for 1-D and 2-D, and
for transposed convolutions. Every animation is a self-contained HTML player (frames as
embedded PNG images, a few lines of JavaScript, no network access, no kernel): it plays
on the static website and in a notebook alike, can be stepped with the keyboard, and
carries a text description of every frame for readers who cannot see it.

Sizes may be an int (the same on both axes) or a (rows, columns) pair; a 1-D
convolution is drawn as one row. Colours are never the only cue: the kernel's window
is outlined and hatched, padding is dashed, and positions no window reaches are crossed.

    labs.viz.animate_conv(5, 3, stride=2, padding=1)
    labs.viz.animate_conv_transpose(3, 3, stride=2, padding=1, output_padding=1)
    labs.viz.explore_conv()        # sliders, in a live notebook

Frames are drawn with Pillow (a dependency of matplotlib) rather than matplotlib
itself: a frame takes a few milliseconds instead of a few hundred, which keeps the
chapters quick to run and the website quick to build.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from dataclasses import dataclass

import numpy as np

from labs import shapes

__all__ = [
    "Animation",
    "conv_steps",
    "conv_transpose_steps",
    "animate_conv",
    "animate_conv_transpose",
    "draw_conv",
    "explore_conv",
]

# Colours (Okabe-Ito-inspired, distinguishable with common colour-vision deficiencies);
# every one is paired with a second cue (hatch, outline or line style).
INPUT = "#9ecae1"
WINDOW = "#2171b5"
PADDING = "#ffffff"
LEFTOVER = "#d9d9d9"
ZERO_INSERTED = "#f7f7f7"
OUTPUT_DONE = "#a1d99b"
OUTPUT_NOW = "#238b45"
CROPPED = "#eeeeee"


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (rows, columns) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


# --------------------------------------------------------------------------------------
# What each frame shows (pure geometry, no drawing: easy to test)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvStep:
    """One output position of a convolution and the padded-input cells it reads."""

    output: tuple  # (row, column) in the output
    window: tuple  # ((row, column), ...) in the padded input, kernel order


def conv_steps(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """The windows of a convolution, output position by output position (row-major).

    Returns (steps, output_shape, padded_shape). Positions are in padded coordinates:
    input cell (r, c) sits at (r + p_rows, c + p_columns).
    """
    i, k, s, p, d = (_pair(v, n) for v, n in zip(
        (input_size, kernel_size, stride, padding, dilation),
        ("input_size", "kernel_size", "stride", "padding", "dilation")))
    out = tuple(shapes.conv_output_size(i[a], k[a], s[a], p[a], d[a]) for a in range(2))
    padded = (i[0] + 2 * p[0], i[1] + 2 * p[1])
    steps = []
    for r in range(out[0]):
        for c in range(out[1]):
            window = tuple(
                (r * s[0] + a * d[0], c * s[1] + b * d[1]) for a in range(k[0]) for b in range(k[1])
            )
            steps.append(ConvStep((r, c), window))
    return steps, out, padded


@dataclass(frozen=True)
class ScatterStep:
    """One input position of a transposed convolution and the output cells it adds to."""

    input: tuple  # (row, column) in the input
    targets: tuple  # ((row, column), ...) in the uncropped output canvas


def conv_transpose_steps(input_size, kernel_size, stride=1, padding=0, dilation=1,
                         output_padding=0):
    """The one-to-many view: input cell (r, c) adds a scaled kernel at (r s, c s).

    Returns (steps, output_shape, canvas_shape): the canvas is the output before the
    ``padding`` is cropped from each side (and includes ``output_padding`` at the end).
    """
    i, k, s, p, d, e = (_pair(v, n) for v, n in zip(
        (input_size, kernel_size, stride, padding, dilation, output_padding),
        ("input_size", "kernel_size", "stride", "padding", "dilation", "output_padding")))
    out = tuple(
        shapes.conv_transpose_output_size(i[a], k[a], s[a], p[a], d[a], e[a]) for a in range(2)
    )
    canvas = (out[0] + 2 * p[0], out[1] + 2 * p[1])
    steps = []
    for r in range(i[0]):
        for c in range(i[1]):
            targets = tuple(
                (r * s[0] + a * d[0], c * s[1] + b * d[1]) for a in range(k[0]) for b in range(k[1])
            )
            steps.append(ScatterStep((r, c), targets))
    return steps, out, canvas


# --------------------------------------------------------------------------------------
# Drawing (with Pillow, which matplotlib already depends on: a frame takes milliseconds)
# --------------------------------------------------------------------------------------

CELL = 26  # pixels per cell
MARGIN = 12
GAP = 2  # cells between the two grids
HEADER = 52  # pixels above the grids for the title and the grid labels


def _font(size):
    import matplotlib
    from PIL import ImageFont

    path = f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"
    return ImageFont.truetype(path, size)


class _Canvas:
    """A white image on which cells are drawn in grid coordinates (row 0 at the top)."""

    def __init__(self, width_cells, height_cells, title):
        from PIL import Image, ImageDraw

        width = 2 * MARGIN + width_cells * CELL
        width = max(width, 2 * MARGIN + 8 * len(title))
        self.image = Image.new("RGB", (width, HEADER + height_cells * CELL + MARGIN), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.small, self.large = _font(11), _font(13)
        self.draw.text((width // 2, 12), title, fill="black", font=self.large, anchor="mt")

    def box(self, row, column, origin):
        x = MARGIN + (origin[0] + column) * CELL
        y = HEADER + (origin[1] + row) * CELL
        return x, y, x + CELL, y + CELL

    def cell(self, row, column, origin, face, hatch=None, bold=False, dashed=False, text=None):
        x0, y0, x1, y1 = self.box(row, column, origin)
        self.draw.rectangle((x0, y0, x1, y1), fill=face)
        if hatch:
            colour = "#ffffff" if face in (WINDOW, OUTPUT_NOW) else "#525252"
            tile = _hatch_tile(hatch, colour)
            self.image.paste(tile, (x0, y0), tile)
        if dashed:
            for x in range(x0, x1, 6):
                self.draw.line((x, y0, min(x + 3, x1), y0), fill="#737373")
                self.draw.line((x, y1, min(x + 3, x1), y1), fill="#737373")
            for y in range(y0, y1, 6):
                self.draw.line((x0, y, x0, min(y + 3, y1)), fill="#737373")
                self.draw.line((x1, y, x1, min(y + 3, y1)), fill="#737373")
        else:
            self.draw.rectangle((x0, y0, x1, y1), outline="#000000" if bold else "#4d4d4d",
                                width=3 if bold else 1)
        if text is not None:
            centre = ((x0 + x1) // 2, (y0 + y1) // 2)
            self.draw.rectangle((centre[0] - 6, centre[1] - 7, centre[0] + 6, centre[1] + 7),
                                fill="white")
            self.draw.text(centre, text, fill="black", font=self.small, anchor="mm")

    def label(self, column, row, text):
        x = MARGIN + column * CELL
        y = HEADER + row * CELL - 10
        self.draw.text((x, y), text, fill="black", font=self.small, anchor="ls")


_TILES: dict = {}


def _hatch_tile(hatch, colour):
    """A transparent cell-sized image with diagonal lines: "rising", "falling" or "crossed"."""
    key = (hatch, colour)
    if key not in _TILES:
        from PIL import Image, ImageDraw

        tile = Image.new("RGBA", (CELL + 1, CELL + 1), (0, 0, 0, 0))
        draw = ImageDraw.Draw(tile)
        for offset in range(-CELL, CELL + 1, 7):
            if hatch in ("rising", "crossed"):
                draw.line((offset, CELL, offset + CELL, 0), fill=colour, width=1)
            if hatch in ("falling", "crossed"):
                draw.line((offset, 0, offset + CELL, CELL), fill=colour, width=1)
        _TILES[key] = tile
    return _TILES[key]


def _conv_frame(steps, index, out, padded, padding, leftover, title):
    """Padded input (left) and output (right) with step ``index`` highlighted."""
    canvas = _Canvas(padded[1] + GAP + out[1], max(padded[0], out[0]), title)
    p_rows, p_cols = padding
    window = set(steps[index].window) if index is not None else set()
    for r in range(padded[0]):
        for c in range(padded[1]):
            inside = p_rows <= r < padded[0] - p_rows and p_cols <= c < padded[1] - p_cols
            if (r, c) in window:
                canvas.cell(r, c, (0, 0), WINDOW, hatch="rising", bold=True)
            elif not inside:
                canvas.cell(r, c, (0, 0), PADDING, dashed=True)
            elif (r, c) in leftover:
                canvas.cell(r, c, (0, 0), LEFTOVER, hatch="crossed")
            else:
                canvas.cell(r, c, (0, 0), INPUT)
    origin = (padded[1] + GAP, (padded[0] - out[0]) // 2)
    for position, step in enumerate(steps):
        r, c = step.output
        if index is not None and position == index:
            canvas.cell(r, c, origin, OUTPUT_NOW, hatch="falling", bold=True)
        elif index is not None and position < index:
            canvas.cell(r, c, origin, OUTPUT_DONE)
        else:
            canvas.cell(r, c, origin, "#ffffff")
    canvas.label(0, 0, "input (padded)" if any(padding) else "input")
    canvas.label(origin[0], origin[1], "output")
    return canvas.image


def _scatter_frame(steps, index, input_shape, size, padding, title):
    """Input (left) and the uncropped output (right); numbers count overlapping patches."""
    canvas = _Canvas(input_shape[1] + GAP + size[1], max(input_shape[0], size[0]), title)
    current = steps[index] if index is not None else None
    for r in range(input_shape[0]):
        for c in range(input_shape[1]):
            if current is not None and (r, c) == current.input:
                canvas.cell(r, c, (0, 0), WINDOW, hatch="rising", bold=True)
            else:
                canvas.cell(r, c, (0, 0), INPUT)
    counts = np.zeros(size, dtype=int)
    for step in steps[: index + 1] if index is not None else steps:
        for t in step.targets:
            counts[t] += 1
    targets = set(current.targets) if current is not None else set()
    origin = (input_shape[1] + GAP, 0)
    p_rows, p_cols = padding
    for r in range(size[0]):
        for c in range(size[1]):
            cropped = not (p_rows <= r < size[0] - p_rows and p_cols <= c < size[1] - p_cols)
            text = str(counts[r, c]) if counts[r, c] else None
            if (r, c) in targets:
                canvas.cell(r, c, origin, OUTPUT_NOW, hatch="falling", bold=True, text=text)
            elif cropped:
                canvas.cell(r, c, origin, CROPPED, dashed=True, text=text)
            elif counts[r, c]:
                canvas.cell(r, c, origin, OUTPUT_DONE, text=text)
            else:
                canvas.cell(r, c, origin, "#ffffff")
    canvas.label(0, 0, "input")
    canvas.label(origin[0], 0, "output (dashed cells: cropped by padding)"
                 if any(padding) else "output")
    return canvas.image


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _labeller(*pairs):
    """Format (rows, columns) pairs: one number for 1-D (a single row) or square values."""
    one_d = all(pair[0] == 1 for pair in pairs[:2]) and pairs[3][0] == 0

    def label(pair):
        if one_d or pair[0] == pair[1]:
            return str(pair[1])
        return f"({pair[0]}, {pair[1]})"

    return label


# --------------------------------------------------------------------------------------
# The player
# --------------------------------------------------------------------------------------


class Animation:
    """A sequence of PNG frames with captions, shown as a small HTML player.

    ``description`` is the alternative text of the whole animation; ``captions`` has one
    sentence per frame, shown under the image and announced to screen readers.
    """

    def __init__(self, frames, captions, description, interval=700):
        if len(frames) != len(captions) or not frames:
            raise ValueError("an animation needs one caption per frame and at least one frame")
        self.frames = list(frames)
        self.captions = list(captions)
        self.description = description
        self.interval = int(interval)

    def __len__(self):
        return len(self.frames)

    def __repr__(self):
        return f"<labs.viz.Animation: {len(self.frames)} frames. {self.description}>"

    def _repr_html_(self):
        key = hashlib.sha1(
            json.dumps([self.description, self.captions]).encode()
        ).hexdigest()[:12]
        element = f"labs-anim-{key}"
        sources = [
            "data:image/png;base64," + base64.b64encode(frame).decode("ascii")
            for frame in self.frames
        ]
        alt = html.escape(self.description, quote=True)
        first_caption = html.escape(self.captions[0])
        data = json.dumps({"frames": sources, "captions": self.captions,
                           "interval": self.interval})
        last = len(self.frames) - 1
        return f"""<div class="labs-animation" id="{element}" role="group" aria-label="{alt}">
<img class="labs-animation-frame" src="{sources[0]}" alt="{alt}" style="max-width:100%">
<div class="labs-animation-controls">
<button type="button" data-step="-1" aria-label="previous frame">&#9664; Back</button>
<button type="button" data-play aria-label="play or pause">&#9654; Play</button>
<button type="button" data-step="1" aria-label="next frame">Next &#9654;</button>
<input type="range" min="0" max="{last}" value="0" aria-label="frame">
<span class="labs-animation-counter">1 / {last + 1}</span>
</div>
<p class="labs-animation-caption" aria-live="polite">{first_caption}</p>
<script type="application/json" class="labs-animation-data">{data}</script>
<script>
(function () {{
  var root = document.getElementById("{element}");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".labs-animation-data").textContent);
  var image = root.querySelector("img"), slider = root.querySelector("input");
  var caption = root.querySelector(".labs-animation-caption");
  var counter = root.querySelector(".labs-animation-counter");
  var play = root.querySelector("[data-play]"), timer = null, frame = 0;
  function show(n) {{
    var count = data.frames.length;
    frame = ((n % count) + count) % count;
    image.src = data.frames[frame];
    slider.value = frame;
    caption.textContent = data.captions[frame];
    counter.textContent = (frame + 1) + " / " + count;
  }}
  function stop() {{ clearInterval(timer); timer = null; play.innerHTML = "&#9654; Play"; }}
  play.addEventListener("click", function () {{
    if (timer) {{ stop(); return; }}
    play.innerHTML = "&#10074;&#10074; Pause";
    timer = setInterval(function () {{ show(frame + 1); }}, data.interval);
  }});
  root.querySelectorAll("[data-step]").forEach(function (button) {{
    button.addEventListener("click", function () {{ stop(); show(frame + Number(button.dataset.step)); }});
  }});
  slider.addEventListener("input", function () {{ stop(); show(Number(slider.value)); }});
}})();
</script>
</div>"""


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


def _leftover(steps, padded, padding):
    """Input cells (not padding) that no window ever reads: what the floor drops."""
    visited = {cell for step in steps for cell in step.window}
    p_rows, p_cols = padding
    return {
        (r, c)
        for r in range(p_rows, padded[0] - p_rows)
        for c in range(p_cols, padded[1] - p_cols)
        if (r, c) not in visited
    }


def _conv_title(label, i, k, s, p, d, out):
    return (f"i={label(i)}, k={label(k)}, s={label(s)}, p={label(p)}, d={label(d)}"
            f"  →  o={label(out)}")


def animate_conv(input_size, kernel_size, stride=1, padding=0, dilation=1, *,
                 interval=700) -> Animation:
    """Animate a convolution: the kernel's window on the padded input, output cell by cell.

    ``input_size`` etc. are ints (square) or (rows, columns) pairs; use ``(1, n)`` for a
    1-D signal. Input cells that no window reaches (lost to the floor in the output-size
    formula) are grey and crossed.
    """
    steps, out, padded = conv_steps(input_size, kernel_size, stride, padding, dilation)
    i, k, s, p, d = (_pair(v, "size") for v in (input_size, kernel_size, stride, padding,
                                                  dilation))
    one_d = i[0] == 1 and k[0] == 1 and p[0] == 0
    leftover = _leftover(steps, padded, p)
    _label = _labeller(i, k, s, p, d, out)
    title = _conv_title(_label, i, k, s, p, d, out)
    frames, captions = [], []
    for index, step in enumerate(steps):
        frames.append(_png(_conv_frame(steps, index, out, padded, p, leftover, title)))
        rows = sorted({r - p[0] for r, _ in step.window})
        cols = sorted({c - p[1] for _, c in step.window})
        where = (f"positions {_list(cols)}" if one_d
                 else f"rows {_list(rows)} and columns {_list(cols)}")
        padded_note = (" (outside the input: padding)" if _touches_padding(rows, cols, i)
                       else "")
        captions.append(
            f"Step {index + 1} of {len(steps)}: output {_position(step.output, out)} reads "
            f"input {where}{padded_note}."
        )
    if one_d:
        shape_words = (f"a width-{k[1]} kernel sliding along a length-{i[1]} signal",
                       f"{out[1]} outputs, one per frame")
    else:
        shape_words = (f"a {_size_words(k, False)} kernel sliding over a "
                       f"{_size_words(i, False)} input",
                       f"a {_size_words(out, False)} output, one cell per frame")
    description = (
        f"Animation of {shape_words[0]} with stride {_label(s)}, padding {_label(p)} and "
        f"dilation {_label(d)}, producing {shape_words[1]}."
        + (f" {len(leftover)} input cells are never read." if leftover else "")
    )
    return Animation(frames, captions, description, interval)


def animate_conv_transpose(input_size, kernel_size, stride=1, padding=0, dilation=1,
                           output_padding=0, *, interval=700) -> Animation:
    """Animate a transposed convolution as one-to-many: each input cell adds a kernel-sized
    patch to the output, ``stride`` cells apart. Numbers count how many patches overlap
    each output cell (uneven counts are the checkerboard pattern); dashed cells are
    cropped away by ``padding``.
    """
    steps, out, canvas = conv_transpose_steps(input_size, kernel_size, stride, padding,
                                              dilation, output_padding)
    i, k, s, p, d, e = (_pair(v, "size") for v in (input_size, kernel_size, stride, padding,
                                                     dilation, output_padding))
    _label = _labeller(i, k, s, p, d, e, out)
    title = (f"transposed: i={_label(i)}, k={_label(k)}, s={_label(s)}, p={_label(p)}, "
             f"d={_label(d)}, output_padding={_label(e)}  →  o={_label(out)}")
    frames, captions = [], []
    for index, step in enumerate(steps):
        frames.append(_png(_scatter_frame(steps, index, i, canvas, p, title)))
        captions.append(
            f"Step {index + 1} of {len(steps)}: input {_position(step.input, i)} adds the "
            f"kernel, scaled by its value, to {len(step.targets)} output cells starting at "
            f"{_position(step.targets[0], canvas)} of the uncropped output."
        )
    one_d = i[0] == 1 and k[0] == 1 and p[0] == 0
    apart = "1 cell" if s == (1, 1) or (one_d and s[1] == 1) else f"{_label(s)} cells"
    if one_d:
        shape_words = (f"each sample of a length-{i[1]} signal adds a width-{k[1]} copy of "
                       "the kernel", f"a length-{out[1]} output")
    else:
        shape_words = (f"each cell of a {_size_words(i, False)} input adds a "
                       f"{_size_words(k, False)} copy of the kernel",
                       f"a {_size_words(out, False)} output")
    description = (
        f"Animation of a transposed convolution: {shape_words[0]} to the output, {apart} "
        f"apart, with dilation {_label(d)}; padding {_label(p)} is cropped from each side "
        f"and output_padding {_label(e)} added at the end, giving {shape_words[1]}. The "
        "numbers count the copies that overlap in each output cell."
    )
    return Animation(frames, captions, description, interval)


def draw_conv(input_size, kernel_size, stride=1, padding=0, dilation=1, step=0):
    """One frame of :func:`animate_conv` as a PIL image (Jupyter shows it as a picture)."""
    steps, out, padded = conv_steps(input_size, kernel_size, stride, padding, dilation)
    i, k, s, p, d = (_pair(v, "size") for v in (input_size, kernel_size, stride, padding,
                                                  dilation))
    return _conv_frame(steps, step, out, padded, p, _leftover(steps, padded, p),
                       _conv_title(_labeller(i, k, s, p, d, out), i, k, s, p, d, out))


def explore_conv(input_size=5, kernel_size=3, stride=1, padding=0, dilation=1):
    """Sliders for i, k, s, p and d that redraw one frame (needs a live Jupyter kernel)."""
    import ipywidgets as widgets
    from IPython.display import display

    def show(i, k, s, p, d, step):
        try:
            steps, _, _ = conv_steps(i, k, s, p, d)
        except ValueError as error:
            print(f"No output: {error}")
            return
        display(draw_conv(i, k, s, p, d, min(step, len(steps) - 1)))

    return widgets.interactive(
        show,
        i=widgets.IntSlider(input_size, 1, 10, description="input i"),
        k=widgets.IntSlider(kernel_size, 1, 6, description="kernel k"),
        s=widgets.IntSlider(stride, 1, 4, description="stride s"),
        p=widgets.IntSlider(padding, 0, 4, description="padding p"),
        d=widgets.IntSlider(dilation, 1, 4, description="dilation d"),
        step=widgets.IntSlider(0, 0, 99, description="step"),
    )


def _position(cell, shape):
    return f"({cell[1]})" if shape[0] == 1 else f"({cell[0]}, {cell[1]})"


def _list(values):
    """Positions as words: '3', '2 to 4' (consecutive) or '0, 2 and 4' (dilated)."""
    if len(values) == 1:
        return str(values[0])
    if values[-1] - values[0] == len(values) - 1:
        return f"{values[0]} to {values[-1]}"
    return ", ".join(map(str, values[:-1])) + f" and {values[-1]}"


def _size_words(pair, one_d):
    """'5' for a 1-D length, '5×5' or '3×4' for a 2-D size."""
    return str(pair[1]) if one_d else f"{pair[0]}×{pair[1]}"


def _touches_padding(rows, cols, size):
    """Whether a window reaches outside the input, i.e. into the padding."""
    return rows[0] < 0 or cols[0] < 0 or rows[-1] >= size[0] or cols[-1] >= size[1]
