"""The reports in a real browser (headless Chromium): no console errors, no network request of any
kind, no script running; full-page screenshots at desktop and phone width, light and dark, kept in
out/test-artifacts/ for a person to look at. .ci/run installs Debian's chromium and chromium-driver;
without them the test is skipped with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import Browser, why_unavailable
from reportdata import failures_on, files_covering
from test_report_xss import FILES, SKIPPED, evil_table
from typer.testing import CliRunner

from logscan.cli import app
from logscan.engine import load_categories
from logscan.reports.build import ReportOptions, build_reports

from conftest import REPO, SAMPLE_LOGS

pytestmark = [pytest.mark.slow, pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))]

ARTIFACTS = REPO / "out" / "test-artifacts"
ALL_VIEWS = [("desktop-light", 1280, False), ("phone-dark", 390, True), ("phone-light", 390, False),
             ("desktop-dark", 1280, True)]
TWO_VIEWS = ALL_VIEWS[:2]


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Every kind of page: the demo over all samples, daily reports with a comparison (English and
    Chinese, redacted), and the hostile-input report."""
    root = tmp_path_factory.mktemp("browser")
    for name, lang in (("demo", "en"), ("demo-zh", "zh")):
        r = CliRunner().invoke(app, ["report", str(SAMPLE_LOGS), "--out", str(root / name), "--lang", lang, "--quiet"])
        assert r.exit_code == 0, r.output
    days = {"2026-11-02": ["rate_limited", "connection_refused", "blocklisted", "auth_failed"],
            "2026-11-03": ["rate_limited", "mailbox_full", "auth_failed", "expired", "tls_required", "blocklisted",
                           "wrong_port_or_protocol"]}
    for name, opts in (("daily", ReportOptions(period="day")),
                       ("daily-zh", ReportOptions(period="day", lang="zh", redact=True, redact_ips=True))):
        build_reports(failures_on(days), files_covering("2026-11-02", "2026-11-03"), [], root / name, opts,
                      load_categories())
    build_reports(evil_table(), FILES, SKIPPED, root / "evil", ReportOptions(period="day"), load_categories())
    return root


def test_detection_works(browser, tmp_path):
    """Control: a page that does fetch and log is caught, so the clean results below mean something."""
    page = tmp_path / "bad.html"
    page.write_text('<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script>')
    seen = browser.open(page)
    assert any("127.0.0.1:9" in u for u in seen["requests"])
    assert any("boom" in m["message"] for m in seen["console"])


def test_pages_are_quiet_and_offline(browser, reports):
    pages = sorted(reports.rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        seen = browser.open(page)
        assert seen["console"] == [], (page, seen["console"])
        assert seen["requests"] == [], (page, seen["requests"])
        # No script ran (the hostile report would have changed the title or opened an alert).
        assert browser.driver.execute_script("return document.scripts.length") == 0
        assert browser.driver.title and "alert" not in browser.driver.title
        svg = [e for e in browser.driver.find_elements("css selector", "svg.chart") if e.is_displayed()]
        if "svg" in browser.driver.page_source and page.parent.name != "evil":
            # One chart shows (the wide one on a desktop), with an accessible name.
            assert len(svg) == 1 and svg[0].size["width"] > 200, page
            assert svg[0].get_attribute("aria-label") and svg[0].find_element("css selector", "title"), page


def _shoot(browser, page: Path, name: str, views=TWO_VIEWS) -> list[Path]:
    browser.open(page)
    shots = [browser.screenshot(ARTIFACTS / f"{name}-{view}.png", width, dark) for view, width, dark in views]
    for shot in shots:
        assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    return shots


# What a person sees: nothing wider than the screen, no table scrolled or clipped sideways, and no
# column (or stacked cell) narrower than a few characters.
LAYOUT = """
const w = document.documentElement.clientWidth, bad = [];
if (document.documentElement.scrollWidth > w) bad.push("page " + document.documentElement.scrollWidth + " > " + w);
for (const s of document.querySelectorAll(".scroll")) {
  if (s.offsetParent && s.scrollWidth > s.clientWidth + 1) bad.push("table scrolls: " + s.scrollWidth + " > " + s.clientWidth + " " + s.innerText.slice(0, 60));
}
for (const c of document.querySelectorAll("td, th")) {
  if (!c.offsetParent || !c.innerText.trim()) continue;
  const em = parseFloat(getComputedStyle(c).fontSize), width = c.getBoundingClientRect().width;
  if (width < 3 * em) bad.push("narrow cell " + Math.round(width) + "px: " + c.innerText.slice(0, 40));
}
for (const e of document.querySelectorAll("body *")) {
  const r = e.getBoundingClientRect();
  if (r.width && r.right > w + 1 && getComputedStyle(e).position !== "absolute") bad.push("sticks out: " + e.tagName + " " + (e.innerText || "").slice(0, 40));
}
return bad.slice(0, 20);
"""


@pytest.mark.parametrize("width", [390, 1280])
def test_layout_reads_on_a_phone_and_a_desktop(browser, reports, width):
    pages = [reports / "demo" / "index.html", reports / "demo-zh" / "index.html",
             reports / "daily" / "2026-11-03" / "index.html", reports / "daily-zh" / "2026-11-03" / "index.html",
             reports / "daily" / "index.html", reports / "daily-zh" / "index.html"]
    for page in pages:
        browser.open(page)
        name = "-".join(page.relative_to(reports).parts[:-1])
        browser.screenshot(ARTIFACTS / f"layout-{name}-{width}.png", width, False)
        assert browser.driver.execute_script(LAYOUT) == [], (page, width)


def test_screenshots(browser, reports):
    _shoot(browser, reports / "daily" / "2026-11-03" / "index.html", "day-report", ALL_VIEWS)
    _shoot(browser, reports / "daily" / "index.html", "index")
    _shoot(browser, reports / "daily-zh" / "2026-11-03" / "index.html", "day-report-zh-redacted")
    _shoot(browser, reports / "demo" / "index.html", "demo")
    _shoot(browser, reports / "demo-zh" / "index.html", "demo-zh")
    # Nothing overflows sideways on a phone: the page is no wider than the screen.
    browser.open(reports / "daily" / "2026-11-03" / "index.html")
    browser.screenshot(ARTIFACTS / "day-report-phone-light.png", 390, False)
    assert browser.driver.execute_script("return document.documentElement.scrollWidth") <= 390
