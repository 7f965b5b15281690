"""The contract check of a table's Parquet files: types, missing and extra columns, nulls."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dataops.contract_check import check_table, glue_type


def _write(location: Path, select: str) -> Path:
    partition = location / "dt=2024-05-06"
    partition.mkdir(parents=True)
    duckdb.sql(f"COPY ({select}) TO '{partition / 'part.parquet'}' (FORMAT parquet)")
    return location


def test_a_contract_mismatch_fails_naming_the_column(project, tmp_path) -> None:
    mart = _write(
        tmp_path / "mart",
        "SELECT '1.2.3.4' AS source_ip_address, 'x' AS destination_port, 1 AS extra",
    )
    problems = check_table(project.contracts["data_app_conn_stats"], mart)
    assert "data_app_conn_stats.destination_port: type string, contract says int" in problems
    assert "data_app_conn_stats.total_bytes_sent: missing from the output" in problems
    assert "data_app_conn_stats.extra: in the output but not in the contract" in problems


def test_a_null_in_a_non_nullable_column_fails(project, tmp_path) -> None:
    quarantine = _write(
        tmp_path / "q",
        "SELECT 'f' AS source_file, 2::BIGINT AS line_number, NULL::VARCHAR AS raw_line, "
        "'wrong_field_count' AS reason, 'd' AS detail, NULL::BIGINT AS object_bytes, "
        "TIMESTAMP '2024-05-06 10:00:00' AS ingested_at, 'b' AS ingest_batch_id",
    )
    problems = check_table(project.contracts["quarantine_vpcflowlogs"], quarantine)
    assert problems == ["quarantine_vpcflowlogs.raw_line: 1 null value(s) in a non-nullable column"]


def test_duckdb_types_read_as_the_glue_types_contracts_spell() -> None:
    assert [glue_type(t) for t in ("VARCHAR", "INTEGER", "BIGINT", "DATE", "TIMESTAMP")] == [
        "string",
        "int",
        "bigint",
        "date",
        "timestamp",
    ]
    assert glue_type("MAP(VARCHAR, VARCHAR)") == "map<string,string>"
    assert glue_type("DECIMAL(10,2)") == "decimal(10,2)"
