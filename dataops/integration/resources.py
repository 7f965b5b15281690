"""The deployed environment's resource names, read from the SSM parameters its stack publishes.

Nothing here spells a bucket, database or state machine name: :mod:`dataops.resource_names`
says where each name is published, the stack writes it, this module reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from dataops.contracts import Contract
from dataops.integration.clients import Clients
from dataops.resource_names import PublishedResource, parameter_name


class ResourcesMissing(Exception):
    """The environment is not (fully) deployed: a published name or a resource is missing."""


@dataclass(frozen=True)
class Resources:
    """What the integration run uses; each field is the resource of the same name."""

    raw_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    athena_results_bucket: str
    glue_database: str
    state_machine_arn: str
    athena_workgroup: str


def _published(field_name: str) -> PublishedResource:
    return PublishedResource[field_name.upper()]


def lookup_resources(clients: Clients, project: str, environment: str) -> Resources:
    """Read every name :class:`Resources` needs in one SSM call."""
    wanted = {
        parameter_name(project, environment, _published(field.name)): field.name
        for field in fields(Resources)
    }
    response = clients.ssm.get_parameters(Names=sorted(wanted))
    missing = sorted(response.get("InvalidParameters", []))
    if missing:
        raise ResourcesMissing(
            f"SSM parameter(s) not found: {', '.join(missing)}; "
            f"fix: deploy the data-workflow stack of '{environment}' in this account and region"
        )
    values = {wanted[parameter["Name"]]: parameter["Value"] for parameter in response["Parameters"]}
    return Resources(**values)


def missing_resources(
    clients: Clients, resources: Resources, contracts: dict[str, Contract]
) -> list[str]:
    """One line for each published resource that does not exist (or is not reachable)."""
    from botocore.exceptions import ClientError

    probes = [
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
            f"state machine {resources.state_machine_arn}",
            lambda: clients.sfn.describe_state_machine(stateMachineArn=resources.state_machine_arn),
        ),
        (
            f"Athena workgroup {resources.athena_workgroup}",
            lambda: clients.athena.get_work_group(WorkGroup=resources.athena_workgroup),
        ),
        (
            f"Glue database {resources.glue_database}",
            lambda: clients.glue.get_database(Name=resources.glue_database),
        ),
        *(
            (
                f"Glue table {resources.glue_database}.{table}",
                lambda t=table: clients.glue.get_table(
                    DatabaseName=resources.glue_database, Name=t
                ),
            )
            for table in sorted(contracts)
        ),
    ]
    problems = []
    for what, probe in probes:
        try:
            probe()
        except ClientError as exc:
            problems.append(f"{what}: {exc.response['Error'].get('Code', 'error')}")
    return problems
