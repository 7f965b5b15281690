"""A data set's alarms, which the delivery pipeline watches after a deploy; all notify the
environment's topic. Named ``<project>-<env>-<data set>-<Suffix>``:

- ``ExecutionsFailed`` and ``ExecutionsTimedOut`` of the data set's state machine;
- ``GlueJobRunFailures``: runs of its Glue jobs ending FAILED, TIMEOUT or ERROR;
- ``DataQualityFailures``: its workflow's data checks finding a broken contract (the metric
  ``DataQualityFailures`` with dimension ``Dataset`` in ``<project>/<env>``), or a Glue Data
  Quality evaluation of its tables failing;
- ``RawDataStale`` (where ``freshness_minutes`` is set): no raw object arrived under the data
  set's layout for that long.

The event-driven ones count the matches of an EventBridge rule of the data set (its
``TriggeredRules`` in ``AWS/Events``): the rule is what tells the data sets apart, which a
metric filter on a shared log group could only do from a field of the event itself. The rules
also send each failure to the topic and to the environment's failure log.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from dataops.datasets import RawSource
from stacks.data_workflow.event_logs import ArnTarget, EventLogs
from stacks.data_workflow.workflow import DATA_CHECK_METRIC, DATASET_DIMENSION

GLUE_FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")
ALARM_PERIOD = cdk.Duration.minutes(5)
RULE_METRICS_NAMESPACE = "AWS/Events"
RULE_MATCHES = "TriggeredRules"


def raw_object_key_pattern(raw: RawSource) -> str:
    """The keys a data set's deliveries land under: ``<prefix>*/<service folder>/*``."""
    return f"{raw.prefix}*/{raw.service_folder}/*"


@dataclass(frozen=True)
class DataSetAlarmsProps:
    """``rulesets``: the Data Quality rulesets of its checked tables (none: no data-quality
    alarm);
    ``freshness_minutes``: the raw freshness window (``None``: no freshness alarm)."""

    name_prefix: str
    dataset: str
    raw: RawSource
    state_machine: sfn.StateMachine
    glue_job_names: tuple[str, ...]
    database_name: str
    rulesets: tuple[str, ...]
    raw_bucket: s3.IBucket
    freshness_minutes: int | None
    topic: sns.ITopic
    event_logs: EventLogs
    metric_namespace: str


class DataSetAlarms(Construct):
    """``alarms`` (names in ``alarm_names``, plain strings) and the rules they count."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataSetAlarmsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self._topic_target = ArnTarget(props.topic.topic_arn)
        self._failure_log = EventLogs.target(props.event_logs.failures)
        self.alarm_names: list[str] = []
        machine = props.state_machine
        self.alarms = [
            self._alarm(
                "ExecutionsFailed",
                machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                f"A data workflow execution of {props.dataset} failed",
            ),
            self._alarm(
                "ExecutionsTimedOut",
                machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
                f"A data workflow execution of {props.dataset} timed out",
            ),
            self._alarm(
                "GlueJobRunFailures",
                self._rule_matches(self._glue_job_failures()),
                f"A Glue job run of {props.dataset} ended FAILED, TIMEOUT or ERROR",
            ),
        ]
        if props.rulesets:
            self.alarms.append(
                self._alarm(
                    "DataQualityFailures",
                    self._data_quality_failures(),
                    f"A data check of {props.dataset} failed",
                )
            )
        if props.freshness_minutes is not None:
            self.alarms.append(self._raw_data_stale(props.freshness_minutes))

    def _rule_matches(
        self, rule: events.Rule, period: cdk.Duration = ALARM_PERIOD
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=RULE_METRICS_NAMESPACE,
            metric_name=RULE_MATCHES,
            dimensions_map={"RuleName": rule.rule_name},
            period=period,
            statistic="Sum",
        )

    def _glue_job_failures(self) -> events.Rule:
        return events.Rule(
            self,
            "GlueJobFailureEvents",
            description=f"Runs of {self._props.dataset}'s Glue jobs that end FAILED, TIMEOUT or "
            "ERROR",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={
                    "jobName": list(self._props.glue_job_names),
                    "state": list(GLUE_FAILED_STATES),
                },
            ),
            targets=[self._topic_target, self._failure_log],
        )

    def _data_quality_failures(self) -> cloudwatch.IMetric:
        """The workflow's own count plus failed Glue Data Quality evaluations of the tables."""
        props = self._props
        rule = events.Rule(
            self,
            "DataQualityFailureEvents",
            description=f"Glue Data Quality evaluations of {props.dataset}'s tables that fail",
            event_pattern=events.EventPattern(
                source=["aws.glue-dataquality"],
                detail_type=["Data Quality Evaluation Results Available"],
                detail={
                    "state": ["FAILED"],
                    "context": {"databaseName": [props.database_name]},
                    "rulesetNames": list(props.rulesets),
                },
            ),
            targets=[self._topic_target, self._failure_log],
        )
        checks = cloudwatch.Metric(
            namespace=props.metric_namespace,
            metric_name=DATA_CHECK_METRIC,
            dimensions_map={DATASET_DIMENSION: props.dataset},
            period=ALARM_PERIOD,
            statistic="Sum",
        )
        return cloudwatch.MathExpression(
            expression="FILL(checks, 0) + FILL(evaluations, 0)",
            using_metrics={"checks": checks, "evaluations": self._rule_matches(rule)},
            label=DATA_CHECK_METRIC,
            period=ALARM_PERIOD,
        )

    def _raw_data_stale(self, minutes: int) -> cloudwatch.Alarm:
        """No matched arrival in one period of the whole window (CloudWatch allows a single
        period of up to seven days); no data at all counts as stale."""
        props = self._props
        log = props.event_logs.raw_arrivals
        assert log is not None
        arrivals = events.Rule(
            self,
            "RawArrivals",
            description=f"Raw objects of {props.dataset} arriving in the raw bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [props.raw_bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(raw_object_key_pattern(props.raw))},
                },
            ),
            targets=[EventLogs.target(log)],
        )
        return self._alarm(
            "RawDataStale",
            self._rule_matches(arrivals, cdk.Duration.minutes(minutes)),
            f"No raw object of {props.dataset} arrived under "
            f"{raw_object_key_pattern(props.raw)} for {minutes} minutes",
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )

    def _alarm(
        self,
        suffix: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
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
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self._props.topic))
        return alarm
