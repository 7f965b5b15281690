"""run-local in process on the shared SparkSession: incremental runs, contract failures."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dataops.local_runner import run_workflow, summary
from dataops.sample_data import generate

pytestmark = pytest.mark.xdist_group("spark")


def _rows(warehouse: Path, table: str) -> int:
    pattern = str(warehouse / table / "**" / "*.parquet")
    return duckdb.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()[0][0]


def _mart(warehouse: Path) -> list[tuple]:
    pattern = str(warehouse / "data_app_conn_stats" / "**" / "*.parquet")
    return duckdb.sql(
        f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true) ORDER BY ALL"
    ).fetchall()


@pytest.fixture(scope="module")
def first_run(spark, project, tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    raw, warehouse = root / "raw", root / "warehouse"
    generate(raw, records=1_500, seed=11, days=2)
    report = run_workflow(
        spark, project, raw, warehouse, "batch-1", datasets=["vpcflow"], quiet=True
    )
    return raw, warehouse, report


def test_first_run_passes_every_check(first_run) -> None:
    _, _, report = first_run
    assert report.passed, summary(report)
    staging = report.steps[0]
    assert staging.rows_in == 1_500 == staging.rows_out + staging.rows_quarantined
    flows = [step for step in report.steps if step.dataset == "vpcflow"]
    assert [step.job for step in flows] == ["staging", "intermediate", "mart"]


def test_rerun_on_the_same_input_adds_zero_rows(spark, project, first_run) -> None:
    raw, warehouse, _ = first_run
    tables = [
        "staging_raw_vpcflowlogs",
        "inter_model_flowlogs",
        "data_app_conn_stats",
        "quarantine_vpcflowlogs",
    ]
    before = {table: _rows(warehouse, table) for table in tables}
    mart_before = _mart(warehouse)
    report = run_workflow(
        spark, project, raw, warehouse, "batch-2", datasets=["vpcflow"], quiet=True
    )
    assert report.passed, summary(report)
    assert all(step.rows_in == 0 for step in report.steps)
    assert {table: _rows(warehouse, table) for table in tables} == before
    assert _mart(warehouse) == mart_before


def test_new_files_are_processed_alone_and_mart_partitions_recomputed(
    spark, project, first_run, tmp_path
) -> None:
    raw, warehouse, _ = first_run
    # Delivered on a later day: the earlier days are complete (see jobkit.raw_source).
    extra = generate(tmp_path / "extra", records=300, seed=12, days=1, start=date(2024, 5, 9))
    for path in extra.files:
        target = raw / path.relative_to(tmp_path / "extra").parent / f"late-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    staged_before = _rows(warehouse, "staging_raw_vpcflowlogs")
    report = run_workflow(
        spark, project, raw, warehouse, "batch-3", datasets=["vpcflow"], quiet=True
    )
    assert report.passed, summary(report)
    assert report.steps[0].rows_in == 300
    assert _rows(warehouse, "staging_raw_vpcflowlogs") == staged_before + report.steps[0].rows_out
    grain = [(row[-1], row[0], row[1]) for row in _mart(warehouse)]
    assert len(grain) == len(set(grain))


def test_a_contract_mismatch_fails_naming_the_column(spark, project, tmp_path) -> None:
    from dataops.contract_check import check_table

    frame = spark.sql("SELECT '1.2.3.4' AS source_ip_address, 'x' AS destination_port")
    frame.write.parquet(str(tmp_path / "mart"))
    problems = check_table(project.contracts["data_app_conn_stats"], tmp_path / "mart")
    assert "data_app_conn_stats.destination_port: type string, contract says int" in problems
    assert "data_app_conn_stats.total_bytes_sent: missing from the output" in problems


def test_a_null_in_a_non_nullable_column_fails(spark, project, tmp_path) -> None:
    from dataops.contract_check import check_table

    contract = project.contracts["quarantine_vpcflowlogs"]
    frame = spark.sql(
        "SELECT 'f' AS source_file, 2L AS line_number, CAST(NULL AS STRING) AS raw_line, "
        "'wrong_field_count' AS reason, 'd' AS detail, CAST(NULL AS BIGINT) AS object_bytes, "
        "CAST(NULL AS TIMESTAMP) AS ingested_at, 'b' AS ingest_batch_id, CAST(NULL AS DATE) AS dt"
    )
    frame.write.parquet(str(tmp_path / "q"))
    problems = check_table(contract, tmp_path / "q")
    assert "quarantine_vpcflowlogs.raw_line: 1 null value(s) in a non-nullable column" in problems
