"""Everything one data set deploys in an environment, from its declarations alone.

``glue_scripts/<data set>/`` (dataset.yaml, job_graph.yaml), ``contracts/<data set>/`` and the
environment's ``datasets.<data set>`` settings give: its landing-zone policies and flow logs,
its catalog tables and Data Quality rulesets, its Glue jobs, its crawler (when declared), its
state machine, schedule and alarms, and the SSM parameter naming its state machine. What the
data sets of an environment share (key, buckets, database, workgroup, topic, Glue runtime,
event logs) comes in :class:`EnvironmentResources`; a new data set needs no code here.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.datasets import DATASET_FILE, DataSet
from dataops.declarations import DeclarationError
from dataops.job_graph import GLUE_SCRIPTS_DIR
from dataops.resource_names import (
    DataSetResource,
    crawler_name,
    glue_job_name,
    state_machine_name,
)
from stacks.data_workflow.alarms import DataSetAlarms, DataSetAlarmsProps
from stacks.data_workflow.catalog import CatalogDatabase, CatalogTables, CatalogTablesProps
from stacks.data_workflow.crawler import CrawlerProps, RawCrawler
from stacks.data_workflow.data_quality import DataQualityProps, DataQualityRulesets
from stacks.data_workflow.event_logs import EventLogs
from stacks.data_workflow.flow_logs import FlowLogsProps, VpcFlowLogs
from stacks.data_workflow.glue_jobs import DataSetJobs, DataSetJobsProps
from stacks.data_workflow.glue_runtime import GlueRuntime
from stacks.data_workflow.landing_zone import DeliveryAccessProps, allow_delivery
from stacks.data_workflow.layout import DataLayout
from stacks.data_workflow.published import DataSetNames, DataSetNamesProps
from stacks.data_workflow.schedule import ScheduleProps, WorkflowSchedule
from stacks.data_workflow.workflow import DataSetStateMachine, WorkflowProps


@dataclass(frozen=True)
class EnvironmentResources:
    """What every data set's workflow in one environment shares."""

    project: str
    environment: EnvironmentConfig
    layout: DataLayout
    raw_bucket: s3.Bucket
    data_key: kms.Key
    assets_bucket: s3.IBucket
    athena_results_bucket: s3.IBucket
    database: CatalogDatabase
    workgroup_name: str
    topic: sns.ITopic
    glue_runtime: GlueRuntime
    event_logs: EventLogs
    metric_namespace: str
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


@dataclass(frozen=True)
class DataSetWorkflowProps:
    """``crawler_exclusions``: folders under the data set's prefix that belong to other data
    sets (see :func:`stacks.data_workflow.crawler.crawler_exclusions`)."""

    dataset: DataSet
    crawler_exclusions: tuple[str, ...]
    shared: EnvironmentResources


class DataSetWorkflow(Construct):
    """The data set's ``state_machine``, ``jobs``, ``tables``, ``rulesets``, ``crawler`` (or
    ``None``), ``flow_logs`` (or ``None``), ``alarms`` and their ``alarm_names``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataSetWorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        dataset, shared = props.dataset, props.shared
        env = shared.environment
        name_prefix = f"{shared.project}-{env.name}"
        self.flow_logs = self._landing_zone()
        self.tables = CatalogTables(
            self,
            "Catalog",
            props=CatalogTablesProps(
                dataset.name, shared.database, dataset.contracts, shared.layout
            ),
        ).tables
        self.rulesets = DataQualityRulesets(
            self,
            "DataQuality",
            props=DataQualityProps(
                name_prefix=name_prefix,
                dataset=dataset.name,
                database_name=shared.database.database_name,
                contracts=dataset.contracts,
                tables=self.tables,
            ),
        ).rulesets
        self.jobs = DataSetJobs(
            self,
            "Jobs",
            props=DataSetJobsProps(
                project=shared.project,
                environment=env,
                dataset=dataset,
                database_name=shared.database.database_name,
                layout=shared.layout,
                runtime=shared.glue_runtime,
                assets_bucket=shared.assets_bucket,
                data_key=shared.data_key,
            ),
        )
        self.crawler = self._crawler()
        self.state_machine = DataSetStateMachine(
            self,
            "Workflow",
            props=WorkflowProps(
                state_machine_name=state_machine_name(shared.project, env.name, dataset.name),
                dataset=dataset,
                glue_job_names={
                    job: glue_job_name(shared.project, env.name, dataset.name, job)
                    for job in dataset.job_graph.names
                },
                job_timeout_minutes=env.glue.timeout_minutes,
                job_attempts=env.glue.max_retries + 1,
                crawler=self.crawler,
                database_name=shared.database.database_name,
                workgroup_name=shared.workgroup_name,
                layout=shared.layout,
                athena_results_bucket=shared.athena_results_bucket,
                topic=shared.topic,
                data_key=shared.data_key,
                metric_namespace=shared.metric_namespace,
                log_retention=shared.log_retention,
                removal_policy=shared.removal_policy,
            ),
        ).state_machine
        if env.schedule is not None:
            WorkflowSchedule(
                self,
                "Schedule",
                props=ScheduleProps(dataset.name, env.schedule, self.state_machine),
            )
        alarms = DataSetAlarms(
            self,
            "Alarms",
            props=DataSetAlarmsProps(
                name_prefix=f"{name_prefix}-{dataset.name}",
                dataset=dataset.name,
                raw=dataset.spec.raw,
                state_machine=self.state_machine,
                glue_job_names=tuple(job.name for job in self.jobs.jobs.values()),
                database_name=shared.database.database_name,
                rulesets=tuple(ruleset.name for ruleset in self.rulesets.values()),
                raw_bucket=shared.raw_bucket,
                freshness_minutes=env.freshness_minutes(dataset.name),
                topic=shared.topic,
                event_logs=shared.event_logs,
                metric_namespace=shared.metric_namespace,
            ),
        )
        self.alarms = alarms.alarms
        self.alarm_names = alarms.alarm_names
        DataSetNames(
            self,
            "Published",
            props=DataSetNamesProps(
                project=shared.project,
                environment=env.name,
                dataset=dataset.name,
                values={DataSetResource.STATE_MACHINE_ARN: self.state_machine.state_machine_arn},
            ),
        )

    def _landing_zone(self) -> VpcFlowLogs | None:
        """Let the declared delivery service write; create the environment's flow logs."""
        dataset, shared = self._props.dataset, self._props.shared
        settings = shared.environment.dataset_settings(dataset.name)
        delivery = dataset.spec.delivery
        if delivery is not None:
            allow_delivery(
                DeliveryAccessProps(
                    dataset=dataset,
                    delivery=delivery,
                    source_accounts=tuple(shared.environment.source_accounts(dataset.name)),
                    source_names=tuple(settings.source_names),
                    raw_bucket=shared.raw_bucket,
                    data_key=shared.data_key,
                )
            )
        if not settings.vpc_ids:
            return None
        if delivery is None or shared.raw_bucket.policy is None:
            raise DeclarationError(
                [
                    f"{GLUE_SCRIPTS_DIR / dataset.name / DATASET_FILE}: collector: flow logs "
                    "write through the log delivery service; fix: add delivery: (service: "
                    "delivery.logs.amazonaws.com) so the raw bucket lets it"
                ]
            )
        return VpcFlowLogs(
            self,
            "FlowLogs",
            props=FlowLogsProps(
                dataset=dataset,
                vpc_ids=tuple(settings.vpc_ids),
                raw_bucket=shared.raw_bucket,
                after=(shared.raw_bucket.policy, shared.data_key),
            ),
        )

    def _crawler(self) -> RawCrawler | None:
        dataset, shared = self._props.dataset, self._props.shared
        if dataset.spec.crawler is None:
            return None
        crawler = RawCrawler(
            self,
            "RawCrawler",
            props=CrawlerProps(
                name=crawler_name(shared.project, shared.environment.name, dataset.name),
                dataset=dataset.name,
                spec=dataset.spec.crawler,
                database_name=shared.database.database_name,
                landing=shared.layout.raw_landing(dataset),
                exclusions=self._props.crawler_exclusions,
                data_key=shared.data_key,
                security_configuration=shared.glue_runtime.security_configuration,
            ),
        )
        crawler.crawler.node.add_dependency(shared.database.database)
        return crawler
