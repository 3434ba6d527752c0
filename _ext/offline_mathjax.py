"""Serve MathJax from the built website itself, so math renders with no network.

Sphinx loads MathJax from a CDN by default; a page read in a classroom without internet,
or from a copy on a USB stick, would then show raw LaTeX. This extension points Sphinx at
``_static/mathjax/tex-chtml.js`` and, once the HTML is written, copies MathJax 3 (from
the ``django-static-mathjax`` package, which ships its files and nothing else) into the
output: the combined TeX-to-HTML component, its web fonts, the TeX extensions it may load
on demand, and the menu and accessibility components.

The files are copied after the build rather than placed in ``_static/`` beforehand
because Jupyter Book adds every ``.js`` file found in a static folder to every page.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

# What MathJax's tex-chtml.js can load at run time, relative to its own folder.
PARTS = ["tex-chtml.js", "output/chtml", "input/tex", "a11y", "ui", "adaptors"]
TARGET = "mathjax"


def _source() -> Path:
    root = resources.files("mathjax") / "static" / "mathjax" / "es5"
    path = Path(str(root))
    if not (path / "tex-chtml.js").exists():
        raise RuntimeError(
            f"MathJax not found at {path}; is django-static-mathjax installed?"
        )
    return path


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = _source()
    target = Path(app.outdir) / "_static" / TARGET
    for part in PARTS:
        origin = source / part
        destination = target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, destination)


def _configure(app, config) -> None:
    config.mathjax_path = f"{TARGET}/tex-chtml.js"


def setup(app):
    _source()  # fail early, with a clear message, if MathJax is missing
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
