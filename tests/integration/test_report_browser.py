"""The rendered site in headless Chromium: no console errors, Insights and the SMS preview work.

Needs Debian's chromium and chromium-driver (.ci/run installs them). Without
them the test is skipped, unless MARKETING_ENGINE_REQUIRE_BROWSER=1 (CI) makes
that a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from marketing_engine.reports import render_site

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(
    os.environ.get("MARKETING_ENGINE_SCREENSHOTS", PROJECT / "reports" / "build" / "screenshots")
)

if not (CHROMIUM and DRIVER):
    if os.environ.get("MARKETING_ENGINE_REQUIRE_BROWSER") == "1":
        pytest.fail(
            "chromium and chromedriver are required (apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    pytest.skip("chromium/chromedriver not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@pytest.fixture(scope="module")
def site(sample_build, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return render_site(sample_build / "marketing.duckdb", PROJECT / "reports", out).parent


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1400",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


def _open(browser, site: Path, page: str) -> None:
    browser.get((site / f"{page}.html").as_uri())
    browser.get_log("browser")  # start each page with a clean log


def test_every_page_loads_without_console_errors(browser, site):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.stem for p in site.glob("*.html"))
    assert "index" in pages and "clusters" in pages and "messages" in pages
    for page in pages:
        browser.get((site / f"{page}.html").as_uri())
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == [], (page, errors)
        assert browser.find_element(By.TAG_NAME, "h1").text
        broken = browser.execute_script(
            "return [...document.images].filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.src)"
        )
        assert broken == [], (page, broken)
        browser.save_screenshot(str(SCREENSHOTS / f"{page}.png"))


def test_insights_button_reveals_the_cluster_insights(browser, site):
    _open(browser, site, "clusters")
    card = browser.find_element(By.CSS_SELECTOR, ".cluster-card")
    insights = card.find_element(By.CSS_SELECTOR, ".insights")
    assert not insights.is_displayed()
    card.find_element(By.CSS_SELECTOR, ".insights-button").click()
    assert insights.is_displayed()
    assert "of net revenue" in insights.text
    browser.save_screenshot(str(SCREENSHOTS / "clusters-insights.png"))


def test_offer_selector_switches_the_phone_preview(browser, site):
    _open(browser, site, "messages")
    preview = browser.find_element(By.ID, "sms-preview")
    before = preview.text
    assert "Reply STOP to opt out" in before and "{first_name}" not in before
    offers = Select(browser.find_element(By.ID, "offer-select"))
    current = offers.first_selected_option.get_attribute("value")
    changed = False
    for option in [o.get_attribute("value") for o in offers.options]:
        if option == current:
            continue
        offers.select_by_value(option)
        if preview.text != before and "Reply STOP" in preview.text:
            changed = True
            break
    assert changed, "no other offer changed the preview"
    segment = Select(browser.find_element(By.ID, "segment-select"))
    assert segment.first_selected_option.text in browser.find_element(By.ID, "sms-meta").text
    browser.save_screenshot(str(SCREENSHOTS / "messages-switched.png"))


def test_pages_fit_a_phone_screen(browser, site):
    browser.set_window_size(390, 844)
    try:
        for page in ("index", "messages"):
            _open(browser, site, page)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, (page, overflow)
        browser.save_screenshot(str(SCREENSHOTS / "messages-phone.png"))
    finally:
        browser.set_window_size(1280, 1400)
