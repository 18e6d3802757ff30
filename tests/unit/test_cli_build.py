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
