"""The environment's SNS topic: failures of the data workflow and its alarms.

Encrypted with the environment's key, SSL-only, and only CloudWatch alarms and EventBridge
rules of this account may publish through the topic policy (the workflow's own role publishes
through its IAM policy).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


@dataclass(frozen=True)
class NotificationsProps:
    topic_name: str
    data_key: kms.IKey
    emails: tuple[str, ...]


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: NotificationsProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=props.topic_name,
            display_name=props.topic_name,
            master_key=props.data_key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsAndRulesOfThisAccount",
                principals=[iam.ServicePrincipal(service) for service in PUBLISHING_SERVICES],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        for email in props.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
