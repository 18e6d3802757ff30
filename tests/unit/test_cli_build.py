"""`marketing-engine build --vars` hands dbt the vars a user would give `dbt build --vars`."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from marketing_engine import pipeline
from marketing_engine.cli import main


@pytest.fixture
def dbt_commands(tmp_path, monkeypatch):
    """Every dbt command line the CLI would run (dbt itself is not run: it 'fails')."""
    monkeypatch.setenv("MARKETING_ENGINE_BUILD_DB", str(tmp_path / "build.duckdb"))
    monkeypatch.setenv("MARKETING_ENGINE_SERVING_DB", str(tmp_path / "serving.duckdb"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    commands: list[list[str]] = []

    def run(command, project, env):
        commands.append(command)
        return 2, "Encountered an error:\nstopped by the test\n"

    monkeypatch.setattr(pipeline, "_run_streaming", run)
    return commands


def _vars(command: list[str]) -> dict:
    return json.loads(command[command.index("--vars") + 1])


def test_a_relative_raw_data_dir_in_vars_is_made_absolute(tmp_path, dbt_commands):
    (tmp_path / "raw").mkdir()
    relative = os.path.relpath(tmp_path / "raw")  # dbt runs elsewhere: it needs the full path
    CliRunner().invoke(main, ["build", "--vars", f"{{raw_data_dir: '{relative}'}}"])
    (command,) = dbt_commands
    assert _vars(command) == {"raw_data_dir": str((tmp_path / "raw").resolve())}


def test_build_passes_vars_to_dbt_with_the_flags(tmp_path, dbt_commands):
    raw = tmp_path / "raw"
    raw.mkdir()
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--raw-data-dir",
            str(raw),
            "--vars",
            "{report_currency: USD, report_locale: en-US, as_of_date: 1998-07-01}",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "serving warehouse was not changed" in result.output
    (command,) = dbt_commands
    assert _vars(command) == {
        "report_currency": "USD",
        "report_locale": "en-US",
        "as_of_date": "1998-07-01",  # YAML reads a date; dbt gets its text
        "raw_data_dir": str(raw.resolve()),
    }
    assert not (tmp_path / "serving.duckdb").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vars", "[USD]"], "expected a mapping of var names to values"),
        (["--vars", "{report_currency: [USD"], "not YAML"),
        (
            ["--vars", "{as_of_date: 1998-07-01}", "--as-of-date", "1998-07-01"],
            "as_of_date is given twice, in --vars and as --as-of-date",
        ),
        (["--vars", "{daily_run: true}"], "give --daily instead of daily_run in --vars"),
    ],
)
def test_bad_vars_are_named_before_dbt_runs(dbt_commands, args, message):
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "--vars" in result.output
    assert dbt_commands == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("{as_of_date: 2026-13-45}", "as_of_date must be a date written YYYY-MM-DD"),
        ("{as_of_date: 30/09/2026}", "got '30/09/2026'"),
        ("{raw_data_dir: /no/such/dir}", "does not exist"),
    ],
)
def test_vars_the_cli_also_takes_as_flags_get_the_flags_checks(dbt_commands, given, message):
    result = CliRunner().invoke(main, ["build", "--vars", given])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert dbt_commands == []


def test_a_home_relative_raw_data_dir_is_expanded_and_a_uri_kept(
    tmp_path, dbt_commands, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "exports").mkdir()
    CliRunner().invoke(main, ["build", "--vars", "{raw_data_dir: ~/exports}"])
    CliRunner().invoke(main, ["build", "--vars", "{raw_data_dir: 's3://shop/raw'}"])
    assert [_vars(c)["raw_data_dir"] for c in dbt_commands] == [
        str((tmp_path / "exports").resolve()),
        "s3://shop/raw",
    ]


def test_a_var_the_project_never_reads_is_warned_about_with_the_closest_name(dbt_commands):
    result = CliRunner().invoke(main, ["build", "--vars", "{quarantine_eror_share: 0.9}"])
    assert "quarantine_eror_share, which no model or macro of this project reads" in result.output
    assert "did you mean quarantine_error_share?" in result.output
    (command,) = dbt_commands  # a warning: dbt still runs with it
    assert _vars(command) == {"quarantine_eror_share": 0.9}
    quiet = CliRunner().invoke(main, ["build", "--vars", "{use_ollama: false}"])
    assert "Warning" not in quiet.output  # read through var() in a Python model's YAML
