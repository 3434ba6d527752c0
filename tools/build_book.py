"""Build the website: ``jupyter-book build`` with one Sphinx reader per core.

    .venv/bin/python tools/build_book.py [jupyter-book build options] [path]

Jupyter Book 1.x runs Sphinx with a single reader process and has no option to change
that, so notebooks execute one after another although each waits mostly on its own
kernel. This wrapper passes Sphinx's ``parallel`` setting (what ``sphinx-build -j`` sets)
to Jupyter Book's own build function and otherwise runs the ordinary ``jupyter-book
build`` command line, so every option and the output are the same. Set
``BOOK_BUILD_JOBS=1`` to build serially. See also ``_ext/parallel_read.py``.
"""

from __future__ import annotations

import functools
import os
import sys

import jupyter_book.sphinx
from jupyter_book.cli.main import main


def jobs() -> int:
    return int(os.environ.get("BOOK_BUILD_JOBS") or os.cpu_count() or 1)


if __name__ == "__main__":
    # jupyter_book.cli.main imports build_sphinx from this module when a build starts
    jupyter_book.sphinx.build_sphinx = functools.partial(
        jupyter_book.sphinx.build_sphinx, jobs=jobs()
    )
    sys.exit(main(["build", *sys.argv[1:]]))
