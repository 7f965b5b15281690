"""The integration run's pieces that need no AWS: SQL, comparison, guards, report, usage errors."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlglot

from dataops import cli
from dataops.integration.athena import qualify
from dataops.integration.cleanup import Location, run_locations
from dataops.integration.mart_check import compare, mart_query, predicted_mart
from dataops.integration.report import (
    CheckFailed,
    CheckResult,
    Outcome,
    passed,
    results_table,
    write_junit,
)
from dataops.integration.resources import Resources
from dataops.integration.seeding import (
    TEST_PARTITIONS_BEFORE,
    IntegrationRun,
    generate_test_data,
    partition_dates,
)
from dataops.project import Project

RESOURCES = Resources(
    raw_bucket="raw",
    curated_bucket="curated",
    quarantine_bucket="quarantine",
    athena_results_bucket="results",
    glue_database="db",
    state_machine_arn="arn:aws:states:eu-west-1:123456789012:stateMachine:wf",
    athena_workgroup="wg",
)


def test_qualify_prefixes_bare_tables_but_not_ctes_or_qualified_ones() -> None:
    sql = """
        WITH recent AS (SELECT * FROM inter_model_flowlogs WHERE dt > DATE '2001-01-01')
        SELECT r.dt FROM recent AS r JOIN other.data_app_conn_stats AS m ON r.dt = m.dt
        WHERE r.dt IN (SELECT dt FROM quarantine_vpcflowlogs)
    """

    qualified = qualify(sql, "flowlogs_dev")

    tables = {
        (table.db, table.name)
        for table in sqlglot.parse_one(qualified, read="trino").find_all(sqlglot.exp.Table)
    }
    assert tables == {
        ("flowlogs_dev", "inter_model_flowlogs"),
        ("", "recent"),
        ("other", "data_app_conn_stats"),
        ("flowlogs_dev", "quarantine_vpcflowlogs"),
    }


def test_every_data_test_qualifies_to_valid_trino(project: Project) -> None:
    for path in sorted((project.root / "data_tests").glob("*.sql")):
        qualified = qualify(path.read_text(encoding="utf-8"), "flowlogs_dev")
        tree = sqlglot.parse_one(qualified, read="trino")
        assert {table.db for table in tree.find_all(sqlglot.exp.Table)} - {""} == {"flowlogs_dev"}


def test_test_partitions_are_far_in_the_past_and_cover_the_predicted_mart(tmp_path: Path) -> None:
    data = generate_test_data(tmp_path)

    dates = partition_dates(data)

    assert dates == tuple(sorted(set(dates)))
    assert dates[-1] < TEST_PARTITIONS_BEFORE
    assert {row["dt"] for row in data.expected_conn_stats()} <= set(dates)


def test_cleanup_locations_are_the_runs_prefix_and_each_tables_test_partitions(
    project: Project,
) -> None:
    run = IntegrationRun("r1", (dt.date(2001, 1, 1), dt.date(2001, 1, 2)))

    locations = run_locations(run, RESOURCES, project.contracts)

    assert Location("raw", "integration-tests/r1/") in locations
    assert Location("results", "integration-tests/r1/") in locations
    assert Location("quarantine", "quarantine_vpcflowlogs/dt=2001-01-02/") in locations
    for table in set(project.contracts) - {"quarantine_vpcflowlogs"}:
        assert Location("curated", f"{table}/dt=2001-01-01/") in locations
    assert len(locations) == 2 + 2 * len(project.contracts)


@pytest.mark.parametrize(
    "run",
    [
        IntegrationRun("", (dt.date(2001, 1, 1),)),
        IntegrationRun("r1", (dt.date(2001, 1, 1), dt.date(2024, 5, 6))),
    ],
)
def test_cleanup_refuses_anything_that_may_be_real_data(project: Project, run) -> None:
    with pytest.raises(ValueError, match="refusing to delete"):
        run_locations(run, RESOURCES, project.contracts)


def test_mart_comparison_parses_athena_strings_by_contract_type(
    project: Project, tmp_path: Path
) -> None:
    expected = generate_test_data(tmp_path).expected_conn_stats()
    mart = predicted_mart(project.contracts, expected)
    rows = [tuple(str(row[c.name]) for c in mart.columns) for row in expected]

    assert compare(mart, expected, rows) == f"{len(expected)} rows as predicted"
    with pytest.raises(CheckFailed, match="1 difference"):
        compare(mart, expected, [*rows, rows[0]])


def test_mart_query_selects_the_contracts_columns_of_the_given_dates(project: Project) -> None:
    mart = project.contracts["data_app_conn_stats"]

    sql = mart_query(mart, "db", [dt.date(2001, 1, 1)])

    tree = sqlglot.parse_one(sql, read="trino")
    assert [column.name for column in tree.selects] == [c.name for c in mart.columns]
    assert "WHERE dt IN (CAST('2001-01-01' AS DATE))" in sql


def test_results_table_and_verdict() -> None:
    results = [
        CheckResult("resources", Outcome.PASSED, 1.5, "found"),
        CheckResult("workflow", Outcome.FAILED, 2.0, "FAILED: boom", ("arn:x",)),
        CheckResult("mart", Outcome.SKIPPED, 0.0, "workflow failed"),
    ]

    table = results_table(results)

    assert table.splitlines()[-1] == "1 passed, 1 failed, 1 skipped"
    assert "arn:x" in table
    assert not passed(results)
    assert not passed([CheckResult("mart", Outcome.SKIPPED, 0.0)])
    assert passed(results[:1])


def test_junit_has_one_testcase_a_check(tmp_path: Path) -> None:
    results = [
        CheckResult("resources", Outcome.PASSED, 1.5, "found"),
        CheckResult("workflow", Outcome.FAILED, 2.0, "FAILED: boom", ("arn:x",)),
        CheckResult("mart", Outcome.SKIPPED, 0.0, "workflow failed"),
    ]

    write_junit(tmp_path / "out" / "report.xml", "integration-test.dev", results)

    suite = ET.parse(tmp_path / "out" / "report.xml").getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "testsuite",
        "3",
        "1",
        "1",
    )
    cases = list(suite)
    assert [case.get("name") for case in cases] == ["resources", "workflow", "mart"]
    assert cases[1].find("failure").get("message") == "FAILED: boom"
    assert cases[1].find("failure").text == "FAILED: boom\narn:x"
    assert cases[2].find("skipped") is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "nope"], "unknown environment 'nope'; valid: dev, staging, prod"),
        (["--env", "prod", "--check", "integration"], "'prod' is smoke-only"),
        (["--env", "dev", "--timeout-seconds", "-1"], "--timeout-seconds: must not be negative"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], message: str, capsys) -> None:
    assert cli.main(["integration-test", *argv]) == 2

    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "; fix: " in err
