"""Building and serving the website for the tests (one build per test session)."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# The README's `make html`, with the output sent elsewhere so the tests never touch _build.
BUILD_FLAGS = ["--all", "--warningiserror", "--nitpick", "--keep-going"]


def toc_files():
    """Every document named in _toc.yml, as paths relative to the repository root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return found


class Build:
    """The result of one website build: exit code, log, and the HTML folder."""

    def __init__(self, folder: Path):
        command = [sys.executable, str(ROOT / "tools" / "build_book.py"), *BUILD_FLAGS,
                   "--path-output", str(folder), str(ROOT)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
        self.returncode = result.returncode
        self.log = result.stdout[-6000:] + result.stderr[-6000:]
        self.html = folder / "_build" / "html"


class Server:
    """Serve a folder on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass
