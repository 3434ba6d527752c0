"""Building and serving the website for the tests (one build per test session)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote

from ..paths import ROOT

# Screenshots and page weights for a person to look at (not committed).
SCREENSHOTS = ROOT / "screenshots"

# Headless Chromium on this closed network: no background connections, no updates.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


# Chromium's headless shell first: the same Blink and V8 as the browser of the same
# version (Debian builds both from one source package, chromium-headless-shell and
# chromium), without the browser's own layer, which headless tests never see. It is
# what Playwright itself runs for headless tests. The website's tests took 217 CPU
# seconds with it against 271 with the browser (the whole of test_website.py, alone
# on the 2-core machine, /proc/stat), and passed the same; one phone-width pass over
# every page, three times each, alternating: 73, 86, 84 against 109, 112, 121 CPU
# seconds. A full browser still works.
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def chromium() -> str | None:
    """The system's Chromium (the browser tests never download one), or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Chromium's path; without it the test is skipped, or fails where
    CHROMIUM_REQUIRED=1 (``.ci/run``), so that CI never skips a browser test."""
    import pytest

    path = chromium()
    if path:
        return path
    message = (
        "Chromium is not installed (Debian: apt-get install chromium-headless-shell)"
    )
    if os.environ.get("CHROMIUM_REQUIRED") == "1":
        pytest.fail(f"{message}, and CHROMIUM_REQUIRED=1")
    pytest.skip(f"{message}; .ci/run sets CHROMIUM_REQUIRED=1 so that CI runs it")


# The README's `make html`, with the output sent elsewhere so the tests never touch _build.
BUILD_FLAGS = [
    "--all",
    "--execute",
    "off",
    "--warningiserror",
    "--nitpick",
    "--keep-going",
]


class Build:
    """The result of one website build: exit code, log, and the HTML folder."""

    def __init__(self, folder: Path):
        command = [
            sys.executable,
            str(ROOT / "tools" / "build_book.py"),
            *BUILD_FLAGS,
            "--path-output",
            str(folder),
            str(ROOT),
        ]
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


# --------------------------------------------------------------------------------------
# What the browser tests (and tools/site_report.py) measure on a loaded page
# --------------------------------------------------------------------------------------

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# axe-core's WCAG 2.0 and 2.1, levels A and AA. axe-core comes from the pinned
# axe-playwright-python package, which ships axe.min.js (its version is in the file's
# first line) and injects it from that local file: nothing is downloaded at run time.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe marks this WCAG 2.1 rule experimental and skips it unless asked: a control's
# accessible name must contain its visible label (2.5.3, "Label in Name")
AXE_EXTRA_RULES = {"label-content-name-mismatch": {"enabled": True}}
SERIOUS = ("serious", "critical")
# What axe checks on every page: everything but two kinds of generated markup whose
# colours come from one stylesheet for the whole site, and which made axe's contrast
# rule take 10 to 20 s on a long chapter: MathJax's drawing of each formula
# (mjx-container: hundreds of glyphs in the text's own colour) and the syntax-coloured
# tokens of the code boxes (thousands of spans in the theme's Pygments colours).
# CODE_BOXES checks the latter, every code box of the chapter with the most code, in
# both modes (tests/site/test_website.py).
AXE_CONTEXT = {"exclude": [["mjx-container"], ["div.highlight pre"]]}
CODE_BOXES = {"include": [["div.highlight pre"]]}


def axe_version() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT.split("\n", 1)[0].removeprefix("/*! axe ").strip()


def axe_violations(page, impacts=SERIOUS, context=AXE_CONTEXT):
    """axe-core's violations on the page, as {rule id: [(impact, target, html), ...]}."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        context=context,
        options={
            "runOnly": {"type": "tag", "values": AXE_TAGS},
            "rules": AXE_EXTRA_RULES,
            "resultTypes": ["violations"],
            # axe would fetch every stylesheet again and resolve
            # the theme's @import against the site's root (a
            # 404); only an orientation rule uses it
            "preload": False,
        },
    )
    found = {}
    for violation in results.response["violations"]:
        if violation["impact"] not in impacts:
            continue
        found[violation["id"]] = [
            (
                violation["impact"],
                " ".join(map(str, node["target"])),
                node["html"][:120],
            )
            for node in violation["nodes"]
        ]
    return found


# A code box, an output box or a display equation "overflows" when its content is wider
# than the box: the reader has to scroll sideways (or cannot see the end at all).
_OVERFLOW = """() => {
  const found = [];
  const first = el => (el.innerText || '').trim().split('\\n')
      .sort((a, b) => b.length - a.length)[0].slice(0, 70);
  document.querySelectorAll('article pre').forEach(pre => {
    if (pre.scrollWidth > pre.clientWidth + 1) {
      const kind = pre.closest('.cell_output, .output') ? 'output box' : 'code box';
      found.push({kind, scrollable: true, width: pre.scrollWidth, box: pre.clientWidth,
                  text: first(pre)});
    }
  });
  document.querySelectorAll('article mjx-container[display="true"]').forEach(eq => {
    const math = eq.querySelector('mjx-math') || eq;
    const width = math.getBoundingClientRect().width;
    // the box the equation sits in: the nearest block that is not the equation itself
    const box = eq.parentElement.getBoundingClientRect().width;
    if (width > box + 1) {
      let scrollable = false;
      for (let el = eq; el && el.tagName !== 'ARTICLE'; el = el.parentElement) {
        const style = getComputedStyle(el).overflowX;
        if ((style === 'auto' || style === 'scroll') && el.scrollWidth >= width - 1 &&
            el.clientWidth <= box + 1) { scrollable = true; break; }
      }
      found.push({kind: 'display equation', scrollable, width: Math.round(width),
                  box: Math.round(box), text: (eq.getAttribute('aria-label') ||
                  eq.textContent || '').slice(0, 70)});
    }
  });
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1)
    found.push({kind: 'page', scrollable: false, width: page.scrollWidth,
                box: window.innerWidth, text: 'the whole page scrolls sideways'});
  return found;
}"""


def overflowing(page):
    """Code boxes, output boxes and display equations wider than their box (see above)."""
    return page.evaluate(_OVERFLOW)


def cold_page_weight(html: Path, base: str, urls):
    """Bytes a first visit downloads: the size on disk of every file the page requested
    from the local server (the server sends files as they are, uncompressed).
    Returns (total, {path: bytes})."""
    total, files = 0, {}
    for url in urls:
        if not url.startswith(base):
            continue
        path = unquote(url.removeprefix(base).split("?", 1)[0].split("#", 1)[0])
        target = html / path
        if target.is_file() and path not in files:
            files[path] = target.stat().st_size
            total += files[path]
    return total, files
