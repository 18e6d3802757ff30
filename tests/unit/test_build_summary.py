"""Sentences for failing tests, reason folding and cluster-id origins, without dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from marketing_engine.build_summary import (
    BuildSummary,
    data_quality_flags,
    degraded_results,
    explain_results,
    explain_test,
    render,
    run_var_values,
    summarize,
    table_counts,
    top_reasons,
)
from marketing_engine.clustering import cluster_id_origin
from marketing_engine.pipeline import error_from_output

PROJECT = Path(__file__).resolve().parents[2]

# Fragments of target/manifest.json from a sample build (dbt 1.11), trimmed to the
# fields the summary reads.
NOT_NULL = {
    "unique_id": "test.marketing_engine.not_null_fct_orders_customer_id.16fe324f7b",
    "name": "not_null_fct_orders_customer_id",
    "resource_type": "test",
    "test_metadata": {
        "name": "not_null",
        "kwargs": {
            "column_name": "customer_id",
            "model": "{{ get_where_subquery(ref('fct_orders')) }}",
        },
        "namespace": None,
    },
    "attached_node": "model.marketing_engine.fct_orders",
    "column_name": "customer_id",
    "original_file_path": "models/marts/core/_core__models.yml",
    "config": {"meta": {}, "severity": "error"},
    "depends_on": {"nodes": ["model.marketing_engine.fct_orders"]},
}
RELATIONSHIPS = {
    "unique_id": "test.marketing_engine.relationships_fct_orders_customer_id__customer_id"
    "__ref_dim_customers_.d5636051d4",
    "name": "relationships_fct_orders_customer_id__customer_id__ref_dim_customers_",
    "resource_type": "test",
    "test_metadata": {
        "name": "relationships",
        "kwargs": {
            "column_name": "customer_id",
            "to": "ref('dim_customers')",
            "field": "customer_id",
            "model": "{{ get_where_subquery(ref('fct_orders')) }}",
        },
        "namespace": None,
    },
    "attached_node": "model.marketing_engine.fct_orders",
    "column_name": "customer_id",
    "original_file_path": "models/marts/core/_core__models.yml",
    "config": {"meta": {}, "severity": "error"},
    "depends_on": {
        "nodes": ["model.marketing_engine.dim_customers", "model.marketing_engine.fct_orders"]
    },
}
ACCEPTED_VALUES = {
    "unique_id": "test.marketing_engine.accepted_values_int_customers_rfm_scored_value_tier"
    "__High_Value__Frequent_Buyers__New_Regular__Dormant.e847f77f52",
    "name": "accepted_values_int_customers_rfm_scored_value_tier",
    "resource_type": "test",
    "test_metadata": {
        "name": "accepted_values",
        "kwargs": {
            "column_name": "value_tier",
            "values": ["High-Value", "Frequent Buyers", "New/Regular", "Dormant"],
            "model": "{{ get_where_subquery(ref('int_customers_rfm_scored')) }}",
        },
        "namespace": None,
    },
    "attached_node": "model.marketing_engine.int_customers_rfm_scored",
    "column_name": "value_tier",
    "config": {"meta": {}},
}
UNIQUE_COMBINATION = {
    "unique_id": "test.marketing_engine.unique_combination_of_columns_cluster_assignments"
    "_customer_id__algorithm.1d419b1e01",
    "name": "unique_combination_of_columns_cluster_assignments_customer_id__algorithm",
    "resource_type": "test",
    "test_metadata": {
        "name": "unique_combination_of_columns",
        "kwargs": {
            "combination_of_columns": ["customer_id", "algorithm"],
            "model": "{{ get_where_subquery(ref('cluster_assignments')) }}",
        },
        "namespace": None,
    },
    "attached_node": "model.marketing_engine.cluster_assignments",
    "column_name": None,
    "config": {"meta": {}},
}
SINGULAR_WITH_META = {
    "unique_id": "test.marketing_engine.assert_customer_messages__fit_one_sms",
    "name": "assert_customer_messages__fit_one_sms",
    "resource_type": "test",
    "test_metadata": None,
    "attached_node": None,
    "column_name": None,
    "original_file_path": "tests/dbt/assert_customer_messages__fit_one_sms.sql",
    "config": {"meta": {"explain": "{failures} personalized SMS are too long. Fix: shorten."}},
    "depends_on": {"nodes": ["model.marketing_engine.customer_messages"]},
}
SINGULAR_PLAIN = {**SINGULAR_WITH_META, "config": {"meta": {}}, "meta": {}}

# The lineage of fct_orders as the manifest records it (depends_on.nodes).
LINEAGE = {
    "model.marketing_engine.fct_orders": ["model.marketing_engine.fct_order_lines"],
    "model.marketing_engine.fct_order_lines": ["model.marketing_engine.stg_shop__order_lines"],
    "model.marketing_engine.stg_shop__order_lines": [
        "model.marketing_engine.base_shop__order_lines"
    ],
    "model.marketing_engine.base_shop__order_lines": [
        "seed.marketing_engine.raw_transactions",
        "model.marketing_engine.stg_shop__customers",
        "model.marketing_engine.stg_shop__products",
    ],
    "model.marketing_engine.stg_shop__customers": ["model.marketing_engine.base_shop__customers"],
    "model.marketing_engine.base_shop__customers": ["seed.marketing_engine.raw_customers"],
    "model.marketing_engine.stg_shop__products": ["model.marketing_engine.base_shop__products"],
    "model.marketing_engine.base_shop__products": ["seed.marketing_engine.raw_products"],
}
MANIFEST = {
    "nodes": {
        **{uid: {"depends_on": {"nodes": parents}} for uid, parents in LINEAGE.items()},
        NOT_NULL["unique_id"]: NOT_NULL,
        RELATIONSHIPS["unique_id"]: RELATIONSHIPS,
    }
}
RAW_COLUMNS = {
    "customers": {"customer_id": "varchar", "first_name": "varchar"},
    "transactions": {"line_id": "varchar", "customer_id": "varchar"},
    "products": {"product_id": "varchar"},
}


def test_not_null_names_model_column_count_and_the_raw_files_with_that_column():
    sentence = explain_test(NOT_NULL, 3, "Got 3 results", MANIFEST, RAW_COLUMNS)
    assert sentence.startswith("fct_orders.customer_id: 3 rows have no customer_id")
    assert "the customers file or the transactions file" in sentence
    assert "products" not in sentence  # products has no customer_id column
    assert "Fix:" in sentence


def test_relationships_names_the_parent_model_and_the_fix():
    sentence = explain_test(RELATIONSHIPS, 1, "", MANIFEST, RAW_COLUMNS)
    assert sentence.startswith("fct_orders.customer_id: 1 row has a customer_id")
    assert "no matching customer_id in dim_customers" in sentence
    assert "Fix:" in sentence


def test_accepted_values_lists_the_allowed_values():
    sentence = explain_test(ACCEPTED_VALUES, 2)
    assert sentence.startswith("int_customers_rfm_scored.value_tier: 2 distinct values")
    assert "High-Value, Frequent Buyers, New/Regular, Dormant" in sentence


def test_unique_combination_names_the_columns():
    sentence = explain_test(UNIQUE_COMBINATION, 5)
    assert sentence.startswith("cluster_assignments: 5 combinations of (customer_id, algorithm)")


def test_a_tests_meta_explain_wins_and_gets_the_count():
    sentence = explain_test(SINGULAR_WITH_META, 4)
    assert sentence == "customer_messages: 4 personalized SMS are too long. Fix: shorten."


def test_a_singular_test_without_meta_names_its_file():
    sentence = explain_test(SINGULAR_PLAIN, 2, "Got 2 results")
    assert "customer_messages" in sentence
    assert "tests/dbt/assert_customer_messages__fit_one_sms.sql returned 2 rows" in sentence


def test_explain_results_covers_fail_warn_and_model_errors_but_not_passes():
    run_results = {
        "results": [
            {"unique_id": NOT_NULL["unique_id"], "status": "fail", "failures": 2, "message": ""},
            {"unique_id": RELATIONSHIPS["unique_id"], "status": "warn", "failures": 1},
            {"unique_id": RELATIONSHIPS["unique_id"], "status": "pass", "failures": 0},
            {
                "unique_id": "model.marketing_engine.fct_orders",
                "status": "error",
                "message": "Runtime Error in model fct_orders\n  Conversion Error",
            },
        ]
    }
    manifest = {
        "nodes": {
            **MANIFEST["nodes"],
            "model.marketing_engine.fct_orders": {
                "name": "fct_orders",
                "resource_type": "model",
                "original_file_path": "models/marts/core/fct_orders.sql",
                "depends_on": {"nodes": []},
            },
        }
    }
    explained = explain_results(run_results, manifest, RAW_COLUMNS)
    assert [e.status for e in explained] == ["fail", "warn", "error"]
    assert explained[0].sentence.startswith("fct_orders.customer_id: 2 rows have no")
    assert explained[2].sentence == (  # the cause, not only "Runtime Error in model x"
        "model fct_orders (models/marts/core/fct_orders.sql) could not run: Conversion Error"
    )


def test_top_reasons_fold_quoted_values_and_rank_by_count():
    reasons = [
        "unparseable ordered_at '2025-13-45' (expected one of var date_formats)",
        "unparseable ordered_at 'yesterday' (expected one of var date_formats)",
        "duplicate line_id (repeated row)",
        None,
    ]
    top = top_reasons(reasons, limit=2)
    assert top[0] == {
        "reason": "unparseable ordered_at '2025-13-45' (expected one of var date_formats)",
        "rows": 2,
    }
    assert top[1]["rows"] == 1
    assert len(top) == 2


def _assigned(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(len(ids))],
            "algorithm": "kmeans",
            "cluster_id": ids,
        }
    )


def test_cluster_origin_kept_new_noise_and_first_build():
    assigned = _assigned([0, 1, 5, -1])
    previous = assigned.assign(cluster_id=[0, 1, 1, 1])
    origin = cluster_id_origin(assigned, previous)
    assert origin.tolist() == ["kept", "kept", "new", "noise"]
    assert cluster_id_origin(assigned, None).tolist() == ["no previous build"] * 3 + ["noise"]


def test_cluster_origin_with_no_customer_in_common_keeps_nothing():
    assigned = _assigned([0, 1])
    previous = pd.DataFrame({"customer_id": ["X"], "algorithm": "kmeans", "cluster_id": [0]})
    assert cluster_id_origin(assigned, previous).tolist() == ["no previous build"] * 2


def test_cluster_origin_names_an_unreadable_previous_table():
    origin = cluster_id_origin(_assigned([0, -1]), None, "Binder Error: column missing")
    assert origin.tolist() == ["previous unreadable: Binder Error: column missing", "noise"]


def _warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the degraded cases the summary must tell."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.clv_model_parameters as select * from (values "
        "('bg_nbd', true, 'ok'), ('gamma_gamma', false, 'ABNORMAL_TERMINATION')) "
        "as t(model, is_converged, message)"
    )
    con.execute(
        "create table marts.marketing_messages as select * from (values "
        "('template', 'Ollama disabled in config'), ('template', 'Ollama disabled in config'), "
        "('ollama', null)) as t(generator, validation_reasons)"
    )
    con.execute(
        "create table marts.cluster_assignments as select * from (values "
        "('kmeans', 0, 'previous unreadable: Binder Error: no column x'), "
        "('kmeans', 1, 'previous unreadable: Binder Error: no column x'), "
        "('dbscan', 0, 'kept'), ('dbscan', 3, 'new'), ('dbscan', -1, 'noise')) "
        "as t(algorithm, cluster_id, cluster_id_origin)"
    )
    con.execute(
        "create table marts.fct_data_quality_issues as select * from (values "
        "('customers', 'birth_date', 'unparseable date'), "
        "('customers', 'birth_date', 'unparseable date'), "
        "('transactions', 'unit_price', 'implausible price')) "
        "as t(source_table, column_name, issue)"
    )
    return con


def test_degraded_results_tell_each_fallback_in_plain_words():
    degraded, notes = degraded_results(_warehouse(), "http://ollama.example:11434")
    assert any(
        "Customer lifetime value fell back to rules" in line
        and "Gamma-Gamma spend model fit did not converge (ABNORMAL_TERMINATION)" in line
        for line in degraded
    )
    assert (
        "2 of 3 marketing messages come from templates, because Ollama is disabled in config "
        "(messaging: use_ollama)." in degraded
    )
    assert any(
        line.startswith("Clustering (kmeans): the previous build's cluster ids could not be read")
        and "Binder Error: no column x" in line
        and "all 2 clusters" in line
        for line in degraded
    )
    assert any(
        line.startswith("Clustering (dbscan): 1 of 2 clusters kept their ids") for line in degraded
    )
    assert notes == []


def test_degraded_results_skip_tables_this_run_did_not_build():
    degraded, _ = degraded_results(_warehouse(), "h", fresh={"marketing_messages"})
    assert len(degraded) == 1 and "marketing messages" in degraded[0]


def test_data_quality_flags_are_counted_by_table_column_and_issue():
    table, flags = data_quality_flags(_warehouse())
    assert table == "marts.fct_data_quality_issues"
    assert flags[0] == {
        "source_table": "customers",
        "column_name": "birth_date",
        "issue": "unparseable date",
        "rows": 2,
    }
    assert sum(flag["rows"] for flag in flags) == 3
    con = duckdb.connect()
    assert data_quality_flags(con) == (None, None)  # no data-quality table: skipped quietly


def _quarantine(reasons: list[str], kept: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute(
        "create table staging.stg_shop__quarantined_rows as "
        "select 'transactions' as source_table, unnest(?) as quarantine_reason",
        [reasons],
    )
    con.execute(
        f"create table staging.stg_shop__order_lines as select range as i from range({kept})"
    )
    con.execute(
        "create table staging.base_shop__order_lines as select range as i "
        f"from range({kept + len(reasons)})"
    )
    return con


def test_reasons_left_out_of_the_top_three_are_counted_not_dropped():
    reasons = ["negative quantity"] * 2 + ["unknown customer_id"] * 2 + ["bad date"]
    reasons += ["zero price", "duplicate line_id"]  # 7 rows, 5 reasons
    counts = table_counts(_quarantine(reasons, kept=9), ["transactions"])[0]
    assert (counts.read, counts.kept, counts.quarantined) == (16, 9, 7)
    lines = render(BuildSummary("success", None, tables=[counts]))
    shown = sum(r["rows"] for r in counts.top_reasons)
    assert shown == 5
    assert (
        "      … and 2 more rows for 2 other reasons (query staging.stg_shop__quarantined_rows)"
    ) in lines


def test_no_more_line_when_every_reason_is_shown():
    counts = table_counts(_quarantine(["bad date"] * 3, kept=1), ["transactions"])[0]
    lines = render(BuildSummary("success", None, tables=[counts]))
    assert not [line for line in lines if "more row" in line]


def test_data_quality_flags_beyond_the_first_five_are_counted():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_data_quality_issues as "
        "select 'customers' as source_table, 'c' || (i % 7) as column_name, 'odd' as issue "
        "from range(7) t(i)"
    )
    table, flags = data_quality_flags(con)
    lines = render(BuildSummary("success", None, data_quality=flags, data_quality_table=table))
    assert "  Data-quality flags: 7 (in marts.fct_data_quality_issues)" in lines
    assert sum(1 for line in lines if line.startswith("    - 1 x customers.")) == 5
    assert (
        "    … and 2 more flags for 2 other issues (query marts.fct_data_quality_issues)" in lines
    )


QUARANTINE_SHARE = {
    "unique_id": "test.marketing_engine.quarantine_share_below_transactions.1",
    "name": "quarantine_share_below_transactions",
    "resource_type": "test",
    "test_metadata": {
        "name": "quarantine_share_below",
        "kwargs": {"source_table": "transactions", "threshold": 0.25},
    },
    "config": {"meta": {}, "severity": "warn"},
    "depends_on": {"nodes": []},
}


def test_the_quarantine_share_warning_shows_the_actual_share():
    run_results = {
        "results": [{"unique_id": QUARANTINE_SHARE["unique_id"], "status": "warn", "failures": 1}]
    }
    manifest = {"nodes": {QUARANTINE_SHARE["unique_id"]: QUARANTINE_SHARE}}
    explained = explain_results(run_results, manifest, RAW_COLUMNS, {"transactions": (7, 16)})
    assert "44% of its rows (7 of 16) were quarantined, above the 25%" in explained[0].sentence
    assert "var quarantine_warn_share" in explained[0].sentence
    assert "not published" not in explained[0].sentence


def test_the_quarantine_share_error_says_the_build_is_not_published_and_how_to_allow_it():
    node = {**QUARANTINE_SHARE, "config": {"meta": {}, "severity": "ERROR"}}
    node["test_metadata"] = {
        "name": "quarantine_share_below",
        "kwargs": {"source_table": "transactions", "threshold": 0.5},
    }
    run_results = {"results": [{"unique_id": node["unique_id"], "status": "fail", "failures": 1}]}
    manifest = {"nodes": {node["unique_id"]: node}}
    sentence = explain_results(run_results, manifest, RAW_COLUMNS, {"transactions": (957, 1046)})[
        0
    ].sentence
    assert "91% of its rows (957 of 1,046) were quarantined, above the 50% that var " in sentence
    assert "quarantine_error_share allows" in sentence
    assert "not published" in sentence
    assert "--vars '{quarantine_error_share: 1}'" in sentence


def test_a_latin1_file_error_names_the_file_and_says_to_save_as_utf8():
    # The message dbt-duckdb stores in run_results.json for a Latin-1 customers.csv.
    message = (
        "Runtime Error in model base_shop__customers (models/base_shop__customers.sql)\n"
        "  Invalid Input Error: CSV Error on Line: 2\n"
        "  Invalid unicode (byte sequence mismatch) detected. This file is not utf-8 encoded.\n"
        "  Possible Solution: Enable ignore errors (ignore_errors=true) to skip this row\n"
        "    file = /d/customers.csv\n"
        "    delimiter = , (Auto-Detected)\n"
    )
    run_results = {
        "results": [
            {"unique_id": "model.m.base_shop__customers", "status": "error", "message": message}
        ]
    }
    sentence = explain_results(run_results, {"nodes": {}}, RAW_COLUMNS)[0].sentence
    assert "/d/customers.csv (line 2) is not UTF-8 encoded. Fix: raw CSV files must be UTF-8" in (
        sentence
    )
    assert "ignore_errors" not in sentence  # DuckDB's hint does not apply to a dbt build


DBT_COMPILE_OUTPUT = [
    "\x1b[0m07:12:01  Running with dbt=1.11.0\n",
    "07:12:03  Encountered an error:\n",
    "Compilation Error in model stg_shop__order_lines (models/staging/stg.sql)\n",
    "  No usable transactions: /d/transactions.csv has a header but no data rows.\n",
    "\n",
    "07:12:03  Done.\n",
]


def test_a_compile_error_before_any_node_ran_is_the_summarys_error_line(tmp_path):
    error = error_from_output(DBT_COMPILE_OUTPUT)
    assert error.splitlines() == [
        "Compilation Error in model stg_shop__order_lines (models/staging/stg.sql)",
        "No usable transactions: /d/transactions.csv has a header but no data rows.",
    ]
    build_db = tmp_path / "build.duckdb"  # an older build's tables, left in the file
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema staging")
        con.execute("create table staging.base_shop__customers as select 1 as i")
        con.execute("create table staging.stg_shop__customers as select 1 as i")
    summary = summarize(build_db, tmp_path, PROJECT, "failed", None, error)
    assert summary.tables == []  # nothing this run built, so no stale counts
    assert [(t.status, t.sentence) for t in summary.tests] == [("error", error.replace("\n", " "))]
    lines = render(summary)
    assert lines[lines.index("  Errors:") + 1].endswith("has a header but no data rows.")
    assert error_from_output(["07:12:01  Running with dbt=1.11.0\n"]) is None


def test_clv_model_choice_and_sample_ratio_mismatch_are_told():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.clv_model_comparison as select * from (values "
        "('bg_nbd', 'BG/NBD', true, true, 'not chosen by holdout (no calibration customers): "
        "BG/NBD is used by default', null), "
        "('pareto_nbd', 'Pareto/NBD', false, false, null, 'ABNORMAL_TERMINATION')) "
        "as t(model, model_label, is_chosen, is_converged, note, message)"
    )
    con.execute(
        "create table marts.campaign_results as select * from (values "
        "('CMP1', 'Champions', 'OFR1', 0.3, 1e-9, true), "
        "('CMP1', 'Lost', 'OFR1', 0.1, 0.8, false)) "
        "as t(campaign_id, segment_name, offer_id, holdout_share, srm_p_value, has_srm)"
    )
    degraded, notes = degraded_results(con, "http://ollama.example:11434")
    assert any(
        line.startswith("CLV model choice: not chosen by holdout (no calibration customers)")
        for line in degraded
    )
    assert any("Pareto/NBD fit on the calibration period did not converge" in n for n in notes)
    srm = [line for line in degraded if "sample-ratio mismatch" in line]
    assert len(srm) == 1 and "CMP1 / Champions / OFR1" in srm[0] and "30.0%" in srm[0]
    con.execute(
        "update marts.clv_model_comparison set note = 'chosen by the lowest MAE' where is_chosen"
    )
    degraded, notes = degraded_results(con, "http://ollama.example:11434")
    assert not any(line.startswith("CLV model choice") for line in degraded)
    assert "CLV model: BG/NBD chosen by the lowest MAE." in notes


def test_a_threshold_given_as_a_var_is_read_from_the_runs_vars(tmp_path):
    """The manifest keeps a test argument unrendered ("{{ var('quarantine_warn_share') }}"):
    the sentence shows the run's value (the project's default unless --vars changed it)."""
    node = {**QUARANTINE_SHARE, "config": {"meta": {}, "severity": "WARN"}}
    node["test_metadata"] = {
        "name": "quarantine_share_below",
        "kwargs": {
            "source_table": "transactions",
            "threshold": "{{ var('quarantine_warn_share') }}",
        },
    }
    (tmp_path / "dbt_project.yml").write_text("vars:\n  quarantine_warn_share: 0.02\n")
    manifest = {"nodes": {node["unique_id"]: node}}
    for given, shown in (({}, "2%"), ({"quarantine_warn_share": 0.05}, "5%")):
        run_results = {
            "args": {"vars": given},
            "results": [{"unique_id": node["unique_id"], "status": "warn", "failures": 1}],
        }
        values = run_var_values(tmp_path, run_results)
        (explained,) = explain_results(
            run_results, manifest, RAW_COLUMNS, {"transactions": (7, 16)}, values
        )
        assert f"above the {shown} that var quarantine_warn_share allows" in explained.sentence
