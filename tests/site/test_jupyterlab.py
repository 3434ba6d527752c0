"""The notebooks as a learner uses them: JupyterLab, driven by a real browser.

JupyterLab is started from this environment on 127.0.0.1 (a free port, a random token)
in a temporary copy of ``book/`` and ``solutions/``, with its configuration, data,
settings and workspaces in temporary folders, so the test never changes a tracked file
or the user's Jupyter set-up. Headless Chromium (Playwright) then opens chapter 3, the
chapter with sliders, animations and exercises, and checks, in this order:

- before anything runs: the exercise blocks are rendered by jupyterlab-myst (no raw
  ``:::{exercise}`` or ``:label:`` text), and the saved animations and sliders say how
  to run them instead of showing buttons that do nothing;
- Run All: every cell runs, and no cell shows an error or writes to stderr;
- a slider redraws its figure; an animation's Next button steps its frame;
- an exercise's verdict goes from "not attempted" to "failed" (a wrong answer typed
  into the stub) to "passed" (a right one);
- the exercise's "solution" link opens the solutions notebook at that solution.

Chromium comes from the system (Debian's ``chromium``). Without it the test is skipped,
unless ``CHROMIUM_REQUIRED=1`` (as ``.ci/run`` sets), which makes it fail instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ..paths import ROOT
from .website import CHROMIUM_FLAGS, SCREENSHOTS, require_chromium

CHAPTER = "book/03_arithmetic.ipynb"
SOLUTIONS = "solutions/03_arithmetic.ipynb"
STUB = "def output_size(i, k, s=1, p=0, d=1):"
WRONG = STUB + "\n    return i - k + 1  # forgets stride, padding and dilation\n"
RIGHT = STUB + "\n    return (i + 2 * p - d * (k - 1) - 1) // s + 1\n"
SOLUTION_ID = "sol-arith-output-size"

# JupyterLab's user settings for the test: no "Jupyter news?" pop-up over the page, no
# update check, and every cell kept in the page (no windowing) so selectors find them
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none"
    },
}
SECONDS = 1000  # Playwright's timeouts are in milliseconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Lab:
    """A JupyterLab server serving a scratch copy of the course's notebooks."""

    def __init__(self, scratch: Path):
        self.root = scratch / "course"
        for folder in ("book", "solutions"):
            shutil.copytree(
                ROOT / folder,
                self.root / folder,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"),
            )
        home = scratch / "jupyter"
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(home / "config"),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
        )
        env.pop("JUPYTER_TOKEN", None)
        for name, values in SETTINGS.items():
            path = home / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (scratch / "jupyterlab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.allow_root=True",
                "--LabApp.extension_manager=readonly",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            cwd=self.root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = scratch / "jupyterlab.log"

    def wait_until_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self._api("status"), timeout=5):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        pytest.fail(f"JupyterLab did not start:\n{self.log_path.read_text()[-3000:]}")

    def _api(self, path: str) -> str:
        return f"{self.url}/api/{path}?token={self.token}"

    def close(self) -> None:
        try:  # shuts its kernels down too
            request = urllib.request.Request(self._api("shutdown"), method="POST")
            urllib.request.urlopen(request, timeout=10).close()
            self.process.wait(timeout=20)
        except (
            urllib.error.URLError,
            ConnectionError,
            TimeoutError,
            subprocess.TimeoutExpired,
        ):
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    executable = require_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    server = _Lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.wait_until_ready()
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_FLAGS
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(30 * SECONDS)
            yield server, page
            browser.close()
    finally:
        server.close()


def _active(page):
    """The notebook in the tab that is showing."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _code_cell(page, text):
    """The code cell whose source contains ``text``."""
    return (
        _active(page)
        .locator(".jp-CodeCell")
        .filter(has=page.locator(".cm-content", has_text=text))
        .first
    )


def _screenshot(page, element, name):
    element.scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"jupyterlab-{name}.png")


def _run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


def test_chapter_in_jupyterlab(lab):
    server, page = lab
    page.goto(f"{server.url}/lab/tree/{CHAPTER}?token={server.token}")
    notebook = _active(page)
    notebook.locator(".jp-Cell").first.wait_for(timeout=60 * SECONDS)

    # Opened, not run yet: MyST rendered, saved players and sliders say how to run them.
    exercise = notebook.locator(
        ".jp-MarkdownCell", has=page.locator("a", has_text="solution")
    ).first
    exercise.wait_for()
    rendered = exercise.locator("div.myst").first  # jupyterlab-myst's rendering
    assert ":label:" not in rendered.inner_text() and ":::" not in rendered.inner_text()
    assert "Exercise" in rendered.locator("aside.myst-exercise").first.inner_text()
    _screenshot(page, exercise, "exercise-opened")
    player = notebook.locator(".labs-animation").first
    assert "Run this cell to play the animation." in player.inner_text()
    assert not player.locator("button").first.is_visible()
    sliders = _code_cell(page, "viz.explore_conv(")
    assert (
        "run this cell to show them" in sliders.locator(".jp-OutputArea").inner_text()
    )

    # Long drawing code is folded (source_hidden): a placeholder stands in for it.
    assert notebook.locator(".jp-CodeCell .jp-InputPlaceholder").count() >= 1

    # Run All: every code cell runs, none fails or writes to stderr.
    _run_all(page)
    page.wait_for_function(
        """() => {
          const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
          // a folded cell (source_hidden) shows a placeholder and an empty prompt
          const prompts = [...panel.querySelectorAll('.jp-CodeCell')]
            .filter(cell => !cell.querySelector('.jp-InputPlaceholder'))
            .map(cell => cell.querySelector('.jp-InputPrompt'));
          return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=180 * SECONDS,
    )
    errors = notebook.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    assert errors.count() == 0, errors.first.inner_text()[:2000]

    # A slider redraws its figure.
    sliders = _code_cell(page, "viz.explore_conv(")
    figure = sliders.locator(".widget-output img.labs-grids").first
    figure.wait_for()
    before = figure.get_attribute("src")
    handle = sliders.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([element, before]) => !document.body.contains(element)"
        " || element.getAttribute('src') !== before",
        arg=[figure.element_handle(), before],
        timeout=20 * SECONDS,
    )
    assert (
        sliders.locator(".widget-output img.labs-grids").first.get_attribute("src")
        != before
    )

    # The animations play: no note is left, and Next steps the frame.
    assert notebook.locator(".labs-animation-note").count() == 0
    player = notebook.locator(".labs-animation").first
    counter = player.locator(".labs-animation-counter")
    total = int(counter.inner_text().split("/")[1])
    first = player.locator("svg.labs-grids").inner_html()
    player.locator("button[data-step='1']").click()
    assert counter.inner_text() == f"2 / {total}"
    assert player.locator("svg.labs-grids").inner_html() != first

    # An exercise: not attempted, then failed, then passed.
    stub = _code_cell(page, STUB)
    check = _code_cell(page, "check.output_size(output_size)")
    verdict = check.locator(".jp-OutputArea-output")
    assert "Not attempted yet" in verdict.inner_text()
    for code, word in ((WRONG, "Failed"), (RIGHT, "Passed")):
        stub.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(code)
        page.keyboard.press("Shift+Enter")  # runs the stub, selects the checker's cell
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "([element, word]) => element.textContent.includes(word)",
            arg=[check.locator(".jp-OutputArea").element_handle(), word],
            timeout=60 * SECONDS,
        )
        assert word in verdict.first.inner_text()
        _screenshot(page, check, f"verdict-{word.lower()}")

    # The exercise's solution link opens the worked solution.
    link = exercise.locator("a", has_text="solution").first
    assert link.get_attribute("href").split("?")[0].endswith(
        f"/{SOLUTIONS}"
    ) and link.get_attribute("href").endswith(f"#{SOLUTION_ID}")
    link.click()
    page.wait_for_url(f"**/lab/tree/{SOLUTIONS}*", timeout=30 * SECONDS)
    solution = _active(page).locator(f"[id='{SOLUTION_ID}']")
    solution.wait_for()
    assert "Solution" in solution.inner_text()
    _screenshot(page, solution, "solution")
