"""Where the delivery pipeline's code comes from: CodeCommit or GitHub, as the config says.

Every build step gets a full git clone (``code_build_clone_output``): the contract gate diffs
contracts against an earlier commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import pipelines
from constructs import Construct

from dataops.config import SourceConfig


@dataclass(frozen=True)
class PipelineSource:
    step: pipelines.CodePipelineSource
    repository: codecommit.IRepository | None


def pipeline_source(scope: Construct, source: SourceConfig) -> PipelineSource:
    """A push to ``source.branch`` starts the pipeline (EventBridge for CodeCommit, the
    connection's webhook for GitHub)."""
    if source.provider == "github":
        step = pipelines.CodePipelineSource.connection(
            f"{source.owner}/{source.repository}",
            source.branch,
            connection_arn=str(source.connection_arn),
            code_build_clone_output=True,
            trigger_on_push=True,
        )
        return PipelineSource(step, None)
    repository = _codecommit_repository(scope, source)
    step = pipelines.CodePipelineSource.code_commit(
        repository,
        source.branch,
        trigger=actions.CodeCommitTrigger.EVENTS,
        code_build_clone_output=True,
        action_name=source.repository,
    )
    return PipelineSource(step, repository)


def _codecommit_repository(scope: Construct, source: SourceConfig) -> codecommit.IRepository:
    if not source.create_repository:
        return codecommit.Repository.from_repository_name(scope, "Repository", source.repository)
    repository = codecommit.Repository(
        scope,
        "Repository",
        repository_name=source.repository,
        description="Data workflow code: Glue jobs, contracts, data tests and their delivery",
    )
    # The code outlives the stack: deleting the pipeline must never delete the repository.
    repository.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return repository
