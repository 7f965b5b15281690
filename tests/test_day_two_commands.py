"""The day-two commands against moto: replay, run-job and status, bad input included.

The environment is built from the project's data sets (``tests.deployed_moto``), once for the
module: each test starts from it as deployed. Moto runs nothing: an execution stays RUNNING until a test ends it, a Glue job run ends as moto's state
manager says. The commands wait on a fake clock (``Pacing`` is swapped), so no test sleeps; a
sleep is the moment a test's stand-in for the workflow acts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import glue_backends
from moto.moto_api import state_manager

from dataops import cli
from dataops.commands.run_job import dataset_of_job
from dataops.commands.status import newest_raw_object
from dataops.declarations import DeclarationError
from dataops.deployed_environment import DeployedEnvironment
from dataops.integration.pacing import Pacing
from dataops.project import Project
from jobkit.context import batch_key
from tests.deployed_moto import REGION, Deployment, SharedMoto, raw_key

ENVIRONMENT = "dev"
GLUE_RUN_MODEL = "glue::job_run"


@pytest.fixture(scope="module")
def moto_world(project: Project) -> Iterator[SharedMoto]:
    with SharedMoto(project, ENVIRONMENT) as world:
        yield world


@pytest.fixture
def aws(moto_world: SharedMoto) -> None:
    """Moto with nothing deployed."""
    moto_world.empty()


class Clock:
    """The commands' fake clock; ``on_sleep`` is what the world does while they wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep()

    def pacing(self) -> Pacing:
        return Pacing(clock=lambda: self.now, sleep=self.sleep, echo=lambda _: None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("dataops.integration.pacing.Pacing", fake.pacing)
    return fake


@pytest.fixture
def env(moto_world: SharedMoto) -> Deployment:
    return moto_world.deployment()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_usage_error(code: int, err: str, message: str) -> None:
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "; fix: " in err
    assert "Traceback" not in err


def deliver(env: Deployment, dataset: str, day: str, name: str, body: bytes = b"x") -> str:
    key = raw_key(env.project.datasets[dataset], day, name)
    env.put(env.resources.raw_bucket, key, body)
    return key


def finish(env: Deployment, status: str) -> Callable[[], None]:
    """What the workflow does while a command waits: every running execution ends so."""

    def end() -> None:
        for execution in env.executions():
            if execution.status == "RUNNING":
                execution.status = status
                execution.stop_date = dt.datetime.now(dt.UTC)

    return end


# replay


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2024-05-06", "--to", "2024-05-07", "--dataset", "nope"], "no data set 'nope'"),
        (["--from", "2024-13-01", "--to", "2024-05-07"], "--from: '2024-13-01' is not a date"),
        (["--from", "2024-05-06", "--to", "yesterday"], "--to: 'yesterday' is not a date"),
        (["--from", "2024-05-07", "--to", "2024-05-06"], "--from 2024-05-07 is after --to"),
        (["--from", "2024-05-06", "--to", "2024-05-06", "--timeout-seconds", "-1"], "negative"),
    ],
)
def test_replay_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys, aws
) -> None:
    code, _, err = run_cli(capsys, "replay", "--env", ENVIRONMENT, *argv)

    assert_one_line_usage_error(code, err, message)


def test_replay_in_an_environment_not_deployed_is_a_usage_error(capsys, aws) -> None:
    code, _, err = run_cli(
        capsys, "replay", "--env", ENVIRONMENT, "--from", "2024-05-06", "--to", "2024-05-06"
    )

    assert_one_line_usage_error(code, err, "SSM parameter(s) not found")


def test_replay_of_a_range_without_deliveries_starts_nothing(
    env: Deployment, capsys, project: Project
) -> None:
    deliver(env, "vpcflow", "2024-05-05", "before")
    deliver(env, "vpcflow", "2024-05-08", "after")

    code, out, _ = run_cli(
        capsys, "replay", "--env", ENVIRONMENT, "--from", "2024-05-06", "--to", "2024-05-07"
    )

    assert code == 0
    assert out.splitlines() == [
        f"{name}: no raw object delivered 2024-05-06..2024-05-07 under "
        f"s3://{env.resources.raw_bucket}/{ds.spec.raw.prefix}; nothing to do"
        for name, ds in project.datasets.items()
    ]
    assert env.executions() == []


def test_replay_starts_the_workflow_of_each_data_set_with_deliveries_in_the_range(
    env: Deployment, capsys
) -> None:
    deliver(env, "vpcflow", "2024-05-05", "before")
    deliver(env, "vpcflow", "2024-05-06", "a", b"12345")
    deliver(env, "vpcflow", "2024-05-07", "b", b"67")
    env.put(env.resources.raw_bucket, raw_key(env.project.datasets["vpcflow"], "2024-05-06", "x")
            .replace(".log.gz", ".txt"))  # fmt: skip

    code, out, _ = run_cli(
        capsys, "replay", "--env", ENVIRONMENT, "--from", "2024-05-06", "--to", "2024-05-07"
    )

    assert code == 0
    (execution,) = env.executions("vpcflow")
    assert execution.name.startswith("replay-2024-05-06-2024-05-07-")
    assert json.loads(execution.execution_input) == {"replay": "2024-05-06..2024-05-07"}
    assert "vpcflow: replaying 2 raw object(s) (0.0 MiB) delivered 2024-05-06..2024-05-07" in out
    assert f"python -m dataops status --env {ENVIRONMENT}" in out


def test_replay_of_one_data_set_leaves_the_others_alone(env: Deployment, capsys) -> None:
    for name in env.project.datasets:
        deliver(env, name, "2024-05-06", "a")
    copy = dataclasses.replace(env.project.datasets["vpcflow"], name="copy")
    assert copy.name not in env.project.datasets

    code, out, _ = run_cli(
        capsys,
        *("replay", "--env", ENVIRONMENT, "--dataset", "vpcflow"),
        *("--from", "2024-05-06", "--to", "2024-05-06"),
    )

    assert code == 0
    assert [e.name[:28] for e in env.executions()] == ["replay-2024-05-06-2024-05-06"]
    assert out.startswith("vpcflow: replaying 1 raw object(s)")


def test_replay_waits_for_the_workflow_when_asked(env: Deployment, clock: Clock, capsys) -> None:
    deliver(env, "vpcflow", "2024-05-06", "a")
    clock.on_sleep = finish(env, "SUCCEEDED")

    code, out, _ = run_cli(
        capsys,
        *("replay", "--env", ENVIRONMENT, "--dataset", "vpcflow", "--wait"),
        *("--from", "2024-05-06", "--to", "2024-05-06", "--poll-seconds", "5"),
    )

    assert code == 0
    assert clock.sleeps == [5.0]
    assert out.splitlines()[-1].endswith("SUCCEEDED in 5 s")


REPLAY_AND_WAIT = (
    *("replay", "--env", ENVIRONMENT, "--dataset", "vpcflow", "--wait"),
    *("--from", "2024-05-06", "--to", "2024-05-06", "--poll-seconds", "10"),
)


def test_a_failed_replay_exits_1(env: Deployment, clock: Clock, capsys) -> None:
    deliver(env, "vpcflow", "2024-05-06", "a")
    clock.on_sleep = finish(env, "FAILED")

    code, out, _ = run_cli(capsys, *REPLAY_AND_WAIT)

    assert code == 1
    assert out.splitlines()[-1].endswith(" FAILED")


def test_a_replay_outlasting_the_wait_exits_1_and_goes_on(
    env: Deployment, clock: Clock, capsys
) -> None:
    deliver(env, "vpcflow", "2024-05-06", "a")

    code, out, _ = run_cli(capsys, *REPLAY_AND_WAIT, "--timeout-seconds", "30")

    assert code == 1
    assert out.splitlines()[-1].endswith("still RUNNING after 30 s; left running")
    assert clock.sleeps == [10.0, 10.0, 10.0]
    assert [e.status for e in env.executions()] == ["RUNNING"]


def test_replay_starts_nothing_while_the_workflow_runs(env: Deployment, capsys) -> None:
    deliver(env, "vpcflow", "2024-05-06", "a")
    env.clients.sfn.start_execution(
        stateMachineArn=env.resources.state_machine_arn("vpcflow"), name="scheduled-1"
    )

    code, _, err = run_cli(
        capsys, "replay", "--env", ENVIRONMENT, "--from", "2024-05-06", "--to", "2024-05-06"
    )

    assert code == 1
    assert err.startswith("error: vpcflow: execution scheduled-1 is running")
    assert len(err.strip().splitlines()) == 1
    assert [e.name for e in env.executions()] == ["scheduled-1"]


def test_an_aws_error_is_one_line_and_exit_1(env: Deployment, capsys) -> None:
    deliver(env, "vpcflow", "2024-05-06", "a")
    env.clients.sfn.delete_state_machine(stateMachineArn=env.resources.state_machine_arn("vpcflow"))

    code, _, err = run_cli(
        capsys, "replay", "--env", ENVIRONMENT, "--from", "2024-05-06", "--to", "2024-05-06"
    )

    assert code == 1
    assert err.startswith("error: An error occurred (StateMachineDoesNotExist)")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


# run-job

# Every data set has a staging job: the flow logs' is named with its data set.
STAGING = ("staging", "--dataset", "vpcflow")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "no data set has a job 'nope'; fix: use one of ("),
        (["nope", "--dataset", "vpcflow"], "data set 'vpcflow' has no job 'nope'; fix: use one of"),
        (["staging", "--dataset", "other"], "--dataset: no data set 'other'"),
        (["staging", "--poll-seconds", "-1"], "--poll-seconds: must not be negative"),
    ],
)
def test_run_job_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys, aws
) -> None:
    code, _, err = run_cli(capsys, "run-job", "--env", ENVIRONMENT, *argv)

    assert_one_line_usage_error(code, err, message)


def test_a_job_in_several_data_sets_needs_dataset(project: Project) -> None:
    copy = dataclasses.replace(project.datasets["vpcflow"], name="copy")
    two = dataclasses.replace(
        project, datasets={"vpcflow": project.datasets["vpcflow"], "copy": copy}
    )

    with pytest.raises(DeclarationError, match="job 'mart' is in the data sets vpcflow, copy"):
        dataset_of_job(two, "mart", None)
    assert dataset_of_job(two, "mart", "copy") is copy


def test_run_job_starts_the_deployed_job_with_a_manual_batch_and_waits(
    env: Deployment, clock: Clock, capsys
) -> None:
    state_manager.set_transition(GLUE_RUN_MODEL, {"progression": "manual", "times": 1})
    job = env.job_name("vpcflow", "intermediate")
    state = env.resources.state_location(env.project.datasets["vpcflow"])

    def job_leaves_its_run_record() -> None:
        (run,) = glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs[job].job_runs
        batch = batch_key(run.arguments["--batch_id"])
        counts = {"rows_in": 1200, "rows_out": 1190, "rows_quarantined": 10}
        env.put_json(state.bucket, f"{state.prefix}runs/{batch}/intermediate.json", counts)

    clock.on_sleep = job_leaves_its_run_record
    try:
        code, out, _ = run_cli(capsys, "run-job", "intermediate", "--env", ENVIRONMENT)
    finally:
        state_manager.unset_transition(GLUE_RUN_MODEL)

    assert code == 0
    (run,) = env.clients.glue.get_job_runs(JobName=job)["JobRuns"]
    assert run["Arguments"]["--batch_id"].startswith("manual-")
    assert run["Arguments"]["--job"] == "intermediate"
    assert out.splitlines()[-1] == (
        f"vpcflow: {job} SUCCEEDED after 15 s (rows in 1,200, rows out 1,190, "
        "rows quarantined 10, objects quarantined 0)"
    )


def test_run_job_no_wait_only_starts(env: Deployment, clock: Clock, capsys) -> None:
    code, out, _ = run_cli(
        capsys, "run-job", "mart", "--dataset", "vpcflow", "--env", ENVIRONMENT, "--no-wait"
    )

    assert code == 0
    assert "started" in out
    assert (
        len(env.clients.glue.get_job_runs(JobName=env.job_name("vpcflow", "mart"))["JobRuns"]) == 1
    )
    assert clock.sleeps == []


def test_a_failed_or_late_job_run_exits_1(env: Deployment, clock: Clock, capsys) -> None:
    job = env.job_name("vpcflow", "staging")
    state_manager.set_transition(GLUE_RUN_MODEL, {"progression": "manual", "times": 1000})

    def fail() -> None:
        for run in glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs[job].job_runs:
            run.status = "FAILED"

    try:
        late = run_cli(capsys, "run-job", *STAGING, "--env", ENVIRONMENT, "--timeout-seconds", "20")
        clock.on_sleep = fail
        for run in glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs[job].job_runs:
            run.status = "STOPPED"
        failed = run_cli(capsys, "run-job", *STAGING, "--env", ENVIRONMENT)
    finally:
        state_manager.unset_transition(GLUE_RUN_MODEL)

    assert late[0] == 1
    assert late[1].splitlines()[-1].endswith("still STARTING after 20 s; left running")
    assert failed[0] == 1
    assert failed[1].splitlines()[-1] == f"vpcflow: {job} FAILED after 15 s"


def test_run_job_starts_nothing_while_the_workflow_runs(env: Deployment, capsys) -> None:
    env.clients.sfn.start_execution(
        stateMachineArn=env.resources.state_machine_arn("vpcflow"), name="scheduled-1"
    )

    code, _, err = run_cli(capsys, "run-job", *STAGING, "--env", ENVIRONMENT)

    assert code == 1
    assert "execution scheduled-1 of the workflow is running, so staging was not started" in err
    assert (
        env.clients.glue.get_job_runs(JobName=env.job_name("vpcflow", "staging"))["JobRuns"] == []
    )


# status


def _past_execution(env: Deployment, dataset: str, name: str, status: str, day: int) -> None:
    arn = env.resources.state_machine_arn(dataset)
    env.clients.sfn.start_execution(stateMachineArn=arn, name=name)
    (execution,) = [e for e in env.executions(dataset) if e.name == name]
    execution.status = status
    execution.start_date = dt.datetime(2024, 5, day, 10, 0, tzinfo=dt.UTC)
    if status != "RUNNING":
        execution.stop_date = execution.start_date + dt.timedelta(minutes=6, seconds=12)


@pytest.fixture
def history(env: Deployment) -> Deployment:
    """Two finished executions of every data set (one with run records), one running; raw
    objects over two accounts and three days; mart partitions."""
    for name, dataset in env.project.datasets.items():
        _past_execution(env, name, "scheduled-1", "SUCCEEDED", 5)
        _past_execution(env, name, "replay-2024-05-01-2024-05-01-x", "FAILED", 6)
        _past_execution(env, name, "scheduled-2", "RUNNING", 7)
        state = env.resources.state_location(dataset)
        first = dataset.job_graph.names[0]
        record = {"rows_in": 10, "rows_out": 9, "rows_quarantined": 1, "objects_quarantined": 2}
        env.put_json(state.bucket, f"{state.prefix}runs/scheduled-1/{first}.json", record)
        for day in ("2024-05-04", "2024-05-05"):
            env.put(env.resources.raw_bucket, raw_key(dataset, day, "old", account="111111111111"))
        env.put(env.resources.raw_bucket, raw_key(dataset, "2024-05-06", "new", "222222222222"))
        for table, contract in dataset.contracts.items():
            location = env.resources.table_location(dataset, table)
            for day in ("2001-01-02", "2024-05-05", "2024-05-06"):
                env.put(location.bucket, f"{location.prefix}dt={day}/part-0.parquet")
            assert contract.partition_keys == ["dt"]
    return env


def test_status_shows_executions_counts_newest_raw_object_and_partitions(
    history: Deployment, capsys
) -> None:
    code, out, _ = run_cli(capsys, "status", "--env", ENVIRONMENT, "--executions", "2")

    assert code == 0, out
    assert out.startswith(f"status of '{ENVIRONMENT}' (")
    for name, dataset in history.project.datasets.items():
        assert f"data set {name} ({history.resources.state_machine_arn(name)})" in out
        newest = raw_key(dataset, "2024-05-06", "new", "222222222222")
        assert "newest raw object: " in out
        assert f"s3://{history.resources.raw_bucket}/{newest}" in out
        for table, contract in dataset.contracts.items():
            if contract.layer == "mart":
                assert f"newest partition of {table}: 2024-05-06" in out
    assert "last 2 execution(s), newest first:" in out
    assert "scheduled-2" in out
    assert "scheduled-1" not in out
    assert "replay-2024-05-01-2024-05-01-x  FAILED   2024-05-06 10:00  6 min 12 s" in out
    assert "    replay-2024-05-01-2024-05-01-x: no run records" in out


def test_status_json_for_machines(history: Deployment, capsys) -> None:
    code, out, _ = run_cli(capsys, "status", "--env", ENVIRONMENT, "--json", "--dataset", "vpcflow")

    assert code == 0
    document = json.loads(out)
    assert document["environment"] == ENVIRONMENT
    (vpcflow,) = document["datasets"]
    assert [e["name"] for e in vpcflow["executions"]] == [
        "scheduled-2",
        "replay-2024-05-01-2024-05-01-x",
        "scheduled-1",
    ]
    running, failed, succeeded = vpcflow["executions"]
    assert running["status"] == "RUNNING"
    assert running["stopped"] is None
    assert running["seconds"] > 0
    assert failed["seconds"] == 372.0
    assert set(failed["jobs"].values()) == {None}
    assert succeeded["jobs"]["staging"] == {
        "rows_in": 10,
        "rows_out": 9,
        "rows_quarantined": 1,
        "objects_quarantined": 2,
    }
    assert succeeded["started"] == "2024-05-05T10:00:00+00:00"
    assert vpcflow["newest_raw_object"]["uri"].endswith("/2024/05/06/new.log.gz")
    assert vpcflow["newest_partitions"] == {"data_app_conn_stats": "2024-05-06"}


def test_the_newest_raw_object_is_found_without_listing_older_days(history: Deployment) -> None:
    listed: list[dict] = []
    s3 = history.clients.s3
    s3.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **_: listed.append(dict(params))
    )
    target = DeployedEnvironment(
        history.project,
        history.project.config.environment(ENVIRONMENT),
        history.clients,
        history.resources,
    )

    newest = newest_raw_object(target, history.project.datasets["vpcflow"])

    assert newest is not None
    assert newest.uri.endswith("/2024/05/06/new.log.gz")
    full_listings = [p["Prefix"] for p in listed if "Delimiter" not in p]
    assert all(prefix.endswith("/2024/05/06/") or prefix.endswith("/2024/05/05/")
               for prefix in full_listings)  # fmt: skip
    assert not any("/2024/05/04/" in p["Prefix"] for p in listed)


def test_status_of_an_environment_with_nothing_yet(env: Deployment, capsys) -> None:
    code, out, _ = run_cli(capsys, "status", "--env", ENVIRONMENT)

    assert code == 0
    assert "newest raw object: none delivered" in out
    assert "newest partition of data_app_conn_stats: none yet" in out
    assert "executions: none yet" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--executions", "0"], "--executions: 0; fix: pass 1 to 100"),
        (["--dataset", "nope"], "--dataset: no data set 'nope'"),
    ],
)
def test_status_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys, aws
) -> None:
    code, _, err = run_cli(capsys, "status", "--env", ENVIRONMENT, *argv)

    assert_one_line_usage_error(code, err, message)


@pytest.mark.parametrize("command", [["status"], ["run-job", "staging"]])
def test_an_unknown_environment_is_a_usage_error(command: list[str], capsys) -> None:
    code, _, err = run_cli(capsys, *command, "--env", "nope")

    assert_one_line_usage_error(code, err, "unknown environment 'nope'")
