"""The Glue jobs of the job graph, their security configuration and one IAM role a job.

Each job runs its entry point ``glue_scripts/<job>_job.py`` (a CDK asset) with the job library
zipped onto ``--extra-py-files``; size, Flex and timeout come from the environment's config
(its retries are the state machine's). A job's role reaches exactly the locations and tables
the job graph says it reads and writes, plus the workflow's state prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from dataops.config import DEFAULT_CONFIG_PATH, EnvironmentConfig
from dataops.declarations import DeclarationError
from dataops.job_graph import RAW_SOURCE, JobGraph, JobSpec
from stacks.compliance import acknowledge
from stacks.data_workflow.access import (
    attach,
    catalog_statement,
    key_statement,
    location_statements,
    log_group_statement,
)
from stacks.data_workflow.job_library import build_library_zip
from stacks.data_workflow.layout import GLUE_TEMP_PREFIX, SPARK_UI_PREFIX, DataLayout, Location

GLUE_VERSION = "5.0"  # Spark 3.5, Python 3.11
LIBRARY_PACKAGE = "vpcflow_jobs"
GLUE_LOG_GROUP_PREFIX = "/aws-glue/"
# G.025X runs streaming jobs only; batch Glue 5.0 jobs need G.1X or larger.
STREAMING_ONLY_WORKER_TYPES = frozenset({"G.025X"})
# Glue's own retry starts a new job run (new id, ``PreviousRunId``) that the workflow's
# ``.sync`` task does not follow: the execution would fail while Glue retries behind it. So
# config's ``max_retries`` is applied by the state machine (see workflow.py), not by Glue.
GLUE_MAX_RETRIES = 0


def glue_job_name(project: str, environment: str, job: str) -> str:
    return f"{project}-{environment}-{job}"


@dataclass(frozen=True)
class GlueJobsProps:
    project: str
    environment: EnvironmentConfig
    environment_index: int
    job_graph: JobGraph
    scripts_dir: Path
    database_name: str
    layout: DataLayout
    data_key: kms.IKey
    assets_bucket: s3.IBucket


class GlueJobs(Construct):
    """``jobs`` and ``roles`` by job name, in job-graph order."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GlueJobsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self._check_sizing()
        stack = cdk.Stack.of(self)
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{props.project}-{props.environment.name}-glue",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=props.data_key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=props.data_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=props.data_key.key_arn
                ),
            ),
        )
        self.library = s3_assets.Asset(
            self,
            "JobLibrary",
            path=str(build_library_zip(props.scripts_dir / LIBRARY_PACKAGE)),
            display_name=f"{LIBRARY_PACKAGE} job library",
        )
        self.jobs: dict[str, glue.CfnJob] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in props.job_graph.jobs:
            self.roles[spec.name] = self._role(stack, spec)
            self.jobs[spec.name] = self._job(spec)

    def _check_sizing(self) -> None:
        worker_type = self._props.environment.glue.worker_type
        if worker_type in STREAMING_ONLY_WORKER_TYPES:
            raise DeclarationError(
                [
                    f"{DEFAULT_CONFIG_PATH}: environments[{self._props.environment_index}].glue."
                    f"worker_type: {worker_type} runs streaming jobs only; fix: use G.1X or larger"
                ]
            )

    def _temp(self, spec: JobSpec) -> Location:
        return Location(self._props.assets_bucket, f"{GLUE_TEMP_PREFIX}/{spec.name}")

    def _spark_ui(self, spec: JobSpec) -> Location:
        return Location(self._props.assets_bucket, f"{SPARK_UI_PREFIX}/{spec.name}")

    def _role(self, stack: cdk.Stack, spec: JobSpec) -> iam.Role:
        props = self._props
        role = iam.Role(
            self,
            f"{spec.name.title()}Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue job {spec.name}: reads {', '.join(spec.reads)}; "
            f"writes {', '.join(spec.writes)}",
        )
        reads = [props.layout.source(name) for name in spec.reads]
        writes = [
            *(props.layout.table(name) for name in spec.writes),
            props.layout.state,
            self._temp(spec),
            self._spark_ui(spec),
        ]
        # A job reading only the raw landing zone reads no table: a catalog read statement
        # with no table would grant table actions on no table.
        read_tables = [name for name in spec.reads if name != RAW_SOURCE]
        statements = [
            *location_statements(reads, write=False),
            *location_statements(writes, write=True),
            *(
                [catalog_statement(stack, props.database_name, read_tables, write=False)]
                if read_tables
                else []
            ),
            catalog_statement(stack, props.database_name, spec.writes, write=True),
            log_group_statement(stack, GLUE_LOG_GROUP_PREFIX),
        ]
        metrics = iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
        )
        role.add_to_policy(metrics)
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::*]": "cloudwatch:PutMetricData has no resource-level "
                "permissions; the statement is limited to the Glue namespace by condition"
            },
        )
        attach(
            role,
            [*statements, key_statement(props.data_key)],
            f"Glue job {spec.name}: objects under the prefixes it reads and writes per "
            "job_graph.yaml, its own temp and Spark UI prefixes, and the log groups Glue "
            "creates under /aws-glue/",
        )
        return role

    def _job(self, spec: JobSpec) -> glue.CfnJob:
        props = self._props
        sizing = props.environment.glue
        role = self.roles[spec.name]
        script = s3_assets.Asset(
            self,
            f"{spec.name.title()}Script",
            path=str(props.scripts_dir / spec.script),
            display_name=f"Glue job {spec.name} entry point",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[
                    asset.bucket.arn_for_objects(asset.s3_object_key)
                    for asset in (script, self.library)
                ],
            )
        )
        job = glue.CfnJob(
            self,
            f"{spec.name.title()}Job",
            name=glue_job_name(props.project, props.environment.name, spec.name),
            description=spec.description,
            role=role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            worker_type=sizing.worker_type,
            number_of_workers=sizing.workers,
            execution_class="FLEX" if sizing.flex else "STANDARD",
            timeout=sizing.timeout_minutes,
            max_retries=GLUE_MAX_RETRIES,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=self.security_configuration.name,
            default_arguments={
                "--job-language": "python",
                "--job-bookmark-option": "job-bookmark-enable",
                "--enable-auto-scaling": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--enable-metrics": "true",
                "--enable-observability-metrics": "true",
                "--enable-spark-ui": "true",
                "--spark-event-logs-path": self._spark_ui(spec).uri,
                "--TempDir": self._temp(spec).uri,
                "--extra-py-files": self.library.s3_object_url,
                "--raw_uri": props.layout.raw_landing.uri,
                "--warehouse_uri": props.layout.warehouse_uri,
                "--quarantine_uri": props.layout.quarantine.uri,
                "--state_uri": props.layout.state.uri,
                "--database": props.database_name,
            },
        )
        job.node.add_dependency(self.security_configuration)
        return job
