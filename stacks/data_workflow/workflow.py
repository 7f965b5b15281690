"""The Step Functions state machine of the data workflow, built from the declared job graph.

Run order: apply input defaults -> start the raw crawler and poll it (bounded) -> each Glue job
in job-graph order (``.sync``; retried with backoff on Glue throttling and concurrency errors,
and config's ``max_retries`` times when the run fails) -> the data checks (each table's
contract rules on Athena) -> success. Any failure publishes to the environment's topic and
fails the execution. The local runner runs the same job order (``dataops.job_graph``).
"""

from __future__ import annotations

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

from dataops.contracts import Contract
from stacks.compliance import acknowledge
from stacks.data_workflow.access import (
    CATALOG_READ,
    attach,
    key_statement,
    location_statements,
    table_arns,
)
from stacks.data_workflow.data_quality import violations_query
from stacks.data_workflow.layout import (
    ATHENA_RESULTS_PREFIX,
    DEFAULT_RAW_PREFIX,
    DataLayout,
    Location,
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
# A failed (or timed-out) job run is retried by the workflow, config's ``max_retries`` times.
JOB_FAILURE_ERRORS = (sfn.Errors.TASKS_FAILED,)
JOB_RETRY_INTERVAL = cdk.Duration.minutes(2)


@dataclass(frozen=True)
class WorkflowJob:
    """A job of the graph: its name there and the deployed Glue job's name."""

    name: str
    glue_job_name: str


@dataclass(frozen=True)
class WorkflowProps:
    """``job_attempts``: runs of a job before the workflow fails (config's retries + 1)."""

    state_machine_name: str
    jobs: tuple[WorkflowJob, ...]
    job_timeout_minutes: int
    job_attempts: int
    crawler_name: str
    crawler_arn: str
    database_name: str
    workgroup_name: str
    checked_contracts: tuple[Contract, ...]
    layout: DataLayout
    athena_results_bucket: s3.IBucket
    topic: sns.ITopic
    data_key: kms.IKey
    metric_namespace: str
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


def _pascal(name: str) -> str:
    return "".join(part.title() for part in name.replace("-", "_").split("_"))


class DataWorkflowStateMachine(Construct):
    """``state_machine`` and the encrypted ``log_group`` it logs every event to."""

    def __init__(self, scope: Construct, construct_id: str, *, props: WorkflowProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        stack = cdk.Stack.of(self)
        self._workgroup_arn = stack.format_arn(
            service="athena", resource="workgroup", resource_name=props.workgroup_name
        )
        self._notify = self._failure_path()
        definition = self._apply_defaults().next(self._crawl())
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
        acknowledge(
            self.state_machine.role,
            {
                "AwsSolutions-IAM5[Resource::*]": "log delivery and X-Ray actions Step Functions "
                "needs, and cloudwatch:PutMetricData for the data-check failure count, have no "
                "resource-level permissions",
            },
        )

    @property
    def timeout(self) -> cdk.Duration:
        """Every job may use its whole timeout on every attempt, plus the overhead."""
        props = self._props
        jobs = len(props.jobs) * props.job_timeout_minutes * props.job_attempts
        return cdk.Duration.minutes(jobs + OVERHEAD_MINUTES)

    def _apply_defaults(self) -> sfn.Chain:
        """``$.run``: the execution input over the defaults (``raw_prefix``)."""
        defaults = sfn.Pass(
            self,
            "CollectInput",
            parameters={
                "defaults": {"raw_prefix": DEFAULT_RAW_PREFIX},
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

    def _failure_path(self) -> sfn.IChainable:
        """Publish ``$.error`` with the execution to the topic, then fail with it."""
        props = self._props
        publish = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=props.topic,
            subject=f"Data workflow {props.state_machine_name} failed",
            message=sfn.TaskInput.from_object(
                {
                    "stateMachine": props.state_machine_name,
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "input": sfn.JsonPath.object_at("$.run"),
                    "error": sfn.JsonPath.object_at("$.error"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(max_attempts=3, interval=cdk.Duration.seconds(5))
        failed = sfn.Fail(self, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
        return publish.next(failed)

    def _fail_with(self, construct_id: str, error: str, cause: str) -> sfn.IChainable:
        """A named failure without a caught exception: set ``$.error`` and notify."""
        return sfn.Pass(
            self,
            construct_id,
            result=sfn.Result.from_object({"Error": error, "Cause": cause}),
            result_path="$.error",
        ).next(self._notify)

    def _glue_call(self, construct_id: str, action: str, result_path: str) -> tasks.CallAwsService:
        props = self._props
        call = tasks.CallAwsService(
            self,
            construct_id,
            service="glue",
            action=action,
            parameters={"Name": props.crawler_name},
            iam_resources=[props.crawler_arn],
            result_path=result_path,
        )
        call.add_retry(
            errors=["Glue.ThrottlingException"],
            interval=cdk.Duration.seconds(10),
            max_attempts=5,
            backoff_rate=2,
        )
        return call

    def _crawl(self) -> sfn.Chain:
        """Start the crawler (or join a crawl already running) and poll it, at most
        ``CRAWLER_MAX_POLLS`` times."""
        props = self._props
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
        start.add_catch(self._notify, result_path="$.error")
        wait = sfn.Wait(
            self,
            "WaitForCrawler",
            time=sfn.WaitTime.duration(cdk.Duration.seconds(CRAWLER_POLL_SECONDS)),
        )
        get = self._glue_call("GetCrawler", "getCrawler", "$.crawler")
        get.add_catch(self._notify, result_path="$.error")
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
                self._jobs(),
            )
            .otherwise(
                self._fail_with(
                    "CrawlerFailed",
                    "CrawlerFailed",
                    f"crawler {props.crawler_name} did not succeed; see its CloudWatch logs",
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
                    "CrawlerTimedOut",
                    f"crawler {props.crawler_name} still running after "
                    f"{CRAWLER_MAX_POLLS * CRAWLER_POLL_SECONDS} s",
                ),
            )
            .otherwise(count.next(wait))
        )
        return start.next(begin_polling).next(wait).next(get).next(poll)

    def _jobs(self) -> sfn.IChainable:
        """Each Glue job in job-graph order, then the data checks."""
        props = self._props
        raw_uri = sfn.JsonPath.format(
            "s3://{}/{}",
            props.layout.raw_bucket.bucket_name,
            sfn.JsonPath.string_at("$.run.raw_prefix"),
        )
        runs: list[tasks.GlueStartJobRun] = []
        for job in props.jobs:
            run = tasks.GlueStartJobRun(
                self,
                f"Run{_pascal(job.name)}Job",
                glue_job_name=job.glue_job_name,
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                arguments=sfn.TaskInput.from_object(
                    {"--raw_uri": raw_uri, "--batch_id": sfn.JsonPath.execution_name}
                ),
                result_selector={
                    "id": sfn.JsonPath.string_at("$.Id"),
                    "state": sfn.JsonPath.string_at("$.JobRunState"),
                },
                result_path=f"$.jobRuns.{job.name}",
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
            run.add_catch(self._notify, result_path="$.error")
            runs.append(run)
        chain = sfn.Chain.start(runs[0])
        for run in runs[1:]:
            chain = chain.next(run)
        return chain.next(self._data_checks()).next(sfn.Succeed(self, "Succeeded"))

    def _data_checks(self) -> sfn.IChainable:
        """Each checked table's contract rules as one Athena query, in parallel; a query that
        returns a row (a broken rule) fails its branch. A failure is counted in the
        ``DataQualityFailures`` metric (alarmed) before the failure path."""
        props = self._props
        checks = sfn.Parallel(self, "DataChecks", result_path=sfn.JsonPath.DISCARD)
        for contract in props.checked_contracts:
            checks.branch(self._check_table(contract))
        record = tasks.CallAwsService(
            self,
            "CountDataCheckFailure",
            service="cloudwatch",
            action="putMetricData",
            parameters={
                "Namespace": props.metric_namespace,
                "MetricData": [{"MetricName": DATA_CHECK_METRIC, "Value": 1, "Unit": "Count"}],
            },
            iam_resources=["*"],
            result_path=sfn.JsonPath.DISCARD,
        )
        record.add_catch(self._notify, result_path=sfn.JsonPath.DISCARD)
        checks.add_catch(record.next(self._notify), result_path="$.error")
        return checks

    def _check_table(self, contract: Contract) -> sfn.IChainable:
        props = self._props
        name = _pascal(contract.name)
        query = sfn.CustomState(
            self,
            f"Query{name}",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{cdk.Aws.PARTITION}:states:::athena:startQueryExecution.sync",
                "Parameters": {
                    "QueryString": violations_query(contract),
                    "WorkGroup": props.workgroup_name,
                    "QueryExecutionContext": {"Database": props.database_name},
                },
                "ResultSelector": {"id.$": "$.QueryExecution.QueryExecutionId"},
                "ResultPath": "$.query",
            },
        )
        query.add_retry(
            errors=["Athena.TooManyRequestsException"],
            interval=cdk.Duration.seconds(10),
            max_attempts=5,
            backoff_rate=2,
        )
        results = tasks.CallAwsService(
            self,
            f"Read{name}Violations",
            service="athena",
            action="getQueryResults",
            parameters={
                "QueryExecutionId": sfn.JsonPath.string_at("$.query.id"),
                "MaxResults": 2,
            },
            iam_resources=[self._workgroup_arn],
            result_selector={"rows": sfn.JsonPath.list_at("$.ResultSet.Rows")},
            result_path="$.result",
        )
        # The first row holds the column names; a second one is a broken rule.
        verdict = (
            sfn.Choice(self, f"{name}Passes?")
            .when(
                sfn.Condition.is_present("$.result.rows[1]"),
                sfn.Fail(
                    self,
                    f"{name}BreaksContract",
                    error="DataContractViolated",
                    cause=f"{contract.name} breaks rules of contracts/{contract.name}.yaml; "
                    "see the Athena query results of this execution",
                ),
            )
            .otherwise(sfn.Succeed(self, f"{name}Passed"))
        )
        return query.next(results).next(verdict)

    def _grant_data_checks(self, stack: cdk.Stack) -> None:
        """What the Athena queries need: the workgroup, the checked tables' catalog entries and
        data, and the results prefix."""
        props = self._props
        role = self.state_machine.role
        tables = [contract.name for contract in props.checked_contracts]
        statements = [
            iam.PolicyStatement(
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetWorkGroup",
                ],
                resources=[self._workgroup_arn],
            ),
            iam.PolicyStatement(
                actions=list(CATALOG_READ),
                resources=table_arns(stack, props.database_name, tables),
            ),
            *location_statements((props.layout.table(t) for t in tables), write=False),
            *location_statements(
                [Location(props.athena_results_bucket, ATHENA_RESULTS_PREFIX)], write=True
            ),
            key_statement(props.data_key),
        ]
        attach(
            role,
            statements,
            "the Athena data checks read the checked tables' prefixes and write query results "
            "under the workgroup's result prefix",
        )
