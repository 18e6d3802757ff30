"""Every figure the report shows is a mart figure that an independent query confirms.

The report is rendered with `marketing-engine report` on a build and every
figure in site/figures.json is recomputed by tests/integration/report_checks.py
from the core dims and facts, never with the page's SQL. A page that falls back
to a notice on the full sample fails. With only customers.csv and
transactions.csv every page still renders, says which file would fill it, and
no link is dead.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from marketing_engine.generate import GeneratorConfig, generate
from marketing_engine.reports import FormatConfig
from tests.conftest import PROJECT, cli_env, run_cli
from tests.integration.report_checks import (
    check_report_figures,
    check_report_marts,
    dead_links,
)


def _render(build_dir: Path, out: Path) -> Path:
    result = run_cli(
        build_dir, "report", "--db", str(build_dir / "marketing.duckdb"), "--out", str(out)
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return out / "site"


def _manifest(site: Path) -> dict[str, dict]:
    return {page["page"]: page for page in json.loads((site / "figures.json").read_text())["pages"]}


@pytest.fixture(scope="module")
def sample_site(sample_build, tmp_path_factory) -> Path:
    return _render(sample_build, tmp_path_factory.mktemp("sample_report"))


def test_every_sample_figure_matches_an_independent_query(sample_build, sample_site):
    assert check_report_figures(sample_site, sample_build / "build.duckdb") == []


def test_the_site_formats_money_with_the_settings_the_build_recorded(sample_build, tmp_path):
    """One source of truth: a build made with --vars report_currency: USD records it in
    rpt_report_settings, and every money figure on the site then carries "$"."""
    import shutil

    import duckdb

    build = tmp_path / "usd"
    build.mkdir()
    shutil.copy(sample_build / "marketing.duckdb", build / "marketing.duckdb")
    with duckdb.connect(str(build / "marketing.duckdb")) as con:
        con.execute(
            "update marts.rpt_report_settings set currency_code = 'USD', "
            "currency_symbol = '$', locale = 'en-US'"
        )
    site = _render(build, tmp_path / "out")
    usd = FormatConfig(currency="USD", currency_symbol="$", locale="en-US")
    problems = check_report_figures(site, sample_build / "build.duckdb", usd)
    # the only difference: the recorded currency code, edited above in place of a USD build
    assert [p for p in problems if "rpt_report_settings.currency_code" not in p] == []
    assert "money in USD" in (site / "index.html").read_text()
    money = [
        figure["shown"]
        for page in _manifest(site).values()
        for figure in page["figures"]
        if figure["format"] == "money"
    ]
    assert money and all(shown.lstrip("-").startswith("$") for shown in money), money
    index = (site / "index.html").read_text()
    assert "₹" not in index and '"currency_symbol":"$"' in index


def test_every_sample_report_mart_matches_independent_queries(sample_build):
    assert check_report_marts(sample_build / "build.duckdb") == []


def test_mart_checks_catch_a_wrong_cell(sample_build, tmp_path):
    """The whole-mart checks fail when one cell or one row of a report mart is off."""
    broken = tmp_path / "broken.duckdb"
    shutil.copy2(sample_build / "build.duckdb", broken)
    with duckdb.connect(str(broken)) as con:
        con.execute(
            "update marts.rpt_segment_migration set customers = customers + 1 "
            "where from_segment = 'Prospect' and to_segment = 'Champions'"
        )
        con.execute("update marts.rpt_retention_histogram set buyers = buyers + 1")
        con.execute(
            "delete from marts.rpt_customer_list where customer_id = "
            "(select min(customer_id) from marts.rpt_customer_list)"
        )
    problems = "\n".join(check_report_marts(broken))
    assert "rpt_segment_migration: row ('Prospect', 'Champions'), customers" in problems
    assert "rpt_retention_histogram: row 'One order only', buyers" in problems
    assert "rpt_customer_list: row" in problems and "is missing" in problems


def test_segment_migration_has_one_vocabulary_and_a_square_grid(warehouse):
    rows = warehouse.execute(
        "select from_segment, to_segment, customers, moved_customers, moved_share "
        "from marts.rpt_segment_migration"
    ).fetchall()
    from_segments = {r[0] for r in rows}
    assert from_segments == {r[1] for r in rows}
    assert len(rows) == len(from_segments) ** 2
    assert "Prospect" in from_segments
    segments = warehouse.execute("select distinct rfm_segment from marts.dim_customers")
    assert {s for (s,) in segments.fetchall()} <= from_segments
    transitions = warehouse.execute(
        "select distinct from_segment from marts.fct_segment_transitions"
    ).fetchall()
    assert {s for (s,) in transitions} <= from_segments  # no 'Not yet a customer'
    for from_segment, to_segment, customers, moved, share in rows:
        if from_segment == to_segment:
            assert moved is None and share is None
        else:
            assert moved == customers
    assert sum(r[3] or 0 for r in rows) > 0  # the sample has movement to show


def test_published_lists_carry_names_only_when_names_are_published(sample_build, warehouse):
    """first_name is PII: the serving file blanks it (MARKETING_ENGINE_PUBLISH_NAMES unset)."""
    with duckdb.connect(str(sample_build / "marketing.duckdb"), read_only=True) as serving:
        for mart in ("rpt_customer_list", "rpt_message_previews"):
            published = serving.execute(
                f"select count(*), count(first_name) from marts.{mart}"
            ).fetchone()
            built = warehouse.execute(f"select count(first_name) from marts.{mart}").fetchone()
            assert published[0] > 0 and published[1] == 0, mart
            assert built[0] > 0, mart  # the build file has them: publishing removed them


def test_message_previews_offer_only_choices_with_a_valid_message(warehouse):
    offered = warehouse.execute(
        "select event_id, offer_id, segment_name, message_text from marts.rpt_message_previews"
    ).fetchall()
    invalid = warehouse.execute(
        "select count(*) from marts.marketing_messages where validation_status <> 'valid'"
    ).fetchone()[0]
    ready = warehouse.execute("select count(*) from marts.marketing_messages").fetchone()[0]
    assert len(offered) == ready - invalid > 0
    assert all(text for *_, text in offered)
    # every segment's preview customer has a name in the build file
    assert warehouse.execute(
        "select count(*) from marts.rpt_message_previews where first_name is null "
        "and segment_scheduled_customers > 0"
    ).fetchone() == (0,)


def test_every_sample_page_shows_its_figures_and_no_notice(sample_site):
    pages = _manifest(sample_site)
    assert len(pages) == len(list(sample_site.glob("*.html")))
    for slug, page in pages.items():
        assert page["notice"] is None, slug
        assert page["figures"], f"page {slug} shows no recorded figure"


def test_churn_headline_counts_each_customer_once(sample_build, sample_site, warehouse):
    """The page once cross-joined dim_customers with the cohorts: 196,020 of 2,000."""
    (figure,) = [
        f
        for f in _manifest(sample_site)["churn_retention"]["figures"]
        if f["column"] == "high_value_at_risk_customers"
    ]
    customers = warehouse.execute("select count(*) from marts.dim_customers").fetchone()[0]
    assert 0 < figure["value"] <= customers
    assert (
        f"{figure['shown']} high-value customers"
        in (sample_site / "churn_retention.html").read_text()
    )


def test_coupon_burn_rate_is_one_measure_across_marts(warehouse):
    """Claims burnt / claims everywhere: the Coupons page said 54%, cluster insights 33%
    (a mean of per-customer rates that counted customers without a claim as 0)."""
    pooled = """
        select {group}, count(*) filter (where coupons.coupon_status = 'burnt') * 1.0
               / count(*) as burn_rate
        from staging.stg_shop__coupons as coupons
        inner join {members} as members on coupons.customer_id = members.customer_id
        group by {group}
    """
    clusters = dict(
        warehouse.execute(
            pooled.format(
                group="cluster_id",
                members="(select * from marts.cluster_assignments where is_primary)",
            )
        ).fetchall()
    )
    shown = dict(
        warehouse.execute(
            "select cluster_id, coupon_burn_rate from marts.cluster_profiles where is_primary"
        ).fetchall()
    )
    assert shown.keys() == clusters.keys()
    for cluster_id, rate in clusters.items():
        assert shown[cluster_id] == pytest.approx(rate)
    segments = dict(
        warehouse.execute(
            pooled.format(group="rfm_segment", members="marts.dim_customers")
        ).fetchall()
    )
    targets = dict(
        warehouse.execute(
            "select rfm_segment, coupon_burn_rate from marts.campaign_targets"
        ).fetchall()
    )
    for segment, rate in targets.items():
        if segment in segments:
            assert rate == pytest.approx(segments[segment]), segment
        else:  # no claim in the segment: no burn rate, never 0
            assert rate is None, segment


def test_sample_site_has_no_dead_link(sample_site):
    assert dead_links(sample_site) == []


@pytest.fixture(scope="module")
def two_table_build(tmp_path_factory) -> Path:
    """A build from customers.csv and transactions.csv only (the minimal contract)."""
    workdir = tmp_path_factory.mktemp("two_tables")
    raw = workdir / "raw"
    generate(GeneratorConfig(customers=150, seed=5, dirty_rows=False), raw, "csv")
    for path in raw.iterdir():
        if path.name not in {"customers.csv", "transactions.csv"}:
            path.unlink()
    result = run_cli(workdir, "build", "--raw-data-dir", str(raw))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir


def test_two_tables_render_every_page_with_a_sentence_naming_the_file(two_table_build, tmp_path):
    site = _render(two_table_build, tmp_path / "out")
    pages = _manifest(site)
    for page in pages.values():
        assert (site / page["file"]).is_file()
    assert pages["coupons"]["notice"] == (
        "Add coupons.csv to your raw data folder to see coupon activity."
    )
    assert "coupons.csv" in (site / "coupons.html").read_text()
    assert "events.csv and offers.csv" in pages["messages"]["notice"]
    campaigns = " ".join((site / "campaigns.html").read_text().split())
    assert "Add campaign_sends.csv and campaign_responses.csv" in campaigns
    assert dead_links(site) == []
    # the figures the pages do show are still right, and so is every report mart
    problems = [
        p
        for p in check_report_figures(site, two_table_build / "build.duckdb")
        if "shows a notice" not in p
    ]
    assert problems == []
    assert check_report_marts(two_table_build / "build.duckdb") == []
    with duckdb.connect(str(two_table_build / "build.duckdb"), read_only=True) as con:
        # no coupons file: the histogram keeps its bins at 0, the split is empty
        assert con.execute(
            "select count(*), sum(coupon_users) from marts.rpt_coupon_burn_frequency"
        ).fetchone() == (11, 0)
        assert con.execute(
            "select count(*) from marts.rpt_coupon_users_by_demographic"
        ).fetchone() == (0,)
        assert con.execute("select count(*) from marts.rpt_message_previews").fetchone() == (0,)


# --- CDNOW: the fixtures `cdnow_build` and `cdnow_shifted_build` come from the
# history helper's branch (tests/integration/conftest.py). Until that is merged
# these tests skip; after the merge they run the same checks on real data.


@pytest.mark.parametrize("fixture", ["cdnow_build", "cdnow_shifted_build"])
def test_every_cdnow_figure_matches_an_independent_query(request, fixture, tmp_path):
    try:
        build_dir = request.getfixturevalue(fixture)
    except pytest.FixtureLookupError:
        pytest.skip(f"fixture {fixture} not on this branch yet (history helper adds it)")
    site = _render(build_dir, tmp_path / "out")
    assert dead_links(site) == []
    problems = [
        p
        for p in check_report_figures(site, build_dir / "build.duckdb")
        if "shows a notice" not in p
    ]
    assert problems == []
    assert check_report_marts(build_dir / "build.duckdb") == []
    notices = {slug: page["notice"] for slug, page in _manifest(site).items() if page["notice"]}
    # CDNOW has only customers and transactions: coupon and message pages say which file
    assert set(notices) <= {"coupons", "messages"}, notices


def test_sales_page_says_when_there_is_no_backtest(sample_build, warehouse, tmp_path):
    """A short history has no backtest: the page once claimed the regression won anyway."""
    rows = warehouse.execute("select count(*) from marts.forecast_backtest").fetchone()[0]
    kpi = warehouse.execute("select has_backtest from marts.rpt_sales_kpis").fetchone()[0]
    assert rows > 0 and kpi is True
    full = (_render(sample_build, tmp_path / "full") / "sales.html").read_text()
    assert "too little history" not in full
    short = tmp_path / "short"
    short.mkdir()
    shutil.copy2(sample_build / "marketing.duckdb", short / "marketing.duckdb")
    with duckdb.connect(str(short / "marketing.duckdb")) as con:
        con.execute(
            "update marts.rpt_sales_kpis set has_backtest = false, backtest_caveat_note = null, "
            "backtest_caveat_horizon_months = null"
        )
    html = (_render(short, tmp_path / "short_report") / "sales.html").read_text()
    assert "too little history to backtest" in " ".join(html.split())
    assert "beats both baselines" not in html


def test_sales_page_names_the_published_forecast_model_and_says_when_there_is_none(
    sample_build, warehouse, tmp_path
):
    label, note = warehouse.execute(
        "select model_label, note from marts.sales_forecast "
        "where segment = 'All customers' order by month_start limit 1"
    ).fetchone()
    full = " ".join((_render(sample_build, tmp_path / "full") / "sales.html").read_text().split())
    assert f"<strong>{html.escape(label)}</strong> model." in full
    assert html.escape(note.split(";")[0]) in full
    assert "too little history to forecast" not in full
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy2(sample_build / "marketing.duckdb", empty / "marketing.duckdb")
    with duckdb.connect(str(empty / "marketing.duckdb")) as con:
        con.execute(
            "update marts.rpt_sales_kpis set forecast_months = 0, next_month_forecast = null, "
            "forecast_model_label = null, forecast_note = null"
        )
    page = (_render(empty, tmp_path / "empty_report") / "sales.html").read_text()
    assert "There is too little history to forecast next month." in " ".join(page.split())
    assert "None" not in page


def test_a_malformed_currency_var_stops_the_build_naming_the_var(tmp_path):
    """The site formats money with report_currency: a wrong code must not reach it."""
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [
            str(dbt),
            "compile",
            "--select",
            "rpt_report_settings",
            "--vars",
            "{report_currency: rupees}",
            "--profiles-dir",
            ".",
            "--project-dir",
            ".",
        ],
        cwd=PROJECT,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "var report_currency must be a 3-letter ISO 4217 code in capitals, such as INR or "
        "USD, got rupees" in result.stdout
    )


def test_the_overview_says_when_a_file_was_largely_quarantined(sample_build, sample_site, tmp_path):
    """Above var quarantine_warn_share, the Overview names the table, the rows left out and
    the most common reason, and rpt_data_quality matches staging. The sample's own
    quarantine is tiny, so reasons are added to a copy of its build file and the mart is
    rebuilt from them with dbt."""
    build = tmp_path / "build"
    build.mkdir()
    shutil.copy(sample_build / "build.duckdb", build / "build.duckdb")
    with duckdb.connect(str(build / "build.duckdb")) as con:
        kept = con.execute("select count(*) from staging.stg_shop__order_lines").fetchone()[0]
        added = kept // 10  # about 9% of the file
        con.execute(
            """insert into staging.stg_shop__quarantined_rows by name
               select 'transactions' as source_table, 'X' || i as row_key,
                      case when i % 3 = 0 then 'missing order_id'
                      else 'unparseable unit_price ''' || i || ',50'' (expected decimal(18, 2))'
                      end as quarantine_reason
               from range(?) as t(i)""",
            [added],
        )
    assert run_cli(build, "build", "--select", "rpt_data_quality").returncode == 0
    site = tmp_path / "out"
    result = run_cli(build, "report", "--db", str(build / "build.duckdb"), "--out", str(site))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert check_report_figures(site / "site", build / "build.duckdb") == []
    assert check_report_marts(build / "build.duckdb") == []
    overview = {f["column"]: f for f in _manifest(site / "site")["overview"]["figures"]}
    assert overview["table_name"]["value"] == "transactions"
    assert overview["rows_quarantined"]["value"] >= added
    assert overview["top_reason"]["value"].startswith("unparseable unit_price '")
    text = html.unescape((site / "site" / "index.html").read_text())
    assert "Not in these figures:" in text
    # the sample as built stays below the warn share: no such sentence
    assert "Not in these figures" not in (sample_site / "index.html").read_text()
