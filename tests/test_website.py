"""The website as readers use it, in a real browser (headless Chromium via Playwright).

The site is built once per session (the ``website`` fixture), served on 127.0.0.1, and
every page is loaded. A page passes when nothing fails: no script error, no unexpected
console error, no failed request, no request leaving this machine (the site must work
offline), math typeset, every image loaded and described, animations and links working.

Screenshots of a few pages are written to ``screenshots/`` (not committed) for a person
to look at. Chromium comes from the system (Debian's ``chromium`` package); ``.ci/run``
installs it, and without it these tests are skipped with a message saying so.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from .site import ROOT, Server, toc_files

SCREENSHOTS = ROOT / "screenshots"

# Console messages that are not defects of the course, each with the reason it is benign.
BENIGN_CONSOLE = [
    # pydata-sphinx-theme logs this on a first visit, before any light/dark choice is
    # stored in localStorage, and then uses the system setting, which is what we want.
    re.compile(r"Got invalid theme mode: \. Resetting to auto\."),
]

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def test_website_builds_with_warnings_as_errors(website):
    """The README's `make html`, into a scratch folder: any warning or failing cell is fatal."""
    assert website.returncode == 0, f"the website build failed:\n{website.log}"
    for entry in toc_files():
        page = website.html / f"{entry}.html"
        assert page.exists(), f"{page} was not built"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def site(website):
    if website.returncode != 0:
        pytest.fail(f"the website did not build:\n{website.log}")
    server = Server(website.html)
    yield website.html, server.url
    server.close()


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); "
                    ".ci/run installs it so that CI always runs these tests")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def _pages(html: Path):
    """Every page a reader can reach: the built .html files outside _static and _sources."""
    return sorted(
        str(p.relative_to(html)) for p in html.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts)
    )


class _Recorder:
    """Collects what goes wrong while a page loads."""

    def __init__(self, page, base):
        self.problems = []
        self.base = base
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url}"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, message):
        if message.type != "error":
            return
        if any(pattern.search(message.text) for pattern in BENIGN_CONSOLE):
            return
        self.problems.append(f"console error: {message.text}")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request):
        if not request.url.startswith(self.base) and not request.url.startswith("data:"):
            self.problems.append(f"request leaves this machine: {request.url}")


def _typeset_math(page):
    """Wait for MathJax; return (math elements, typeset containers, MathJax errors)."""
    count = page.locator(".math").count()
    if count == 0:
        return 0, 0, 0
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                           timeout=20000)
    page.evaluate("() => MathJax.startup.promise")
    return (count, page.locator("mjx-container").count(),
            page.locator("mjx-merror").count())


def test_every_page_loads_cleanly_and_offline(site, browser):
    html, base = site
    pages = _pages(html)
    assert "book/intro.html" in pages and "search.html" in pages
    failures = {}
    pages_with_math = 0
    page = browser.new_page()
    recorder = _Recorder(page, base)
    for name in pages:
        recorder.problems = []
        page.goto(base + name, wait_until="load")
        math, typeset, errors = _typeset_math(page)
        pages_with_math += math > 0
        if math and typeset < math:
            recorder.problems.append(f"{math} math elements but only {typeset} typeset")
        if errors:
            recorder.problems.append(f"{errors} MathJax errors")
        images = page.evaluate("""() => Array.from(document.querySelectorAll('article img'))
            .map(img => ({src: img.src.slice(0, 80), loaded: img.complete && img.naturalWidth > 0,
                          alt: (img.getAttribute('alt') || '').trim()}))""")
        for image in images:
            if not image["loaded"]:
                recorder.problems.append(f"image did not load: {image['src']}")
            if not image["alt"]:
                recorder.problems.append(f"image without alt text: {image['src']}")
        page.wait_for_load_state("networkidle")  # late requests (fonts, MathJax parts)
        if recorder.problems:
            failures[name] = list(recorder.problems)
    page.close()
    assert not failures, "\n".join(f"{name}: {problems}" for name, problems in failures.items())
    assert pages_with_math >= 1, "no page has typeset math"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def test_internal_links_resolve(site):
    html, _ = site
    parsed = {}
    for name in _pages(html):
        parser = _Links()
        parser.feed((html / name).read_text())
        parsed[name] = parser
    broken = []
    for name, parser in parsed.items():
        for href in parser.hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith("mailto:") or href.startswith("//"):
                continue
            target = unquote(urljoin(name, url.path)) if url.path else name
            if not (html / target).exists():
                broken.append(f"{name}: {href} (no file {target})")
                continue
            if url.fragment and target in parsed and url.fragment not in parsed[target].ids:
                broken.append(f"{name}: {href} (no element #{url.fragment})")
    assert not broken, "\n".join(broken)


def test_exercises_link_to_their_solutions(site, browser):
    """Every exercise block links to a solution block; following one link in the browser
    lands on it (the other links are resolved against the built pages)."""
    html, base = site
    ids = {}
    for name in _pages(html):
        parser = _Links()
        parser.feed((html / name).read_text())
        ids[name] = parser.ids
    page = browser.new_page()
    checked, followed = 0, False
    for name in _pages(html):
        if not name.startswith("book/") or "exercise" not in (html / name).read_text():
            continue
        page.goto(base + name, wait_until="load")
        exercises = page.locator("div.exercise")
        for index in range(exercises.count()):
            link = exercises.nth(index).locator(
                "a", has_text=re.compile("solution", re.IGNORECASE)).first
            assert link.count() == 1, f"{name}: exercise {index + 1} has no solution link"
            target = urlparse(urljoin(base + name, link.get_attribute("href")))
            target_page = target.path.removeprefix(urlparse(base).path)
            assert target.fragment in ids.get(target_page, set()), f"{name}: {target.geturl()}"
            if not followed:
                link.click()
                page.wait_for_load_state("load")
                landed = page.locator(f"[id='{target.fragment}']")
                assert landed.count() == 1 and "solution" in landed.inner_text().lower()
                followed = True
                page.goto(base + name, wait_until="load")
            checked += 1
    page.close()
    if checked == 0:
        pytest.skip("no exercises in the book yet")


def test_animations_play_and_step(site, browser):
    html, base = site
    page = browser.new_page()
    checked = 0
    for name in _pages(html):
        if "labs-animation" not in (html / name).read_text():
            continue
        page.goto(base + name, wait_until="load")
        players = page.locator("div.labs-animation")
        for index in range(players.count()):
            player = players.nth(index)
            player.scroll_into_view_if_needed()
            counter = player.locator(".labs-animation-counter")
            total = int(counter.inner_text().split("/")[1])
            image = player.locator("img")
            first = image.get_attribute("src")
            assert image.get_attribute("alt"), f"{name}: animation {index + 1} has no alt text"
            if total > 1:
                player.locator("button[data-step='1']").click()
                assert counter.inner_text() == f"2 / {total}"
                assert image.get_attribute("src") != first
                player.locator("button[data-step='1']").focus()
                page.keyboard.press("Enter")  # the buttons work from the keyboard too
                assert counter.inner_text() == f"{min(3, total) if total > 2 else 1} / {total}"
                if checked == 0:  # playing takes real time: once is enough
                    play = player.locator("button[data-play]")
                    before = counter.inner_text()
                    play.click()
                    page.wait_for_function(
                        "([element, text]) => element.textContent !== text",
                        arg=[counter.element_handle(), before], timeout=5000)
                    play.click()
                    assert "Play" in play.inner_text()
            checked += 1
    page.close()
    if checked == 0:
        pytest.skip("no animations in the book yet")


def test_search_finds_pages(site, browser):
    _, base = site
    page = browser.new_page()
    page.goto(base + "search.html?q=convolution", wait_until="networkidle")
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    assert page.locator("#search-results ul.search li").count() >= 1
    page.close()


def test_keyboard_reaches_the_content(site, browser):
    """The first Tab lands on the theme's "skip to main content" link."""
    _, base = site
    page = browser.new_page()
    page.goto(base + "book/intro.html", wait_until="networkidle")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim().toLowerCase()")
    assert "skip to main content" in focused
    page.close()


def test_screenshots_for_a_person_to_look_at(site, browser):
    html, base = site
    SCREENSHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    names = ["book/intro.html", "book/checks.html", "book/01_conv1d.html",
             "book/04_transposed.html", "book/09_capstone.html", "book/formulas.html",
             "book/glossary.html", "solutions/01_conv1d.html"]
    for name in (n for n in names if (html / n).exists()):
        page.goto(base + name, wait_until="networkidle")
        _typeset_math(page)
        target = SCREENSHOTS / (name.replace("/", "_").replace(".html", ".png"))
        page.screenshot(path=str(target), full_page=False)
        assert target.stat().st_size > 0
    page.close()
