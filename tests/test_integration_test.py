"""The post-deploy integration run against moto: S3, SSM, Step Functions, Glue and Athena.

Moto runs nothing: a Step Functions execution stays RUNNING and an Athena query returns no
rows. ``FakeAws`` plays the deployed data workflow with moto's own levers, and only when the
product code sleeps (its clock is fake, so no test really waits): it sets the execution's final
status in the Step Functions backend (and writes the output partitions a real run would),
fails chosen Athena queries in the Athena backend, and queues chosen query results on
``query_results_queue``. Athena queries are held RUNNING for one poll through moto's state
manager, so every query gives the fake one sleep to act in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager
from moto.stepfunctions.models import stepfunctions_backends

from dataops import cli
from dataops.integration.clients import Clients, build_clients, role_arn_for
from dataops.integration.pacing import Pacing
from dataops.integration.report import Outcome, passed
from dataops.integration.runner import RunSettings, run_checks
from dataops.integration.seeding import (
    TEST_PREFIX_ROOT,
    generate_test_data,
    partition_dates,
)
from dataops.integration.workflow import WaitLimits
from dataops.project import Project
from dataops.resource_names import (
    PublishedResource,
    integration_test_role_name,
    parameter_name,
)

REGION = "eu-west-1"
ATHENA_MODEL = "athena::execution"
NAMES = {
    PublishedResource.RAW_BUCKET: "test-raw",
    PublishedResource.CURATED_BUCKET: "test-curated",
    PublishedResource.QUARANTINE_BUCKET: "test-quarantine",
    PublishedResource.ATHENA_RESULTS_BUCKET: "test-athena-results",
    PublishedResource.GLUE_DATABASE: "flowlogs_test",
    PublishedResource.ATHENA_WORKGROUP: "flowlogs-test",
}
BUCKETS = tuple(
    NAMES[resource]
    for resource in (
        PublishedResource.RAW_BUCKET,
        PublishedResource.CURATED_BUCKET,
        PublishedResource.QUARANTINE_BUCKET,
        PublishedResource.ATHENA_RESULTS_BUCKET,
    )
)
QUARANTINE = "quarantine_vpcflowlogs"
MART = "data_app_conn_stats"
# Objects of real data that no run may touch.
REAL_OBJECTS = (
    (
        NAMES[PublishedResource.RAW_BUCKET],
        "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/06/a.log.gz",
    ),
    (NAMES[PublishedResource.CURATED_BUCKET], f"{MART}/dt=2024-05-06/part-0.parquet"),
    (NAMES[PublishedResource.CURATED_BUCKET], f"{MART}/dt=2000-12-30/part-0.parquet"),
    (NAMES[PublishedResource.QUARANTINE_BUCKET], f"{QUARANTINE}/dt=2024-05-06/part-0.parquet"),
)


class FakeAws:
    """The deployed environment as moto holds it, plus the levers a test pulls."""

    def __init__(self, clients: Clients, project: Project, dates: tuple[dt.date, ...]) -> None:
        self.clients = clients
        self.project = project
        self.dates = dates
        self.now = 0.0
        self.sleeps: list[float] = []
        self.log: list[str] = []
        self.workflow_ends_as: str | None = "SUCCEEDED"
        self.workflow_vanishes = False
        self.failing_queries: list[str] = []
        self.answers: list[tuple[str, list[str], list[list[str | None]]]] = []
        self._handled_queries: set[str] = set()

    @property
    def pacing(self) -> Pacing:
        return Pacing(clock=lambda: self.now, sleep=self.sleep, echo=self.log.append)

    def answer(self, fragment: str, header: list[str], rows: list[list[str | None]]) -> None:
        """Queries containing ``fragment`` return ``rows`` (after Athena's header row)."""
        self.answers.append((fragment, header, rows))

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds
        self._advance_workflow()
        self._advance_queries()

    def _advance_workflow(self) -> None:
        for machine in stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines:
            for execution in list(machine.executions):
                if execution.status != "RUNNING":
                    continue
                if self.workflow_vanishes:
                    machine.executions.remove(execution)
                elif self.workflow_ends_as:
                    self._write_outputs()
                    execution.status = self.workflow_ends_as
                    execution.stop_date = dt.datetime.now(dt.UTC)
                    if self.workflow_ends_as != "SUCCEEDED":
                        execution.error = "States.TaskFailed"
                        execution.cause = "Glue job staging failed"

    def _write_outputs(self) -> None:
        """What a real run leaves: objects in every table's test partitions."""
        for table, contract in self.project.contracts.items():
            bucket = NAMES[
                PublishedResource.QUARANTINE_BUCKET
                if table == QUARANTINE
                else PublishedResource.CURATED_BUCKET
            ]
            for day in self.dates:
                key = f"{table}/{contract.partition_keys[0]}={day}/part-0.parquet"
                self.clients.s3.put_object(Bucket=bucket, Key=key, Body=b"PAR1")

    def _advance_queries(self) -> None:
        backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
        for query_id, execution in backend.executions.items():
            if query_id in self._handled_queries:
                continue
            self._handled_queries.add(query_id)
            if any(fragment in execution.query for fragment in self.failing_queries):
                execution.status = "FAILED"
                continue
            for fragment, header, rows in self.answers:
                if fragment in execution.query:
                    data = [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]}
                            for row in [header, *rows]]  # fmt: skip
                    info = [{"Name": name, "Label": name, "Type": "varchar"} for name in header]
                    backend.query_results_queue.append(QueryResults(data, info))
                    break

    def executions(self) -> list:
        return [
            execution
            for machine in stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines
            for execution in machine.executions
        ]

    def queries(self) -> list[str]:
        return [e.query for e in athena_backends[DEFAULT_ACCOUNT_ID][REGION].executions.values()]

    def keys(self, bucket: str) -> set[str]:
        pages = self.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


def mart_rows(project: Project, tmp_path: Path) -> tuple[list[str], list[list[str]]]:
    """The predicted mart as Athena would return it: a header and rows of strings."""
    header = [column.name for column in project.contracts[MART].columns]
    expected = generate_test_data(tmp_path / "expected").expected_conn_stats()
    return header, [[str(row[name]) for name in header] for row in expected]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        state_manager.set_transition(ATHENA_MODEL, {"progression": "manual", "times": 1})
        try:
            yield
        finally:
            state_manager.unset_transition(ATHENA_MODEL)


def deploy(project: Project, environment: str) -> Clients:
    """Create what the data-workflow stack would, and publish the names in SSM."""
    clients = Clients(
        s3=boto3.client("s3", region_name=REGION),
        ssm=boto3.client("ssm", region_name=REGION),
        sfn=boto3.client("stepfunctions", region_name=REGION),
        athena=boto3.client("athena", region_name=REGION),
        glue=boto3.client("glue", region_name=REGION),
    )
    for bucket in BUCKETS:
        clients.s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    database = NAMES[PublishedResource.GLUE_DATABASE]
    clients.glue.create_database(DatabaseInput={"Name": database})
    for table in project.contracts:
        clients.glue.create_table(DatabaseName=database, TableInput={"Name": table})
    clients.athena.create_work_group(Name=NAMES[PublishedResource.ATHENA_WORKGROUP])
    machine = clients.sfn.create_state_machine(
        name="flowlogs-test-workflow",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/workflow",
    )
    published = {**NAMES, PublishedResource.STATE_MACHINE_ARN: machine["stateMachineArn"]}
    for resource, value in published.items():
        clients.ssm.put_parameter(
            Name=parameter_name(project.config.project, environment, resource),
            Value=value,
            Type="String",
        )
    for bucket, key in REAL_OBJECTS:
        clients.s3.put_object(Bucket=bucket, Key=key, Body=b"real")
    return clients


@pytest.fixture
def fake(aws, project: Project, tmp_path: Path) -> FakeAws:
    clients = deploy(project, "staging")
    dates = partition_dates(generate_test_data(tmp_path / "dates"))
    world = FakeAws(clients, project, dates)
    world.answer("WHERE dt IN", *mart_rows(project, tmp_path))
    return world


def settings(
    project: Project, check: str = "integration-with-data-tests", timeout: float = 120.0
) -> RunSettings:
    return RunSettings(
        environment=project.config.environment("staging"),
        check=check,
        data_tests=check == "integration-with-data-tests",
        workflow=WaitLimits(timeout_seconds=timeout, poll_seconds=10.0),
        queries=WaitLimits(timeout_seconds=60.0, poll_seconds=1.0),
    )


def run(fake: FakeAws, project: Project, run_id: str = "run-1", **kwargs):
    return run_checks(fake.clients, project, settings(project, **kwargs), fake.pacing, run_id)


def by_name(results) -> dict:
    return {result.name: result for result in results}


def assert_cleaned_up(fake: FakeAws) -> None:
    """No test object is left anywhere; every real object is still there."""
    for bucket in (
        NAMES[PublishedResource.RAW_BUCKET],
        NAMES[PublishedResource.ATHENA_RESULTS_BUCKET],
    ):
        assert not {k for k in fake.keys(bucket) if k.startswith(TEST_PREFIX_ROOT)}
    test_partitions = {f"dt={day}" for day in fake.dates}
    for bucket in (
        NAMES[PublishedResource.CURATED_BUCKET],
        NAMES[PublishedResource.QUARANTINE_BUCKET],
    ):
        assert not {k for k in fake.keys(bucket) if k.split("/")[1] in test_partitions}
    for bucket, key in REAL_OBJECTS:
        assert key in fake.keys(bucket)


def test_success_runs_every_check_and_cleans_up(fake: FakeAws, project: Project) -> None:
    results = run(fake, project)

    checks = by_name(results)
    assert passed(results), "\n".join(fake.log)
    assert [r.name for r in results][:4] == ["resources", "seed", "workflow", f"mart {MART}"]
    assert {
        f"data test {path.stem}" for path in (project.root / "data_tests").glob("*.sql")
    } <= set(checks)
    assert checks["cleanup"].outcome is Outcome.PASSED
    assert checks[f"mart {MART}"].detail.endswith("rows as predicted")
    (execution,) = fake.executions()
    raw_prefix = json.loads(execution.execution_input)["raw_prefix"]
    assert raw_prefix == f"{TEST_PREFIX_ROOT}run-1/AWSLogs/"
    assert execution.name == "integration-run-1"
    database = NAMES[PublishedResource.GLUE_DATABASE]
    assert all(f"{database}." in query for query in fake.queries())
    assert all(
        e.workgroup.name == NAMES[PublishedResource.ATHENA_WORKGROUP]
        for e in athena_backends[DEFAULT_ACCOUNT_ID][REGION].executions.values()
    )
    assert any("workflow: SUCCEEDED" in line for line in fake.log)
    assert_cleaned_up(fake)


def test_seeded_objects_are_under_the_run_prefix_while_the_workflow_runs(
    fake: FakeAws, project: Project
) -> None:
    seen: list[set[str]] = []
    original = fake._advance_workflow

    def look_then_advance() -> None:
        seen.append(fake.keys(NAMES[PublishedResource.RAW_BUCKET]))
        original()

    fake._advance_workflow = look_then_advance
    assert passed(run(fake, project, check="integration"))
    seeded = seen[0] - {key for _, key in REAL_OBJECTS}
    assert seeded
    assert all(key.startswith(f"{TEST_PREFIX_ROOT}run-1/AWSLogs/") for key in seeded)
    assert all(f"/{day:%Y/%m/%d}/" in " ".join(seeded) for day in fake.dates[1:-1])


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_failed_workflow_fails_and_still_cleans_up(
    fake: FakeAws, project: Project, status: str
) -> None:
    fake.workflow_ends_as = status

    results = run(fake, project)

    checks = by_name(results)
    assert not passed(results)
    assert checks["workflow"].outcome is Outcome.FAILED
    assert checks["workflow"].detail.startswith(status)
    assert "Glue job staging failed" in checks["workflow"].detail
    assert checks[f"mart {MART}"].outcome is Outcome.SKIPPED
    assert checks["data tests"].outcome is Outcome.SKIPPED
    assert checks["cleanup"].outcome is Outcome.PASSED
    assert fake.queries() == []
    assert_cleaned_up(fake)


def test_a_workflow_still_running_at_the_deadline_fails_and_is_stopped(
    fake: FakeAws, project: Project
) -> None:
    fake.workflow_ends_as = None

    results = run(fake, project, timeout=45.0)

    checks = by_name(results)
    assert checks["workflow"].outcome is Outcome.FAILED
    assert checks["workflow"].detail == "still RUNNING after 45 s; stopped it"
    assert sum(fake.sleeps) == 45.0
    assert max(fake.sleeps) <= 10.0
    (execution,) = fake.executions()
    assert execution.status == "ABORTED"
    assert checks["cleanup"].outcome is Outcome.PASSED
    assert not passed(results)
    assert_cleaned_up(fake)


def test_a_zero_timeout_never_counts_a_running_workflow_as_success(
    fake: FakeAws, project: Project
) -> None:
    results = run(fake, project, timeout=0.0)

    assert by_name(results)["workflow"].outcome is Outcome.FAILED
    assert fake.sleeps == []
    assert not passed(results)


def test_a_missing_execution_fails(fake: FakeAws, project: Project) -> None:
    fake.workflow_vanishes = True

    results = run(fake, project)

    workflow = by_name(results)["workflow"]
    assert workflow.outcome is Outcome.FAILED
    assert workflow.detail.endswith("not found")
    assert not passed(results)
    assert_cleaned_up(fake)


def test_an_athena_query_error_fails_its_data_test(fake: FakeAws, project: Project) -> None:
    fake.failing_queries.append("rows_with_this_key")

    results = run(fake, project)

    checks = by_name(results)
    assert checks["data test mart_grain_unique"].outcome is Outcome.FAILED
    assert checks["data test mart_grain_unique"].detail.startswith("FAILED: ")
    assert checks["data test mart_no_negative_counts"].outcome is Outcome.PASSED
    assert not passed(results)
    assert_cleaned_up(fake)


def test_offending_rows_fail_a_data_test_and_are_shown(fake: FakeAws, project: Project) -> None:
    fake.answer(
        "last_packet_received_time < first_packet_received_time",
        ["source_ip_address", "dt"],
        [["10.0.0.1", "2001-01-01"], ["10.0.0.2", None]],
    )

    results = run(fake, project)

    check = by_name(results)["data test intermediate_time_order"]
    assert check.outcome is Outcome.FAILED
    assert check.detail == "2 offending row(s)"
    assert check.lines == ("('10.0.0.1', '2001-01-01')", "('10.0.0.2', None)")
    assert not passed(results)


def test_a_mart_that_differs_from_the_prediction_fails(
    fake: FakeAws, project: Project, tmp_path: Path
) -> None:
    header, rows = mart_rows(project, tmp_path)
    packets = header.index("total_packets_sent")
    rows[0][packets] = str(int(rows[0][packets]) + 1)
    del rows[-1]
    fake.answers.clear()
    fake.answer("WHERE dt IN", header, rows)

    results = run(fake, project, check="integration")

    mart = by_name(results)[f"mart {MART}"]
    assert mart.outcome is Outcome.FAILED
    assert mart.detail.startswith("2 difference(s)")
    assert any(line.startswith("missing (") for line in mart.lines)
    assert any("total_packets_sent" in line for line in mart.lines)
    assert "data tests" not in by_name(results)
    assert not passed(results)
    assert_cleaned_up(fake)


def test_the_mart_query_reads_only_the_test_partitions(fake: FakeAws, project: Project) -> None:
    run(fake, project, check="integration")

    (query,) = fake.queries()
    database = NAMES[PublishedResource.GLUE_DATABASE]
    assert f"FROM {database}.{MART} WHERE dt IN (" in query
    assert all(f"'{day}'" in query for day in fake.dates)
    assert query.count("AS DATE)") == len(fake.dates)


def test_two_runs_in_a_row_both_pass(fake: FakeAws, project: Project) -> None:
    first = run(fake, project, run_id="run-1")
    second = run(fake, project, run_id="run-2")

    assert passed(first)
    assert passed(second), "\n".join(fake.log)
    assert [e.name for e in fake.executions()] == ["integration-run-1", "integration-run-2"]
    assert_cleaned_up(fake)


def test_missing_published_resources_fail_before_anything_is_seeded(
    fake: FakeAws, project: Project
) -> None:
    name = parameter_name(project.config.project, "staging", PublishedResource.STATE_MACHINE_ARN)
    fake.clients.ssm.delete_parameter(Name=name)

    results = run(fake, project)

    assert [r.name for r in results] == ["resources"]
    assert results[0].outcome is Outcome.FAILED
    assert name in results[0].detail
    assert fake.executions() == []
    assert not passed(results)


def test_a_missing_glue_table_fails_the_resources_check(fake: FakeAws, project: Project) -> None:
    fake.clients.glue.delete_table(DatabaseName=NAMES[PublishedResource.GLUE_DATABASE], Name=MART)

    (result,) = run(fake, project)

    assert result.outcome is Outcome.FAILED
    assert result.lines == (
        f"Glue table {NAMES[PublishedResource.GLUE_DATABASE]}.{MART}: EntityNotFoundException",
    )


def _finished_execution(fake: FakeAws, name: str, status: str) -> None:
    arn = fake.clients.ssm.get_parameter(
        Name=parameter_name(
            fake.project.config.project, "staging", PublishedResource.STATE_MACHINE_ARN
        )
    )["Parameter"]["Value"]
    fake.clients.sfn.start_execution(stateMachineArn=arn, name=name)
    (execution,) = [e for e in fake.executions() if e.name == name]
    execution.status = status
    execution.start_date = dt.datetime(2024, 5, 6, tzinfo=dt.UTC) + dt.timedelta(
        minutes=len(fake.executions())
    )


def test_smoke_reads_only(fake: FakeAws, project: Project) -> None:
    _finished_execution(fake, "scheduled-1", "SUCCEEDED")
    before = {bucket: fake.keys(bucket) for bucket in BUCKETS}

    results = run(fake, project, check="smoke")

    assert passed(results)
    assert [r.name for r in results] == ["resources", "recent executions"]
    assert [e.name for e in fake.executions()] == ["scheduled-1"]
    assert before == {bucket: fake.keys(bucket) for bucket in before}
    assert fake.queries() == []


def test_smoke_fails_when_the_latest_finished_execution_failed(
    fake: FakeAws, project: Project
) -> None:
    _finished_execution(fake, "scheduled-1", "SUCCEEDED")
    _finished_execution(fake, "scheduled-2", "FAILED")

    results = run(fake, project, check="smoke")

    recent = by_name(results)["recent executions"]
    assert recent.outcome is Outcome.FAILED
    assert recent.detail == "latest finished execution scheduled-2 is FAILED"
    assert not passed(results)


def test_cli_exit_1_and_junit_when_the_workflow_does_not_finish(
    fake: FakeAws, project: Project, tmp_path: Path
) -> None:
    junit = tmp_path / "reports" / "integration.xml"

    code = cli.main(
        [
            "integration-test",
            "--env",
            "staging",
            "--timeout-seconds",
            "0",
            "--junit-xml",
            str(junit),
        ]
    )

    assert code == 1
    suite = ET.parse(junit).getroot()
    assert suite.get("name") == "integration-test.staging"
    assert suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["workflow"].find("failure") is not None
    assert cases["cleanup"].find("failure") is None
    assert_cleaned_up(fake)


def test_cli_smoke_passes_with_exit_0(fake: FakeAws, tmp_path: Path, capsys) -> None:
    junit = tmp_path / "smoke.xml"

    code = cli.main(
        ["integration-test", "--env", "staging", "--check", "smoke", "--junit-xml", str(junit)]
    )

    assert code == 0
    assert "2 passed, 0 failed, 0 skipped" in capsys.readouterr().out
    assert [case.get("name") for case in ET.parse(junit).getroot()] == [
        "resources",
        "recent executions",
    ]


def test_smoke_with_data_tests_queries_but_never_seeds(fake: FakeAws, project: Project) -> None:
    smoke = dataclasses.replace(settings(project, check="smoke"), data_tests=True)

    results = run_checks(fake.clients, project, smoke, fake.pacing, "unused")

    assert passed(results)
    assert len(fake.queries()) == len(list((project.root / "data_tests").glob("*.sql")))
    assert fake.executions() == []
    assert fake.keys(NAMES[PublishedResource.RAW_BUCKET]) == {REAL_OBJECTS[0][1]}


def test_the_integration_role_is_assumed_in_the_environments_account(
    fake: FakeAws, project: Project
) -> None:
    staging = project.config.environment("staging")
    role = role_arn_for(
        staging.account, integration_test_role_name(project.config.project, "staging")
    )

    assumed = build_clients(REGION, role)

    assert role == f"arn:aws:iam::{staging.account}:role/flowlogs-dataops-staging-integration-test"
    assert assumed.s3.list_buckets()["Buckets"] == []
    assert {b["Name"] for b in fake.clients.s3.list_buckets()["Buckets"]} == set(BUCKETS)
