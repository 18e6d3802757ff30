"""The rendered site in headless Chromium at 1440 px and 390 px, opened from file://
with the network off: charts hover, tables sort, search, page and download, every
filter and the drill-down agree with direct DuckDB queries, every offered message
choice previews. Screenshots of every page at both widths go to SCREENSHOTS.

The project's pages plus tests/integration/report_pages/99_engine_check.md (a page
that uses every engine feature on core marts) are rendered from the sample build.
Needs Debian's chromium and chromium-driver (.ci/run installs them). Without
them the test is skipped, unless MARKETING_ENGINE_REQUIRE_BROWSER=1 (CI) makes
that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_engine import sms
from marketing_engine.reports import render_site
from marketing_engine.reports.formats import group_digits
from tests.formula_cases import TEXT_CELLS, csv_field

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(
    os.environ.get("MARKETING_ENGINE_SCREENSHOTS", PROJECT / "reports" / "build" / "screenshots")
)
WIDTHS = (1440, 390)

if not (CHROMIUM and DRIVER):
    if os.environ.get("MARKETING_ENGINE_REQUIRE_BROWSER") == "1":
        pytest.fail(
            "chromium and chromedriver are required (apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    pytest.skip("chromium/chromedriver not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(sample_build, tmp_path_factory) -> Path:
    reports = tmp_path_factory.mktemp("reports") / "reports"
    shutil.copytree(PROJECT / "reports", reports, ignore=shutil.ignore_patterns("build"))
    shutil.copy(PROJECT / "tests/integration/report_pages/99_engine_check.md", reports / "pages")
    shutil.copy(PROJECT / "dbt_project.yml", reports.parent / "dbt_project.yml")
    for folder in ("models", "python_models"):
        shutil.copytree(PROJECT / folder, reports.parent / folder)
    out = tmp_path_factory.mktemp("report")
    return render_site(sample_build / "marketing.duckdb", reports, out).parent


@pytest.fixture(scope="module")
def mart(sample_build):
    """A direct query of the serving file: what the page shows must equal it."""
    con = duckdb.connect(str(sample_build / "marketing.duckdb"), read_only=True)
    yield lambda sql, *params: con.execute(sql, list(params)).df()
    con.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory, downloads):
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
        "--hide-scrollbars",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield driver
    driver.quit()


def _open(browser, site: Path, page: str, width: int = 1440) -> None:
    browser.set_window_size(width, 1000)
    browser.get_log("browser")  # only this page's messages count
    browser.get((site / f"{page}.html").as_uri())
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !!window.reportState"))


def _errors(browser) -> list:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _wait(condition, what: str, timeout: float = 10):
    """Poll until condition() is truthy (a download landing, a redraw)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _money(value: float, symbol: str = "₹") -> str:
    return symbol + group_digits(value, 2)


def _count(value: int) -> str:
    return group_digits(value, 0)


# --- every page, both widths ---------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_renders_offline_without_errors_or_overflow(browser, site, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.stem for p in site.glob("*.html"))
    assert {"index", "clusters", "messages", "engine_check"} <= set(pages)
    for page in pages:
        _open(browser, site, page, width)
        assert _errors(browser) == [], page
        assert browser.find_element(By.TAG_NAME, "h1").text
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (page, width, overflow)
        remote = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !/^(file|data|blob):/.test(n))"
        )
        assert remote == [], (page, remote)
        charts = browser.execute_script(
            "return [...document.querySelectorAll('.chart-box')].map(b => "
            "[b.clientWidth, b.querySelectorAll('canvas').length])"
        )
        for chart_width, canvases in charts:
            assert canvases >= 1 and chart_width <= width, (page, width, charts)
        assert "Built at" in browser.find_element(By.CLASS_NAME, "site-footer").text
        # every money axis carries the currency symbol, ticks short and without zeros
        symbol, ticks = browser.execute_script(
            "const config = JSON.parse(document.getElementById('report-config').textContent);"
            "return [config.currency_symbol, window.reportState.charts.map(c => {"
            "  const s = c.spec, col = s.data.columns.find(k => k.name === s.y[0]);"
            "  if (s.kind === 'heatmap' || !col || !/^money/.test(col.format)) return null;"
            "  const o = c.chart.getOption(), axis = s.horizontal ? o.xAxis[0] : o.yAxis[0];"
            "  return [s.title, axis.axisLabel.formatter(1500000)];"
            "}).filter(x => x)]"
        )
        for title, tick in ticks:
            assert tick == f"{symbol}1.5M", (page, title, tick)
        # ids stay in the CSV files; the page names models and campaigns in words
        text = browser.find_element(By.TAG_NAME, "main").text
        assert not re.search(r"seasonal_naive|EVT\d{8}", text), page
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height + 40, 12000))
        browser.save_screenshot(str(SCREENSHOTS / f"{page}-{width}.png"))


def test_the_site_works_from_a_plain_static_server(browser, site):
    """The same files over http:// (relative script tags, inline data): no fetch() needed."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    try:
        browser.get_log("browser")
        browser.get(f"http://127.0.0.1:{server.server_port}/engine_check.html")
        WebDriverWait(browser, 10).until(lambda d: d.execute_script("return !!window.reportState"))
        assert _errors(browser) == []
        drawn = browser.execute_script(
            "return window.reportState.charts.map(c => c.chart.getOption().series.length)"
        )
        assert drawn and all(drawn)
        loaded = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).host)"
        )
        assert set(loaded) == {f"127.0.0.1:{server.server_port}"}
    finally:
        server.shutdown()
        browser.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )


# --- charts ------------------------------------------------------------------------------


def _chart(browser, title: str) -> int:
    titles = browser.execute_script("return window.reportState.charts.map(c => c.spec.title)")
    return titles.index(title)


def _chart_values(browser, index: int) -> dict:
    """{category: value} of a bar chart's first series as drawn."""
    return browser.execute_script(
        "const c = window.reportState.charts[arguments[0]];"
        "const o = c.chart.getOption();"
        "const out = {}; c.categories.forEach((k, i) => out[k] = o.series[0].data[i]);"
        "return out;",
        index,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_hovering_a_bar_shows_its_formatted_value(browser, site, mart, width):
    _open(browser, site, "engine_check", width)
    index = _chart(browser, "Net revenue by channel")
    channel = browser.execute_script(
        "return window.reportState.charts[arguments[0]].categories[0]", index
    )
    revenue = mart("select sum(net_revenue) from marts.fct_orders where channel = ?", channel).iloc[
        0, 0
    ]
    point = browser.execute_script(
        "const c = window.reportState.charts[arguments[0]];"
        "const i = c.categories.indexOf(arguments[1]);"
        "const v = c.chart.getOption().series[0].data[i];"
        "return c.chart.convertToPixel({seriesIndex: 0}, [i, v / 2]);",
        index,
        channel,
    )
    box = browser.find_elements(By.CSS_SELECTOR, ".chart-box")[index]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    ActionChains(browser).move_to_element_with_offset(
        box, int(point[0] - box.size["width"] / 2), int(point[1] - box.size["height"] / 2)
    ).perform()
    tooltip = _wait(
        lambda: [t.text for t in box.find_elements(By.CLASS_NAME, "chart-tooltip") if t.text],
        "the tooltip",
    )[0]
    assert channel in tooltip and _money(float(revenue)) in tooltip, tooltip
    browser.save_screenshot(str(SCREENSHOTS / f"engine_check-tooltip-{width}.png"))


# --- tables ------------------------------------------------------------------------------


def _table(browser, title: str):
    for card in browser.find_elements(By.CSS_SELECTOR, ".table-card"):
        if card.find_element(By.CLASS_NAME, "table-title").text == title:
            return card
    raise AssertionError(f"no table {title}")


def _first_cells(card, column: int = 0) -> list[str]:
    return [
        row.find_elements(By.TAG_NAME, "td")[column].text
        for row in card.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_tables_sort_search_and_page_with_n_of_m(browser, site, mart, width):
    _open(browser, site, "engine_check", width)
    card = _table(browser, "Monthly revenue")
    monthly = mart("select month_start, revenue from marts.rpt_monthly_trend where not is_forecast")
    total = len(monthly)
    assert total > 12  # more than one page
    count = card.find_element(By.CLASS_NAME, "table-count")
    assert count.text == f"Rows 1–12 of {_count(total)}", count.text
    card.find_element(By.CSS_SELECTOR, ".pager .next").click()
    assert count.text == f"Rows 13–{min(24, total)} of {_count(total)}", count.text
    labels = [th.text.strip(" ▲▼") for th in card.find_elements(By.TAG_NAME, "th")]
    column = labels.index("Net revenue")  # the label from rpt_monthly_trend's docs

    def sort_by_revenue():
        card.find_elements(By.CSS_SELECTOR, "th button.sort")[column].click()
        return _first_cells(card, column)[0]

    assert sort_by_revenue() == _money(float(monthly.revenue.min()))
    assert sort_by_revenue() == _money(float(monthly.revenue.max()))
    assert count.text.startswith("Rows 1–12 of")  # sorting starts on the first page
    month = str(monthly.month_start.sort_values().iloc[3])[:7]
    card.find_element(By.CLASS_NAME, "table-search").send_keys(month)
    assert count.text.startswith("Rows 1–1 of 1"), count.text
    assert _first_cells(card)[0] == month
    numeric = card.find_element(By.CSS_SELECTOR, "tbody td.num")
    assert numeric.value_of_css_property("text-align") == "right"
    customers = _table(browser, "Customer list")
    everyone = mart("select count(*) from marts.customer_360").iloc[0, 0]
    listed = customers.find_element(By.CLASS_NAME, "table-count").text
    assert listed.startswith(f"Rows 1–10 of {_count(int(everyone))}"), listed
    assert "True" not in customers.text and "False" not in customers.text


def test_the_download_button_defuses_the_same_cells_as_the_csv_files(browser, site):
    _open(browser, site, "engine_check")
    cell = "return window.reportState.csvCell(arguments[0]);"
    for text, written in TEXT_CELLS:
        assert browser.execute_script(cell, text) == csv_field(written), repr(text)
    assert browser.execute_script(cell, -12.5) == "-12.5"  # numbers keep their sign
    assert browser.execute_script(cell, None) == ""


def test_csv_download_holds_the_full_table(browser, site, mart, downloads):
    _open(browser, site, "engine_check")
    card = _table(browser, "Monthly revenue")
    card.find_element(By.CSS_SELECTOR, "button.download").click()
    path = _wait(lambda: next(downloads.glob("engine_check-monthly*.csv"), None), "the CSV")
    _wait(lambda: not list(downloads.glob("*.crdownload")), "the download to finish")
    written = pd.read_csv(path)
    expected = mart(
        "select month_start, revenue, forecast from marts.rpt_monthly_trend "
        "where not is_forecast order by month_start"
    )
    assert list(written.columns) == list(expected.columns)
    assert len(written) == len(expected)
    assert written.month_start.astype(str).str[:10].tolist() == [
        str(d)[:10] for d in expected.month_start
    ]
    assert written.revenue.tolist() == pytest.approx(expected.revenue.astype(float).tolist())
    # the capped list links the whole mart as a file beside the page
    link = _table(browser, "Customer list").find_element(By.CSS_SELECTOR, "a.download")
    file = site / link.get_attribute("href").split("/site/", 1)[1]
    listed = pd.read_csv(file)
    everyone = mart(
        "select customer_id, monetary from marts.customer_360 order by monetary desc, customer_id"
    )
    assert listed.customer_id.tolist() == everyone.customer_id.tolist()
    assert listed.monetary.tolist() == pytest.approx(everyone.monetary.astype(float).tolist())


# --- filters and drill-down ---------------------------------------------------------------

FILTER_COLUMNS = {
    "segment": "rfm_segment",
    "cluster": "cluster_name",
    "city": "city_name",
    "channel": "channel",
}


def _select_filter(browser, kind: str, value: str) -> None:
    Select(browser.find_element(By.CSS_SELECTOR, f'select[data-filter="{kind}"]')).select_by_value(
        value
    )


@pytest.mark.parametrize("kind", sorted(FILTER_COLUMNS))
def test_every_filter_matches_a_direct_query(browser, site, mart, kind):
    _open(browser, site, "engine_check")
    options = [
        o.get_attribute("value")
        for o in Select(
            browser.find_element(By.CSS_SELECTOR, f'select[data-filter="{kind}"]')
        ).options
    ][1:]
    assert options, kind
    column = FILTER_COLUMNS[kind]
    for value in (options[0], options[-1]):
        _select_filter(browser, kind, value)
        assert _errors(browser) == []
        spend = _chart_values(browser, _chart(browser, "Lifetime spend by segment"))
        if kind == "channel":
            # customer_360 has no channel: the chart is not filtered, and says so
            note = browser.find_elements(By.CSS_SELECTOR, ".chart .filter-state")[1].text
            assert "Not filtered by Channel" in note
            channels = _chart_values(browser, _chart(browser, "Net revenue by channel"))
            expected = mart(
                "select sum(net_revenue) from marts.fct_orders where channel = ?", value
            ).iloc[0, 0]
            assert channels == {value: pytest.approx(float(expected))}
            continue
        expected = mart(
            f"select rfm_segment, sum(monetary) as spend from marts.customer_360 "
            f"where {column} = ? group by 1",
            value,
        )
        assert spend == {
            segment: pytest.approx(float(total))
            for segment, total in zip(expected.rfm_segment, expected.spend, strict=True)
        }
        count = mart(f"select count(*) from marts.customer_360 where {column} = ?", value)
        text = _table(browser, "Customer list").find_element(By.CLASS_NAME, "table-count").text
        assert f" of {_count(int(count.iloc[0, 0]))}" in text, (kind, value, text)
        if kind != "segment":
            continue
        channels = _chart_values(browser, _chart(browser, "Net revenue by channel"))
        assert (
            "Not filtered by RFM segment"
            in browser.find_element(By.CSS_SELECTOR, ".chart .filter-state").text
        )
        every = mart("select channel, sum(net_revenue) as r from marts.fct_orders group by 1")
        assert channels == pytest.approx(
            dict(zip(every.channel, every.r.astype(float), strict=True))
        )
    browser.find_element(By.CLASS_NAME, "filters-reset").click()
    assert _chart_values(browser, _chart(browser, "Lifetime spend by segment")) == pytest.approx(
        {
            row.rfm_segment: float(row.spend)
            for row in mart(
                "select rfm_segment, sum(monetary) as spend from marts.customer_360 group by 1"
            ).itertuples()
        }
    )


def test_the_date_filter_matches_a_direct_query(browser, site, mart, downloads):
    _open(browser, site, "engine_check")
    start, end = "2025-01-01", "2025-06-30"
    browser.execute_script(
        "for (const [bound, value] of [['from', arguments[0]], ['to', arguments[1]]]) {"
        "  const input = document.querySelector(`input[data-filter=date][data-bound=${bound}]`);"
        "  input.value = value; input.dispatchEvent(new Event('change'));"
        "}",
        start,
        end,
    )
    channels = _chart_values(browser, _chart(browser, "Net revenue by channel"))
    expected = mart(
        "select channel, sum(net_revenue) as revenue from marts.fct_orders "
        "where order_date between ? and ? group by 1",
        start,
        end,
    )
    assert channels == pytest.approx(
        dict(zip(expected.channel, expected.revenue.astype(float), strict=True))
    )
    months = mart(
        "select count(*) from marts.rpt_monthly_trend "
        "where not is_forecast and month_start between ? and ?",
        start,
        end,
    ).iloc[0, 0]
    text = _table(browser, "Monthly revenue").find_element(By.CLASS_NAME, "table-count").text
    assert text.endswith(f" of {_count(int(months))}"), text
    note = _table(browser, "Customer list").find_element(By.CLASS_NAME, "filter-state").text
    assert "Not filtered by Date" in note
    # the download follows the filter: the file's rows are the mart's rows in the range
    for old in downloads.glob("*"):
        old.unlink()
    _table(browser, "Monthly revenue").find_element(By.CSS_SELECTOR, "button.download").click()
    path = _wait(lambda: next(downloads.glob("engine_check-monthly*.csv"), None), "the CSV")
    _wait(lambda: not list(downloads.glob("*.crdownload")), "the download to finish")
    written = pd.read_csv(path)
    expected = mart(
        "select month_start, revenue, forecast from marts.rpt_monthly_trend "
        "where not is_forecast and month_start between ? and ? order by month_start",
        start,
        end,
    )
    assert len(written) == len(expected) == months
    assert written.month_start.astype(str).str[:10].tolist() == [
        str(d)[:10] for d in expected.month_start
    ]
    assert written.revenue.tolist() == pytest.approx(expected.revenue.astype(float).tolist())


@pytest.mark.parametrize("width", WIDTHS)
def test_drill_down_from_a_segment_to_its_customers(browser, site, mart, width):
    _open(browser, site, "engine_check", width)
    index = _chart(browser, "Lifetime spend by segment")
    segment = browser.execute_script(
        "return window.reportState.charts[arguments[0]].categories[1]", index
    )
    point = browser.execute_script(
        "const c = window.reportState.charts[arguments[0]];"
        "const v = c.chart.getOption().series[0].data[1];"
        "return c.chart.convertToPixel({seriesIndex: 0}, [1, v / 2]);",
        index,
    )
    box = browser.find_elements(By.CSS_SELECTOR, ".chart-box")[index]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    ActionChains(browser).move_to_element_with_offset(
        box, int(point[0] - box.size["width"] / 2), int(point[1] - box.size["height"] / 2)
    ).click().perform()
    selected = Select(browser.find_element(By.CSS_SELECTOR, 'select[data-filter="segment"]'))
    assert selected.first_selected_option.get_attribute("value") == segment
    card = _table(browser, "Customer list")
    members = mart(
        "select customer_id from marts.customer_360 where rfm_segment = ? "
        "order by monetary desc, customer_id",
        segment,
    )
    count = card.find_element(By.CLASS_NAME, "table-count").text
    assert f" of {_count(len(members))}" in count, count
    segment_column = [th.text for th in card.find_elements(By.TAG_NAME, "th")].index("RFM segment")
    assert set(_first_cells(card, segment_column)) == {segment}
    link = card.find_element(By.CSS_SELECTOR, "a.download")
    listed = pd.read_csv(site / link.get_attribute("href").split("/site/", 1)[1])
    assert listed.customer_id.tolist() == members.customer_id.tolist()
    browser.save_screenshot(str(SCREENSHOTS / f"engine_check-drilled-{width}.png"))
    # and back up from a table cell: a segment link in the list sets the same filter
    card.find_element(By.CSS_SELECTOR, "button.drill-link").click()
    assert selected.first_selected_option.get_attribute("value") == segment


# --- the project's own pages: filters and drill-down against the marts ----------------

# (page, filter kind, the rpt_customer_list column it filters, the page query's where)
LIST_FILTERS = [
    ("segmentation", "segment", "rfm_segment", "true"),
    ("segmentation", "cluster", "cluster_name", "true"),
    ("segmentation", "city", "city_name", "true"),
    ("clusters", "cluster", "cluster_name", "cluster_id is not null"),
    ("clusters", "segment", "rfm_segment", "cluster_id is not null"),
    ("clusters", "city", "city_name", "cluster_id is not null"),
]
LIST_TITLES = {"segmentation": "Customers by segment", "clusters": "Customers by cluster"}
DRILL = {"segmentation": "segment", "clusters": "cluster"}
LIST_ORDER = {
    "segmentation": "rfm_segment, net_revenue desc, customer_id",
    "clusters": "cluster_id, net_revenue desc, customer_id",
}


def _filter_options(browser, kind: str) -> list[str]:
    select = Select(browser.find_element(By.CSS_SELECTOR, f'select[data-filter="{kind}"]'))
    return _options(select)[1:]


def _listed(site: Path, card) -> pd.DataFrame:
    """The CSV the customer list's download link points at (it follows the filter)."""
    link = card.find_element(By.CSS_SELECTOR, "a.download")
    return pd.read_csv(site / link.get_attribute("href").split("/site/", 1)[1])


@pytest.mark.parametrize(("page", "kind", "column", "where"), LIST_FILTERS)
def test_real_page_filters_match_the_customer_list_mart(
    browser, site, mart, page, kind, column, where
):
    _open(browser, site, page)
    options = _filter_options(browser, kind)
    distinct = mart(
        f"select distinct {column} from marts.rpt_customer_list where {where} and {column} "
        "is not null"
    )
    assert set(distinct[column].astype(str)) <= set(options), (page, kind)
    for value in (options[0], options[-1]):
        _select_filter(browser, kind, value)
        assert _errors(browser) == []
        card = _table(browser, LIST_TITLES[page])
        members = mart(
            f"select customer_id from marts.rpt_customer_list where {where} and {column} = ? "
            f"order by {LIST_ORDER[page]}",
            value,
        )
        count = card.find_element(By.CLASS_NAME, "table-count").text
        assert count.endswith(f" of {_count(len(members))}") or (
            len(members) == 0 and "0" in count
        ), (page, kind, value, count)
        labels = [th.text.strip(" ▲▼") for th in card.find_elements(By.TAG_NAME, "th")]
        label = {"rfm_segment": "RFM segment", "cluster_name": "Cluster name"}.get(column)
        if label in labels and len(members):
            assert set(_first_cells(card, labels.index(label))) == {value}
        if kind == DRILL[page]:  # the drill-down filter: the link is that list's own file
            listed = _listed(site, card)
            assert listed.customer_id.astype(str).tolist() == members.customer_id.tolist()
        if page == "clusters" and kind == "cluster":
            share = _chart_values(browser, _chart(browser, "Revenue share by cluster"))
            expected = mart(
                "select revenue_share from marts.cluster_profiles where is_primary "
                "and cluster_id >= 0 and cluster_name = ?",
                value,
            ).iloc[0, 0]
            assert share == {value: pytest.approx(float(expected))}
            points = browser.execute_script(
                "const c = window.reportState.charts[arguments[0]];"
                "return c.chart.getOption().series.reduce((n, s) => n + s.data.length, 0);",
                _chart(browser, "Customers by cluster: recency vs net revenue"),
            )
            scattered = mart(
                "select count(*) from marts.rpt_customer_scatter where cluster_name = ?", value
            ).iloc[0, 0]
            assert points == scattered
    browser.find_element(By.CLASS_NAME, "filters-reset").click()
    everyone = mart(f"select count(*) from marts.rpt_customer_list where {where}").iloc[0, 0]
    count = _table(browser, LIST_TITLES[page]).find_element(By.CLASS_NAME, "table-count").text
    assert count.endswith(f" of {_count(int(everyone))}"), count


def _set_dates(browser, start: str, end: str) -> None:
    browser.execute_script(
        "for (const [bound, value] of [['from', arguments[0]], ['to', arguments[1]]]) {"
        "  const input = document.querySelector(`input[data-filter=date][data-bound=${bound}]`);"
        "  input.value = value; input.dispatchEvent(new Event('change'));"
        "}",
        start,
        end,
    )


def test_real_page_channel_and_date_filters_match_the_marts(browser, site, mart):
    _open(browser, site, "behaviour")
    for channel in _filter_options(browser, "channel"):
        _select_filter(browser, "channel", channel)
        revenue = mart(
            "select revenue from marts.rpt_channel_performance where channel = ?", channel
        ).iloc[0, 0]
        drawn = _chart_values(browser, _chart(browser, "Revenue by channel"))
        assert drawn == {channel: pytest.approx(float(revenue))}
    browser.find_element(By.CLASS_NAME, "filters-reset").click()
    months = mart(
        "select month_start from marts.rpt_monthly_trend where not is_forecast order by 1"
    ).month_start
    start, end = str(months.iloc[len(months) // 3])[:10], str(months.iloc[-2])[:10]
    for page, title, mart_sql in (
        (
            "behaviour",
            "Orders per active customer per month",
            "select count(*) from marts.rpt_monthly_trend where not is_forecast "
            "and month_start between ? and ?",
        ),
        (
            "coupons",
            "Coupons claimed vs burnt per month",
            "select count(*) from marts.rpt_coupon_monthly where activity_month between ? and ?",
        ),
    ):
        _open(browser, site, page)
        _set_dates(browser, start, end)
        drawn = browser.execute_script(
            "return window.reportState.charts[arguments[0]].chart.getOption().series[0]"
            ".data.length",
            _chart(browser, title),
        )
        assert drawn == mart(mart_sql, start, end).iloc[0, 0], (page, title)
        assert _errors(browser) == []


def test_real_page_city_filter_on_coupons_matches_the_marts(browser, site, mart):
    _open(browser, site, "coupons")
    for city in _filter_options(browser, "city")[:3]:
        _select_filter(browser, "city", city)
        branches = mart(
            "select count(*) from marts.fct_branch_performance where city_name = ?", city
        ).iloc[0, 0]
        text = _table(browser, "Branches by burns").find_element(By.CLASS_NAME, "table-count").text
        assert text.endswith(f" of {_count(int(branches))}") or branches == 0, (city, text)
        rate = mart("select burn_rate from marts.fct_city_performance where city_name = ?", city)
        drawn = _chart_values(browser, _chart(browser, "Burn rate by city"))
        assert drawn == {c: pytest.approx(float(r)) for c, r in [(city, rate.iloc[0, 0])]}


def _click_bar(browser, title: str, position: int) -> str:
    index = _chart(browser, title)
    value = browser.execute_script(
        "return window.reportState.charts[arguments[0]].categories[arguments[1]]", index, position
    )
    point = browser.execute_script(
        "const c = window.reportState.charts[arguments[0]];"
        "const v = c.chart.getOption().series[0].data[arguments[1]];"
        "return c.chart.convertToPixel({seriesIndex: 0}, [arguments[1], v / 2]);",
        index,
        position,
    )
    box = browser.find_elements(By.CSS_SELECTOR, ".chart-box")[index]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    ActionChains(browser).move_to_element_with_offset(
        box, int(point[0] - box.size["width"] / 2), int(point[1] - box.size["height"] / 2)
    ).click().perform()
    return value


def _assert_drilled(browser, site, mart, page, kind, column, value) -> None:
    selected = Select(browser.find_element(By.CSS_SELECTOR, f'select[data-filter="{kind}"]'))
    assert selected.first_selected_option.get_attribute("value") == value
    where = dict((p, w) for p, _, _, w in LIST_FILTERS)[page]
    members = mart(
        f"select customer_id from marts.rpt_customer_list where {where} and {column} = ? "
        f"order by {LIST_ORDER[page]}",
        value,
    )
    card = _table(browser, LIST_TITLES[page])
    count = card.find_element(By.CLASS_NAME, "table-count").text
    assert count.endswith(f" of {_count(len(members))}"), count
    shown = _first_cells(card, 0)
    assert shown == members.customer_id.tolist()[: len(shown)] and shown
    assert _listed(site, card).customer_id.astype(str).tolist() == members.customer_id.tolist()
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", card)
    assert 0 <= top < 400  # scrolled to the list
    assert _errors(browser) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_drill_down_from_a_real_segment_and_cluster(browser, site, mart, width):
    _open(browser, site, "segmentation", width)
    segment = _click_bar(browser, "Revenue share by RFM segment", 0)
    _assert_drilled(browser, site, mart, "segmentation", "segment", "rfm_segment", segment)
    browser.save_screenshot(str(SCREENSHOTS / f"segmentation-drilled-{width}.png"))
    _open(browser, site, "clusters", width)
    cluster = _click_bar(browser, "Revenue share by cluster", 0)
    _assert_drilled(browser, site, mart, "clusters", "cluster", "cluster_name", cluster)
    browser.find_element(By.CLASS_NAME, "filters-reset").click()
    cards = browser.find_elements(By.CSS_SELECTOR, ".cluster-card")
    last = cards[-1]
    name = last.find_element(By.TAG_NAME, "h3").text
    button = last.find_element(By.CLASS_NAME, "drill-button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    _assert_drilled(browser, site, mart, "clusters", "cluster", "cluster_name", name)
    browser.save_screenshot(str(SCREENSHOTS / f"clusters-drilled-{width}.png"))


def test_migration_heatmap_mutes_the_diagonal_in_the_marts_order(browser, site, mart):
    _open(browser, site, "segmentation")
    index = _chart(browser, "Segment migration between consecutive snapshots (moves only)")
    axes = browser.execute_script(
        "const o = window.reportState.charts[arguments[0]].chart.getOption();"
        "return [o.xAxis[0].data, o.yAxis[0].data, o.series.map(s => s.data.length)];",
        index,
    )
    order = mart(
        "select from_segment, to_segment, from_segment_order, to_segment_order "
        "from marts.rpt_segment_migration"
    )
    rows = order.drop_duplicates("from_segment").sort_values("from_segment_order")
    columns = order.drop_duplicates("to_segment").sort_values("to_segment_order")
    assert [str(v) for v in axes[0]] == columns.to_segment.tolist()
    assert sorted(str(v) for v in axes[1]) == sorted(rows.from_segment.tolist())
    stayers = int((order.from_segment == order.to_segment).sum())
    if stayers:  # the diagonal is its own grey series, off the colour scale
        assert axes[2][1:] == [stayers], axes[2]
    else:
        assert len(axes[2]) == 1, axes[2]


# --- cluster insights and the SMS preview ------------------------------------------------


def test_insights_button_reveals_the_cluster_insights(browser, site):
    _open(browser, site, "clusters")
    card = browser.find_element(By.CSS_SELECTOR, ".cluster-card")
    insights = card.find_element(By.CSS_SELECTOR, ".insights")
    assert not insights.is_displayed()
    card.find_element(By.CSS_SELECTOR, ".insights-button").click()
    assert insights.is_displayed()
    assert "of net revenue" in insights.text


def _options(select: Select) -> list[str]:
    return [o.get_attribute("value") for o in select.options]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_offered_message_choice_previews_its_message(browser, site, mart, width):
    _open(browser, site, "messages", width)
    demo = browser.find_element(By.CSS_SELECTOR, ".phone-demo")
    events = Select(demo.find_element(By.CLASS_NAME, "event-select"))
    offers = Select(demo.find_element(By.CLASS_NAME, "offer-select"))
    segments = Select(demo.find_element(By.CLASS_NAME, "segment-select"))
    preview = demo.find_element(By.CLASS_NAME, "sms-preview")
    messages = mart(
        "select event_id, offer_id, segment_name, message_text, generator, character_count, "
        "sms_encoding, sms_parts from marts.marketing_messages"
    )
    valid = {(row.event_id, row.offer_id, row.segment_name): row for row in messages.itertuples()}
    shown_rows = mart(
        "select event_id, offer_id, segment_name, written_by, first_name "
        "from marts.rpt_message_previews"
    )
    previews = {(r.event_id, r.offer_id, r.segment_name): r for r in shown_rows.itertuples()}
    named = shown_rows.dropna(subset=["first_name"]).drop_duplicates("segment_name")
    names = dict(zip(named.segment_name, named.first_name, strict=True))
    seen = set()
    assert sorted(_options(events)) == sorted(set(messages.event_id))
    for event in _options(events):
        events.select_by_value(event)
        assert sorted(_options(offers)) == sorted(
            set(messages[messages.event_id == event].offer_id)
        )
        for offer in _options(offers):
            offers.select_by_value(offer)
            for segment in _options(segments):
                segments.select_by_value(segment)
                row = valid[(event, offer, segment)]  # every choice offered exists
                shown = preview.text
                assert "{first_name}" not in shown and "Reply STOP" in shown
                before, _, after = row.message_text.partition("{first_name}")
                assert shown.startswith(before.strip()) and shown.endswith(after.strip())
                facts = demo.find_element(By.CLASS_NAME, "message-facts").text
                # the facts are the text in the phone's (name merged), not the mart's
                # count of the template with its {first_name} token
                assert f"{sms.length(shown)} characters" in facts, (facts, shown)
                assert sms.encoding(shown) in facts and f"{sms.parts(shown)} SMS" in facts
                if "{first_name}" in row.message_text and sms.length(shown) != int(
                    row.character_count
                ):
                    assert f"{row.character_count} characters" not in facts
                preview_row = previews[(event, offer, segment)]
                source = browser.execute_script(
                    "return [...arguments[0].querySelectorAll('.message-facts div')]"
                    ".filter(d => d.querySelector('dt').textContent === 'Source')"
                    ".map(d => d.querySelector('dd').textContent)[0]",
                    demo,
                )
                assert source == preview_row.written_by, (source, preview_row.written_by)
                name = names.get(segment)
                if name:  # names published: a real customer of the segment
                    assert f"{name} (a customer in {segment})" in facts and name in shown
                else:
                    assert "sample name" in facts and "Priya" in shown
                seen.add((event, offer, segment))
    assert seen == set(valid)
    assert _errors(browser) == []
    phone = demo.find_element(By.CLASS_NAME, "phone")
    assert phone.find_elements(By.CLASS_NAME, "message-facts") == []  # facts sit outside
    assert phone.find_element(By.CLASS_NAME, "status-bar").text
    assert phone.find_element(By.CLASS_NAME, "sender").text
    browser.save_screenshot(str(SCREENSHOTS / f"messages-preview-{width}.png"))


# --- dark mode and print --------------------------------------------------------------------


def test_dark_mode_and_print_styles(browser, site):
    try:
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
        _open(browser, site, "engine_check")
        background = browser.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        red, green, blue = (int(v) for v in background[4:-1].split(",")[:3])
        assert red + green + blue < 150, background
        browser.save_screenshot(str(SCREENSHOTS / "engine_check-dark-1440.png"))
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert not browser.find_element(By.ID, "nav").is_displayed()
        assert not browser.find_element(By.CLASS_NAME, "filters").is_displayed()
        assert browser.find_element(By.CLASS_NAME, "site-footer").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})


# --- the Sales forecast, model and campaign names ------------------------------------


def test_sales_forecast_band_spans_the_marts_interval(browser, site, mart):
    _open(browser, site, "sales")
    index = _chart(browser, "Monthly revenue with forecast")
    drawn = browser.execute_script(
        "const c = window.reportState.charts[arguments[0]], o = c.chart.getOption();"
        "const band = o.series.filter(s => s.name === c.spec.band_label);"
        "return {band: band.map(s => [s.data, s.stackStrategy, s.stack]),"
        " dashed: o.series.filter(s => s.lineStyle && s.lineStyle.type === 'dashed')"
        "   .map(s => s.name),"
        " legend: o.legend[0].data, tick: o.yAxis[0].axisLabel.formatter(2000000)};",
        index,
    )
    trend = mart(
        "select month_start, forecast_lower_95, forecast_upper_95 "
        "from marts.rpt_monthly_trend order by month_start"
    )
    (low, strategy, stack), (span, _, _) = drawn["band"]
    assert strategy == "all" and stack == "band"
    assert len(low) == len(span) == len(trend)
    forecast_months = 0
    for (_, lower), (_, width), row in zip(low, span, trend.itertuples(), strict=True):
        if pd.isna(row.forecast_lower_95):
            assert lower is None and width is None
            continue
        forecast_months += 1
        assert lower == pytest.approx(row.forecast_lower_95)
        assert lower + width == pytest.approx(row.forecast_upper_95)
    assert forecast_months > 0
    assert drawn["dashed"] == ["Forecast"]
    band_entry = [e for e in drawn["legend"] if isinstance(e, dict)]
    assert [e["icon"] for e in band_entry] == ["rect"]  # the legend shows the band, not a dot
    assert drawn["tick"] == "₹2M"
    # hovering a forecast month: its value and interval in money
    first = trend[trend.forecast_lower_95.notna()].iloc[0]
    position = int(trend.index[trend.month_start == first.month_start][0])
    browser.execute_script(
        "window.reportState.charts[arguments[0]].chart.dispatchAction("
        "{type: 'showTip', seriesIndex: 1, dataIndex: arguments[1]});",
        index,
        position,
    )
    box = browser.find_elements(By.CSS_SELECTOR, ".chart-box")[index]
    tooltip = _wait(
        lambda: [t.text for t in box.find_elements(By.CLASS_NAME, "chart-tooltip") if t.text],
        "the forecast tooltip",
    )[0]
    forecast = mart(
        "select forecast from marts.rpt_monthly_trend where month_start = ?", first.month_start
    ).iloc[0, 0]
    assert _money(float(forecast)) in tooltip, tooltip
    interval = f"{_money(first.forecast_lower_95)} to {_money(first.forecast_upper_95)}"
    assert interval in tooltip, tooltip


def test_the_forecast_line_joins_the_last_actual_month(browser, site, mart):
    _open(browser, site, "sales")
    index = _chart(browser, "Monthly revenue with forecast")
    trend = mart(
        "select month_start, revenue, forecast from marts.rpt_monthly_trend order by month_start"
    )
    last = trend[trend.revenue.notna()].iloc[-1]
    position = int(trend.index[trend.month_start == last.month_start][0])
    point = browser.execute_script(
        "const o = window.reportState.charts[arguments[0]].chart.getOption();"
        "const s = o.series.filter(s => s.name === 'Forecast')[0];"
        "return s.data[arguments[1]];",
        index,
        position,
    )
    # the dashed line starts at the last actual month's revenue, without a marker
    assert point["value"][1] == pytest.approx(float(last.revenue)), point
    assert point["symbol"] == "none"
    browser.execute_script(
        "window.reportState.charts[arguments[0]].chart.dispatchAction("
        "{type: 'showTip', seriesIndex: 0, dataIndex: arguments[1]});",
        index,
        position,
    )
    box = browser.find_elements(By.CSS_SELECTOR, ".chart-box")[index]
    tooltip = _wait(
        lambda: [t.text for t in box.find_elements(By.CLASS_NAME, "chart-tooltip") if t.text],
        "the last actual month's tooltip",
    )[0]
    assert _money(float(last.revenue)) in tooltip, tooltip
    assert "Forecast\n" not in tooltip + "\n", tooltip  # the borrowed point is no forecast


def test_printing_hides_the_zoom_slider(browser, site):
    _open(browser, site, "sales")

    def sliders():
        return browser.execute_script(
            "return window.reportState.charts.map(c => c.chart.getOption().dataZoom)"
            ".filter(z => z && z.length > 1).map(z => z[1].show)"
        )

    assert sliders() and all(sliders())
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert not any(sliders())
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
    assert all(sliders())


def test_rfm_scatter_legend_follows_the_segment_order(browser, site, mart):
    _open(browser, site, "rfm")
    index = _chart(browser, "Recency vs frequency by segment")
    legend = browser.execute_script(
        "return window.reportState.charts[arguments[0]].chart.getOption().series.map(s => s.name)",
        index,
    )
    order = mart(
        "select rfm_segment from marts.rpt_customer_scatter "
        "group by rfm_segment order by min(segment_order)"
    )
    assert legend == order.rfm_segment.tolist()
    lookup = pd.read_csv(PROJECT / "seeds/lookups/rfm_segments.csv").sort_values("segment_order")
    assert legend == [s for s in lookup.rfm_segment if s in set(legend)]


def test_backtest_names_its_models_in_words(browser, site, mart):
    _open(browser, site, "sales")
    card = _table(browser, "Forecast backtest (rolling origin)")
    shown = _first_cells(card, 0)
    expected = mart(
        "select model_label from marts.forecast_backtest order by horizon_months, mae"
    ).model_label.tolist()
    assert shown == expected[: len(shown)] and shown
    assert "Naive (last month)" in shown


def test_campaigns_are_named_by_event_and_offer(browser, site, mart):
    _open(browser, site, "campaigns")
    index = _chart(browser, "Incremental revenue vs holdout, with 95% intervals")
    categories = browser.execute_script(
        "return window.reportState.charts[arguments[0]].categories", index
    )
    expected = mart(
        "select campaign_label from marts.rpt_campaign_results "
        "order by incremental_revenue desc, campaign_label"
    ).campaign_label.tolist()
    assert categories == expected
    ids = set(mart("select campaign_id from marts.campaign_results").campaign_id)
    text = browser.find_element(By.TAG_NAME, "main").text
    assert ids and not [i for i in ids if i in text]
    # every campaign has a name (rpt_campaign_results, checked against staging by
    # report_checks), none is its bare id
    assert all(", " in c and not re.search(r"EVT\d{8}", c) for c in categories)
