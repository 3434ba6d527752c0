"""Animations and figures of convolutions, drawn by labs for any sizes (chapters 1 to 5).

In the spirit of Dumoulin and Visin's well-known convolution-arithmetic animations, but
generated for any input size, kernel, stride, padding and dilation, for 1-D and 2-D, and
for transposed convolutions. Every animation is a self-contained HTML player: one SVG
drawing whose cells change state from frame to frame (a frame is one letter per cell,
so it stays sharp at any size and costs a few bytes), a few lines of JavaScript, no
network access, no kernel. It plays on the static website and in a notebook alike, can
be stepped with the keyboard, and carries a text description of every frame for readers
who cannot see it. On the website its buttons take the theme's colours.

Sizes may be an int (the same on both axes) or a (rows, columns) pair; a 1-D
convolution is drawn as one row. Colours are never the only cue: the kernel's window
is outlined and hatched, padding is dashed, and positions no window reaches are crossed.

    labs.viz.animate_conv(5, 3, stride=2, padding=1)
    labs.viz.animate_conv_transpose(3, 3, stride=2, padding=1, output_padding=1)
    labs.viz.explore_conv()        # sliders, in a live notebook
    labs.viz.gallery_conv([dict(input_size=5, kernel_size=3, stride=2), ...])  # stills

The SVG is written by hand rather than by matplotlib: a figure is a grid of squares,
and one drawing serves every frame, so an animation takes milliseconds to make and a
few kilobytes to show.
"""

from __future__ import annotations

import base64
import hashlib
import html
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
    "Figure",
    "Gallery",
    "gallery_conv",
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
            raise ValueError(
                f"{name} must be an int or a (rows, columns) pair, got {value!r}"
            )
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
    i, k, s, p, d = (
        _pair(v, n)
        for v, n in zip(
            (input_size, kernel_size, stride, padding, dilation),
            ("input_size", "kernel_size", "stride", "padding", "dilation"),
        )
    )
    out = tuple(shapes.conv_output_size(i[a], k[a], s[a], p[a], d[a]) for a in range(2))
    padded = (i[0] + 2 * p[0], i[1] + 2 * p[1])
    steps = []
    for r in range(out[0]):
        for c in range(out[1]):
            window = tuple(
                (r * s[0] + a * d[0], c * s[1] + b * d[1])
                for a in range(k[0])
                for b in range(k[1])
            )
            steps.append(ConvStep((r, c), window))
    return steps, out, padded


@dataclass(frozen=True)
class ScatterStep:
    """One input position of a transposed convolution and the output cells it adds to."""

    input: tuple  # (row, column) in the input
    targets: tuple  # ((row, column), ...) in the uncropped output canvas


def conv_transpose_steps(
    input_size, kernel_size, stride=1, padding=0, dilation=1, output_padding=0
):
    """The one-to-many view: input cell (r, c) adds a scaled kernel at (r s, c s).

    Returns (steps, output_shape, canvas_shape): the canvas is the output before the
    ``padding`` is cropped from each side (and includes ``output_padding`` at the end).
    """
    i, k, s, p, d, e = (
        _pair(v, n)
        for v, n in zip(
            (input_size, kernel_size, stride, padding, dilation, output_padding),
            (
                "input_size",
                "kernel_size",
                "stride",
                "padding",
                "dilation",
                "output_padding",
            ),
        )
    )
    out = tuple(
        shapes.conv_transpose_output_size(i[a], k[a], s[a], p[a], d[a], e[a])
        for a in range(2)
    )
    canvas = (out[0] + 2 * p[0], out[1] + 2 * p[1])
    steps = []
    for r in range(i[0]):
        for c in range(i[1]):
            targets = tuple(
                (r * s[0] + a * d[0], c * s[1] + b * d[1])
                for a in range(k[0])
                for b in range(k[1])
            )
            steps.append(ScatterStep((r, c), targets))
    return steps, out, canvas


# --------------------------------------------------------------------------------------
# Drawing: one SVG per figure. Every cell is an SVG group whose class is its state
# ("s-w": in the kernel's window, "s-n": the output being written, ...); a frame of an
# animation is one letter per cell, so the player changes classes instead of swapping
# images: the figure stays sharp at any size and a frame costs a few bytes.
# --------------------------------------------------------------------------------------

CELL = 34  # SVG units per cell
SCALE = (
    1.3  # shown at 1.3 SVG units per CSS pixel (a cell 44 px wide), or narrower to fit
)
MARGIN = 6
GAP = 2  # cells between the two grids
LABEL = 26  # units above the grids for "input" and "output"

# state letter -> (fill, hatch pattern or None, outline colour, outline width, dashed)
STATES = {
    "i": (INPUT, None, "#4d4d4d", 1, False),  # an input cell
    "w": (WINDOW, "rise", "#000000", 3, False),  # read by the current window
    "p": (PADDING, None, "#737373", 1, True),  # padding
    "l": (LEFTOVER, "cross", "#4d4d4d", 1, False),  # never read by any window
    "e": ("#ffffff", None, "#4d4d4d", 1, False),  # an output not written yet
    "d": (OUTPUT_DONE, None, "#4d4d4d", 1, False),  # written already
    "n": (OUTPUT_NOW, "fall", "#000000", 3, False),  # being written now
    "c": (CROPPED, None, "#737373", 1, True),  # cropped away by a transposed padding
}
_PATTERNS = {  # hatch -> (line colour, angle, crossed)
    "rise": ("#ffffff", 45, False),
    "fall": ("#ffffff", -45, False),
    "cross": ("#525252", 45, True),
}


def _svg_style(key):
    """The states as CSS, scoped to one figure (inline SVG styles apply page-wide)."""
    rules = [
        f"#{key} text{{font:13px sans-serif;fill:#000}}",
        f"#{key} .h{{fill:none}}",
        f"#{key} .t{{font:bold 13px sans-serif;text-anchor:middle;"
        "dominant-baseline:central;paint-order:stroke;stroke:#fff;stroke-width:4px}",
    ]
    for state, (face, hatch, line, width, dashed) in STATES.items():
        rules.append(
            f"#{key} .s-{state}>.f{{fill:{face};stroke:{line};stroke-width:{width}"
            + (";stroke-dasharray:4 3" if dashed else "")
            + "}"
        )
        if hatch:
            rules.append(f"#{key} .s-{state}>.h{{fill:url(#{key}-{hatch})}}")
    return "".join(rules)


def _svg_patterns(key):
    parts = []
    for name, (colour, angle, crossed) in _PATTERNS.items():
        lines = (
            f'<line x1="0" y1="0" x2="0" y2="7" stroke="{colour}" stroke-width="1.5"/>'
        )
        if crossed:
            lines += f'<line x1="0" y1="3.5" x2="7" y2="3.5" stroke="{colour}" stroke-width="1.5"/>'
        parts.append(
            f'<pattern id="{key}-{name}" width="7" height="7" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate({angle})">'
            f"{lines}</pattern>"
        )
    return "<defs>" + "".join(parts) + "</defs>"


class _Grids:
    """Cells laid out on a grid (row 0 at the top); ``svg`` draws them in one state."""

    def __init__(self, width_cells, height_cells):
        self.width = 2 * MARGIN + width_cells * CELL
        self.height = LABEL + height_cells * CELL + MARGIN
        self.cells, self.labels = [], []

    def add(self, row, column, origin, counted=False):
        """Add a cell; returns its index in every frame's state string."""
        self.cells.append(
            (
                MARGIN + (origin[0] + column) * CELL,
                LABEL + (origin[1] + row) * CELL,
                counted,
            )
        )
        return len(self.cells) - 1

    def label(self, column, row, text):
        self.labels.append((MARGIN + column * CELL, LABEL + row * CELL - 8, text))
        self.width = max(self.width, MARGIN + column * CELL + 8 * len(text) + MARGIN)

    def svg(self, key, states, counts=None, description=""):
        """The figure with cell ``n`` in state ``states[n]`` and count ``counts[n]``."""
        width, height = round(self.width * SCALE), round(self.height * SCALE)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" id="{key}" class="labs-grids" '
            f'viewBox="0 0 {self.width} {self.height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{html.escape(description)}">',
            f"<style>{_svg_style(key)}</style>",
            _svg_patterns(key),
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>',
        ]
        for x, y, text in self.labels:
            parts.append(f'<text x="{x}" y="{y}">{html.escape(text)}</text>')
        for n, (x, y, counted) in enumerate(self.cells):
            box = f'x="{x}" y="{y}" width="{CELL}" height="{CELL}"'
            text = ""
            if counted:
                value = counts[n] if counts else 0
                text = (
                    f'<text class="t" x="{x + CELL // 2}" y="{y + CELL // 2}">'
                    f"{value or ''}</text>"
                )
            parts.append(
                f'<g class="s-{states[n]}" data-cell="{n}"><rect class="f" {box}/>'
                f'<rect class="h" {box}/>{text}</g>'
            )
        parts.append("</svg>")
        return "".join(parts)


def _conv_frames(steps, out, padded, padding, leftover):
    """The grids of a convolution and, per step, (states, None): padded input on the left,
    output on the right."""
    grids = _Grids(padded[1] + GAP + out[1], max(padded[0], out[0]))
    p_rows, p_cols = padding
    inputs = {}
    for r in range(padded[0]):
        for c in range(padded[1]):
            inside = (
                p_rows <= r < padded[0] - p_rows and p_cols <= c < padded[1] - p_cols
            )
            base = "i" if inside else "p"
            if (r, c) in leftover:
                base = "l"
            inputs[(r, c)] = (grids.add(r, c, (0, 0)), base)
    origin = (padded[1] + GAP, (padded[0] - out[0]) // 2)
    outputs = [grids.add(*step.output, origin) for step in steps]
    grids.label(0, 0, "input (padded)" if any(padding) else "input")
    grids.label(origin[0], origin[1], "output")

    def frame(index):
        states = [""] * len(grids.cells)
        window = set(steps[index].window)
        for cell, (n, base) in inputs.items():
            states[n] = "w" if cell in window else base
        for position, n in enumerate(outputs):
            states[n] = "n" if position == index else "d" if position < index else "e"
        return "".join(states), None

    return grids, frame


def _scatter_frames(steps, input_shape, size, padding):
    """The grids of a transposed convolution and, per step, (states, counts): the input on
    the left, the uncropped output on the right, numbers counting overlapping patches."""
    grids = _Grids(input_shape[1] + GAP + size[1], max(input_shape[0], size[0]))
    inputs = {
        (r, c): grids.add(r, c, (0, 0))
        for r in range(input_shape[0])
        for c in range(input_shape[1])
    }
    origin = (input_shape[1] + GAP, 0)
    p_rows, p_cols = padding
    outputs = {}
    for r in range(size[0]):
        for c in range(size[1]):
            cropped = not (
                p_rows <= r < size[0] - p_rows and p_cols <= c < size[1] - p_cols
            )
            outputs[(r, c)] = (grids.add(r, c, origin, counted=True), cropped)
    grids.label(0, 0, "input")
    grids.label(origin[0], 0, "output")

    def frame(index):
        states, counts = [""] * len(grids.cells), [0] * len(grids.cells)
        current = steps[index]
        for cell, n in inputs.items():
            states[n] = "w" if cell == current.input else "i"
        tally = np.zeros(size, dtype=int)
        for step in steps[: index + 1]:
            for t in step.targets:
                tally[t] += 1
        targets = set(current.targets)
        for cell, (n, cropped) in outputs.items():
            counts[n] = int(tally[cell])
            states[n] = (
                "n"
                if cell in targets
                else "c"
                if cropped
                else "d"
                if tally[cell]
                else "e"
            )
        return "".join(states), counts

    return grids, frame


def _labeller(*pairs):
    """Format (rows, columns) pairs: one number for 1-D (a single row) or square values."""
    one_d = all(pair[0] == 1 for pair in pairs[:2]) and pairs[3][0] == 0

    def label(pair):
        if one_d or pair[0] == pair[1]:
            return str(pair[1])
        return f"({pair[0]}, {pair[1]})"

    return label


def _key(*content):
    """A short id, the same for the same figure (notebook outputs must not change)."""
    return "labs-" + hashlib.sha1(json.dumps(content).encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------
# The player and the static figures
# --------------------------------------------------------------------------------------

# The player's look: the theme's colours and button shape on the website (pydata-sphinx-
# theme's CSS variables), plain fallbacks in Jupyter. The same rules for every player.
_PLAYER_CSS = """<style>
.labs-animation,.labs-gallery{margin:1em 0 1.5em}
.labs-animation .labs-grids,.labs-gallery .labs-grids{display:block;max-width:100%;
height:auto;border:1px solid var(--pst-color-border,#d1d5da);border-radius:.25rem}
.labs-animation-title{font-family:var(--pst-font-family-monospace,monospace);
font-size:.9em;margin:0 0 .4em}
.labs-animation-controls{display:flex;flex-wrap:wrap;align-items:center;gap:.5em;
margin:.6em 0 .3em}
.labs-animation-controls button{font:inherit;font-size:.9em;line-height:1.4;
padding:.3em .8em;border-radius:.25rem;cursor:pointer;
border:1px solid var(--pst-color-border,#8c959f);
background:var(--pst-color-surface,#f6f8fa);color:var(--pst-color-text-base,#222)}
.labs-animation-controls button:hover{border-color:var(--pst-color-primary,#0a6e80);
color:var(--pst-color-primary,#0a6e80)}
.labs-animation-controls button:focus-visible,.labs-animation-controls input:focus-visible{
outline:3px solid var(--pst-color-accent,#c132af);outline-offset:2px}
.labs-animation-controls input{flex:1 1 8em;max-width:16em;
accent-color:var(--pst-color-primary,#0a6e80)}
.labs-animation-counter{font-variant-numeric:tabular-nums;min-width:4.5em}
.labs-animation-caption{margin:.2em 0 0;min-height:3em}
.labs-animation-note{font-style:italic}
.labs-gallery{display:grid;gap:1em 1.5em;grid-template-columns:repeat(auto-fill,minmax(16em,1fr))}
.labs-gallery figure{margin:0}
.labs-gallery figcaption{margin:.4em 0 0;color:inherit}
</style>"""

_PLAYER_JS = """<script>
(function () {
  var root = document.getElementById("%s-player");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".labs-animation-data").textContent);
  var still = root.querySelector("img.labs-grids");
  if (still) {
    var bytes = atob(still.getAttribute("src").split(",")[1]);
    var box = document.createElement("div");
    box.innerHTML = new TextDecoder().decode(
      Uint8Array.from(bytes, function (c) { return c.charCodeAt(0); }));
    still.replaceWith(box.firstChild);
  }
  var note = root.querySelector(".labs-animation-note");
  if (note) note.remove();
  root.querySelector(".labs-animation-controls").removeAttribute("style");
  var cells = root.querySelectorAll("[data-cell]"), slider = root.querySelector("input");
  var caption = root.querySelector(".labs-animation-caption");
  var counter = root.querySelector(".labs-animation-counter");
  var play = root.querySelector("[data-play]"), timer = null, frame = 0;
  function show(n) {
    var count = data.states.length;
    frame = ((n %% count) + count) %% count;
    var states = data.states[frame], counts = data.counts && data.counts[frame];
    cells.forEach(function (cell, i) {
      cell.setAttribute("class", "s-" + states[i]);
      var text = cell.querySelector("text");
      if (text && counts) text.textContent = counts[i] ? counts[i] : "";
    });
    root.dataset.frame = frame;
    slider.value = frame;
    caption.textContent = data.captions[frame];
    counter.textContent = (frame + 1) + " / " + count;
  }
  function label(text, symbol) {
    play.innerHTML = '<span aria-hidden="true">' + symbol + "</span> " + text;
  }
  function stop() { clearInterval(timer); timer = null; label("Play", "&#9654;"); }
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    label("Pause", "&#10074;&#10074;");
    timer = setInterval(function () { show(frame + 1); }, data.interval);
  });
  root.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      stop(); show(frame + Number(button.dataset.step));
    });
  });
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });
})();
</script>"""


class Animation:
    """An animated figure: one SVG drawing, a state per cell per frame, and a caption per
    frame, shown as a small HTML player with Back, Play and Next buttons and a slider.

    ``description`` is the alternative text of the whole animation; ``captions`` has one
    sentence per frame, shown under the figure and announced to screen readers.
    """

    def __init__(self, grids, frames, captions, description, title="", interval=700):
        if len(frames) != len(captions) or not frames:
            raise ValueError(
                "an animation needs one caption per frame and at least one frame"
            )
        self.grids = grids
        self.frames = list(frames)  # (states, counts or None) per frame
        self.captions = list(captions)
        self.description = description
        self.title = title
        self.interval = int(interval)

    def __len__(self):
        return len(self.frames)

    def __repr__(self):
        return f"<labs.viz.Animation: {len(self.frames)} frames. {self.description}>"

    def _repr_html_(self):
        key = _key(self.description, self.captions, self.title)
        states = [states for states, _ in self.frames]
        counts = (
            [counts for _, counts in self.frames]
            if self.frames[0][1] is not None
            else None
        )
        data = json.dumps(
            {
                "states": states,
                "counts": counts,
                "captions": self.captions,
                "interval": self.interval,
            },
            separators=(",", ":"),
        )
        figure = _still(
            self.grids.svg(key, states[0], counts and counts[0], self.description),
            self.description,
        )
        last = len(self.frames) - 1
        # Until its script runs, the player is a still of the first frame and a note:
        # JupyterLab runs no script (and shows no inline SVG) in the saved outputs of a
        # notebook it does not trust, so buttons there would do nothing. The script
        # inlines the drawing, shows the controls and removes the note.
        return f"""<div class="labs-animation" id="{key}-player" role="group" \
aria-label="{html.escape(self.title or "animation")}">{_PLAYER_CSS}
<p class="labs-animation-title">{html.escape(self.title)}</p>
{figure}
<p class="labs-animation-note">{RUN_TO_PLAY}</p>
<div class="labs-animation-controls" style="display:none">
<button type="button" data-step="-1"><span aria-hidden="true">&#9664;</span> Back</button>
<button type="button" data-play><span aria-hidden="true">&#9654;</span> Play</button>
<button type="button" data-step="1">Next <span aria-hidden="true">&#9654;</span></button>
<input type="range" min="0" max="{last}" value="0" aria-label="Frame">
<span class="labs-animation-counter">1 / {last + 1}</span>
</div>
<p class="labs-animation-caption" aria-live="polite">{html.escape(self.captions[0])}</p>
<script type="application/json" class="labs-animation-data">{data}</script>
{_PLAYER_JS % key}
</div>"""


RUN_TO_PLAY = "Run this cell to play the animation."


def _still(svg, description):
    """A drawing as an image (an SVG data URL): unlike inline SVG, JupyterLab shows it
    in the saved outputs of a notebook it does not trust, and it is one file for a
    screen reader, described by ``description``."""
    width = svg.split(' width="', 1)[1].split('"', 1)[0]
    height = svg.split(' height="', 1)[1].split('"', 1)[0]
    data = base64.b64encode(svg.encode()).decode()
    return (
        f'<img class="labs-grids" src="data:image/svg+xml;base64,{data}" '
        f'width="{width}" height="{height}" alt="{html.escape(description)}">'
    )


class Figure:
    """One still frame (an SVG drawing in an HTML wrapper), e.g. from :func:`draw_conv`."""

    def __init__(self, svg, title, description):
        self.svg, self.title, self.description = svg, title, description

    def __repr__(self):
        return f"<labs.viz.Figure: {self.description}>"

    def _repr_html_(self):
        return (
            f'{_PLAYER_CSS}<figure class="labs-gallery-item">'
            f"{_still(self.svg, self.description)}</figure>"
        )


class Gallery:
    """Still frames side by side, each with its settings as a caption."""

    def __init__(self, figures):
        self.figures = list(figures)

    def __repr__(self):
        return f"<labs.viz.Gallery of {len(self.figures)} figures>"

    def _repr_html_(self):
        items = "".join(
            f"<figure>{_still(figure.svg, figure.description)}"
            f'<figcaption class="labs-animation-title">'
            f"{html.escape(figure.title)}</figcaption></figure>"
            for figure in self.figures
        )
        return f'{_PLAYER_CSS}<div class="labs-gallery">{items}</div>'


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
    return (
        f"i={label(i)}, k={label(k)}, s={label(s)}, p={label(p)}, d={label(d)}"
        f"  →  o={label(out)}"
    )


def animate_conv(
    input_size, kernel_size, stride=1, padding=0, dilation=1, *, interval=700
) -> Animation:
    """Animate a convolution: the kernel's window on the padded input, output cell by cell.

    ``input_size`` etc. are ints (square) or (rows, columns) pairs; use ``(1, n)`` for a
    1-D signal. Input cells that no window reaches (lost to the floor in the output-size
    formula) are grey and crossed.
    """
    steps, out, padded = conv_steps(input_size, kernel_size, stride, padding, dilation)
    i, k, s, p, d = (
        _pair(v, "size") for v in (input_size, kernel_size, stride, padding, dilation)
    )
    one_d = i[0] == 1 and k[0] == 1 and p[0] == 0
    leftover = _leftover(steps, padded, p)
    _label = _labeller(i, k, s, p, d, out)
    grids, frame = _conv_frames(steps, out, padded, p, leftover)
    frames, captions = [], []
    for index, step in enumerate(steps):
        frames.append(frame(index))
        rows = sorted({r - p[0] for r, _ in step.window})
        cols = sorted({c - p[1] for _, c in step.window})
        where = (
            f"positions {_list(cols)}"
            if one_d
            else f"rows {_list(rows)} and columns {_list(cols)}"
        )
        padded_note = (
            " (outside the input: padding)" if _touches_padding(rows, cols, i) else ""
        )
        captions.append(
            f"Step {index + 1} of {len(steps)}: output {_position(step.output, out)} reads "
            f"input {where}{padded_note}."
        )
    return Animation(
        grids,
        frames,
        captions,
        _conv_description(i, k, s, p, d, out, leftover),
        _conv_title(_label, i, k, s, p, d, out),
        interval,
    )


def _conv_description(i, k, s, p, d, out, leftover):
    _label = _labeller(i, k, s, p, d, out)
    if i[0] == 1 and k[0] == 1 and p[0] == 0:
        shape_words = (
            f"a width-{k[1]} kernel sliding along a length-{i[1]} signal",
            f"{out[1]} outputs, one per frame",
        )
    else:
        shape_words = (
            f"a {_size_words(k, False)} kernel sliding over a "
            f"{_size_words(i, False)} input",
            f"a {_size_words(out, False)} output, one cell per frame",
        )
    return (
        f"Animation of {shape_words[0]} with stride {_label(s)}, padding {_label(p)} and "
        f"dilation {_label(d)}, producing {shape_words[1]}."
        + (f" {len(leftover)} input cells are never read." if leftover else "")
    )


def animate_conv_transpose(
    input_size,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    output_padding=0,
    *,
    interval=700,
) -> Animation:
    """Animate a transposed convolution as one-to-many: each input cell adds a kernel-sized
    patch to the output, ``stride`` cells apart. Numbers count how many patches overlap
    each output cell (uneven counts are the checkerboard pattern); dashed cells are
    cropped away by ``padding``.
    """
    steps, out, canvas = conv_transpose_steps(
        input_size, kernel_size, stride, padding, dilation, output_padding
    )
    i, k, s, p, d, e = (
        _pair(v, "size")
        for v in (input_size, kernel_size, stride, padding, dilation, output_padding)
    )
    _label = _labeller(i, k, s, p, d, e, out)
    title = (
        f"transposed: i={_label(i)}, k={_label(k)}, s={_label(s)}, p={_label(p)}, "
        f"d={_label(d)}, output_padding={_label(e)}  →  o={_label(out)}"
        + ("; dashed cells are cropped by padding" if any(p) else "")
    )
    grids, frame = _scatter_frames(steps, i, canvas, p)
    frames, captions = [], []
    for index, step in enumerate(steps):
        frames.append(frame(index))
        captions.append(
            f"Step {index + 1} of {len(steps)}: input {_position(step.input, i)} adds the "
            f"kernel, scaled by its value, to {len(step.targets)} output cells starting at "
            f"{_position(step.targets[0], canvas)} of the uncropped output."
        )
    one_d = i[0] == 1 and k[0] == 1 and p[0] == 0
    apart = "1 cell" if s == (1, 1) or (one_d and s[1] == 1) else f"{_label(s)} cells"
    if one_d:
        shape_words = (
            f"each sample of a length-{i[1]} signal adds a width-{k[1]} copy of "
            "the kernel",
            f"a length-{out[1]} output",
        )
    else:
        shape_words = (
            f"each cell of a {_size_words(i, False)} input adds a "
            f"{_size_words(k, False)} copy of the kernel",
            f"a {_size_words(out, False)} output",
        )
    description = (
        f"Animation of a transposed convolution: {shape_words[0]} to the output, {apart} "
        f"apart, with dilation {_label(d)}; padding {_label(p)} is cropped from each side "
        f"and output_padding {_label(e)} added at the end, giving {shape_words[1]}. The "
        "numbers count the copies that overlap in each output cell."
    )
    return Animation(grids, frames, captions, description, title, interval)


def draw_conv(
    input_size, kernel_size, stride=1, padding=0, dilation=1, step=0
) -> Figure:
    """One frame of :func:`animate_conv`, as a still figure."""
    steps, out, padded = conv_steps(input_size, kernel_size, stride, padding, dilation)
    i, k, s, p, d = (
        _pair(v, "size") for v in (input_size, kernel_size, stride, padding, dilation)
    )
    leftover = _leftover(steps, padded, p)
    grids, frame = _conv_frames(steps, out, padded, p, leftover)
    title = _conv_title(_labeller(i, k, s, p, d, out), i, k, s, p, d, out)
    description = (
        _conv_description(i, k, s, p, d, out, leftover).replace(
            "Animation of", "Frame of an animation of", 1
        )
        + f" Shown: step {step + 1} of {len(steps)}."
    )
    key = _key("still", title, step)
    return Figure(grids.svg(key, frame(step)[0], None, description), title, description)


def gallery_conv(settings, step=1) -> Gallery:
    """Still frames of several convolutions side by side: the static stand-in for
    :func:`explore_conv`'s sliders on the website. ``settings`` is a list of dicts of
    :func:`draw_conv`'s arguments; each frame shows the window at ``step`` (the second
    output by default, so that the stride is visible)."""
    figures = []
    for setting in settings:
        count = len(conv_steps(**setting)[0])
        figures.append(draw_conv(**setting, step=min(step, count - 1)))
    return Gallery(figures)


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

    class Sliders(widgets.interactive):
        def __repr__(self):
            return EXPLORE_TEXT

    return Sliders(
        show,
        i=widgets.IntSlider(input_size, 1, 10, description="input i"),
        k=widgets.IntSlider(kernel_size, 1, 6, description="kernel k"),
        s=widgets.IntSlider(stride, 1, 4, description="stride s"),
        p=widgets.IntSlider(padding, 0, 4, description="padding p"),
        d=widgets.IntSlider(dilation, 1, 4, description="dilation d"),
        step=widgets.IntSlider(0, 0, 99, description="step"),
    )


# What a notebook shows for the sliders where they cannot be drawn: in the saved
# output of a notebook just opened (its widgets' state is not saved), or where
# ipywidgets' JupyterLab extension is missing. ipywidgets cuts it at 110 characters.
EXPLORE_TEXT = "Sliders for i, k, s, p, d and the step: run this cell to show them."


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
