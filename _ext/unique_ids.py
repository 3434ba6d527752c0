"""Give sphinx-exercise's content sections ids that are unique in the page.

sphinx-exercise 1.2.1 wraps the body of every exercise in ``<section
id="exercise-content">`` and of every solution in ``<section id="solution-content">``,
so a page with several exercises repeats the same id (invalid HTML; a link or a
screen reader's landmark list cannot tell them apart). Nothing links to these ids and
the package's CSS and JavaScript do not use them. Once the page is resolved, this
renames each to ``<label>-content`` after its exercise or solution (``ex-conv1d-loops``
gives ``ex-conv1d-loops-content``), or numbers it when the box has no label.
"""

from __future__ import annotations

from docutils import nodes

GENERIC = ("exercise-content", "solution-content")


def _rename(app, doctree, docname):
    counts = {}
    for section in doctree.findall(nodes.section):
        generic = [i for i in section["ids"] if i in GENERIC]
        if not generic:
            continue
        box = section.parent
        label = next((i for i in (box["ids"] if box is not None else []) if i), None)
        if label is None:
            counts[generic[0]] = counts.get(generic[0], 0) + 1
            label = f"{generic[0].split('-')[0]}-{counts[generic[0]]}"
        section["ids"] = [i for i in section["ids"] if i not in GENERIC] + [
            f"{label}-content"
        ]


def setup(app):
    app.connect("doctree-resolved", _rename)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
