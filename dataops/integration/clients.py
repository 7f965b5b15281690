"""The AWS clients the commands on a deployed environment use, built once and passed in (tests
pass moto's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.client import BaseClient

if TYPE_CHECKING:
    import boto3

SESSION_NAME = "dataops-integration-test"


@dataclass(frozen=True)
class Clients:
    s3: BaseClient
    ssm: BaseClient
    sfn: BaseClient
    athena: BaseClient
    glue: BaseClient


def role_arn_for(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def session_for(
    region: str, role_arn: str | None = None, session_name: str = SESSION_NAME
) -> boto3.Session:
    """A session in ``region`` with the caller's credentials or, given ``role_arn``, the role's
    (its session named after the command, so the account's CloudTrail says who did what). The
    role's credentials replace the caller's in the same session, which keeps the endpoint and
    service data it loaded for STS."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    session = boto3.Session(region_name=region, botocore_session=core)
    if not role_arn:
        return session
    credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)[
        "Credentials"
    ]
    core.set_credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    return session


def build_clients(
    region: str, role_arn: str | None = None, session_name: str = SESSION_NAME
) -> Clients:
    """The clients of a command in ``region`` (see :func:`session_for`)."""
    session = session_for(region, role_arn, session_name)
    return Clients(
        s3=session.client("s3"),
        ssm=session.client("ssm"),
        sfn=session.client("stepfunctions"),
        athena=session.client("athena"),
        glue=session.client("glue"),
    )
