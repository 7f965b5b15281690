"""The deployed environment's resources: names read from the SSM parameters its stack publishes,
and where each data set keeps its tables, state and raw objects in those buckets.

Nothing here spells a bucket, database or state machine name: :mod:`dataops.resource_names`
says where each name is published, the stack writes it, this module reads it back. The post-deploy
checks and the day-two commands (replay, run-job, status) all find the environment through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields

from dataops.datasets import DataSet
from dataops.integration.clients import Clients
from dataops.resource_names import (
    DataSetResource,
    PublishedResource,
    crawler_name,
    dataset_parameter_name,
    glue_job_name,
    parameter_name,
    state_prefix,
)
from jobkit.context import RawLayout, batch_key

# GetParameters takes at most this many names a call.
PARAMETERS_PER_CALL = 10
# The counts every run record has (jobkit.ledger), in the order people read them.
RUN_COUNTS = ("rows_in", "rows_out", "rows_quarantined", "objects_quarantined")


class ResourcesMissing(Exception):
    """The environment is not (fully) deployed: a published name or a resource is missing."""


@dataclass(frozen=True)
class Location:
    """A key prefix in a bucket (``prefix`` ends in ``/``, or is one object's key)."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Resources:
    """The environment's published names; ``state_machines`` maps each data set looked up to
    the ARN of its state machine."""

    raw_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    athena_results_bucket: str
    glue_database: str
    athena_workgroup: str
    state_machines: dict[str, str] = field(default_factory=dict)

    def state_machine_arn(self, dataset: str) -> str:
        return self.state_machines[dataset]

    def table_location(self, dataset: DataSet, table: str) -> Location:
        """Where the data workflow writes ``table``: a job's quarantine table in the quarantine
        bucket, every other table in the curated bucket, each under ``<table>/``."""
        quarantines = {job.quarantine for job in dataset.job_graph.jobs}
        bucket = self.quarantine_bucket if table in quarantines else self.curated_bucket
        return Location(bucket, f"{table}/")

    def state_location(self, dataset: DataSet) -> Location:
        """The data set's incremental state (jobkit's ``state_uri``)."""
        return Location(self.curated_bucket, f"{state_prefix(dataset.name)}/")

    def run_record_uri(self, dataset: DataSet, batch_id: str, job: str) -> str:
        """The run record ``job`` left for batch ``batch_id`` (the execution's name)."""
        return f"{self.state_location(dataset).uri}runs/{batch_key(batch_id)}/{job}.json"

    def raw_uri(self, raw_prefix: str) -> str:
        """The raw root a run told ``raw_prefix`` reads (jobkit's ``raw_uri``)."""
        return f"s3://{self.raw_bucket}/{raw_prefix}"


# Resources' fields read from environment-level parameters, by the resource each names.
_ENVIRONMENT_FIELDS = tuple(f.name for f in fields(Resources) if f.name != "state_machines")


def raw_layout(dataset: DataSet) -> RawLayout:
    """The data set's raw delivery layout as jobkit lists it."""
    raw = dataset.spec.raw
    return RawLayout(raw.layout, tuple(raw.suffixes), raw.lateness_days)


def lookup_resources(
    clients: Clients, project: str, environment: str, datasets: Iterable[str]
) -> Resources:
    """Read the environment's names and the state machine of each of ``datasets`` from SSM."""
    wanted = {
        parameter_name(project, environment, PublishedResource[name.upper()]): name
        for name in _ENVIRONMENT_FIELDS
    }
    machines = {
        dataset_parameter_name(project, environment, name, DataSetResource.STATE_MACHINE_ARN): name
        for name in datasets
    }
    names = sorted({*wanted, *machines})
    found: dict[str, str] = {}
    missing: list[str] = []
    for start in range(0, len(names), PARAMETERS_PER_CALL):
        response = clients.ssm.get_parameters(Names=names[start : start + PARAMETERS_PER_CALL])
        missing.extend(response.get("InvalidParameters", []))
        found.update({item["Name"]: item["Value"] for item in response["Parameters"]})
    if missing:
        raise ResourcesMissing(
            f"SSM parameter(s) not found: {', '.join(sorted(missing))}; fix: deploy the "
            f"data-workflow stack of '{environment}' in this account and region (or pick "
            "another --env)"
        )
    return Resources(
        **{field_name: found[name] for name, field_name in wanted.items()},
        state_machines={dataset: found[name] for name, dataset in machines.items()},
    )


def missing_resources(
    clients: Clients,
    resources: Resources,
    datasets: Iterable[DataSet],
    project: str,
    environment: str,
) -> list[str]:
    """One line for each resource of the environment or of ``datasets`` that does not exist (or
    is not reachable): buckets, workgroup, database, and each data set's state machine, Glue
    tables, Glue jobs and crawler."""
    from botocore.exceptions import ClientError

    glue = clients.glue
    probes: list[tuple[str, Callable[[], object]]] = [
        *(
            (f"bucket {bucket}", lambda b=bucket: clients.s3.head_bucket(Bucket=b))
            for bucket in (
                resources.raw_bucket,
                resources.curated_bucket,
                resources.quarantine_bucket,
                resources.athena_results_bucket,
            )
        ),
        (
            f"Athena workgroup {resources.athena_workgroup}",
            lambda: clients.athena.get_work_group(WorkGroup=resources.athena_workgroup),
        ),
        (
            f"Glue database {resources.glue_database}",
            lambda: glue.get_database(Name=resources.glue_database),
        ),
    ]
    for dataset in datasets:
        arn = resources.state_machine_arn(dataset.name)
        probes.append(
            (
                f"state machine {arn}",
                lambda a=arn: clients.sfn.describe_state_machine(stateMachineArn=a),
            )
        )
        probes.extend(
            (
                f"Glue table {resources.glue_database}.{table}",
                lambda t=table: glue.get_table(DatabaseName=resources.glue_database, Name=t),
            )
            for table in sorted(dataset.contracts)
        )
        jobs = [
            glue_job_name(project, environment, dataset.name, job)
            for job in dataset.job_graph.names
        ]
        probes.extend((f"Glue job {job}", lambda j=job: glue.get_job(JobName=j)) for job in jobs)
        if dataset.spec.crawler is not None:
            crawler = crawler_name(project, environment, dataset.name)
            probes.append((f"crawler {crawler}", lambda c=crawler: glue.get_crawler(Name=c)))
    problems = []
    for what, probe in probes:
        try:
            probe()
        except ClientError as exc:
            problems.append(f"{what}: {exc.response['Error'].get('Code', 'error')}")
    return problems
