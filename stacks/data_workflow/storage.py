"""The environment's KMS key and S3 buckets: raw landing, curated, quarantine, Athena, assets.

Every bucket is versioned, SSL-only, blocks public access and logs its server access to one
logs bucket. Object ACLs are disabled (the bucket owner owns every object): an AWS service
delivering raw objects sends the one ACL that setting accepts, ``bucket-owner-full-control``.
Whether data survives a stack deletion is the environment's ``removal_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.key_policies import cloudwatch_logs_may_use

# Query results are re-creatable; a week is enough to download or re-read them.
ATHENA_RESULTS_DAYS = 7
# Access logs are kept for a year of audits, then expire.
ACCESS_LOG_DAYS = 365
# Overwritten or deleted versions of data objects stay recoverable this long.
NONCURRENT_VERSION_DAYS = 30


@dataclass(frozen=True)
class StorageProps:
    """``raw_object_events``: the raw bucket sends its object events to EventBridge (for the raw
    freshness alarms)."""

    removal_policy: cdk.RemovalPolicy
    raw_object_events: bool


class Storage(Construct):
    """The key and the buckets of one environment."""

    def __init__(self, scope: Construct, construct_id: str, *, props: StorageProps) -> None:
        super().__init__(scope, construct_id)
        self._removal_policy = props.removal_policy
        stack = cdk.Stack.of(self)
        self.data_key = kms.Key(
            self,
            "DataKey",
            description=f"{stack.stack_name}: data, logs, notifications",
            enable_key_rotation=True,
            removal_policy=props.removal_policy,
        )
        self._allow_service_use(stack)
        self.logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=cdk.Duration.days(ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=cdk.Duration.days(1),
                )
            ],
            **self._common(),
        )
        self.raw_bucket = self._data_bucket("RawLanding", "raw/")
        if props.raw_object_events:
            self._send_events_to_eventbridge(self.raw_bucket)
        self.curated_bucket = self._data_bucket("Curated", "curated/")
        self.quarantine_bucket = self._data_bucket("Quarantine", "quarantine/")
        self.assets_bucket = self._data_bucket("GlueAssets", "glue-assets/")
        self.athena_results_bucket = self._data_bucket(
            "AthenaResults",
            "athena-results/",
            expiration=cdk.Duration.days(ATHENA_RESULTS_DAYS),
        )

    def _common(self) -> dict[str, object]:
        destroy = self._removal_policy == cdk.RemovalPolicy.DESTROY
        return {
            "versioned": True,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "removal_policy": self._removal_policy,
            "auto_delete_objects": destroy,
        }

    @staticmethod
    def _send_events_to_eventbridge(bucket: s3.Bucket) -> None:
        """Set on the bucket resource itself: CDK's ``event_bridge_enabled`` would deploy a
        Lambda-backed custom resource to do what CloudFormation does natively."""
        cast(
            s3.CfnBucket, bucket.node.default_child
        ).notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

    def _data_bucket(
        self, construct_id: str, log_prefix: str, expiration: cdk.Duration | None = None
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.data_key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=expiration,
                    noncurrent_version_expiration=cdk.Duration.days(
                        1 if expiration else NONCURRENT_VERSION_DAYS
                    ),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            **self._common(),
        )

    def _allow_service_use(self, stack: cdk.Stack) -> None:
        """CloudWatch Logs encrypts this account's log groups; EventBridge and CloudWatch alarms
        publish to the encrypted topic (whose policy admits only this account's sources)."""
        for statement in cloudwatch_logs_may_use(stack):
            self.data_key.add_to_resource_policy(statement)
        self.data_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmAndEventPublishersOfThisAccount",
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
