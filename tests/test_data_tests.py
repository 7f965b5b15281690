"""SQL data tests: lint rules and the DuckDB runner."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dataops.data_tests import DataTest, lint, load_data_tests, run_on_duckdb

TABLES = {"data_app_conn_stats", "inter_model_flowlogs"}


def test_shipped_data_tests_lint_clean(project) -> None:
    for dataset in project.datasets.values():
        tests = load_data_tests(dataset.data_tests_dir)
        assert len(tests) >= 5, dataset.name
        assert lint(tests, set(dataset.contracts)) == []
        assert set(dataset.contracts) >= set().union(*(t.tables() for t in tests))


def test_lint_names_unparsable_sql_and_unknown_tables() -> None:
    broken = DataTest("broken", Path("broken.sql"), "SELECT FROM WHERE (")
    unknown = DataTest("unknown", Path("flows/unknown.sql"), "SELECT * FROM no_such_table")
    two = DataTest("two", Path("two.sql"), "SELECT 1; SELECT 2")
    problems = lint([broken, unknown, two], TABLES)
    assert problems[0].startswith("broken.sql: invalid Trino SQL")
    assert problems[1] == (
        "flows/unknown.sql: reads no_such_table which has no contract in its data set; "
        "fix: use a table of contracts/flows/"
    )
    assert problems[2].startswith("two.sql: must be exactly one SELECT")


def test_runner_reports_offending_rows_query_errors_and_reads_an_unwritten_table_as_empty(
    tmp_path, project
) -> None:
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
    empty = DataTest("empty", Path("empty.sql"), "SELECT * FROM inter_model_flowlogs")
    results = run_on_duckdb(
        [negative, bad_column, empty],
        {
            "data_app_conn_stats": tmp_path / "data_app_conn_stats",
            "inter_model_flowlogs": tmp_path / "inter_model_flowlogs",
        },
        project.contracts,
    )
    assert (results[0].passed, results[0].offending_rows) == (False, 1)
    assert not results[1].passed
    assert "nope" in results[1].error
    assert (results[2].passed, results[2].error) == (True, "")
