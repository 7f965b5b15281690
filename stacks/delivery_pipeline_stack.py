"""The delivery pipeline: CDK Pipelines on CodePipeline V2 in the tooling account.

Source -> Build (synth, cdk-nag, cfn-lint) -> UpdatePipeline (self-mutation) -> Assets ->
Checks (lint, unit tests, contract gate, cloud rehearsal in parallel) -> Tooling (the
pull-request checks stack, in this account) -> one stage per environment in config order, each
deployed into its own account through the roles ``cdk bootstrap --trust`` made, followed by the
integration test and the alarm watch; an environment with ``approval_before_deploy`` gets an
approval stage (``Approve<Env>``) in front of it. A failed environment stage rolls back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from dataops.config import EnvironmentConfig, ProjectConfig
from dataops.project import PROJECT_ROOT, Project
from dataops.resource_names import integration_test_role_name, post_deploy_step_role_name
from stacks.compliance import acknowledge_expected_wildcards
from stacks.connection_permissions import respell_connection_grants
from stacks.delivery_pipeline.approval import AnnouncedApproval
from stacks.delivery_pipeline.build_steps import BuildSteps, StepOptions
from stacks.delivery_pipeline.expected_wildcards import PIPELINE_WILDCARDS
from stacks.delivery_pipeline.notifications import PipelineTopics, PipelineTopicsProps
from stacks.delivery_pipeline.rollback import roll_back_on_failure
from stacks.delivery_pipeline.source import pipeline_source
from stacks.delivery_pipeline.template_hygiene import (
    narrow_self_mutation_listing,
    tidy_pipeline_template,
)
from stacks.environment_stage import EnvironmentStage, EnvironmentStageProps
from stacks.tooling.build_settings import (
    MEDIUM,
    BuildCache,
    ReportGroups,
    access_logs_bucket,
    build_environment,
    log_server_access,
)
from stacks.tooling_stage import ToolingStage, ToolingStageProps

CHECKS_WAVE = "Checks"
# Deploys the pull-request checks into the tooling account once the checks have passed.
TOOLING_STAGE = "Tooling"
# Environment variable naming the environment in the post-deploy buildspecs.
ENVIRONMENT_VARIABLE = "DATAOPS_ENVIRONMENT"
# Minutes a post-deploy step may take beyond its own wait (set-up, reports).
STEP_MARGIN_MINUTES = 30
INTEGRATION_TEST_MINUTES = 90


def cdk_cli_version(root: str | None = None) -> str:
    """The CDK CLI version pinned in package.json; self-mutation installs the same one."""
    package = json.loads(
        (PROJECT_ROOT if root is None else root).joinpath("package.json").read_text()
    )
    return package["devDependencies"]["aws-cdk"]


@dataclass(frozen=True)
class DeliveryPipelineStackProps:
    project: Project


class DeliveryPipelineStack(cdk.Stack):
    """``pipeline`` (CDK Pipelines), ``stages`` by environment name, ``topics``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: DeliveryPipelineStackProps,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = props.project.config
        self._config = config
        self.source = pipeline_source(self, config.source)
        logs = access_logs_bucket(self, "AccessLogs")
        cache = BuildCache(self, "BuildCache", access_logs=logs, prefix="delivery-pipeline")
        self.report_groups = ReportGroups(self, "Reports", prefix=f"{config.project}-pipeline")
        self._steps = BuildSteps(
            source=self.source.step, cache=cache.cache, report_groups=self.report_groups
        )
        self.topics = PipelineTopics(
            self,
            "Topics",
            props=PipelineTopicsProps(
                name_prefix=config.project,
                team_emails=config.notifications.emails,
                approver_emails=_approvers(config),
            ),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=f"{config.project}-delivery-pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=self._steps.step(
                "Synth", "synth", StepOptions(primary_output_directory="cdk.out")
            ),
            cross_account_keys=True,
            enable_key_rotation=True,
            self_mutation=True,
            cli_version=cdk_cli_version(),
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=build_environment(), cache=cache.cache
            ),
        )
        self.pipeline.add_wave(CHECKS_WAVE, pre=self._checks())
        self.tooling = ToolingStage(
            self,
            TOOLING_STAGE,
            props=ToolingStageProps(project=props.project),
            env=cdk.Environment(account=self.account, region=self.region),
        )
        self.pipeline.add_stage(self.tooling)
        self.stages: dict[str, EnvironmentStage] = {}
        self.integration_tests: dict[str, pipelines.CodeBuildStep] = {}
        for environment in config.environments:
            self._add_environment(props.project, environment)
        self.pipeline.build_pipeline()
        roll_back_on_failure(
            self.pipeline.pipeline, [stage.stage_name for stage in self.stages.values()]
        )
        self.notification_rule = self.topics.notify_on(self.pipeline.pipeline)
        log_server_access(self.pipeline.pipeline.artifact_bucket, logs, "artifacts/")
        tidy_pipeline_template(self.pipeline.pipeline)
        acknowledge_expected_wildcards(self, PIPELINE_WILDCARDS)
        narrow_self_mutation_listing(self.pipeline)
        if config.source.connection_arn is not None:
            # Last too; self-mutation reads the synth output, never the source, so the two
            # rewrites never touch the same policy.
            respell_connection_grants(self, config.source.connection_arn)

    def _checks(self) -> list[pipelines.Step]:
        """Independent, so CodePipeline runs them side by side."""
        return [
            self._steps.step("Lint", "lint"),
            self._steps.step("UnitTests", "unit_tests", StepOptions(compute_type=MEDIUM)),
            self._steps.step("ContractGate", "contract_gate"),
            self._steps.step("Rehearse", "rehearse", StepOptions(compute_type=MEDIUM)),
        ]

    def _add_environment(self, project: Project, environment: EnvironmentConfig) -> None:
        stage_id = environment.name.capitalize()
        stage = EnvironmentStage(
            self,
            stage_id,
            props=EnvironmentStageProps(project=project, environment=environment),
            env=cdk.Environment(account=environment.account, region=environment.region),
        )
        self.stages[environment.name] = stage
        if environment.approval_before_deploy:
            self.pipeline.add_wave(f"Approve{stage_id}", pre=[self._approval(environment)])
        role = self._post_deploy_role(environment)
        env = {ENVIRONMENT_VARIABLE: environment.name}
        integration_test = self._steps.step(
            "IntegrationTest",
            "integration_test",
            StepOptions(
                env=env,
                role=role,
                timeout=cdk.Duration.minutes(INTEGRATION_TEST_MINUTES + STEP_MARGIN_MINUTES),
            ),
        )
        alarm_watch = self._steps.step(
            "AlarmWatch",
            "alarm_watch",
            StepOptions(
                env=env,
                role=role,
                timeout=cdk.Duration.minutes(environment.alarm_watch_minutes + STEP_MARGIN_MINUTES),
            ),
        )
        alarm_watch.add_step_dependency(integration_test)
        self.integration_tests[environment.name] = integration_test
        self.pipeline.add_stage(stage, post=[integration_test, alarm_watch])

    def _post_deploy_role(self, environment: EnvironmentConfig) -> iam.Role:
        """The one principal the environment's integration-test role trusts."""
        name = self._config.project
        role = iam.Role(
            self,
            f"{environment.name.capitalize()}PostDeployRole",
            role_name=post_deploy_step_role_name(name, environment.name),
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Integration test and alarm watch of {environment.name}",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[
                    f"arn:{self.partition}:iam::{environment.account}:role/"
                    f"{integration_test_role_name(name, environment.name)}"
                ],
            )
        )
        return role

    def _approval(self, environment: EnvironmentConfig) -> AnnouncedApproval:
        """Names the commit and links the last environment's integration-test build."""
        commit = self.source.step.source_attribute("CommitId")
        previous = self._previous_environment(environment)
        comment = f"Deploy commit {commit} to {environment.name}?"
        review_url = f"https://{self.region}.console.aws.amazon.com/codesuite/codepipeline/home"
        if previous is not None:
            step = self.integration_tests[previous.name]
            comment += f" {previous.name} passed its integration test; its results are linked."
            review_url = step.exported_variable("RESULTS_URL")
        return AnnouncedApproval(
            "Approve", topic=self.topics.approvals, comment=comment, review_url=review_url
        )

    def _previous_environment(self, environment: EnvironmentConfig) -> EnvironmentConfig | None:
        index = self._config.environments.index(environment)
        return self._config.environments[index - 1] if index else None


def _approvers(config: ProjectConfig) -> list[str]:
    """Everyone told about any environment that waits for an approval."""
    approvers: list[str] = []
    for environment in config.environments:
        if environment.approval_before_deploy:
            approvers.extend(config.emails_for(environment))
    return list(dict.fromkeys(approvers))
