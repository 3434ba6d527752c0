"""Measure a built website page by page: cold page weight, axe violations, overflow.

    .venv/bin/python tools/site_report.py [_build/html]

Serves the folder on 127.0.0.1, opens every page in headless Chromium (the system's,
as the browser tests do) with an empty cache, and prints, per page: the bytes a first
visit downloads, axe-core's serious and critical WCAG 2.1 A/AA violations (light mode at
1366 px, dark mode at 390 px), and the code boxes, output boxes and display equations
wider than their box (at 1366 px; at 390 px only those that are cut rather than
scrollable). The browser tests assert the same things; this prints the numbers.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/ is not an installed package

from tests.site.test_website import _pages  # noqa: E402
from tests.site.website import (  # noqa: E402  # noqa: E402
    CHROMIUM_FLAGS,
    DESKTOP,
    PHONE,
    Server,
    axe_version,
    axe_violations,
    chromium,
    cold_page_weight,
    overflowing,
)


def main(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    server = Server(folder)
    rows, totals = [], Counter()
    print(f"axe-core {axe_version()}; {folder}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_FLAGS
        )
        for name in _pages(folder):
            row = {"page": name}
            for mode, viewport, scheme in (
                ("desktop", DESKTOP, "light"),
                ("phone", PHONE, "dark"),
            ):
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                urls = []
                page.on("request", lambda request, urls=urls: urls.append(request.url))
                page.goto(server.url + name, wait_until="networkidle")
                page.evaluate(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                )
                if mode == "desktop":
                    row["bytes"], _ = cold_page_weight(folder, server.url, urls)
                    boxes = overflowing(page)
                else:
                    boxes = [box for box in overflowing(page) if not box["scrollable"]]
                for box in boxes:
                    totals[f"{mode} {box['kind']}"] += 1
                row[f"{mode} overflow"] = len(boxes)
                violations = axe_violations(page)
                nodes = sum(len(v) for v in violations.values())
                row[f"{mode} axe"] = nodes
                for rule, found in violations.items():
                    totals[f"{mode} axe {rule}"] += len(found)
                context.close()
            rows.append(row)
            print(
                f"{row['bytes'] / 1e6:6.2f} MB  overflow {row['desktop overflow']:3d} / "
                f"{row['phone overflow']:3d}  axe {row['desktop axe']:3d} / "
                f"{row['phone axe']:3d}  {name}",
                flush=True,
            )
        browser.close()
    server.close()
    weights = sorted(row["bytes"] for row in rows)
    print(
        f"\n{len(rows)} pages; cold weight {weights[0] / 1e6:.2f} to {weights[-1] / 1e6:.2f} "
        f"MB, median {weights[len(weights) // 2] / 1e6:.2f} MB, total "
        f"{sum(weights) / 1e6:.1f} MB"
    )
    for key, count in sorted(totals.items()):
        print(f"{count:5d}  {key}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html").resolve())
