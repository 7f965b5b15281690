"""The environment's event records: the log groups EventBridge rules write matched events to.

- failures: Glue job runs and Glue Data Quality evaluations of any data set that failed (what a
  failure alarm fired on, to read afterwards);
- raw arrivals (when a data set has a freshness alarm): every raw object a data set's freshness
  rule matched, i.e. when each delivery arrived.

One resource policy lets EventBridge write both: CloudWatch Logs allows an account only a few
resource policies a region.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

# EventBridge writes to log groups under this prefix (its own resource policy names it).
EVENTS_LOG_PREFIX = "/aws/events/"
# Arrivals answer "when did the last delivery come?": a month of them is plenty.
ARRIVALS_RETENTION = logs.RetentionDays.ONE_MONTH


@jsii.implements(events.IRuleTarget)
class ArnTarget:
    """An EventBridge target by ARN whose access is granted by the target's own resource
    policy (the topic policy, the log groups' resource policy), so no extra statements."""

    def __init__(self, arn: str) -> None:
        self._arn = arn

    def bind(self, _rule: events.IRule, _id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._arn)


@dataclass(frozen=True)
class EventLogsProps:
    name_prefix: str
    raw_arrivals: bool
    data_key: kms.IKey
    retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy


class EventLogs(Construct):
    """``failures`` and ``raw_arrivals`` (``None`` when no data set needs it), each with a
    rule ``target``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: EventLogsProps) -> None:
        super().__init__(scope, construct_id)
        self._props = props
        self.failures = self._log_group("Failures", "failures", props.retention)
        self.raw_arrivals = (
            self._log_group("RawArrivals", "raw-arrivals", ARRIVALS_RETENTION)
            if props.raw_arrivals
            else None
        )
        groups = [group for group in (self.failures, self.raw_arrivals) if group is not None]
        logs.ResourcePolicy(
            self,
            "EventBridgeMayWrite",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[
                        iam.ServicePrincipal("events.amazonaws.com"),
                        iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                    ],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[group.log_group_arn for group in groups],
                )
            ],
        )

    def _log_group(
        self, construct_id: str, suffix: str, retention: logs.RetentionDays
    ) -> logs.LogGroup:
        props = self._props
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=f"{EVENTS_LOG_PREFIX}{props.name_prefix}-{suffix}",
            encryption_key=props.data_key,
            retention=retention,
            removal_policy=props.removal_policy,
        )

    @staticmethod
    def target(group: logs.ILogGroup) -> events.IRuleTarget:
        stack = cdk.Stack.of(group)
        return ArnTarget(
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=group.log_group_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
        )
