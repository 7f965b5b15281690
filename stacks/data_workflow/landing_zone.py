"""The raw bucket and key policy statements that let a data set's delivering AWS service write
its raw objects (``delivery:`` in dataset.yaml).

The raw bucket is encrypted with the environment's key (SSE-KMS), so a delivery needs both
policies, as each service documents them for such a bucket (``DELIVERY_SERVICES``). Every
statement is scoped by ``aws:SourceAccount`` to the environment's ``source_accounts`` for the
data set and by ``aws:SourceArn`` to the declared ``source_arn`` (``{partition}``, each
``{account}``, and each of ``source_names`` or ``*`` for ``{name}``). Objects may be written
only under ``<raw.prefix><account>/`` and only with the ``bucket-owner-full-control`` ACL: the
bucket has ACLs disabled (the owner owns every object), which accepts exactly that ACL, and it
only denies requests without TLS, which no delivery sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from dataops.datasets import DATASET_FILE, DataSet, Delivery
from dataops.declarations import DeclarationError
from dataops.job_graph import GLUE_SCRIPTS_DIR
from stacks.data_workflow.names import pascal


@dataclass(frozen=True)
class DeliveryPermissions:
    """What one service needs of an SSE-KMS bucket, from its documentation (``sources``):
    bucket-level actions it calls before writing, the key actions its writes use, and the
    encryption-context key those carry (matched against the source ARNs), if any. Describing
    the key is granted on its own: that request carries no encryption context."""

    bucket_checks: tuple[str, ...]
    key_use: tuple[str, ...]
    encryption_context: str | None
    sources: tuple[str, ...]


DELIVERY_SERVICES: dict[str, DeliveryPermissions] = {
    # VPC flow logs (and the other logs CloudWatch Logs delivers to S3).
    "delivery.logs.amazonaws.com": DeliveryPermissions(
        bucket_checks=("s3:GetBucketAcl", "s3:ListBucket"),
        key_use=("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"),
        encryption_context=None,
        sources=(
            "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-permissions.html",
            "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/"
            "AWS-logs-infrastructure-V2-S3.html",
        ),
    ),
    # CloudTrail trails; the trail must name the environment's key (its SSE-KMS setting).
    "cloudtrail.amazonaws.com": DeliveryPermissions(
        bucket_checks=("s3:GetBucketAcl",),
        key_use=("kms:GenerateDataKey*",),
        encryption_context="kms:EncryptionContext:aws:cloudtrail:arn",
        sources=(
            "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "create-s3-bucket-policy-for-cloudtrail.html",
            "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "create-kms-key-policy-for-cloudtrail.html",
        ),
    ),
}


def delivery_permissions(dataset: DataSet, delivery: Delivery) -> DeliveryPermissions:
    permissions = DELIVERY_SERVICES.get(delivery.service)
    if permissions is None:
        raise DeclarationError(
            [
                f"{GLUE_SCRIPTS_DIR / dataset.name / DATASET_FILE}: delivery.service: "
                f"'{delivery.service}' has no known bucket and key policy; fix: use one of "
                f"{', '.join(sorted(DELIVERY_SERVICES))}, or add its documented permissions to "
                "stacks/data_workflow/landing_zone.py"
            ]
        )
    return permissions


def source_arns(delivery: Delivery, accounts: tuple[str, ...], names: tuple[str, ...]) -> list[str]:
    """The declared ``source_arn`` for each account (and each name, or any name)."""
    return [
        delivery.source_arn.format(partition=cdk.Aws.PARTITION, account=account, name=name)
        for account in accounts
        for name in (names or ("*",))
    ]


@dataclass(frozen=True)
class DeliveryAccessProps:
    dataset: DataSet
    delivery: Delivery
    source_accounts: tuple[str, ...]
    source_names: tuple[str, ...]
    raw_bucket: s3.IBucket
    data_key: kms.IKey


def allow_delivery(props: DeliveryAccessProps) -> None:
    """Add the data set's delivery statements to the raw bucket's and the key's policies."""
    permissions = delivery_permissions(props.dataset, props.delivery)
    service = iam.ServicePrincipal(props.delivery.service)
    accounts = list(props.source_accounts)
    sources = source_arns(props.delivery, props.source_accounts, props.source_names)
    scoped = {
        "StringEquals": {"aws:SourceAccount": accounts},
        "ArnLike": {"aws:SourceArn": sources},
    }
    sid = f"{pascal(props.dataset.name)}Delivery"
    bucket = props.raw_bucket
    prefix = props.dataset.spec.raw.prefix
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}ChecksBucket",
            principals=[service],
            actions=list(permissions.bucket_checks),
            resources=[bucket.bucket_arn],
            conditions=scoped,
        )
    )
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}Writes",
            principals=[service],
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{prefix}{account}/*") for account in accounts],
            conditions={
                **scoped,
                "StringEquals": {
                    "aws:SourceAccount": accounts,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                },
            },
        )
    )
    context = (
        {"StringLike": {permissions.encryption_context: sources}}
        if permissions.encryption_context
        else {}
    )
    props.data_key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}EncryptsRawObjects",
            principals=[service],
            actions=list(permissions.key_use),
            resources=["*"],
            conditions={**scoped, **context},
        )
    )
    props.data_key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}DescribesKey",
            principals=[service],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions=scoped,
        )
    )
