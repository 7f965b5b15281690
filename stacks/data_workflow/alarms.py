"""Alarms the delivery pipeline watches after a deploy, all notifying the environment's topic.

- the state machine's ExecutionsFailed and ExecutionsTimedOut;
- Glue job runs ending FAILED, TIMEOUT or ERROR: an EventBridge rule on "Glue Job State Change"
  sends each such event to the topic and to an encrypted log group, where a metric filter
  counts them;
- data-quality failures: the workflow's data checks count their failures in the same metric
  that a metric filter feeds from Glue Data Quality "FAILED" results on the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.data_workflow.workflow import DATA_CHECK_METRIC

GLUE_JOB_FAILURE_METRIC = "GlueJobRunFailures"
GLUE_FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")
ALARM_PERIOD = cdk.Duration.minutes(5)


@jsii.implements(events.IRuleTarget)
class _ArnTarget:
    """An EventBridge target by ARN whose access is granted by the target's own resource
    policy (the topic policy, the log group's resource policy), so no extra statements."""

    def __init__(self, arn: str) -> None:
        self._arn = arn

    def bind(self, _rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._arn)


@dataclass(frozen=True)
class AlarmsProps:
    name_prefix: str
    state_machine: sfn.StateMachine
    glue_job_names: tuple[str, ...]
    database_name: str
    topic: sns.ITopic
    data_key: kms.IKey
    metric_namespace: str
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


class WorkflowAlarms(Construct):
    """``alarms`` (names in ``alarm_names``, plain strings) and the failure-event rules."""

    def __init__(self, scope: Construct, construct_id: str, *, props: AlarmsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        stack = cdk.Stack.of(self)
        self.failure_events = logs.LogGroup(
            self,
            "FailureEvents",
            log_group_name=f"/aws/events/{props.name_prefix}-failures",
            encryption_key=props.data_key,
            retention=props.log_retention,
            removal_policy=props.removal_policy,
        )
        self.failure_events.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[
                    iam.ServicePrincipal("events.amazonaws.com"),
                    iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                ],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.failure_events.log_group_arn],
            )
        )
        log_target = _ArnTarget(
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=self.failure_events.log_group_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        )
        topic_target = _ArnTarget(props.topic.topic_arn)
        self.glue_job_failures = events.Rule(
            self,
            "GlueJobFailureEvents",
            description="Runs of the data workflow's Glue jobs that end FAILED, TIMEOUT or ERROR",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": list(props.glue_job_names), "state": list(GLUE_FAILED_STATES)},
            ),
            targets=[topic_target, log_target],
        )
        self.data_quality_failures = events.Rule(
            self,
            "DataQualityFailureEvents",
            description="Glue Data Quality evaluations of the database's tables that fail",
            event_pattern=events.EventPattern(
                source=["aws.glue-dataquality"],
                detail_type=["Data Quality Evaluation Results Available"],
                detail={"state": ["FAILED"], "context": {"databaseName": [props.database_name]}},
            ),
            targets=[topic_target, log_target],
        )
        for metric_name, source in (
            (GLUE_JOB_FAILURE_METRIC, "aws.glue"),
            (DATA_CHECK_METRIC, "aws.glue-dataquality"),
        ):
            self.failure_events.add_metric_filter(
                f"{metric_name}Filter",
                filter_pattern=logs.FilterPattern.string_value("$.source", "=", source),
                metric_namespace=props.metric_namespace,
                metric_name=metric_name,
                metric_value="1",
                default_value=0,
            )
        machine = props.state_machine
        self.alarm_names: list[str] = []
        self.alarms = [
            self._alarm(
                "ExecutionsFailed",
                machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                "A data workflow execution failed",
            ),
            self._alarm(
                "ExecutionsTimedOut",
                machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
                "A data workflow execution timed out",
            ),
            self._alarm(
                "GlueJobRunFailures",
                self._custom_metric(GLUE_JOB_FAILURE_METRIC),
                "A Glue job run of the data workflow ended FAILED, TIMEOUT or ERROR",
            ),
            self._alarm(
                "DataQualityFailures",
                self._custom_metric(DATA_CHECK_METRIC),
                "A data check of the data workflow failed",
            ),
        ]

    def _custom_metric(self, name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self._props.metric_namespace,
            metric_name=name,
            period=ALARM_PERIOD,
            statistic="Sum",
        )

    def _alarm(self, suffix: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        """An alarm named ``<prefix>-<suffix>``; the plain name is kept in ``alarm_names``."""
        name = f"{self._props.name_prefix}-{suffix}"
        self.alarm_names.append(name)
        alarm = cloudwatch.Alarm(
            self,
            suffix,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self._props.topic))
        return alarm
