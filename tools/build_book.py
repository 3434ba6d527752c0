"""Build the website: ``jupyter-book build`` with one Sphinx reader per core.

    .venv/bin/python tools/build_book.py [--execute MODE] [jupyter-book build options] [path]

Jupyter Book 1.x runs Sphinx with a single reader process and has no option to change
that, so notebooks execute one after another although each waits mostly on its own
kernel. This wrapper passes Sphinx's ``parallel`` setting (what ``sphinx-build -j`` sets)
to Jupyter Book's own build function and otherwise runs the ordinary ``jupyter-book
build`` command line, so every option and the output are the same. Set
``BOOK_BUILD_JOBS=1`` to build serially. See also ``_ext/parallel_read.py``.

``--execute`` chooses how notebooks are executed, overriding ``_config.yml``:

* ``force`` (the default, from ``_config.yml``): every notebook runs at every build;
* ``cache``: a notebook runs only when its code changed since it last ran, or when
  anything under ``labs/`` or ``requirements.txt`` changed (a fingerprint of those is
  kept next to the cache, and a change empties the cache). This is ``make html``: a
  fresh clone builds everything, a rebuild after editing one chapter runs one notebook;
* ``off``: the committed outputs are used as they are. The test suite builds the site
  this way, because in the same session nbval re-executes every notebook and compares
  each output with the committed one, strictly: executing them a second time for the
  website would prove nothing more.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
from pathlib import Path

import jupyter_book.sphinx
from jupyter_book.cli.main import main

# The notebooks' kernels compute on one thread, as the grader's do: the chapters' tensors
# are tiny, and several kernels (or pytest's workers) share the cores. Nothing printed
# depends on it: tools/cpu_paths.py re-runs the notebooks with 1 and with 4 threads.
# An explicit OMP_NUM_THREADS (tools/cpu_paths.py sets one) wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
MODES = ("force", "cache", "off")


def jobs() -> int:
    return int(os.environ.get("BOOK_BUILD_JOBS") or os.cpu_count() or 1)


def fingerprint() -> str:
    """A digest of what notebook outputs depend on besides their own code."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "labs").rglob("*.py")) + [ROOT / "requirements.txt"]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def refresh_cache(output: Path) -> None:
    """Empty the execution cache when the engine or the pins changed since it was filled."""
    cache = output / "_build" / ".jupyter_cache"
    stamp = output / "_build" / ".labs-fingerprint"
    current = fingerprint()
    if stamp.exists() and stamp.read_text() == current:
        return
    if cache.exists():
        print("labs/ or requirements.txt changed: every notebook runs again")
        shutil.rmtree(cache)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)


def create_cache(output: Path) -> None:
    """Create the cache's database before the readers start: two readers creating it
    at once would collide (each reader process executes its own notebooks)."""
    from jupyter_cache import get_cache

    _ = get_cache(str(output / "_build" / ".jupyter_cache")).db  # creates the tables


def build(original, *args, mode=None, **kwargs):
    """Jupyter Book's build_sphinx with parallel reading and the execution mode."""
    overrides = dict(kwargs.pop("confoverrides", None) or {})
    if mode:
        overrides["nb_execution_mode"] = mode
    return original(*args, confoverrides=overrides, jobs=jobs(), **kwargs)


def split_arguments(arguments: list[str]) -> tuple[str | None, list[str]]:
    """This script's ``--execute MODE`` and the rest, for jupyter-book."""
    mode, rest = None, []
    items = iter(arguments)
    for item in items:
        if item == "--execute":
            mode = next(items, None)
        elif item.startswith("--execute="):
            mode = item.split("=", 1)[1]
        else:
            rest.append(item)
    if mode is not None and mode not in MODES:
        sys.exit(f"--execute must be one of {', '.join(MODES)}, not {mode!r}")
    return mode, rest


def output_folder(arguments: list[str]) -> Path:
    """Where jupyter-book writes _build: --path-output, or the book's folder."""
    for index, item in enumerate(arguments):
        if item == "--path-output" and index + 1 < len(arguments):
            return Path(arguments[index + 1])
    return ROOT


if __name__ == "__main__":
    mode, arguments = split_arguments(sys.argv[1:])
    if mode == "cache":
        refresh_cache(output_folder(arguments))
        create_cache(output_folder(arguments))
    # jupyter_book.cli.main imports build_sphinx from this module when a build starts
    jupyter_book.sphinx.build_sphinx = functools.partial(
        build, jupyter_book.sphinx.build_sphinx, mode=mode
    )
    sys.exit(main(["build", *arguments]))
