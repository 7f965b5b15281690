"""The integration run's pieces that need no AWS: SQL, comparison, guards, report, usage errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlglot

from dataops import cli
from dataops.integration.athena import qualify
from dataops.integration.cleanup import dataset_locations, run_locations
from dataops.integration.mart_check import compare, mart_query
from dataops.integration.report import (
    CheckFailed,
    CheckResult,
    Outcome,
    passed,
    results_table,
    write_junit,
)
from dataops.integration.resources import Location, Resources
from dataops.integration.seeding import (
    TEST_DAYS,
    TEST_YEAR,
    IntegrationRun,
    generate_test_data,
    seeding_problems,
)
from dataops.project import Project
from dataops.samples import generator_for
from jobkit.ledger import root_key

RESOURCES = Resources(
    raw_bucket="raw",
    curated_bucket="curated",
    quarantine_bucket="quarantine",
    athena_results_bucket="results",
    glue_database="db",
    athena_workgroup="wg",
    state_machines={"vpcflow": "arn:aws:states:eu-west-1:123456789012:stateMachine:wf"},
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
    for dataset in project.datasets.values():
        for path in sorted(dataset.data_tests_dir.glob("*.sql")):
            qualified = qualify(path.read_text(encoding="utf-8"), "flowlogs_dev")
            tree = sqlglot.parse_one(qualified, read="trino")
            assert {table.db for table in tree.find_all(sqlglot.exp.Table)} - {""} == {
                "flowlogs_dev"
            }


def test_every_generators_test_data_may_be_seeded(project: Project, tmp_path: Path) -> None:
    for dataset in project.datasets.values():
        generate = generator_for(dataset)
        if generate is None:
            continue
        data = generate_test_data(generate, tmp_path / dataset.name)

        assert seeding_problems(dataset, data, tmp_path / dataset.name) == []
        assert data.expected_rows()
        for table, rows in data.expected_rows().items():
            assert dataset.contracts[table].layer == "mart"
            assert {row["dt"].year for row in rows} == {TEST_YEAR}


def test_test_data_outside_the_test_year_or_the_raw_prefix_is_never_seeded(
    project: Project, tmp_path: Path
) -> None:
    dataset = project.datasets["vpcflow"]
    elsewhere = dataclasses.replace(
        dataset,
        spec=dataset.spec.model_copy(
            update={"raw": dataset.spec.raw.model_copy(update={"prefix": "Other/"})}
        ),
    )
    real = generator_for(dataset)(tmp_path, 60, 1, days=1, start=dt.date(2002, 1, 1))

    problems = seeding_problems(dataset, real, tmp_path)

    assert any("is delivered on 2002-01-01, not in 2001" in problem for problem in problems)
    assert any("data_app_conn_stats is predicted in dt=2002-01-01" in p for p in problems)
    assert any(
        "outside the raw prefix Other/" in p for p in seeding_problems(elsewhere, real, tmp_path)
    )


def test_cleanup_locations_are_the_runs_prefix_and_each_tables_test_partitions(
    project: Project,
) -> None:
    run = IntegrationRun("r1")
    dataset = project.datasets["vpcflow"]

    locations = run_locations(run, RESOURCES) + dataset_locations(run, RESOURCES, dataset)

    assert Location("raw", "integration-tests/r1/") in locations
    assert Location("results", "integration-tests/r1/") in locations
    assert Location("quarantine", "quarantine_vpcflowlogs/dt=2001-") in locations
    for table in set(dataset.contracts) - {"quarantine_vpcflowlogs"}:
        assert Location("curated", f"{table}/dt=2001-") in locations
    root = root_key("s3://raw/integration-tests/r1/AWSLogs/")
    assert Location("curated", f"_state/vpcflow/raw/{root}/") in locations
    for job in dataset.job_graph.names:
        assert Location("curated", f"_state/vpcflow/queues/{job}/{root}/") in locations
        assert Location("curated", f"_state/vpcflow/work/{job}/integration-r1/") in locations
    assert len(locations) == 2 + len(dataset.contracts) + 1 + 2 * len(dataset.job_graph.names)


@pytest.mark.parametrize("run_id", ["", "../r1", "r1/x"])
def test_cleanup_refuses_anything_but_one_runs_prefix(project: Project, run_id: str) -> None:
    run = IntegrationRun(run_id)

    with pytest.raises(ValueError, match="refusing to delete"):
        run_locations(run, RESOURCES)
    with pytest.raises(ValueError, match="refusing to delete"):
        dataset_locations(run, RESOURCES, project.datasets["vpcflow"])


def test_mart_comparison_parses_athena_strings_by_contract_type(
    project: Project, tmp_path: Path
) -> None:
    dataset = project.datasets["vpcflow"]
    data = generate_test_data(generator_for(dataset), tmp_path)
    ((table, expected),) = data.expected_rows().items()
    mart = dataset.contracts[table]
    rows = [tuple(str(row[c.name]) for c in mart.columns) for row in expected]

    assert compare(mart, expected, rows) == f"{len(expected)} rows as predicted"
    with pytest.raises(CheckFailed, match="1 difference"):
        compare(mart, expected, [*rows, rows[0]])


def test_mart_comparison_fails_when_the_prediction_has_other_columns(project: Project) -> None:
    mart = project.contracts["data_app_conn_stats"]

    with pytest.raises(CheckFailed, match="fix: keep the data set's sample data generator"):
        compare(mart, [{"dt": dt.date(2001, 1, 2), "other": 1}], [])


def test_mart_query_selects_the_contracts_columns_of_the_test_year(project: Project) -> None:
    mart = project.contracts["data_app_conn_stats"]

    sql = mart_query(mart, "db", *TEST_DAYS)

    tree = sqlglot.parse_one(sql, read="trino")
    assert [column.name for column in tree.selects] == [c.name for c in mart.columns]
    assert sql.endswith(
        "WHERE dt BETWEEN CAST('2001-01-01' AS DATE) AND CAST('2001-12-31' AS DATE)"
    )


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
