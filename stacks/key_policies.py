"""Key policy statements the AWS services that encrypt with a stack's own KMS key need."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam


def cloudwatch_logs_may_use(
    stack: cdk.Stack, log_group_name: str = "*"
) -> list[iam.PolicyStatement]:
    """CloudWatch Logs of ``stack``'s account and region may encrypt the log groups named
    ``log_group_name`` (a pattern) with the key, and describe the key.

    Describing is a statement of its own: a DescribeKey request carries no encryption context,
    so under the log-group condition it would never be granted."""
    principal = iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
    return [
        iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccount",
            principals=[principal],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=log_group_name,
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        ),
        iam.PolicyStatement(
            sid="CloudWatchLogsDescribesTheKey",
            principals=[principal],
            actions=["kms:DescribeKey"],
            resources=["*"],
        ),
    ]
