"""How every CodeBuild build of the tooling account runs: image, size, caches, report groups.

The build commands live in ``buildspecs/*.yml`` (each calls make targets or ``python -m
dataops``); CDK reads those files and only adds what needs a deployed resource: the report
groups' ARNs. Both the delivery pipeline and the pull-request checks build from here, so a
pinned image or a cache path is changed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataops.declarations import DeclarationError

BUILDSPEC_DIR = Path(__file__).resolve().parents[2] / "buildspecs"

# Amazon Linux 2023 on Graviton, pinned to one image version: it offers Python 3.11 (Glue 5.0's)
# and Corretto 17 (local Spark) as buildspec runtime-versions.
BUILD_IMAGE = codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0
# ARM small (2 vCPU, 4 GiB) fits every build but the unit tests, whose two local-Spark and
# synth workers need the medium size's memory.
SMALL = codebuild.ComputeType.SMALL
MEDIUM = codebuild.ComputeType.MEDIUM

# Downloads kept between builds; the buildspecs list the same directories under cache.paths.
CACHE_DAYS = 14


def build_environment(compute_type: codebuild.ComputeType = SMALL) -> codebuild.BuildEnvironment:
    return codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=compute_type)


@dataclass(frozen=True)
class BuildSpecFile:
    """One buildspec of ``buildspecs/``, parsed."""

    name: str
    spec: dict[str, Any]

    @classmethod
    def load(cls, name: str, directory: Path = BUILDSPEC_DIR) -> BuildSpecFile:
        path = directory / f"{name}.yml"
        if not path.is_file():
            raise DeclarationError([f"{path}: missing; fix: add the buildspec or fix its name"])
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(spec, dict) or str(spec.get("version")) != "0.2":
            raise DeclarationError([f"{path}: version: must be 0.2; fix: start with version: 0.2"])
        return cls(name=name, spec=spec)

    @property
    def report_names(self) -> tuple[str, ...]:
        return tuple(self.spec.get("reports", {}))

    def with_report_groups(self, groups: dict[str, codebuild.IReportGroup]) -> dict[str, Any]:
        """The spec with each report's name replaced by its report group's ARN."""
        spec = dict(self.spec)
        if self.report_names:
            spec["reports"] = {
                groups[name].report_group_arn: report
                for name, report in self.spec["reports"].items()
            }
        return spec


class ReportGroups(Construct):
    """One CodeBuild report group per report name, so test results are kept and trended."""

    def __init__(self, scope: Construct, construct_id: str, *, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self._prefix = prefix
        self.groups: dict[str, codebuild.ReportGroup] = {}

    def for_buildspec(self, buildspec: BuildSpecFile) -> dict[str, codebuild.ReportGroup]:
        for name in buildspec.report_names:
            if name not in self.groups:
                self.groups[name] = codebuild.ReportGroup(
                    self,
                    name,
                    report_group_name=f"{self._prefix}-{name}",
                    type=codebuild.ReportGroupType.TEST,
                    removal_policy=cdk.RemovalPolicy.DESTROY,
                )
        return {name: self.groups[name] for name in buildspec.report_names}

    @staticmethod
    def write_statement(groups: dict[str, codebuild.ReportGroup]) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=[
                "codebuild:CreateReport",
                "codebuild:UpdateReport",
                "codebuild:BatchPutTestCases",
                "codebuild:BatchPutCodeCoverages",
            ],
            resources=[group.report_group_arn for group in groups.values()],
        )


class BuildCache(Construct):
    """An S3 cache for pip and npm downloads (builds on fresh hosts still hit it)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket, prefix: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{prefix}/",
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(CACHE_DAYS))],
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.cache = codebuild.Cache.bucket(self.bucket, prefix=prefix)


def access_logs_bucket(scope: Construct, construct_id: str) -> s3.Bucket:
    """Server access logs of the tooling account's buckets (kept a year)."""
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def log_server_access(bucket: s3.IBucket, access_logs: s3.Bucket, prefix: str) -> None:
    """Server access logging for a bucket another construct made (e.g. the pipeline's
    artifact bucket), with the log bucket's policy admitting S3's log delivery for it."""
    cfn_bucket = bucket.node.default_child
    if not isinstance(cfn_bucket, s3.CfnBucket):
        raise TypeError(f"{bucket.node.path}: not a bucket of this app")
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket_name, log_file_prefix=prefix
    )
    access_logs.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[access_logs.arn_for_objects(f"{prefix}*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                "StringEquals": {"aws:SourceAccount": cdk.Stack.of(bucket).account},
            },
        )
    )
