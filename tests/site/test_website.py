"""The website as readers use it, in a real browser (headless Chromium via Playwright).

The site is built once per session (the ``website`` fixture) and served on 127.0.0.1.
Every page is loaded twice, each time as a first visit (a fresh browser context): at
1366 px in light mode (the ``desktop`` fixture) and at 390 px, a phone, in dark mode
(the ``phone`` fixture). The tests then read what those two passes recorded: no script
error, console error or warning, failed request or request leaving this machine; math
typeset and images described; no serious or critical axe-core violation (WCAG 2.1 A
and AA); no code box, output box or display equation wider than its box at 1366 px and
nothing cut off at 390 px; the phone's menu and "On this page" buttons open their
panels; the cold page weight under a budget. Other tests drive the animations, the
links, the exercise-to-solution links and the search.

Screenshots of key pages at both widths, and the page weights, are written to
``screenshots/`` (not committed) for a person to look at. Chromium comes from the system
(Debian's ``chromium`` package); ``.ci/run`` installs it, and without it these tests are
skipped with a message saying so, or fail where CHROMIUM_REQUIRED=1 (as on CI).
axe-core comes from the pinned axe-playwright-python package (see tests/site/website.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from ..paths import ROOT, toc_files
from .website import (
    CHROMIUM_FLAGS,
    CODE_BOXES,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Server,
    axe_violations,
    cold_page_weight,
    overflowing,
    require_chromium,
)

# set by the browser fixture (Playwright is imported there)
PlaywrightTimeout = expect = None


def test_website_builds_with_warnings_as_errors(website):
    """The README's `make html`, into a scratch folder: any warning or failing cell is fatal."""
    assert website.returncode == 0, f"the website build failed:\n{website.log}"
    for entry in toc_files():
        page = website.html / f"{entry}.html"
        assert page.exists(), f"{page} was not built"


@pytest.fixture(scope="module")
def site(website):
    if website.returncode != 0:
        pytest.fail(f"the website did not build:\n{website.log}")
    server = Server(website.html)
    yield website.html, server.url
    server.close()


@pytest.fixture(scope="module")
def browser():
    executable = require_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    global PlaywrightTimeout, expect
    PlaywrightTimeout, expect = playwright_api.TimeoutError, playwright_api.expect
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


# The chapter with the most code: its code boxes' colours get their own axe run.
CODE_PAGE = "book/07_engine.html"
# Pages photographed in both passes, for a person to look at.
SCREENSHOT_PAGES = [
    "book/intro.html",
    "book/checks.html",
    "book/01_conv1d.html",
    "book/03_arithmetic.html",
    "book/04_transposed.html",
    "book/08_custom_functions.html",
    "book/09_capstone.html",
    "book/10_building_blocks.html",
    "book/formulas.html",
    "book/glossary.html",
    "book/references.html",
    "solutions/01_conv1d.html",
]


def _pages(html: Path):
    """Every page a reader can reach: the built .html files outside _static and _sources."""
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts)
    )


class _Recorder:
    """Collects what goes wrong while a page loads."""

    def __init__(self, page, base):
        self.problems = []
        self.base = base
        page.on(
            "pageerror", lambda error: self.problems.append(f"script error: {error}")
        )
        page.on("console", self._console)
        page.on(
            "requestfailed", lambda r: self.problems.append(f"request failed: {r.url}")
        )
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, message):
        # errors and warnings alike: a first visit must leave the console clean
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request):
        if not request.url.startswith(self.base) and not request.url.startswith(
            "data:"
        ):
            self.problems.append(f"request leaves this machine: {request.url}")


def _typeset_math(page):
    """Wait for MathJax; return (math elements, typeset containers, MathJax errors)."""
    count = page.locator(".math").count()
    if count == 0:
        return 0, 0, 0
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
        timeout=20000,
    )
    page.evaluate("() => MathJax.startup.promise")
    return (
        count,
        page.locator("mjx-container").count(),
        page.locator("mjx-merror").count(),
    )


@dataclass
class Visit:
    """What one page showed in one pass: load problems, axe violations, boxes too wide,
    and (on a phone) what the navigation buttons did."""

    problems: list = field(default_factory=list)
    axe: dict = field(default_factory=dict)
    overflow: list = field(default_factory=list)
    navigation: list = field(default_factory=list)
    math: int = 0
    bytes: int = 0  # what the first visit downloaded
    code_axe: list | None = None  # CODE_PAGE only: axe on its code boxes' colours


def _crawl(site, browser, viewport, scheme, check):
    """Load every page once, as a first visit (a fresh browser context: empty cache and
    storage), wait for math, run axe-core, then ``check(page, name, visit)``."""
    html, base = site
    visits = {}
    for name in _pages(html):
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        page = context.new_page()
        recorder = _Recorder(page, base)
        visit = Visit(problems=recorder.problems)
        requested = []
        page.on(
            "request",
            lambda request, requested=requested: requested.append(request.url),
        )
        page.goto(base + name, wait_until="load")
        if 'http-equiv="Refresh"' in (html / name).read_text():  # index.html
            page.wait_for_url(lambda url: not url.endswith("/" + name))  # noqa: B023
            page.wait_for_load_state("load")
        math, typeset, errors = _typeset_math(page)
        visit.math = math
        if math and typeset < math:
            visit.problems.append(f"{math} math elements but only {typeset} typeset")
        if errors:
            visit.problems.append(f"{errors} MathJax errors")
        # Late requests, for the page's weight: the fonts the text and MathJax's output
        # ask for once laid out (MathJax's own parts are in by its promise above).
        # Waiting for the network to idle instead found the same bytes on every page
        # and added half a second to each.
        page.evaluate("() => document.fonts.ready.then(() => true)")
        visit.bytes, _ = cold_page_weight(html, base, requested)
        visit.axe = axe_violations(page)
        if name == CODE_PAGE:
            visit.code_axe = axe_violations(page, context=CODE_BOXES)
        if name in SCREENSHOT_PAGES:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(_screenshot(name, viewport)), full_page=False)
        check(page, name, visit)
        visits[name] = visit
        context.close()
    return visits


def _desktop_checks(page, name, visit):
    images = page.evaluate("""() => Array.from(document.querySelectorAll('article img'))
        .map(img => ({src: img.src.slice(0, 80), loaded: img.complete && img.naturalWidth > 0,
                      alt: (img.getAttribute('alt') || '').trim()}))""")
    for image in images:
        if not image["loaded"]:
            visit.problems.append(f"image did not load: {image['src']}")
        if not image["alt"]:
            visit.problems.append(f"image without alt text: {image['src']}")
    visit.overflow = overflowing(page)


def _phone_checks(page, name, visit):
    # On a phone, a long equation may scroll inside its box; it must not be cut off or
    # push the page sideways.
    visit.overflow = [box for box in overflowing(page) if not box["scrollable"]]
    # Both header buttons open their panel (pydata-sphinx-theme's dialogs).
    for button, dialog, content in (
        (".primary-toggle", "#pst-primary-sidebar-modal", "nav.bd-links a"),
        (".secondary-toggle", "#pst-secondary-sidebar-modal", "nav.page-toc a"),
    ):
        visible = page.locator(f"{button}:visible")
        if visible.count() == 0:
            if (
                name.startswith(("book/0", "solutions/"))
                and "secondary" in button
                or "primary" in button
            ):
                visit.navigation.append(f"no visible {button} button")
            continue
        visible.first.click()
        try:
            page.wait_for_selector(
                f"{dialog}[open] {content}", state="visible", timeout=3000
            )
        except PlaywrightTimeout:
            visit.navigation.append(f"{button} did not open {dialog} with its links")
            continue
        page.keyboard.press("Escape")
        page.wait_for_selector(f"{dialog}[open]", state="detached", timeout=3000)


@pytest.fixture(scope="module")
def desktop(site, browser):
    """Every page at 1366 px in light mode."""
    return _crawl(site, browser, DESKTOP, "light", _desktop_checks)


@pytest.fixture(scope="module")
def phone(site, browser):
    """Every page at 390 px (a phone) in dark mode."""
    return _crawl(site, browser, PHONE, "dark", _phone_checks)


def _report(visits, attribute):
    return "\n".join(
        f"{name}: {getattr(visit, attribute)}"
        for name, visit in visits.items()
        if getattr(visit, attribute)
    )


def test_every_page_loads_cleanly_and_offline(site, desktop, phone):
    """No script error, console error or warning, failed or outside request; math typeset
    and images loaded with alt text; at both widths, on a first visit."""
    html, _ = site
    assert "book/intro.html" in desktop and "search.html" in desktop
    for visits in (desktop, phone):
        assert not _report(visits, "problems"), _report(visits, "problems")
    assert any(visit.math for visit in desktop.values()), "no page has typeset math"


def test_no_serious_accessibility_violations(desktop, phone):
    """axe-core (WCAG 2.1 A and AA): no serious or critical violation on any page, in
    light mode at 1366 px and dark mode at 390 px."""
    for visits in (desktop, phone):
        assert not _report(visits, "axe"), _report(visits, "axe")


def test_code_box_colours_pass_axe_in_both_modes(site, desktop, phone):
    """The code boxes' syntax colours (one stylesheet for the whole site, left out of the
    per-page checks for speed): every code box of the chapter with the most code, in
    light mode (the desktop pass) and dark mode (the phone pass)."""
    html, _ = site
    assert (html / CODE_PAGE).read_text().count('<div class="highlight') > 40
    for mode, visits in (("light", desktop), ("dark", phone)):
        violations = visits[CODE_PAGE].code_axe
        assert violations is not None, f"{mode} mode: axe did not run on the code boxes"
        assert not violations, f"{mode} mode: {violations}"


def test_code_outputs_and_equations_fit_the_column(desktop):
    """At 1366 px no code box, output box or display equation is wider than its box."""
    assert not _report(desktop, "overflow"), _report(desktop, "overflow")


def test_nothing_is_cut_on_a_phone(phone):
    """At 390 px the page does not scroll sideways and a long equation scrolls in its box."""
    assert not _report(phone, "overflow"), _report(phone, "overflow")


def test_phone_navigation_opens(phone):
    """At 390 px the header's menu button opens the table of contents and the "On this
    page" button the page's sections, on every page."""
    assert not _report(phone, "navigation"), _report(phone, "navigation")


def test_sidebar_button_collapses_the_table_of_contents(site, browser):
    """On a wide screen the article's sidebar button hides and shows the table of contents."""
    _, base = site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(base + "book/01_conv1d.html", wait_until="load")
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.is_visible()
    page.locator(".primary-toggle:visible").first.click()
    expect(sidebar).to_be_hidden()
    page.locator(".primary-toggle:visible").first.click()
    expect(sidebar).to_be_visible()
    page.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids, self.repeated = [], set(), set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            if attrs["id"] in self.ids:
                self.repeated.add(attrs["id"])
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])


def _parsed(html):
    """Every page's links and ids, by page name."""
    parsed = {}
    for name in _pages(html):
        parsed[name] = _Links()
        parsed[name].feed((html / name).read_text())
    return parsed


def test_internal_links_resolve(site):
    html, _ = site
    parsed = _parsed(html)
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
            if (
                url.fragment
                and target in parsed
                and url.fragment not in parsed[target].ids
            ):
                broken.append(f"{name}: {href} (no element #{url.fragment})")
    assert not broken, "\n".join(broken)


def test_ids_are_unique_in_each_page(site):
    """An id names one element (links and screen readers' landmarks rely on it)."""
    html, _ = site
    repeated = {
        name: sorted(parser.repeated)
        for name, parser in _parsed(html).items()
        if parser.repeated
    }
    assert not repeated, repeated


def test_exercises_link_to_their_solutions(site, browser):
    """Every exercise block links to a solution block; following one link in the browser
    lands on it (the other links are resolved against the built pages)."""
    html, base = site
    ids = {name: parser.ids for name, parser in _parsed(html).items()}
    page = browser.new_page()
    checked, followed = 0, False
    for name in _pages(html):
        if not name.startswith("book/") or "exercise" not in (html / name).read_text():
            continue
        page.goto(base + name, wait_until="load")
        exercises = page.locator("div.exercise")
        for index in range(exercises.count()):
            link = (
                exercises.nth(index)
                .locator("a", has_text=re.compile("solution", re.IGNORECASE))
                .first
            )
            assert link.count() == 1, (
                f"{name}: exercise {index + 1} has no solution link"
            )
            target = urlparse(urljoin(base + name, link.get_attribute("href")))
            target_page = target.path.removeprefix(urlparse(base).path)
            assert target.fragment in ids.get(target_page, set()), (
                f"{name}: {target.geturl()}"
            )
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
            figure = player.locator("svg.labs-grids")
            first = figure.inner_html()
            assert figure.get_attribute("aria-label"), (
                f"{name}: animation {index + 1} has no text alternative"
            )
            if total > 1:
                player.locator("button[data-step='1']").click()
                assert counter.inner_text() == f"2 / {total}"
                assert figure.inner_html() != first, "the figure did not change"
                player.locator("button[data-step='1']").focus()
                page.keyboard.press("Enter")  # the buttons work from the keyboard too
                assert (
                    counter.inner_text()
                    == f"{min(3, total) if total > 2 else 1} / {total}"
                )
                if checked == 0:  # playing takes real time: once is enough
                    play = player.locator("button[data-play]")
                    before = counter.inner_text()
                    play.click()
                    page.wait_for_function(
                        "([element, text]) => element.textContent !== text",
                        arg=[counter.element_handle(), before],
                        timeout=5000,
                    )
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
    focused = page.evaluate(
        "() => document.activeElement.textContent.trim().toLowerCase()"
    )
    assert "skip to main content" in focused
    page.close()


# A first visit to any page downloads at most this much. It was 2.5 to 4.9 MB while the
# animations' frames were inlined PNG images and every page loaded the Font Awesome
# script and MathJax (see labs/viz.py and _ext/page_assets.py); what remains on a page
# with math is mostly MathJax itself (1.2 MB) and the theme's CSS (0.4 MB).
# screenshots/page-weight.txt lists every page.
PAGE_WEIGHT_BUDGET = 3_000_000


def test_page_weight_in_check(desktop):
    SCREENSHOTS.mkdir(exist_ok=True)
    rows = sorted(
        ((visit.bytes, name) for name, visit in desktop.items()), reverse=True
    )
    (SCREENSHOTS / "page-weight.txt").write_text(
        "bytes a first visit downloads (uncompressed), per page\n"
        + "".join(f"{size:>10,}  {name}\n" for size, name in rows)
    )
    assert all(size > 0 for size, _ in rows), "a page's weight was not measured"
    heavy = [
        f"{name}: {size:,} bytes" for size, name in rows if size > PAGE_WEIGHT_BUDGET
    ]
    assert not heavy, "\n".join(heavy)


def _screenshot(name, viewport):
    width = "desktop" if viewport == DESKTOP else "phone"
    return SCREENSHOTS / f"{name.replace('/', '_').replace('.html', '')}-{width}.png"


def test_screenshots_for_a_person_to_look_at(site, desktop, phone):
    """Key pages at 1366 px (light mode) and at 390 px (dark mode, a phone), taken
    during the two passes once math is typeset and axe has run."""
    html, _ = site
    for name in SCREENSHOT_PAGES:
        assert (html / name).exists(), f"{name} is not in the site any more"
        for viewport in (DESKTOP, PHONE):
            assert _screenshot(name, viewport).stat().st_size > 10_000, name


CODE_LINE_LIMIT = 76  # what a code box shows without scrolling, in a solution's box too


def test_code_cells_fit_the_code_box():
    """Every line of every code cell fits the website's code box (see CONTRIBUTING)."""
    import nbformat

    long = []
    for entry in toc_files():
        path = ROOT / f"{entry}.ipynb"
        if not path.exists():
            continue
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                long += [
                    f"{entry} cell {index}: {line}"
                    for line in cell.source.split("\n")
                    if len(line) > CODE_LINE_LIMIT
                ]
    assert not long, "\n".join(long)
