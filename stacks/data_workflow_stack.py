"""The data workflows of one environment: what the data sets share, and one workflow each.

Shared: the key, the buckets, the catalog database, the Athena workgroup, the failure topic,
the Glue runtime, the event logs, the published names and the integration-test role. Per data
set (:class:`stacks.data_workflow.dataset_workflow.DataSetWorkflow`), for every entry of
``project.datasets``: its tables, jobs, crawler, state machine, schedule and alarms. Sizes,
schedule, removal policy and data set settings come from the environment's entry in
``config/environments.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.job_graph import GLUE_SCRIPTS_DIR
from dataops.project import Project
from dataops.resource_names import (
    PublishedResource,
    glue_database_name,
    integration_test_role_name,
    parameter_prefix,
    post_deploy_step_role_name,
)
from stacks.data_workflow.athena import AthenaWorkgroup, WorkgroupProps
from stacks.data_workflow.catalog import CatalogDatabase
from stacks.data_workflow.crawler import crawler_exclusions
from stacks.data_workflow.dataset_workflow import (
    DataSetWorkflow,
    DataSetWorkflowProps,
    EnvironmentResources,
)
from stacks.data_workflow.event_logs import EventLogs, EventLogsProps
from stacks.data_workflow.glue_runtime import GlueRuntime, GlueRuntimeProps
from stacks.data_workflow.integration_access import (
    IntegrationTestAccess,
    IntegrationTestAccessProps,
)
from stacks.data_workflow.layout import (
    ATHENA_RESULTS_PREFIX,
    DataLayout,
    Location,
    quarantine_tables,
)
from stacks.data_workflow.names import pascal
from stacks.data_workflow.notifications import Notifications, NotificationsProps
from stacks.data_workflow.published import PublishedNames, PublishedNamesProps
from stacks.data_workflow.storage import Storage, StorageProps
from stacks.data_workflow.template_hygiene import drop_redundant_dependencies

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


@dataclass(frozen=True)
class DataWorkflowStackProps:
    project: Project
    environment: EnvironmentConfig


class DataWorkflowStack(cdk.Stack):
    """One environment's data workflows; the attributes are what other stacks and tests use
    (``datasets``: each data set's workflow by name)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: DataWorkflowStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        project, env = props.project, props.environment
        name = project.config.project
        prefix = f"{name}-{env.name}"
        removal_policy = REMOVAL_POLICIES[env.removal_policy]
        freshness = [env.freshness_minutes(dataset) for dataset in project.datasets]

        storage = Storage(
            self,
            "Storage",
            props=StorageProps(
                removal_policy=removal_policy,
                raw_object_events=any(minutes is not None for minutes in freshness),
            ),
        )
        self.data_key = storage.data_key
        self.raw_bucket = storage.raw_bucket
        self.curated_bucket = storage.curated_bucket
        self.quarantine_bucket = storage.quarantine_bucket
        self.athena_results_bucket = storage.athena_results_bucket
        self.assets_bucket = storage.assets_bucket
        layout = DataLayout(
            self.raw_bucket,
            self.curated_bucket,
            self.quarantine_bucket,
            quarantine_tables(project.datasets),
        )
        self.database_name = glue_database_name(name, env.name)
        database = CatalogDatabase(self, "Catalog", database_name=self.database_name)
        workgroup = AthenaWorkgroup(
            self,
            "Athena",
            props=WorkgroupProps(
                name=prefix,
                results=Location(self.athena_results_bucket, ATHENA_RESULTS_PREFIX),
                data_key=self.data_key,
                delete_with_stack=removal_policy == cdk.RemovalPolicy.DESTROY,
            ),
        )
        self.athena_workgroup_name = workgroup.name
        self.topic = Notifications(
            self,
            "Notifications",
            props=NotificationsProps(
                topic_name=f"{prefix}-data-workflow",
                data_key=self.data_key,
                emails=tuple(project.config.emails_for(env)),
            ),
        ).topic
        shared = EnvironmentResources(
            project=name,
            environment=env,
            layout=layout,
            raw_bucket=self.raw_bucket,
            data_key=self.data_key,
            assets_bucket=self.assets_bucket,
            athena_results_bucket=self.athena_results_bucket,
            database=database,
            workgroup_name=workgroup.name,
            topic=self.topic,
            glue_runtime=GlueRuntime(
                self,
                "GlueRuntime",
                props=GlueRuntimeProps(
                    name=f"{prefix}-glue",
                    environment=env,
                    scripts_dir=project.root / GLUE_SCRIPTS_DIR,
                    data_key=self.data_key,
                ),
            ),
            event_logs=EventLogs(
                self,
                "EventLogs",
                props=EventLogsProps(
                    name_prefix=prefix,
                    raw_arrivals=any(minutes is not None for minutes in freshness),
                    data_key=self.data_key,
                    retention=LOG_RETENTION,
                    removal_policy=removal_policy,
                ),
            ),
            metric_namespace=f"{name}/{env.name}",
            log_retention=LOG_RETENTION,
            removal_policy=removal_policy,
        )
        self.datasets = {
            dataset.name: DataSetWorkflow(
                self,
                # Prefixed: a data set named like a shared part ("storage") stays apart.
                f"DataSet{pascal(dataset.name)}",
                props=DataSetWorkflowProps(
                    dataset=dataset,
                    crawler_exclusions=tuple(crawler_exclusions(dataset, project.datasets)),
                    shared=shared,
                ),
            )
            for dataset in project.datasets.values()
        }
        self.alarms = [alarm for workflow in self.datasets.values() for alarm in workflow.alarms]
        self.alarm_names = [
            alarm for workflow in self.datasets.values() for alarm in workflow.alarm_names
        ]
        PublishedNames(
            self,
            "Published",
            props=PublishedNamesProps(
                project=name,
                environment=env.name,
                values={
                    PublishedResource.RAW_BUCKET: self.raw_bucket.bucket_name,
                    PublishedResource.CURATED_BUCKET: self.curated_bucket.bucket_name,
                    PublishedResource.QUARANTINE_BUCKET: self.quarantine_bucket.bucket_name,
                    PublishedResource.ATHENA_RESULTS_BUCKET: (
                        self.athena_results_bucket.bucket_name
                    ),
                    PublishedResource.GLUE_DATABASE: self.database_name,
                    PublishedResource.ATHENA_WORKGROUP: workgroup.name,
                    PublishedResource.ALARM_NAMES: ",".join(self.alarm_names),
                    PublishedResource.KMS_KEY_ARN: self.data_key.key_arn,
                },
            ),
        )
        tooling = project.config.tooling.account
        state_machines = tuple(workflow.state_machine for workflow in self.datasets.values())
        self.integration_test_role = IntegrationTestAccess(
            self,
            "IntegrationTestAccess",
            props=IntegrationTestAccessProps(
                role_name=integration_test_role_name(name, env.name),
                trusted_role_arn=f"arn:{self.partition}:iam::{tooling}:role/"
                f"{post_deploy_step_role_name(name, env.name)}",
                tooling_account=tooling,
                parameter_prefix=parameter_prefix(name, env.name),
                raw_bucket=self.raw_bucket,
                curated_bucket=self.curated_bucket,
                table_buckets=(self.curated_bucket, self.quarantine_bucket),
                athena_results_bucket=self.athena_results_bucket,
                data_key=self.data_key,
                database_name=self.database_name,
                workgroup_name=workgroup.name,
                state_machines=state_machines,
                alarms=tuple(self.alarms),
            ),
        ).role
        drop_redundant_dependencies(self, state_machines)
