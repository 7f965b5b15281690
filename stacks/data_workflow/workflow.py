"""The Step Functions state machine of one data set, built from its declarations.

Run order: apply input defaults (``raw_prefix``: the data set's ``raw.prefix``, ``replay``:
``none``) -> refuse an execution name that cannot name the run's records (see
:mod:`stacks.data_workflow.run_records`) -> start the raw crawler and poll it (bounded; only
when ``crawler:`` is declared) -> each Glue job in job-graph order (``.sync``, with the run's
``--batch_id``, ``--raw_uri`` and ``--replay``; retried with backoff on Glue throttling and
concurrency errors, and config's ``max_retries`` times when the run fails: a rerun of the same
batch resumes its committed manifest) -> the data checks (each checked table's contract rules
on Athena over the partitions this run wrote) -> attention (quarantined objects are announced
on the topic; the run still succeeds) -> success. Any failure records which step failed,
publishes one message naming the data set, the step and the error, and fails the execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from dataops.datasets import DataSet
from jobkit.arguments import BATCH_ID, RAW_URI, REPLAY
from jobkit.context import NO_REPLAY
from stacks.compliance import acknowledge, rendered_resource
from stacks.data_workflow.access import (
    CATALOG_READ,
    attach,
    key_statement,
    location_statements,
    table_arns,
)
from stacks.data_workflow.crawler import RawCrawler
from stacks.data_workflow.data_checks import (
    CONTRACT_VIOLATED,
    CheckedTable,
    CheckTarget,
    check_branch,
)
from stacks.data_workflow.data_quality import checked_contracts
from stacks.data_workflow.layout import ATHENA_RESULTS_PREFIX, DataLayout, Location
from stacks.data_workflow.names import pascal
from stacks.data_workflow.run_records import (
    RECORD,
    read_run_record,
    run_records_arn,
    unsafe_execution_name,
)

CRAWLER_POLL_SECONDS = 30
# 120 polls of 30 s: a crawl of new folders that takes over an hour is a failure, not a wait.
CRAWLER_MAX_POLLS = 120
# Headroom for the crawler, the data checks and retries on top of the Glue jobs' own timeouts.
OVERHEAD_MINUTES = 90
GLUE_TRANSIENT_ERRORS = (
    "Glue.ConcurrentRunsExceededException",
    "Glue.ThrottlingException",
    "Glue.AWSGlueException",
)
DATA_CHECK_METRIC = "DataQualityFailures"
DATASET_DIMENSION = "Dataset"
# A failed (or timed-out) job run is retried by the workflow, config's ``max_retries`` times.
JOB_FAILURE_ERRORS = (sfn.Errors.TASKS_FAILED,)
JOB_RETRY_INTERVAL = cdk.Duration.minutes(2)
# Steps a failure message names.
STEP_EXECUTION_NAME = "execution name"
STEP_CRAWLER = "crawler"
STEP_DATA_CHECKS = "data checks"
STEP_ATTENTION = "attention"


def job_step(job: str) -> str:
    return f"job {job}"


@dataclass(frozen=True)
class WorkflowProps:
    """``glue_job_names``: each job of the graph (in its order) -> the deployed Glue job;
    ``job_attempts``: runs of a job before the workflow fails (config's retries + 1)."""

    state_machine_name: str
    dataset: DataSet
    glue_job_names: Mapping[str, str]
    job_timeout_minutes: int
    job_attempts: int
    crawler: RawCrawler | None
    database_name: str
    workgroup_name: str
    layout: DataLayout
    athena_results_bucket: s3.IBucket
    topic: sns.ITopic
    data_key: kms.IKey
    metric_namespace: str
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


class DataSetStateMachine(Construct):
    """``state_machine`` and the encrypted ``log_group`` it logs every event to."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        stack = cdk.Stack.of(self)
        self._checked = [
            CheckedTable(
                props.dataset.name,
                contract,
                props.dataset.job_graph.producer_of(contract.name).name,
            )
            for contract in checked_contracts(props.dataset.contracts)
        ]
        self._check_target = CheckTarget(
            curated_bucket=props.layout.curated_bucket,
            database_name=props.database_name,
            workgroup_name=props.workgroup_name,
            workgroup_arn=stack.format_arn(
                service="athena", resource="workgroup", resource_name=props.workgroup_name
            ),
        )
        self._notify = self._notify_failure()
        self._step_failures: dict[str, sfn.IChainable] = {}
        self._succeeded = sfn.Succeed(self, "Succeeded")
        after_start = self._crawl(self._jobs()) if props.crawler else self._jobs()
        definition = self._apply_defaults().next(self._check_execution_name(after_start))
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{props.state_machine_name}",
            encryption_key=props.data_key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=props.state_machine_name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=self.timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        self._grant_data_checks(stack)
        records = rendered_resource(
            stack, stack.resolve(run_records_arn(props.layout.curated_bucket, props.dataset.name))
        )
        acknowledge(
            self.state_machine.role,
            {
                "AwsSolutions-IAM5[Resource::*]": "log delivery and X-Ray actions Step Functions "
                "needs, and cloudwatch:PutMetricData for the data-check failure count, have no "
                "resource-level permissions",
                f"AwsSolutions-IAM5[Resource::{records}]": "the workflow reads the run records "
                "of its own executions (s3:GetObject only), whose keys hold the execution name",
            },
        )

    @property
    def timeout(self) -> cdk.Duration:
        """Every job may use its whole timeout on every attempt, plus the overhead."""
        props = self._props
        jobs = len(props.glue_job_names) * props.job_timeout_minutes * props.job_attempts
        return cdk.Duration.minutes(jobs + OVERHEAD_MINUTES)

    # Input and failures ------------------------------------------------------------------

    def _apply_defaults(self) -> sfn.Chain:
        """``$.run``: the execution input over the defaults."""
        defaults = sfn.Pass(
            self,
            "CollectInput",
            parameters={
                "defaults": {
                    "raw_prefix": self._props.dataset.spec.raw.prefix,
                    "replay": NO_REPLAY,
                },
                "input": sfn.JsonPath.object_at("$"),
            },
        )
        merge = sfn.Pass(
            self,
            "ApplyDefaults",
            parameters={
                "run": sfn.JsonPath.json_merge(
                    sfn.JsonPath.object_at("$.defaults"), sfn.JsonPath.object_at("$.input")
                )
            },
        )
        return defaults.next(merge)

    def _notify_failure(self) -> sfn.IChainable:
        """Publish the data set, the failed step (``$.failed.step``) and ``$.error`` with the
        execution to the topic, then fail with the error."""
        props = self._props
        publish = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=props.topic,
            subject=f"Data workflow {props.state_machine_name} failed",
            message=sfn.TaskInput.from_object(
                {
                    "dataset": props.dataset.name,
                    "stateMachine": props.state_machine_name,
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "failedStep": sfn.JsonPath.string_at("$.failed.step"),
                    "error": sfn.JsonPath.object_at("$.error"),
                    "input": sfn.JsonPath.object_at("$.run"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(max_attempts=3, interval=cdk.Duration.seconds(5))
        failed = sfn.Fail(self, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
        return publish.next(failed)

    def _failed_at(self, step: str) -> sfn.IChainable:
        """Record that ``step`` failed (``$.failed``), then notify; one state a step."""
        if step not in self._step_failures:
            self._step_failures[step] = sfn.Pass(
                self,
                f"Record{pascal(step.replace(' ', '_'))}Failure",
                result=sfn.Result.from_object({"step": step}),
                result_path="$.failed",
            ).next(self._notify)
        return self._step_failures[step]

    def _fail_with(self, construct_id: str, step: str, error: str, cause: str) -> sfn.IChainable:
        """A named failure without a caught exception: set ``$.error``, then record the step."""
        return sfn.Pass(
            self,
            construct_id,
            parameters={"Error": error, "Cause": cause},
            result_path="$.error",
        ).next(self._failed_at(step))

    def _check_execution_name(self, then: sfn.IChainable) -> sfn.IChainable:
        refused = self._fail_with(
            "ExecutionNameRefused",
            STEP_EXECUTION_NAME,
            "InvalidExecutionName",
            sfn.JsonPath.format(
                "execution name {} holds characters other than letters, digits, '-' and '_'; "
                "it is the run's batch id and names its records: start the run again with such "
                "a name",
                sfn.JsonPath.execution_name,
            ),
        )
        return (
            sfn.Choice(self, "ExecutionNameUsable?")
            .when(unsafe_execution_name(), refused)
            .otherwise(then)
        )

    # Crawler -----------------------------------------------------------------------------

    def _glue_call(self, construct_id: str, action: str, result_path: str) -> tasks.CallAwsService:
        crawler = self._props.crawler
        assert crawler is not None
        call = tasks.CallAwsService(
            self,
            construct_id,
            service="glue",
            action=action,
            parameters={"Name": crawler.name},
            iam_resources=[crawler.arn],
            result_path=result_path,
        )
        call.add_retry(
            errors=["Glue.ThrottlingException"],
            interval=cdk.Duration.seconds(10),
            max_attempts=5,
            backoff_rate=2,
        )
        return call

    def _crawl(self, then: sfn.IChainable) -> sfn.Chain:
        """Start the crawler (or join a crawl already running) and poll it, at most
        ``CRAWLER_MAX_POLLS`` times, then go on with ``then``."""
        crawler = self._props.crawler
        assert crawler is not None
        start = self._glue_call("StartCrawler", "startCrawler", sfn.JsonPath.DISCARD)
        begin_polling = sfn.Pass(
            self,
            "BeginPolling",
            result=sfn.Result.from_object({"count": 0}),
            result_path="$.polls",
        )
        start.add_catch(
            begin_polling, errors=["Glue.CrawlerRunningException"], result_path=sfn.JsonPath.DISCARD
        )
        start.add_catch(self._failed_at(STEP_CRAWLER), result_path="$.error")
        wait = sfn.Wait(
            self,
            "WaitForCrawler",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(CRAWLER_POLL_SECONDS)),
        )
        get = self._glue_call("GetCrawler", "getCrawler", "$.crawler")
        get.add_catch(self._failed_at(STEP_CRAWLER), result_path="$.error")
        count = sfn.Pass(
            self,
            "CountPoll",
            parameters={"count": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.polls.count"), 1)},
            result_path="$.polls",
        )
        crawl_result = (
            sfn.Choice(self, "CrawlSucceeded?")
            .when(
                sfn.Condition.string_equals("$.crawler.Crawler.LastCrawl.Status", "SUCCEEDED"),
                then,
            )
            .otherwise(
                self._fail_with(
                    "CrawlerDidNotSucceed",
                    STEP_CRAWLER,
                    "CrawlerFailed",
                    f"crawler {crawler.name} did not succeed; see its CloudWatch logs",
                )
            )
        )
        poll = (
            sfn.Choice(self, "CrawlerReady?")
            .when(sfn.Condition.string_equals("$.crawler.Crawler.State", "READY"), crawl_result)
            .when(
                sfn.Condition.number_greater_than_equals("$.polls.count", CRAWLER_MAX_POLLS),
                self._fail_with(
                    "CrawlerTimedOut",
                    STEP_CRAWLER,
                    "CrawlerTimedOut",
                    f"crawler {crawler.name} still running after "
                    f"{CRAWLER_MAX_POLLS * CRAWLER_POLL_SECONDS} s",
                ),
            )
            .otherwise(count.next(wait))
        )
        return start.next(begin_polling).next(wait).next(get).next(poll)

    # Jobs --------------------------------------------------------------------------------

    def _jobs(self) -> sfn.IChainable:
        """Each Glue job in job-graph order, then the data checks and the attention step."""
        props = self._props
        arguments = sfn.TaskInput.from_object(
            {
                f"--{BATCH_ID}": sfn.JsonPath.execution_name,
                f"--{RAW_URI}": sfn.JsonPath.format(
                    "s3://{}/{}",
                    props.layout.raw_bucket.bucket_name,
                    sfn.JsonPath.string_at("$.run.raw_prefix"),
                ),
                f"--{REPLAY}": sfn.JsonPath.string_at("$.run.replay"),
            }
        )
        runs: list[tasks.GlueStartJobRun] = []
        for job, glue_job_name in props.glue_job_names.items():
            run = tasks.GlueStartJobRun(
                self,
                f"Run{pascal(job)}Job",
                glue_job_name=glue_job_name,
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                arguments=arguments,
                result_selector={
                    "id": sfn.JsonPath.string_at("$.Id"),
                    "state": sfn.JsonPath.string_at("$.JobRunState"),
                },
                result_path=f"$.jobRuns.{job}",
            )
            run.add_retry(
                errors=list(GLUE_TRANSIENT_ERRORS),
                interval=cdk.Duration.minutes(1),
                max_attempts=6,
                backoff_rate=2,
                max_delay=cdk.Duration.minutes(15),
                jitter_strategy=sfn.JitterType.FULL,
            )
            if props.job_attempts > 1:
                run.add_retry(
                    errors=list(JOB_FAILURE_ERRORS),
                    interval=JOB_RETRY_INTERVAL,
                    max_attempts=props.job_attempts - 1,
                    backoff_rate=2,
                )
            run.add_catch(self._failed_at(job_step(job)), result_path="$.error")
            runs.append(run)
        chain = sfn.Chain.start(runs[0])
        for run in runs[1:]:
            chain = chain.next(run)
        if self._checked:
            chain = chain.next(self._data_checks())
        return chain.next(self._attention())

    # Data checks and attention -----------------------------------------------------------

    def _data_checks(self) -> sfn.IChainable:
        """Every checked table's branch in parallel. A broken contract is counted in the
        ``DataQualityFailures`` metric (alarmed) before the failure path."""
        props = self._props
        checks = sfn.Parallel(self, "DataChecks", result_path=sfn.JsonPath.DISCARD)
        for table in self._checked:
            checks.branch(check_branch(self, table, self._check_target))
        record = tasks.CallAwsService(
            self,
            "CountDataCheckFailure",
            service="cloudwatch",
            action="putMetricData",
            parameters={
                "Namespace": props.metric_namespace,
                "MetricData": [
                    {
                        "MetricName": DATA_CHECK_METRIC,
                        "Dimensions": [{"Name": DATASET_DIMENSION, "Value": props.dataset.name}],
                        "Value": 1,
                        "Unit": "Count",
                    }
                ],
            },
            iam_resources=["*"],
            result_path=sfn.JsonPath.DISCARD,
        )
        record.add_catch(self._notify, result_path=sfn.JsonPath.DISCARD)
        violated = sfn.Pass(
            self,
            "RecordDataContractViolation",
            result=sfn.Result.from_object({"step": STEP_DATA_CHECKS}),
            result_path="$.failed",
        )
        checks.add_catch(
            violated.next(record).next(self._notify),
            errors=[CONTRACT_VIOLATED],
            result_path="$.error",
        )
        checks.add_catch(self._failed_at(STEP_DATA_CHECKS), result_path="$.error")
        return checks

    def _attention(self) -> sfn.IChainable:
        """Read the raw job's record; when it quarantined whole objects, publish a notice. The
        execution succeeds either way."""
        props = self._props
        raw_job = props.dataset.job_graph.raw_jobs[0]
        read = read_run_record(
            self,
            "ReadRawJobRunRecord",
            bucket=props.layout.curated_bucket,
            dataset=props.dataset.name,
            job=raw_job.name,
            result_path="$.attention",
        )
        read.add_catch(self._failed_at(STEP_ATTENTION), result_path="$.error")
        quarantined = f"$.attention.{RECORD}.objects_quarantined"
        notice = tasks.SnsPublish(
            self,
            "NotifyQuarantinedObjects",
            topic=props.topic,
            subject=f"Data workflow {props.state_machine_name}: raw objects quarantined",
            message=sfn.TaskInput.from_object(
                {
                    "dataset": props.dataset.name,
                    "stateMachine": props.state_machine_name,
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "objectsQuarantined": sfn.JsonPath.number_at(quarantined),
                    "quarantineTable": raw_job.quarantine,
                    "note": "the run succeeded; these raw objects could not be read whole and "
                    "are in the quarantine table with the reason",
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        notice.add_retry(max_attempts=3, interval=cdk.Duration.seconds(5))
        notice.add_catch(self._failed_at(STEP_ATTENTION), result_path="$.error")
        decide = (
            sfn.Choice(self, "ObjectsQuarantined?")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(quarantined),
                    sfn.Condition.number_greater_than(quarantined, 0),
                ),
                notice.next(self._succeeded),
            )
            .otherwise(self._succeeded)
        )
        return read.next(decide)

    def _grant_data_checks(self, stack: cdk.Stack) -> None:
        """What the Athena queries need: the workgroup, the checked tables' catalog entries and
        data, the results prefix, and the key (records, tables, results)."""
        props = self._props
        tables = [table.contract.name for table in self._checked]
        statements: list[iam.PolicyStatement] = [key_statement(props.data_key)]
        if tables:
            statements = [
                iam.PolicyStatement(
                    actions=[
                        "athena:StartQueryExecution",
                        "athena:GetQueryExecution",
                        "athena:StopQueryExecution",
                        "athena:GetWorkGroup",
                    ],
                    resources=[self._check_target.workgroup_arn],
                ),
                iam.PolicyStatement(
                    actions=list(CATALOG_READ),
                    resources=table_arns(stack, props.database_name, tables),
                ),
                *location_statements((props.layout.table(t) for t in tables), write=False),
                *location_statements(
                    [Location(props.athena_results_bucket, ATHENA_RESULTS_PREFIX)], write=True
                ),
                *statements,
            ]
        attach(
            self.state_machine.role,
            statements,
            "the Athena data checks read the checked tables' prefixes and write query results "
            "under the workgroup's result prefix; run records are read under the data set's "
            "_state/<data set>/runs/ prefix only",
        )
