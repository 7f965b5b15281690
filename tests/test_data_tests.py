"""SQL data tests: lint rules and the DuckDB runner."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dataops.data_tests import DataTest, lint, load_data_tests, run_on_duckdb
from dataops.project import PROJECT_ROOT

TABLES = {"data_app_conn_stats", "inter_model_flowlogs"}


def test_shipped_data_tests_lint_clean(project) -> None:
    tests = load_data_tests(PROJECT_ROOT / "data_tests")
    assert len(tests) >= 5
    assert lint(tests, set(project.contracts)) == []
    assert {"data_app_conn_stats", "inter_model_flowlogs"} <= set().union(
        *(t.tables() for t in tests)
    )


def test_lint_names_unparsable_sql_and_unknown_tables() -> None:
    broken = DataTest("broken", Path("broken.sql"), "SELECT FROM WHERE (")
    unknown = DataTest("unknown", Path("unknown.sql"), "SELECT * FROM no_such_table")
    two = DataTest("two", Path("two.sql"), "SELECT 1; SELECT 2")
    problems = lint([broken, unknown, two], TABLES)
    assert problems[0].startswith("broken.sql: invalid Trino SQL")
    assert (
        problems[1]
        == "unknown.sql: reads no_such_table which has no contract; fix: use a table from contracts/"
    )
    assert problems[2].startswith("two.sql: must be exactly one SELECT")


def test_runner_reports_offending_rows_and_query_errors(tmp_path) -> None:
    location = tmp_path / "data_app_conn_stats" / "dt=2024-05-06"
    location.mkdir(parents=True)
    duckdb.sql(
        "COPY (SELECT '10.0.0.1' AS source_ip_address, 443 AS destination_port, "
        "-1::BIGINT AS total_packets_sent) TO '" + str(location / "part.parquet") + "'"
    )
    negative = DataTest(
        "neg", Path("neg.sql"), "SELECT * FROM data_app_conn_stats WHERE total_packets_sent < 0"
    )
    bad_column = DataTest("bad", Path("bad.sql"), "SELECT nope FROM data_app_conn_stats")
    results = run_on_duckdb(
        [negative, bad_column], {"data_app_conn_stats": tmp_path / "data_app_conn_stats"}
    )
    assert (results[0].passed, results[0].offending_rows) == (False, 1)
    assert not results[1].passed
    assert "nope" in results[1].error
