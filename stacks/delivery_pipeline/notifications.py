"""The delivery pipeline's SNS topics: pipeline events for the team, approval requests.

Both are KMS-encrypted with a key of their own and SSL-only; only CodeStar Notifications (the
events topic) and the pipeline's approval action (the approvals topic) may publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

PIPELINE_EVENTS = (
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-pipeline-execution-succeeded",
    "codepipeline-pipeline-manual-approval-needed",
)


@dataclass(frozen=True)
class PipelineTopicsProps:
    name_prefix: str
    team_emails: Sequence[str]
    approver_emails: Sequence[str]


class PipelineTopics(Construct):
    """``events`` (failed, succeeded, approval needed) and ``approvals`` (approval requests)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: PipelineTopicsProps) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{props.name_prefix}: delivery pipeline notifications",
            enable_key_rotation=True,
        )
        self._events_name = f"{props.name_prefix}-pipeline-events"
        self.events = self._topic("Events", self._events_name, props.team_emails)
        self.approvals = self._topic(
            "Approvals", f"{props.name_prefix}-approvals", props.approver_emails
        )

    def _topic(self, construct_id: str, name: str, emails: Sequence[str]) -> sns.Topic:
        topic = sns.Topic(
            self,
            construct_id,
            topic_name=name,
            display_name=name,
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in emails:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def notify_on(self, pipeline: codepipeline.IPipeline) -> notifications.NotificationRule:
        """Send the pipeline's execution results and approval requests to ``events``
        (the rule's target binding lets only CodeStar Notifications publish)."""
        return notifications.NotificationRule(
            self,
            "PipelineEvents",
            notification_rule_name=self._events_name,
            source=pipeline,
            events=list(PIPELINE_EVENTS),
            targets=[self.events],
            detail_type=notifications.DetailType.FULL,
        )
