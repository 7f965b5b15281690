"""The AWS clients the integration run uses, built once and passed in (tests pass moto's)."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.client import BaseClient

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


def build_clients(region: str, role_arn: str | None = None) -> Clients:
    """Clients in ``region``, with the caller's credentials or, given ``role_arn``, the role's."""
    import boto3

    session = boto3.Session(region_name=region)
    if role_arn:
        credentials = session.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName=SESSION_NAME
        )["Credentials"]
        session = boto3.Session(
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    return Clients(
        s3=session.client("s3"),
        ssm=session.client("ssm"),
        sfn=session.client("stepfunctions"),
        athena=session.client("athena"),
        glue=session.client("glue"),
    )
