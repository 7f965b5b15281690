"""The post-deploy checks against moto: S3, SSM, Step Functions, Glue and Athena, every data set.

Moto runs nothing: a Step Functions execution stays RUNNING and an Athena query returns no
rows. ``FakeAws`` plays each data set's deployed workflow with moto's own levers, and only when
the product code sleeps (its clock is fake, so no test really waits): it sets an execution's
final status in the Step Functions backend (and writes what a real run on test data leaves: the
tables' 2001 partitions and the data set's state for the test's raw root), fails chosen Athena
queries in the Athena backend, and queues chosen query results on ``query_results_queue``.
Athena queries are held RUNNING for one poll through moto's state manager, so every query gives
the fake one sleep to act in. The environment is deployed once for the module (``SharedMoto``):
each test starts from it as deployed, with the objects of real data and runs in place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.models import stepfunctions_backends

from dataops import cli
from dataops.datasets import DataSet
from dataops.integration.clients import build_clients, role_arn_for
from dataops.integration.pacing import Pacing
from dataops.integration.report import Outcome, passed
from dataops.integration.runner import RunSettings, run_checks
from dataops.integration.seeding import TEST_PREFIX_ROOT, generate_test_data
from dataops.integration.workflow import WaitLimits
from dataops.project import Project
from dataops.resource_names import (
    DataSetResource,
    dataset_parameter_name,
    integration_test_role_name,
)
from dataops.samples import Generator, generator_for
from jobkit.context import batch_key
from jobkit.ledger import root_key
from tests.deployed_moto import REGION, Deployment, SharedMoto, deploy, raw_key

ENVIRONMENT = "staging"
REAL_DAYS = ("2000-12-30", "2002-01-01", "2024-05-06")


class FakeAws:
    """The deployed environment as moto holds it, plus the levers a test pulls."""

    def __init__(self, deployment: Deployment, real_objects: set[tuple[str, str]]) -> None:
        self.deployment = deployment
        self.clients = deployment.clients
        self.project = deployment.project
        self.resources = deployment.resources
        self.now = 0.0
        self.sleeps: list[float] = []
        self.log: list[str] = []
        self.workflow_ends_as: str | None = "SUCCEEDED"
        self.ends_as: dict[str, str | None] = {}
        self.workflow_vanishes = False
        self.failing_queries: list[str] = []
        self.answers: list[tuple[str, list[str], list[list[str | None]]]] = []
        self.real_objects = real_objects
        self.ran: list[tuple[DataSet, str]] = []
        self._handled_queries: set[str] = set()

    @property
    def pacing(self) -> Pacing:
        return Pacing(clock=lambda: self.now, sleep=self.sleep, echo=self.log.append)

    def answer(self, fragment: str, header: list[str], rows: list[list[str | None]]) -> None:
        """Queries containing ``fragment`` return ``rows`` (after Athena's header row)."""
        self.answers.append((fragment, header, rows))

    def answer_predicted_marts(self) -> None:
        for dataset in self.project.datasets.values():
            for table, (header, rows) in predicted_marts(dataset).items():
                self.answer(
                    f"{self.resources.glue_database}.{table} WHERE dt BETWEEN", header, rows
                )

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds
        self._advance_workflows()
        self._advance_queries()

    def _advance_workflows(self) -> None:
        for machine in stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines:
            for execution in list(machine.executions):
                if execution.status != "RUNNING":
                    continue
                dataset = self.deployment.dataset_of(execution)
                ends_as = self.ends_as.get(dataset.name, self.workflow_ends_as)
                if self.workflow_vanishes:
                    machine.executions.remove(execution)
                elif ends_as:
                    self._write_outputs(dataset, execution)
                    execution.status = ends_as
                    execution.stop_date = dt.datetime.now(dt.UTC)
                    if ends_as != "SUCCEEDED":
                        execution.error = "States.TaskFailed"
                        execution.cause = "Glue job staging failed"

    def _write_outputs(self, dataset: DataSet, execution) -> None:
        """What a real run on the test's raw prefix leaves: objects in every table's test
        partitions and the data set's state for that raw root."""
        raw_prefix = json.loads(execution.execution_input).get("raw_prefix", "")
        if not raw_prefix.startswith(TEST_PREFIX_ROOT):
            return
        self.ran.append((dataset, execution.name))
        for table in dataset.contracts:
            location = self.resources.table_location(dataset, table)
            for day in ("2001-01-01", "2001-01-02"):
                self.deployment.put(location.bucket, f"{location.prefix}dt={day}/part-0.parquet")
        state = self.resources.state_location(dataset)
        root = root_key(self.resources.raw_uri(raw_prefix))
        batch = batch_key(execution.name)
        first, *later = dataset.job_graph.names
        self.deployment.put_json(
            state.bucket, f"{state.prefix}raw/{root}/watermark.json", {"complete_through": "x"}
        )
        self.deployment.put_json(state.bucket, f"{state.prefix}raw/{root}/processed/d.json", {})
        for job in later:
            key = f"{state.prefix}queues/{job}/{root}/{first}.{batch}.json"
            self.deployment.put_json(state.bucket, key, {})
            self.deployment.put_json(state.bucket, f"{state.prefix}work/{job}/{batch}/m.json", {})
        for job in dataset.job_graph.names:
            self.deployment.put_json(state.bucket, f"{state.prefix}runs/{batch}/{job}.json", {})

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

    def executions(self, dataset: str | None = None) -> list:
        return self.deployment.executions(dataset)

    def queries(self) -> list[str]:
        return [e.query for e in athena_backends[DEFAULT_ACCOUNT_ID][REGION].executions.values()]

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        return self.deployment.keys(bucket, prefix)

    def all_objects(self) -> set[tuple[str, str]]:
        return {(bucket, key) for bucket in self.deployment.buckets for key in self.keys(bucket)}


def put_real_objects(deployment: Deployment) -> set[tuple[str, str]]:
    """Objects of real data and real runs that no check may touch."""
    resources, real = deployment.resources, set()
    for dataset in deployment.project.datasets.values():
        real.add((resources.raw_bucket, raw_key(dataset, "2024-05-06", "real")))
        for table in dataset.contracts:
            location = resources.table_location(dataset, table)
            real |= {
                (location.bucket, f"{location.prefix}dt={day}/part-0.parquet") for day in REAL_DAYS
            }
        state = resources.state_location(dataset)
        root = root_key(resources.raw_uri(dataset.spec.raw.prefix))
        real.add((state.bucket, f"{state.prefix}raw/{root}/watermark.json"))
        for job in dataset.job_graph.names:
            real.add((state.bucket, f"{state.prefix}queues/{job}/{root}/a.json"))
    for bucket, key in real:
        deployment.put(bucket, key)
    return real


@functools.cache
def _expected_rows(generate: Generator) -> dict[str, list[dict[str, object]]]:
    """What the integration run's test data must become: a fixed seed and size, so the same
    for every test."""
    with tempfile.TemporaryDirectory() as work:
        return generate_test_data(generate, Path(work)).expected_rows()


def predicted_marts(dataset: DataSet) -> dict[str, tuple[list[str], list[list]]]:
    """Each predicted mart as Athena would return it: a header and rows of strings."""
    generate = generator_for(dataset)
    if generate is None:
        return {}
    marts = {}
    for table, expected in _expected_rows(generate).items():
        header = [column.name for column in dataset.contracts[table].columns]
        marts[table] = (header, [[str(row[name]) for name in header] for row in expected])
    return marts


@pytest.fixture(scope="module")
def moto_world(project: Project) -> Iterator[SharedMoto]:
    with SharedMoto(project, ENVIRONMENT, prepare=put_real_objects) as world:
        yield world


@pytest.fixture
def aws(moto_world: SharedMoto) -> None:
    """Moto with nothing deployed."""
    moto_world.empty()


@pytest.fixture
def fake(moto_world: SharedMoto) -> FakeAws:
    world = FakeAws(moto_world.deployment(), moto_world.prepared)
    world.answer_predicted_marts()
    return world


def settings(
    project: Project, check: str = "integration-with-data-tests", timeout: float = 120.0
) -> RunSettings:
    return RunSettings(
        environment=project.config.environment(ENVIRONMENT),
        check=check,
        data_tests=check == "integration-with-data-tests",
        workflow=WaitLimits(timeout_seconds=timeout, poll_seconds=10.0),
        queries=WaitLimits(timeout_seconds=60.0, poll_seconds=1.0),
    )


def run(fake: FakeAws, project: Project | None = None, run_id: str = "run-1", **kwargs):
    project = project or fake.project
    return run_checks(fake.clients, project, settings(project, **kwargs), fake.pacing, run_id)


def by_name(results) -> dict:
    return {result.name: result for result in results}


def assert_cleaned_up(fake: FakeAws) -> None:
    """No test object, test partition or test state is left; every real object is still there;
    the run records of the test's executions stay."""
    left = fake.all_objects()
    assert not {(b, k) for b, k in left if k.startswith(TEST_PREFIX_ROOT)}
    assert not {(b, k) for b, k in left if "/dt=2001-" in k}
    state = {k for _, k in left if k.startswith("_state/")}
    test_roots = {
        root_key(fake.resources.raw_uri(f"{TEST_PREFIX_ROOT}{run_id}/{ds.spec.raw.prefix}"))
        for ds in fake.project.datasets.values()
        for run_id in ("run-1", "run-2")
    }
    assert not {key for key in state if any(f"/{root}/" in key for root in test_roots)}
    assert not {key for key in state if "/work/" in key}
    assert fake.real_objects <= left
    for dataset, execution in fake.ran:
        runs = f"{fake.resources.state_location(dataset).prefix}runs/{execution}/"
        assert any(key.startswith(runs) for key in state)


def test_success_runs_every_check_of_every_data_set_and_cleans_up(
    fake: FakeAws, project: Project
) -> None:
    results = run(fake)

    checks = by_name(results)
    assert passed(results), "\n".join(fake.log)
    names = [r.name for r in results]
    assert names[0] == "resources"
    assert names[-1] == "cleanup"
    for dataset in project.datasets.values():
        assert names.index(f"{dataset.name}: seed") < names.index(f"{dataset.name}: workflow")
        for table in predicted_marts(dataset):
            assert checks[f"{dataset.name}: mart {table}"].detail.endswith("rows as predicted")
        tests = {
            f"{dataset.name}: data test {p.stem}" for p in dataset.data_tests_dir.glob("*.sql")
        }
        assert tests
        assert tests <= set(checks)
        assert checks[f"{dataset.name}: cleanup"].outcome is Outcome.PASSED
        (execution,) = fake.executions(dataset.name)
        assert execution.name == "integration-run-1"
        assert json.loads(execution.execution_input) == {
            "raw_prefix": f"{TEST_PREFIX_ROOT}run-1/{dataset.spec.raw.prefix}"
        }
    database = fake.resources.glue_database
    assert all(f"{database}." in query for query in fake.queries())
    assert all(
        e.workgroup.name == fake.resources.athena_workgroup
        for e in athena_backends[DEFAULT_ACCOUNT_ID][REGION].executions.values()
    )
    assert any("workflow: SUCCEEDED" in line for line in fake.log)
    assert_cleaned_up(fake)


def test_seeded_objects_are_under_the_run_prefix_while_the_workflow_runs(
    fake: FakeAws, project: Project
) -> None:
    seen: list[set[str]] = []
    original = fake._advance_workflows

    def look_then_advance() -> None:
        seen.append(fake.keys(fake.resources.raw_bucket))
        original()

    fake._advance_workflows = look_then_advance
    assert passed(run(fake, check="integration"))
    seeded = seen[0] - {key for _, key in fake.real_objects}
    assert seeded
    for dataset in project.datasets.values():
        prefix = f"{TEST_PREFIX_ROOT}run-1/{dataset.spec.raw.prefix}"
        assert all(key.startswith(TEST_PREFIX_ROOT) for key in seeded)
        assert any(key.startswith(prefix) for key in seeded)
    assert all("/2001/" in key for key in seeded)


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_failed_workflow_fails_and_still_cleans_up(
    fake: FakeAws, project: Project, status: str
) -> None:
    fake.workflow_ends_as = status

    results = run(fake)

    checks = by_name(results)
    assert not passed(results)
    for dataset in project.datasets.values():
        workflow = checks[f"{dataset.name}: workflow"]
        assert workflow.outcome is Outcome.FAILED
        assert workflow.detail.startswith(status)
        assert "Glue job staging failed" in workflow.detail
        for table in predicted_marts(dataset):
            assert checks[f"{dataset.name}: mart {table}"].outcome is Outcome.SKIPPED
        assert checks[f"{dataset.name}: data tests"].outcome is Outcome.SKIPPED
        assert checks[f"{dataset.name}: cleanup"].outcome is Outcome.PASSED
    assert checks["cleanup"].outcome is Outcome.PASSED
    assert fake.queries() == []
    assert_cleaned_up(fake)


def test_a_workflow_still_running_at_the_deadline_fails_and_is_stopped(
    fake: FakeAws, project: Project
) -> None:
    fake.workflow_ends_as = None

    results = run(fake, timeout=45.0)

    checks = by_name(results)
    for dataset in project.datasets:
        assert checks[f"{dataset}: workflow"].outcome is Outcome.FAILED
        assert checks[f"{dataset}: workflow"].detail == "still RUNNING after 45 s; stopped it"
    assert sum(fake.sleeps) == 45.0
    assert max(fake.sleeps) <= 10.0
    assert {execution.status for execution in fake.executions()} == {"ABORTED"}
    assert checks["cleanup"].outcome is Outcome.PASSED
    assert not passed(results)
    assert_cleaned_up(fake)


def test_a_zero_timeout_never_counts_a_running_workflow_as_success(fake: FakeAws) -> None:
    results = run(fake, timeout=0.0)

    assert all(
        result.outcome is Outcome.FAILED for result in results if result.name.endswith("workflow")
    )
    assert fake.sleeps == []
    assert not passed(results)


def test_a_missing_execution_fails(fake: FakeAws, project: Project) -> None:
    fake.workflow_vanishes = True

    results = run(fake)

    for dataset in project.datasets:
        workflow = by_name(results)[f"{dataset}: workflow"]
        assert workflow.outcome is Outcome.FAILED
        assert workflow.detail.endswith("not found")
    assert not passed(results)
    assert_cleaned_up(fake)


def test_an_athena_query_error_fails_its_data_test(fake: FakeAws) -> None:
    fake.failing_queries.append("rows_with_this_key")

    results = run(fake)

    checks = by_name(results)
    assert checks["vpcflow: data test mart_grain_unique"].outcome is Outcome.FAILED
    assert checks["vpcflow: data test mart_grain_unique"].detail.startswith("FAILED: ")
    assert checks["vpcflow: data test mart_no_negative_counts"].outcome is Outcome.PASSED
    assert not passed(results)
    assert_cleaned_up(fake)


def test_offending_rows_fail_a_data_test_and_are_shown(fake: FakeAws) -> None:
    fake.answer(
        "last_packet_received_time < first_packet_received_time",
        ["source_ip_address", "dt"],
        [["10.0.0.1", "2001-01-01"], ["10.0.0.2", None]],
    )

    results = run(fake)

    check = by_name(results)["vpcflow: data test intermediate_time_order"]
    assert check.outcome is Outcome.FAILED
    assert check.detail == "2 offending row(s)"
    assert check.lines == ("('10.0.0.1', '2001-01-01')", "('10.0.0.2', None)")
    assert not passed(results)


def test_a_mart_that_differs_from_the_prediction_fails(fake: FakeAws, project: Project) -> None:
    dataset = project.datasets["vpcflow"]
    ((table, (header, rows)),) = predicted_marts(dataset).items()
    packets = header.index("total_packets_sent")
    rows[0][packets] = str(int(rows[0][packets]) + 1)
    del rows[-1]
    fake.answers.clear()
    fake.answer(f".{table} WHERE dt BETWEEN", header, rows)

    results = run(fake, check="integration")

    mart = by_name(results)[f"vpcflow: mart {table}"]
    assert mart.outcome is Outcome.FAILED
    assert mart.detail.startswith("2 difference(s)")
    assert any(line.startswith("missing (") for line in mart.lines)
    assert any("total_packets_sent" in line for line in mart.lines)
    assert not any("data test" in name for name in by_name(results))
    assert not passed(results)
    assert_cleaned_up(fake)


def test_the_mart_query_reads_only_the_test_partitions(fake: FakeAws) -> None:
    run(fake, check="integration")

    (query,) = [query for query in fake.queries() if ".data_app_conn_stats " in query]
    assert f"FROM {fake.resources.glue_database}.data_app_conn_stats WHERE dt BETWEEN " in query
    assert query.endswith("CAST('2001-01-01' AS DATE) AND CAST('2001-12-31' AS DATE)")


def test_two_runs_in_a_row_both_pass(fake: FakeAws) -> None:
    first = run(fake, run_id="run-1")
    second = run(fake, run_id="run-2")

    assert passed(first)
    assert passed(second), "\n".join(fake.log)
    assert sorted(e.name for e in fake.executions("vpcflow")) == [
        "integration-run-1",
        "integration-run-2",
    ]
    assert_cleaned_up(fake)


def test_every_data_set_runs_its_own_state_machine_side_by_side(aws, project: Project) -> None:
    """A second data set (here a copy of the first under another name) gets its own seed, its
    own execution of its own state machine, its own checks and its own clean-up."""
    original = project.datasets["vpcflow"]
    two = dataclasses.replace(project, datasets={
        "vpcflow": original, "copy": dataclasses.replace(original, name="copy"),
    })  # fmt: skip
    deployment = deploy(two, ENVIRONMENT)
    fake = FakeAws(deployment, put_real_objects(deployment))
    fake.answer_predicted_marts()
    fake.ends_as["copy"] = "FAILED"

    results = run(fake, two)

    checks = by_name(results)
    assert checks["vpcflow: workflow"].outcome is Outcome.PASSED
    assert checks["copy: workflow"].outcome is Outcome.FAILED
    assert checks["copy: mart data_app_conn_stats"].outcome is Outcome.SKIPPED
    assert checks["vpcflow: mart data_app_conn_stats"].outcome is Outcome.PASSED
    assert [e.name for e in fake.executions("copy")] == ["integration-run-1"]
    assert [e.name for e in fake.executions("vpcflow")] == ["integration-run-1"]
    started = [i for i, line in enumerate(fake.log) if "] started arn:" in line]
    first_wait = next(i for i, line in enumerate(fake.log) if "RUNNING after" in line)
    assert len(started) == 2
    assert max(started) < first_wait
    assert checks["copy: cleanup"].outcome is Outcome.PASSED
    assert_cleaned_up(fake)


def test_a_data_set_without_a_generator_is_skipped_not_seeded(aws, project: Project) -> None:
    original = project.datasets["vpcflow"]
    spec = original.spec.model_copy(update={"sample_data": None})
    two = dataclasses.replace(project, datasets={
        "vpcflow": original, "bare": dataclasses.replace(original, name="bare", spec=spec),
    })  # fmt: skip
    deployment = deploy(two, ENVIRONMENT)
    fake = FakeAws(deployment, put_real_objects(deployment))
    fake.answer_predicted_marts()

    results = run(fake, two, check="integration")

    checks = by_name(results)
    assert passed(results), "\n".join(fake.log)
    assert checks["bare: seed"].outcome is Outcome.SKIPPED
    assert "names no sample_data generator" in checks["bare: seed"].detail
    assert not any(name.startswith("bare: ") and name != "bare: seed" for name in checks)
    assert fake.executions("bare") == []


def test_test_data_outside_the_test_year_is_never_seeded(
    fake: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dataops.integration.seeding.TEST_START", dt.date(2002, 1, 2))

    results = run(fake)

    seed = by_name(results)["vpcflow: seed"]
    assert seed.outcome is Outcome.FAILED
    assert seed.detail.endswith("problem(s) with the generated test data; nothing seeded")
    assert any("not in 2001" in line for line in seed.lines)
    assert fake.executions() == []
    assert not fake.keys(fake.resources.raw_bucket, TEST_PREFIX_ROOT)
    assert not passed(results)


def test_missing_published_resources_fail_before_anything_is_seeded(
    fake: FakeAws, project: Project
) -> None:
    name = dataset_parameter_name(
        project.config.project, ENVIRONMENT, "vpcflow", DataSetResource.STATE_MACHINE_ARN
    )
    fake.clients.ssm.delete_parameter(Name=name)

    results = run(fake)

    assert [r.name for r in results] == ["resources"]
    assert results[0].outcome is Outcome.FAILED
    assert name in results[0].detail
    assert fake.executions() == []
    assert not passed(results)


def test_a_missing_glue_table_or_job_fails_the_resources_check(fake: FakeAws) -> None:
    database = fake.resources.glue_database
    job = fake.deployment.job_name("vpcflow", "mart")
    fake.clients.glue.delete_table(DatabaseName=database, Name="data_app_conn_stats")
    fake.clients.glue.delete_job(JobName=job)

    (result,) = run(fake)

    assert result.outcome is Outcome.FAILED
    assert result.detail == "2 resource(s) missing"
    assert result.lines == (
        f"Glue table {database}.data_app_conn_stats: EntityNotFoundException",
        f"Glue job {job}: EntityNotFoundException",
    )


def _execution(fake: FakeAws, dataset: str, name: str, status: str, minutes: int = 0) -> str:
    """An execution of ``dataset``'s workflow that ran before the check."""
    arn = fake.resources.state_machine_arn(dataset)
    started = fake.clients.sfn.start_execution(stateMachineArn=arn, name=name)["executionArn"]
    (execution,) = [e for e in fake.executions(dataset) if e.name == name]
    execution.status = status
    execution.start_date = dt.datetime(2024, 5, 6, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return started


def test_smoke_judges_a_new_execution_of_every_data_set_not_the_last_one(
    fake: FakeAws, project: Project
) -> None:
    for dataset in project.datasets:
        _execution(fake, dataset, "scheduled-1", "FAILED")
    before = fake.all_objects()

    results = run(fake, check="smoke", run_id="r9")

    assert passed(results), "\n".join(fake.log)
    assert [r.name for r in results] == [
        "resources",
        *(f"{dataset}: workflow" for dataset in project.datasets),
    ]
    for dataset in project.datasets:
        newest = fake.executions(dataset)[-1]
        assert newest.name == "smoke-r9"
        assert json.loads(newest.execution_input) == {}
        assert newest.status == "SUCCEEDED"
    assert fake.all_objects() == before
    assert fake.queries() == []


def test_smoke_fails_when_the_new_execution_fails(fake: FakeAws, project: Project) -> None:
    for dataset in project.datasets:
        _execution(fake, dataset, "scheduled-1", "SUCCEEDED")
    fake.workflow_ends_as = "FAILED"

    results = run(fake, check="smoke", run_id="r9")

    workflow = by_name(results)["vpcflow: workflow"]
    assert workflow.outcome is Outcome.FAILED
    assert workflow.detail == "FAILED: States.TaskFailed - Glue job staging failed"
    assert not passed(results)


def test_smoke_still_running_at_the_deadline_fails_and_is_left_running(fake: FakeAws) -> None:
    fake.workflow_ends_as = None

    results = run(fake, check="smoke", run_id="r9", timeout=30.0)

    workflow = by_name(results)["vpcflow: workflow"]
    assert workflow.outcome is Outcome.FAILED
    assert workflow.detail == "still RUNNING after 30 s; left running"
    assert {e.status for e in fake.executions()} == {"RUNNING"}


def test_smoke_waits_for_an_execution_started_before_it(fake: FakeAws, project: Project) -> None:
    for dataset in project.datasets:
        _execution(fake, dataset, "scheduled-1", "RUNNING")
    waited_for: list[str] = []
    original = fake._advance_workflows

    def note_then_advance() -> None:
        waited_for.extend(e.name for e in fake.executions() if e.status == "RUNNING")
        original()

    fake._advance_workflows = note_then_advance

    results = run(fake, check="smoke", run_id="r9")

    assert passed(results), "\n".join(fake.log)
    assert waited_for[: len(project.datasets)] == ["scheduled-1"] * len(project.datasets)
    for dataset in project.datasets:
        assert [e.name for e in fake.executions(dataset)] == ["scheduled-1", "smoke-r9"]


def test_smoke_starts_nothing_while_an_earlier_execution_runs_past_the_deadline(
    fake: FakeAws,
) -> None:
    _execution(fake, "vpcflow", "scheduled-1", "RUNNING")
    fake.workflow_ends_as = None

    results = run(fake, check="smoke", run_id="r9", timeout=20.0)

    workflow = by_name(results)["vpcflow: workflow"]
    assert workflow.outcome is Outcome.FAILED
    assert workflow.detail.startswith("scheduled-1 (started before this check) is still RUNNING")
    assert "fix: rerun the check when it ends" in workflow.detail
    assert [e.name for e in fake.executions("vpcflow")] == ["scheduled-1"]


def test_smoke_with_data_tests_queries_but_never_seeds(fake: FakeAws, project: Project) -> None:
    smoke = dataclasses.replace(settings(project, check="smoke"), data_tests=True)
    raw_before = fake.keys(fake.resources.raw_bucket)

    results = run_checks(fake.clients, project, smoke, fake.pacing, "r9")

    assert passed(results), "\n".join(fake.log)
    tests = [p for ds in project.datasets.values() for p in ds.data_tests_dir.glob("*.sql")]
    assert len(fake.queries()) == len(tests)
    assert fake.keys(fake.resources.raw_bucket) == raw_before


def test_cli_exit_1_and_junit_when_the_workflow_does_not_finish(
    fake: FakeAws, tmp_path: Path
) -> None:
    junit = tmp_path / "reports" / "integration.xml"

    code = cli.main(
        [
            "integration-test",
            "--env",
            ENVIRONMENT,
            "--timeout-seconds",
            "0",
            "--junit-xml",
            str(junit),
        ]
    )

    assert code == 1
    suite = ET.parse(junit).getroot()
    assert suite.get("name") == f"integration-test.{ENVIRONMENT}"
    assert suite.get("failures") == str(len(fake.project.datasets))
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["vpcflow: workflow"].find("failure") is not None
    assert cases["vpcflow: cleanup"].find("failure") is None
    assert cases["cleanup"].find("failure") is None
    assert_cleaned_up(fake)


def test_cli_smoke_passes_with_exit_0(
    fake: FakeAws, project: Project, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dataops.integration.pacing.Pacing", lambda: fake.pacing)
    junit = tmp_path / "smoke.xml"

    code = cli.main(
        ["integration-test", "--env", ENVIRONMENT, "--check", "smoke", "--junit-xml", str(junit)]
    )

    assert code == 0
    checks = 1 + len(project.datasets)
    assert f"{checks} passed, 0 failed, 0 skipped" in capsys.readouterr().out
    assert [case.get("name") for case in ET.parse(junit).getroot()] == [
        "resources",
        *(f"{dataset}: workflow" for dataset in project.datasets),
    ]


def test_the_integration_role_is_assumed_in_the_environments_account(
    fake: FakeAws, project: Project
) -> None:
    staging = project.config.environment(ENVIRONMENT)
    role = role_arn_for(
        staging.account, integration_test_role_name(project.config.project, ENVIRONMENT)
    )

    assumed = build_clients(REGION, role)

    assert role == f"arn:aws:iam::{staging.account}:role/flowlogs-dataops-staging-integration-test"
    assert assumed.s3.list_buckets()["Buckets"] == []
    assert {b["Name"] for b in fake.clients.s3.list_buckets()["Buckets"]} == set(
        fake.deployment.buckets
    )
