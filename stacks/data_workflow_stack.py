"""The data workflow of one environment: storage, catalog, Glue jobs, Step Functions, alarms.

Everything is derived from the declarations: table schemas from ``contracts/``, the jobs and
their order from ``glue_scripts/job_graph.yaml``, sizes, schedule and removal policy from the
environment's entry in ``config/environments.yaml``.
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
from stacks.data_workflow.alarms import AlarmsProps, WorkflowAlarms
from stacks.data_workflow.athena import AthenaWorkgroup, WorkgroupProps
from stacks.data_workflow.catalog import Catalog, CatalogProps
from stacks.data_workflow.crawler import CrawlerProps, RawCrawler
from stacks.data_workflow.data_quality import (
    DataQualityProps,
    DataQualityRulesets,
    checked_contracts,
)
from stacks.data_workflow.glue_jobs import GlueJobs, GlueJobsProps, glue_job_name
from stacks.data_workflow.integration_access import (
    IntegrationTestAccess,
    IntegrationTestAccessProps,
)
from stacks.data_workflow.layout import ATHENA_RESULTS_PREFIX, DataLayout, Location
from stacks.data_workflow.notifications import Notifications, NotificationsProps
from stacks.data_workflow.published import PublishedNames, PublishedNamesProps
from stacks.data_workflow.schedule import ScheduleProps, WorkflowSchedule
from stacks.data_workflow.storage import Storage, StorageProps
from stacks.data_workflow.template_hygiene import drop_redundant_dependencies
from stacks.data_workflow.workflow import DataWorkflowStateMachine, WorkflowJob, WorkflowProps

LOG_RETENTION = logs.RetentionDays.ONE_YEAR
REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


@dataclass(frozen=True)
class DataWorkflowStackProps:
    project: Project
    environment: EnvironmentConfig


class DataWorkflowStack(cdk.Stack):
    """One environment's data workflow; the attributes are what other stacks and tests use."""

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
        metric_namespace = f"{name}/{env.name}"

        storage = Storage(self, "Storage", props=StorageProps(removal_policy=removal_policy))
        self.data_key = storage.data_key
        self.raw_bucket = storage.raw_bucket
        self.curated_bucket = storage.curated_bucket
        self.quarantine_bucket = storage.quarantine_bucket
        self.athena_results_bucket = storage.athena_results_bucket
        self.assets_bucket = storage.assets_bucket
        layout = DataLayout(self.raw_bucket, self.curated_bucket, self.quarantine_bucket)

        self.database_name = glue_database_name(name, env.name)
        catalog = Catalog(
            self,
            "Catalog",
            props=CatalogProps(self.database_name, project.contracts, layout),
        )
        DataQualityRulesets(
            self,
            "DataQuality",
            props=DataQualityProps(prefix, self.database_name, project.contracts, catalog.tables),
        )
        glue_jobs = GlueJobs(
            self,
            "GlueJobs",
            props=GlueJobsProps(
                project=name,
                environment=env,
                environment_index=project.config.environments.index(env),
                job_graph=project.job_graph,
                scripts_dir=project.root / GLUE_SCRIPTS_DIR,
                database_name=self.database_name,
                layout=layout,
                data_key=self.data_key,
                assets_bucket=self.assets_bucket,
            ),
        )
        for job in glue_jobs.jobs.values():
            job.node.add_dependency(catalog.database)
        crawler = RawCrawler(
            self,
            "RawCrawler",
            props=CrawlerProps(
                name=f"{prefix}-raw",
                database_name=self.database_name,
                landing=layout.raw_landing,
                data_key=self.data_key,
                security_configuration=glue_jobs.security_configuration,
            ),
        )
        crawler.crawler.node.add_dependency(catalog.database)
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
        notifications = Notifications(
            self,
            "Notifications",
            props=NotificationsProps(
                topic_name=f"{prefix}-data-workflow",
                data_key=self.data_key,
                emails=tuple(project.config.emails_for(env)),
            ),
        )
        self.topic = notifications.topic
        workflow = DataWorkflowStateMachine(
            self,
            "Workflow",
            props=WorkflowProps(
                state_machine_name=f"{prefix}-data-workflow",
                jobs=tuple(
                    WorkflowJob(job.name, glue_job_name(name, env.name, job.name))
                    for job in project.job_graph.jobs
                ),
                job_timeout_minutes=env.glue.timeout_minutes,
                job_attempts=env.glue.max_retries + 1,
                crawler_name=crawler.name,
                crawler_arn=crawler.arn,
                database_name=self.database_name,
                workgroup_name=workgroup.name,
                checked_contracts=tuple(checked_contracts(project.contracts)),
                layout=layout,
                athena_results_bucket=self.athena_results_bucket,
                topic=self.topic,
                data_key=self.data_key,
                metric_namespace=metric_namespace,
                log_retention=LOG_RETENTION,
                removal_policy=removal_policy,
            ),
        )
        self.state_machine = workflow.state_machine
        if env.schedule is not None:
            WorkflowSchedule(
                self,
                "Schedule",
                props=ScheduleProps(expression=env.schedule, state_machine=self.state_machine),
            )
        alarms = WorkflowAlarms(
            self,
            "Alarms",
            props=AlarmsProps(
                name_prefix=prefix,
                state_machine=self.state_machine,
                glue_job_names=tuple(job.name for job in glue_jobs.jobs.values()),
                database_name=self.database_name,
                topic=self.topic,
                data_key=self.data_key,
                metric_namespace=metric_namespace,
                log_retention=LOG_RETENTION,
                removal_policy=removal_policy,
            ),
        )
        self.alarms = alarms.alarms
        self.alarm_names = alarms.alarm_names
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
                    PublishedResource.STATE_MACHINE_ARN: self.state_machine.state_machine_arn,
                    PublishedResource.ATHENA_WORKGROUP: workgroup.name,
                    PublishedResource.ALARM_NAMES: ",".join(self.alarm_names),
                    PublishedResource.KMS_KEY_ARN: self.data_key.key_arn,
                },
            ),
        )
        tooling = project.config.tooling.account
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
                table_buckets=(self.curated_bucket, self.quarantine_bucket),
                athena_results_bucket=self.athena_results_bucket,
                data_key=self.data_key,
                database_name=self.database_name,
                workgroup_name=workgroup.name,
                state_machine=self.state_machine,
                alarms=tuple(self.alarms),
            ),
        ).role
        drop_redundant_dependencies(self, self.state_machine)
