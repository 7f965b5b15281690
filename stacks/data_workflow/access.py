"""IAM statements scoped to S3 locations and catalog tables, shared by every role here.

Each role gets exactly the prefixes and tables it reads or writes: no bucket-wide or
account-wide data access.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from stacks.compliance import acknowledge, rendered_resource
from stacks.data_workflow.layout import Location

KMS_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
S3_READ = ("s3:GetObject", "s3:GetObjectVersion")
S3_WRITE = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
# Listing a bucket's keys: the one action here that carries ``s3:prefix``.
S3_LIST_KEYS = "s3:ListBucket"
# Bucket-level reads: they never carry ``s3:prefix``, so a statement conditioned on it would
# never grant them.
S3_BUCKET_READ = ("s3:ListBucketMultipartUploads", "s3:GetBucketLocation")
S3_LIST = (S3_LIST_KEYS, *S3_BUCKET_READ)
CATALOG_READ = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
)
CATALOG_WRITE = (
    "glue:UpdateTable",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:DeletePartition",
    "glue:BatchDeletePartition",
)


def location_statements(locations: Iterable[Location], *, write: bool) -> list[iam.PolicyStatement]:
    """Object access under each location, listing restricted to its prefixes, and the
    bucket-level reads of its buckets (unconditioned: ``s3:prefix`` never applies to them)."""
    locations = list(locations)
    statements = [
        iam.PolicyStatement(
            actions=[*S3_READ, *(S3_WRITE if write else ())],
            resources=[arn for location in locations for arn in location.object_arns()],
        )
    ]
    by_bucket: dict[str, tuple[str, list[str]]] = {}
    for location in locations:
        arn, prefixes = by_bucket.setdefault(
            location.bucket.node.path, (location.bucket.bucket_arn, [])
        )
        prefixes.extend(location.list_prefixes())
    statements.append(
        iam.PolicyStatement(
            actions=list(S3_BUCKET_READ), resources=[arn for arn, _ in by_bucket.values()]
        )
    )
    for arn, prefixes in by_bucket.values():
        conditions = {} if "*" in prefixes else {"StringLike": {"s3:prefix": sorted(set(prefixes))}}
        statements.append(
            iam.PolicyStatement(actions=[S3_LIST_KEYS], resources=[arn], conditions=conditions)
        )
    return statements


def table_arns(stack: cdk.Stack, database: str, tables: Iterable[str]) -> list[str]:
    """The catalog, the database and each named table (``*`` in a name is a pattern)."""
    return [
        stack.format_arn(service="glue", resource="catalog"),
        stack.format_arn(service="glue", resource="database", resource_name=database),
        *(
            stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{t}")
            for t in tables
        ),
    ]


def catalog_statement(
    stack: cdk.Stack, database: str, tables: Iterable[str], *, write: bool
) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=[*CATALOG_READ, *(CATALOG_WRITE if write else ())],
        resources=table_arns(stack, database, tables),
    )


def log_group_statement(stack: cdk.Stack, log_group_prefix: str) -> iam.PolicyStatement:
    """Writing (and KMS-associating) the log groups a Glue job or crawler creates."""
    return iam.PolicyStatement(
        actions=[
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:AssociateKmsKey",
        ],
        resources=[
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{log_group_prefix}*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
    )


def attach(role: iam.IRole, statements: Iterable[iam.PolicyStatement], scope_reason: str) -> None:
    """Add ``statements`` to ``role``; each resource pattern with a ``*`` (a prefix's objects,
    a log-group prefix) is acknowledged for AwsSolutions-IAM5 with ``scope_reason``."""
    stack = cdk.Stack.of(role)
    findings: dict[str, str] = {}
    for statement in statements:
        role.add_to_principal_policy(statement)
        # A pattern's ``*`` is literal text around the tokens, so only those need resolving.
        for resource in (resource for resource in statement.resources if "*" in resource):
            rendered = rendered_resource(stack, stack.resolve(resource))
            findings[f"AwsSolutions-IAM5[Resource::{rendered}]"] = scope_reason
    acknowledge(role, findings)


def key_statement(key: kms.IKey) -> iam.PolicyStatement:
    """Using the environment's key for S3 objects, logs and bookmarks: no wildcard actions."""
    return iam.PolicyStatement(actions=list(KMS_USE), resources=[key.key_arn])
