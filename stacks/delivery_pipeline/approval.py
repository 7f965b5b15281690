"""The manual approval before an environment that needs one, announced on an SNS topic.

CDK Pipelines' own ``ManualApprovalStep`` cannot notify a topic, so this step produces
CodePipeline's ``ManualApprovalAction`` itself; the comment and the review link may hold
pipeline variables (the commit, the staging results' URL).
"""

from __future__ import annotations

import jsii
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import pipelines


@jsii.implements(pipelines.ICodePipelineActionFactory)
class AnnouncedApproval(pipelines.Step):
    """A manual approval whose request goes to ``topic``."""

    def __init__(self, step_id: str, *, topic: sns.ITopic, comment: str, review_url: str) -> None:
        super().__init__(step_id)
        self.topic = topic
        self.comment = comment
        self.review_url = review_url
        self._discover_referenced_outputs({"comment": comment, "review_url": review_url})

    def produce_action(
        self, stage: codepipeline.IStage, options: pipelines.ProduceActionOptions
    ) -> pipelines.CodePipelineActionFactoryResult:
        stage.add_action(
            actions.ManualApprovalAction(
                action_name=options.action_name,
                run_order=options.run_order,
                notification_topic=self.topic,
                additional_information=self.comment,
                external_entity_link=self.review_url,
            )
        )
        return pipelines.CodePipelineActionFactoryResult(run_orders_consumed=1)
