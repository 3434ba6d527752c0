"""Send each page only the scripts it uses.

Measured with ``tools/site_report.py``, a first visit downloaded 2.5 to 4.9 MB, and two
files were most of it on every page:

- ``fontawesome.js`` (1.5 MB), which pydata-sphinx-theme 0.17 loads "so that users can
  add custom icons" (its words, in ``webpack-macros.html``) by turning ``<i>`` icons into
  SVG. The course adds no icons, and the theme's CSS already draws every icon it uses
  from the Font Awesome web font, so the script only repeated that work. It is inserted
  by a template macro, not through Sphinx's script list, so once each page is written
  its ``<script>`` line is taken out (and the file is not copied).
- MathJax (1.2 MB), which Jupyter Book includes in every page. Pages without math (the
  introduction, the glossary, the search and index pages) now leave it out; the browser
  tests fail on any page whose math is not typeset.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes

FONTAWESOME = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*">'
    r"</script>"
)


def _is_math(node) -> bool:
    return isinstance(node, (nodes.math, nodes.math_block)) or (
        isinstance(node, nodes.Element) and "math" in node.get("classes", [])
    )


def _has_math(doctree) -> bool:
    return doctree is not None and next(doctree.findall(_is_math), None) is not None


def _drop_mathjax(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts or _has_math(doctree):
        return

    def mathjax(script):
        filename = str(getattr(script, "filename", script) or "")
        body = str((getattr(script, "attributes", {}) or {}).get("body", ""))
        return "mathjax" in filename.lower() or body.startswith("window.MathJax")

    context["script_files"] = [script for script in scripts if not mathjax(script)]


def _drop_fontawesome(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        stripped = FONTAWESOME.sub("", text)
        if stripped != text:
            page.write_text(stripped, encoding="utf-8")
    for name in ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt"):
        (outdir / "_static" / "scripts" / name).unlink(missing_ok=True)


def setup(app):
    app.connect("html-page-context", _drop_mathjax, priority=900)
    # after offline_mathjax's copy (priority 500), before nothing else
    app.connect("build-finished", _drop_fontawesome, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
