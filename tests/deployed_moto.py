"""A deployed environment as moto holds it, built from the project's data sets the way the
data-workflow stack would build it (every data set's state machine, Glue jobs and crawler; every
contract's Glue table; the published SSM names). Shared by the tests of the commands that talk
to a deployed environment; :class:`SharedMoto` deploys it once for a module's tests.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.model import OperationModel
from moto import mock_aws
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import glue_backends
from moto.moto_api import state_manager
from moto.stepfunctions.models import stepfunctions_backends

from dataops.datasets import DataSet
from dataops.integration import clients as clients_module
from dataops.integration.clients import SESSION_NAME, Clients
from dataops.integration.resources import Resources
from dataops.project import Project
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    crawler_name,
    dataset_parameter_name,
    glue_job_name,
    parameter_name,
    state_machine_name,
)

REGION = "eu-west-1"
ATHENA_MODEL = "athena::execution"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/workflow"
NAMES = {
    PublishedResource.RAW_BUCKET: "test-raw",
    PublishedResource.CURATED_BUCKET: "test-curated",
    PublishedResource.QUARANTINE_BUCKET: "test-quarantine",
    PublishedResource.ATHENA_RESULTS_BUCKET: "test-athena-results",
    PublishedResource.GLUE_DATABASE: "flowlogs_test",
    PublishedResource.ATHENA_WORKGROUP: "flowlogs-test",
}


def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """Fake credentials in ``REGION`` and every AWS call answered by moto; Athena queries stay
    RUNNING for one poll, so a test can act while the product code waits. The commands' own
    clients come from the tests' one session (given) unless they assume a role."""
    _fake_environment(monkeypatch)
    with mock_aws():
        _hold_athena_queries()
        try:
            yield moto_session()
        finally:
            state_manager.unset_transition(ATHENA_MODEL)


def _fake_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assume = clients_module.session_for
    monkeypatch.setattr(
        clients_module,
        "session_for",
        lambda region, role_arn=None, session_name=SESSION_NAME: (
            assume(region, role_arn, session_name) if role_arn else moto_session()
        ),
    )


def _hold_athena_queries() -> None:
    state_manager.set_transition(ATHENA_MODEL, {"progression": "manual", "times": 1})


@functools.cache
def moto_session() -> boto3.Session:
    """One session for every test: it loads botocore's endpoint and service data once (moto
    intercepts the calls of clients from any session). Its clients tell what they change."""
    session = boto3.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    session.events.register("before-parameter-build", _CHANGES.note)
    return session


@functools.cache
def moto_clients() -> Clients:
    session = moto_session()
    return Clients(
        s3=session.client("s3"),
        ssm=session.client("ssm"),
        sfn=session.client("stepfunctions"),
        athena=session.client("athena"),
        glue=session.client("glue"),
    )


@dataclass(frozen=True)
class Deployment:
    """What :func:`deploy` created: the clients, the names, the project and environment."""

    clients: Clients
    resources: Resources
    project: Project
    environment: str

    @property
    def buckets(self) -> tuple[str, ...]:
        r = self.resources
        return (r.raw_bucket, r.curated_bucket, r.quarantine_bucket, r.athena_results_bucket)

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = self.clients.s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def put(self, bucket: str, key: str, body: bytes = b"real") -> None:
        self.clients.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def put_json(self, bucket: str, key: str, document: object) -> None:
        self.put(bucket, key, json.dumps(document).encode("utf-8"))

    def executions(self, dataset: str | None = None) -> list:
        """moto's executions (newest last), of one data set's state machine or of all."""
        machines = stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines
        arns = set(self.resources.state_machines.values())
        if dataset is not None:
            arns = {self.resources.state_machine_arn(dataset)}
        return [
            execution
            for machine in machines
            if machine.arn in arns
            for execution in machine.executions
        ]

    def dataset_of(self, execution: object) -> DataSet:
        machine = execution.state_machine_arn  # type: ignore[attr-defined]
        name = next(n for n, arn in self.resources.state_machines.items() if arn == machine)
        return self.project.datasets[name]

    def job_name(self, dataset: str, job: str) -> str:
        return glue_job_name(self.project.config.project, self.environment, dataset, job)


def deploy(project: Project, environment: str) -> Deployment:
    """Create what the data-workflow stack would for every data set; publish the names in SSM."""
    clients = moto_clients()
    name = project.config.project
    for resource in (
        PublishedResource.RAW_BUCKET,
        PublishedResource.CURATED_BUCKET,
        PublishedResource.QUARANTINE_BUCKET,
        PublishedResource.ATHENA_RESULTS_BUCKET,
    ):
        clients.s3.create_bucket(
            Bucket=NAMES[resource], CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    database = NAMES[PublishedResource.GLUE_DATABASE]
    clients.glue.create_database(DatabaseInput={"Name": database})
    for table in project.contracts:
        clients.glue.create_table(DatabaseName=database, TableInput={"Name": table})
    clients.athena.create_work_group(Name=NAMES[PublishedResource.ATHENA_WORKGROUP])
    for resource, value in NAMES.items():
        clients.ssm.put_parameter(
            Name=parameter_name(name, environment, resource), Value=value, Type="String"
        )
    machines = {}
    for dataset in project.datasets.values():
        machine = clients.sfn.create_state_machine(
            name=state_machine_name(name, environment, dataset.name),
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=ROLE,
        )
        machines[dataset.name] = machine["stateMachineArn"]
        clients.ssm.put_parameter(
            Name=dataset_parameter_name(
                name, environment, dataset.name, DataSetResource.STATE_MACHINE_ARN
            ),
            Value=machine["stateMachineArn"],
            Type="String",
        )
        for job in dataset.job_graph.jobs:
            clients.glue.create_job(
                Name=glue_job_name(name, environment, dataset.name, job.name),
                Role=ROLE,
                Command={"Name": "glueetl", "ScriptLocation": "s3://assets/run_job.py"},
                DefaultArguments={"--dataset": dataset.name, "--job": job.name},
            )
        if dataset.spec.crawler is not None:
            clients.glue.create_crawler(
                Name=crawler_name(name, environment, dataset.name),
                Role=ROLE,
                DatabaseName=database,
                Targets={"S3Targets": [{"Path": f"s3://{NAMES[PublishedResource.RAW_BUCKET]}/"}]},
            )
    resources = Resources(
        raw_bucket=NAMES[PublishedResource.RAW_BUCKET],
        curated_bucket=NAMES[PublishedResource.CURATED_BUCKET],
        quarantine_bucket=NAMES[PublishedResource.QUARANTINE_BUCKET],
        athena_results_bucket=NAMES[PublishedResource.ATHENA_RESULTS_BUCKET],
        glue_database=database,
        athena_workgroup=NAMES[PublishedResource.ATHENA_WORKGROUP],
        state_machines=machines,
    )
    return Deployment(clients, resources, project, environment)


def raw_key(dataset: DataSet, day: str, name: str, account: str = "111122223333") -> str:
    """A key the data set's raw layout delivers on ``day`` (YYYY-MM-DD)."""
    year, month, date = day.split("-")
    layout = (
        dataset.spec.raw.layout.replace("{account}", account)
        .replace("{region}", REGION)
        .replace("{yyyy}", year)
        .replace("{MM}", month)
        .replace("{dd}", date)
    )
    return f"{dataset.spec.raw.prefix}{layout}{name}{dataset.spec.raw.suffixes[0]}"


# Calls that change only run-time state (SharedMoto undoes them), besides the reads and the
# object writes and deletes it follows one by one.
_RUN_TIME = {
    ("stepfunctions", "StartExecution"),
    ("stepfunctions", "StopExecution"),
    ("athena", "StartQueryExecution"),
    ("athena", "StopQueryExecution"),
    ("glue", "StartJobRun"),
    ("glue", "BatchStopJobRun"),
}
_READS = ("Get", "List", "Describe", "Head")


class _Changes:
    """What the calls of the tests' clients (every client of :func:`moto_session`) changed."""

    def __init__(self) -> None:
        self.written: set[tuple[str, str]] = set()
        self.deleted: set[tuple[str, str]] = set()
        self.others: list[str] = []

    def note(self, params: dict, model: OperationModel, **_: object) -> None:
        call = (model.service_model.service_name, model.name)
        if call[1].startswith(_READS) or call in _RUN_TIME:
            return
        if call == ("s3", "PutObject"):
            self.written.add((params["Bucket"], params["Key"]))
        elif call == ("s3", "DeleteObject"):
            self.deleted.add((params["Bucket"], params["Key"]))
        elif call == ("s3", "DeleteObjects"):
            self.deleted |= {(params["Bucket"], o["Key"]) for o in params["Delete"]["Objects"]}
        else:
            self.others.append(" ".join(call))

    def take(self) -> _Changes:
        """What changed since the last take."""
        taken = _Changes()
        taken.__dict__, self.__dict__ = self.__dict__, taken.__dict__
        return taken


_CHANGES = _Changes()


def _forget_runs() -> None:
    """Drop what moto keeps of executions, Athena queries and their results, Glue job runs."""
    for machine in stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].state_machines:
        machine.executions.clear()
    athena = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    athena.executions.clear()
    athena.query_results.clear()
    athena.query_results_queue.clear()
    for job in glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs.values():
        job.job_runs.clear()


class SharedMoto:
    """One moto for a module's tests, the environment deployed once (:func:`deploy`, then
    ``prepare``, whose result is :attr:`prepared`). Each test starts from that deployment as it
    was: the objects the last test wrote are deleted and the executions, Athena queries and Glue
    job runs dropped; when it changed anything else (an object of the deployment, a parameter,
    a table, a state machine), or asked for an empty moto, the environment is deployed anew.
    What changed is noted from the calls of the tests' clients (the commands' ones too)."""

    def __init__(
        self,
        project: Project,
        environment: str,
        prepare: Callable[[Deployment], object] = lambda deployment: None,
    ) -> None:
        self.project = project
        self.environment = environment
        self.prepared: object = None
        self._prepare = prepare
        self._monkeypatch = pytest.MonkeyPatch()
        self._mock = mock_aws()
        self._deployment: Deployment | None = None
        self._objects: set[tuple[str, str]] = set()

    def __enter__(self) -> SharedMoto:
        _fake_environment(self._monkeypatch)
        self._mock.start()
        _hold_athena_queries()
        return self

    def __exit__(self, *exc_info: object) -> None:
        state_manager.unset_transition(ATHENA_MODEL)
        self._mock.stop()
        self._monkeypatch.undo()

    def empty(self) -> None:
        """Nothing deployed, for a test that needs that or deploys something else."""
        self._deployment = None
        self._mock.stop()
        self._mock.start()

    def deployment(self) -> Deployment:
        changes = _CHANGES.take()
        if self._deployment is not None and self._rewound(self._deployment, changes):
            return self._deployment
        self.empty()
        deployment = deploy(self.project, self.environment)
        self.prepared = self._prepare(deployment)
        self._deployment, self._objects = deployment, _CHANGES.take().written
        return deployment

    def _rewound(self, deployment: Deployment, changes: _Changes) -> bool:
        """Undo the last test's run-time changes; False when it changed the deployment."""
        if changes.others or (changes.written | changes.deleted) & self._objects:
            return False
        written: dict[str, list[dict[str, str]]] = {}
        for bucket, key in sorted(changes.written):
            written.setdefault(bucket, []).append({"Key": key})
        for bucket, keys in written.items():
            for start in range(0, len(keys), 1000):
                deployment.clients.s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
                )
        _CHANGES.take()
        _forget_runs()
        return True
