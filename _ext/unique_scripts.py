"""Include each page script once.

With Jupyter Book 1.0.4, sphinx-thebe's configuration snippet (``const THEBE_JS_URL =
...``) is registered twice and so appears twice in every page; the second copy throws
"Identifier 'THEBE_JS_URL' has already been declared" in the browser. This extension
drops repeated scripts (same file, same attributes, same inline body) from each page's
script list before the page is written.
"""

from __future__ import annotations


def _key(script):
    """What makes two scripts the same; an inline script's filename may be None or ''."""
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(
        sorted((name, str(value)) for name, value in attributes.items())
    )


def _unique(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
