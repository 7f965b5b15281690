"""The Glue jobs of one data set's job graph, one IAM role a job.

Every job runs the shared entry script with the framework zip and the data set's package zip
on ``--extra-py-files``; what it does is in its arguments, written by
:func:`jobkit.arguments.to_arguments` from :func:`dataops.job_contexts.job_context` (the local
runner builds the same context), so a job gets the same tables, schemas and downstream jobs in
Glue as on a laptop. Size, Flex and timeout come from the environment's config; its retries are
the state machine's. A job's role reaches exactly the locations the job graph gives it: its
input and output tables, the raw bucket for the raw job, its data set's state prefix, and its
own temp and Spark UI prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.datasets import DataSet
from dataops.job_contexts import job_context
from dataops.job_graph import RAW_SOURCE, JobSpec
from dataops.resource_names import glue_job_name
from jobkit.arguments import to_arguments
from stacks.compliance import acknowledge
from stacks.data_workflow.access import (
    attach,
    key_statement,
    location_statements,
    log_group_statement,
)
from stacks.data_workflow.glue_runtime import GlueRuntime
from stacks.data_workflow.job_library import build_library_zip
from stacks.data_workflow.layout import GLUE_TEMP_PREFIX, SPARK_UI_PREFIX, DataLayout, Location
from stacks.data_workflow.names import pascal

GLUE_VERSION = "5.1"  # Spark 3.5.6, Python 3.11, Java 17
GLUE_LOG_GROUP_PREFIX = "/aws-glue/"
# Glue's own retry starts a new job run (new id, ``PreviousRunId``) that the workflow's
# ``.sync`` task does not follow: the execution would fail while Glue retries behind it. So
# config's ``max_retries`` is applied by the state machine (see workflow.py), not by Glue.
GLUE_MAX_RETRIES = 0
# The batch of a run started from the Glue console; the state machine passes its execution name.
CONSOLE_BATCH_ID = "console"


@dataclass(frozen=True)
class DataSetJobsProps:
    project: str
    environment: EnvironmentConfig
    dataset: DataSet
    database_name: str
    layout: DataLayout
    runtime: GlueRuntime
    assets_bucket: s3.IBucket
    data_key: kms.IKey


class DataSetJobs(Construct):
    """``jobs`` and ``roles`` by job name, in job-graph order."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataSetJobsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.package = s3_assets.Asset(
            self,
            "Package",
            path=str(build_library_zip(props.dataset.root)),
            display_name=f"{props.dataset.name} data set package",
        )
        self.jobs: dict[str, glue.CfnJob] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in props.dataset.job_graph.jobs:
            self.roles[spec.name] = self._role(spec)
            self.jobs[spec.name] = self._job(spec)

    def _temp(self, spec: JobSpec) -> Location:
        dataset = self._props.dataset.name
        return Location(self._props.assets_bucket, f"{GLUE_TEMP_PREFIX}/{dataset}/{spec.name}")

    def _spark_ui(self, spec: JobSpec) -> Location:
        dataset = self._props.dataset.name
        return Location(self._props.assets_bucket, f"{SPARK_UI_PREFIX}/{dataset}/{spec.name}")

    def _role(self, spec: JobSpec) -> iam.Role:
        props = self._props
        layout = props.layout
        role = iam.Role(
            self,
            f"{pascal(spec.name)}Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue job {props.dataset.name}/{spec.name}: reads "
            f"{', '.join(spec.reads)}; writes {', '.join(spec.outputs)}",
        )
        reads = [
            layout.raw_bucket_root if name == RAW_SOURCE else layout.table(name)
            for name in spec.reads
        ]
        writes = [
            *(layout.table(name) for name in spec.outputs),
            layout.state(props.dataset.name),
            self._temp(spec),
            self._spark_ui(spec),
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            )
        )
        acknowledge(
            role,
            {
                "AwsSolutions-IAM5[Resource::*]": "cloudwatch:PutMetricData has no resource-level "
                "permissions; the statement is limited to the Glue namespace by condition"
            },
        )
        attach(
            role,
            [
                *location_statements(reads, write=False),
                *location_statements(writes, write=True),
                log_group_statement(cdk.Stack.of(self), GLUE_LOG_GROUP_PREFIX),
                props.runtime.read_statement(self.package),
                key_statement(props.data_key),
            ],
            f"Glue job {props.dataset.name}/{spec.name}: objects under the prefixes it reads and "
            "writes per its job graph, its data set's state prefix, its own temp and Spark UI "
            "prefixes, and the log groups Glue creates under /aws-glue/",
        )
        return role

    def default_arguments(self, spec: JobSpec) -> dict[str, str]:
        """Glue's settings, then the job's own arguments (a console run's batch)."""
        props = self._props
        context = job_context(
            props.dataset,
            spec,
            props.layout.job_locations(),
            CONSOLE_BATCH_ID,
            database=props.database_name,
        )
        return {
            "--job-language": "python",
            # The framework's own state decides what a run processes (jobkit.runner).
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-auto-scaling": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-metrics": "true",
            "--enable-observability-metrics": "true",
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": self._spark_ui(spec).uri,
            "--TempDir": self._temp(spec).uri,
            "--extra-py-files": f"{props.runtime.framework.s3_object_url},"
            f"{self.package.s3_object_url}",
            **to_arguments(context),
        }

    def _job(self, spec: JobSpec) -> glue.CfnJob:
        props = self._props
        sizing = props.environment.glue
        runtime = props.runtime
        job = glue.CfnJob(
            self,
            f"{pascal(spec.name)}Job",
            name=glue_job_name(
                props.project, props.environment.name, props.dataset.name, spec.name
            ),
            description=spec.description,
            role=self.roles[spec.name].role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl",
                python_version="3",
                script_location=runtime.entry_script.s3_object_url,
            ),
            worker_type=sizing.worker_type,
            number_of_workers=sizing.workers,
            execution_class="FLEX" if sizing.flex else "STANDARD",
            timeout=sizing.timeout_minutes,
            max_retries=GLUE_MAX_RETRIES,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=runtime.security_configuration.name,
            default_arguments=self.default_arguments(spec),
        )
        job.node.add_dependency(runtime.security_configuration)
        return job
