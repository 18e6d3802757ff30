"""One vector of text cells for both CSV writers' formula-injection rule.

The Python writer (spreadsheet_safe in marketing_engine/reports/data.py, for the
site's CSV files and `marketing-engine export`) and the browser's (csvCell in
reports/assets/app.js, for a table's download button) must defuse the same cells:
tests/unit/test_reports.py runs these through DuckDB, tests/integration/
test_report_browser.py through the page's own script. Each pair is (cell text,
what the CSV holds for it before quoting).
"""

TEXT_CELLS = [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+1+2", "'+1+2"),
    ("-3+4", "'-3+4"),
    ("-12.5", "'-12.5"),  # text that looks like a number is still text
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    (" =1", " =1"),  # only the first character counts
    ("'=1", "'=1"),  # already defused
    ("a=1", "a=1"),
    ("Pune", "Pune"),
    ("", ""),
]


def csv_field(text: str) -> str:
    """`text` as one CSV field: quoted when it holds a comma, a quote or a line break."""
    if any(char in text for char in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
