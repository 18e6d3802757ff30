"""Evidence-style reports: markdown pages with named SQL queries and components.

One module per job:
* parse.py      reads a page (front matter, ```sql name blocks, components);
* formats.py    shows a value: currency and locale as the build recorded them
                (rpt_report_settings), dates as vars.reports says, %;
* labels.py     column labels and formats from the models' YAML docs;
* data.py       runs page SQL, embeds rows as inline JSON, writes full CSV files;
* components.py the render context, BigValue, Insights, PhoneMockup, Filters;
* charts.py     BarChart, LineChart, ScatterPlot, Heatmap specs (drawn by ECharts);
* tables.py     DataTable specs (sort, search, paging, CSV) and markdown tables;
* site.py       renders every page and swaps the finished site into place.

The browser side is reports/assets/app.js with the vendored Apache ECharts in
vendor/ (no CDN, no network). The page syntax is documented in reports/README.md.
"""

from marketing_engine.reports.formats import (
    FORMATS,
    FormatConfig,
    fmt_date,
    fmt_money,
    fmt_month,
    fmt_number,
    fmt_p,
    fmt_pct,
    fmt_ratio,
)
from marketing_engine.reports.parse import FIGURE, Page, ReportError, parse_page
from marketing_engine.reports.site import PAGE_WEIGHT_LIMIT, SiteSettings, render_site

__all__ = [
    "FIGURE",
    "FORMATS",
    "PAGE_WEIGHT_LIMIT",
    "FormatConfig",
    "Page",
    "ReportError",
    "SiteSettings",
    "fmt_date",
    "fmt_money",
    "fmt_month",
    "fmt_number",
    "fmt_p",
    "fmt_pct",
    "fmt_ratio",
    "parse_page",
    "render_site",
]
