"""Let Sphinx read (and so execute) several notebooks at a time.

Sphinx reads documents in parallel only when every extension declares itself safe for
it. Two extensions that Jupyter Book 1.0.4 loads declare nothing, so Sphinx assumes
they are unsafe and reads serially. We read both (at the versions pinned below) and
found them safe:

- ``sphinx_multitoc_numbering`` 0.1.3, which numbers chapters continuously across the
  book's parts. Its ``setup`` replaces ``TocTreeCollector.assign_section_numbers``
  (the forked reader processes inherit the replacement), and that method runs only in
  the main process, after every document has been read and merged.
- ``sphinx_jupyterbook_latex`` 1.0.0, used for LaTeX output. Its transforms change only
  the document being read, and its environment settings are made only for a LaTeX
  builder, at ``builder-inited``, before any reading starts.

This extension records that. A different version of either is left undeclared: Sphinx
then warns that it must read serially, and with warnings as errors the build stops
until someone reads the new version and updates ``AUDITED`` (``BOOK_BUILD_JOBS=1``
builds serially meanwhile). ``tools/build_book.py`` asks for one reader per core.
"""

from __future__ import annotations

from importlib.metadata import version

# extension module -> (distribution, the version whose source was read)
AUDITED = {
    "sphinx_multitoc_numbering": ("sphinx-multitoc-numbering", "0.1.3"),
    "sphinx_jupyterbook_latex": ("sphinx-jupyterbook-latex", "1.0.0"),
}


def setup(app):
    for module, (distribution, audited) in AUDITED.items():
        # Jupyter Book lists them after the local extensions: load each now (loading
        # it again later is a no-op), so that it can be marked.
        app.setup_extension(module)
        if version(distribution) == audited:
            app.extensions[module].parallel_read_safe = True
    return {"parallel_read_safe": True, "parallel_write_safe": True}
