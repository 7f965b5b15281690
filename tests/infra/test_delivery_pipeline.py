"""CDK assertions on the delivery pipeline: stages, checks, deploys, approval, rollback, topics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from dataops.project import PROJECT_ROOT
from dataops.resource_names import (
    integration_test_role_name,
    post_deploy_step_role_name,
)

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

pytestmark = pytest.mark.xdist_group("synth")


@pytest.fixture(scope="module")
def template(built_app) -> Template:
    from aws_cdk.assertions import Template

    return Template.from_stack(built_app.delivery_pipeline)


@pytest.fixture(scope="module")
def pipeline(template) -> dict[str, Any]:
    (resource,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return resource["Properties"]


@pytest.fixture(scope="module")
def stages(pipeline) -> dict[str, dict[str, Any]]:
    return {stage["Name"]: stage for stage in pipeline["Stages"]}


def _actions(stage: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [
        (action["Name"], action["RunOrder"], action["ActionTypeId"]["Provider"])
        for action in stage["Actions"]
    ]


def _project(template: Template, action: dict[str, Any]) -> dict[str, Any]:
    logical_id = action["Configuration"]["ProjectName"]["Ref"]
    return template.to_json()["Resources"][logical_id]["Properties"]


def _buildspec(project: dict[str, Any]) -> dict[str, Any]:
    spec = project["Source"]["BuildSpec"]
    if isinstance(spec, dict):  # Fn::Join around report group ARNs
        spec = "".join(part if isinstance(part, str) else "ARN" for part in spec["Fn::Join"][1])
    return json.loads(spec)


def _file_commands(name: str) -> list[str]:
    spec = yaml.safe_load((PROJECT_ROOT / "buildspecs" / f"{name}.yml").read_text())
    return spec["phases"]["build"]["commands"]


def test_a_v2_pipeline_with_stages_in_deploy_order(project, pipeline, stages):
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["Name"] == f"{project.config.project}-delivery-pipeline"
    environments = [env.name.capitalize() for env in project.config.environments]
    assert list(stages) == [
        "Source",
        "Build",
        "UpdatePipeline",
        "Assets",
        "Checks",
        "Tooling",
        *environments[:2],
        "ApproveProd",
        environments[2],
    ]


def test_a_push_to_the_branch_starts_it_from_codecommit(project, template, stages):
    from aws_cdk.assertions import Match

    (action,) = stages["Source"]["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeCommit"
    assert action["Name"] == project.config.source.repository
    assert action["Configuration"]["BranchName"] == project.config.source.branch
    assert action["Configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
    assert action["Configuration"]["PollForSourceChanges"] is False
    template.has_resource(
        "AWS::CodeCommit::Repository",
        {
            "Properties": {"RepositoryName": project.config.source.repository},
            "DeletionPolicy": "Retain",
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "source": ["aws.codecommit"],
                    "detail": {
                        "event": ["referenceCreated", "referenceUpdated"],
                        "referenceName": [project.config.source.branch],
                    },
                }
            )
        },
    )


def test_github_variant_takes_the_code_through_the_connection(variant_app):
    from aws_cdk.assertions import Template

    template = Template.from_stack(variant_app.delivery_pipeline)
    (resource,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    source = resource["Properties"]["Stages"][0]
    (action,) = source["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"]["FullRepositoryId"] == "acme/flowlogs-dataops"
    assert action["Configuration"]["BranchName"] == "main"
    assert action["Configuration"]["ConnectionArn"].startswith("arn:aws:codeconnections:")
    assert action["Configuration"]["DetectChanges"] is True
    assert action["Configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
    template.resource_count_is("AWS::CodeCommit::Repository", 0)
    names = [stage["Name"] for stage in resource["Properties"]["Stages"]]
    assert names[-4:] == ["Dev", "Staging", "ApproveProd", "Prod"]


def test_github_variant_grants_the_connection_with_the_prefix_of_its_arn(variant_app):
    """A codeconnections ARN takes codeconnections actions: CDK's own codestar-connections
    grants would apply to no connection of that name."""
    from aws_cdk.assertions import Template

    template = Template.from_stack(variant_app.delivery_pipeline)
    connection_statements = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "connection/" in json.dumps(statement.get("Resource"))
    ]
    assert connection_statements
    for statement in connection_statements:
        assert statement["Action"] == "codeconnections:UseConnection", statement


def test_checks_run_side_by_side_and_call_the_make_targets(template, stages):
    actions = {action["Name"]: action for action in stages["Checks"]["Actions"]}
    assert set(actions) == {"Lint", "UnitTests", "ContractGate", "Rehearse"}
    assert {action["RunOrder"] for action in actions.values()} == {1}
    for name, buildspec in (
        ("Lint", "lint"),
        ("UnitTests", "unit_tests"),
        ("ContractGate", "contract_gate"),
        ("Rehearse", "rehearse"),
    ):
        spec = _buildspec(_project(template, actions[name]))
        assert spec["phases"]["build"]["commands"] == _file_commands(buildspec)
        assert spec["phases"]["install"]["commands"] == ["make setup"]
        assert spec["phases"]["install"]["runtime-versions"] == {
            "python": "3.11",
            "java": "corretto17",
        }
    assert _file_commands("lint") == ["make lint"]
    assert _file_commands("unit_tests") == ["make unit"]
    assert _file_commands("rehearse") == ["make rehearse"]
    assert any("make contract-gate" in c for c in _file_commands("contract_gate"))


def test_synth_runs_cdk_nag_and_cfn_lint_and_outputs_the_assembly(template, stages):
    (action,) = stages["Build"]["Actions"]
    spec = _buildspec(_project(template, action))
    assert spec["phases"]["build"]["commands"] == ["make cfn-lint"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"


def test_self_mutation_installs_the_pinned_cdk_cli(template, stages):
    from stacks.delivery_pipeline_stack import cdk_cli_version

    (action,) = stages["UpdatePipeline"]["Actions"]
    spec = _buildspec(_project(template, action))
    installs = spec["phases"]["install"]["commands"]
    assert f"npm install -g aws-cdk@{cdk_cli_version()}" in installs


def test_every_build_uses_the_pinned_arm_image_and_the_s3_cache(template):
    from stacks.tooling.build_settings import BUILD_IMAGE

    projects = template.find_resources("AWS::CodeBuild::Project")
    assert len(projects) >= 8
    for project in projects.values():
        environment = project["Properties"]["Environment"]
        assert environment["Image"] == BUILD_IMAGE.image_id
        assert environment["Type"] == "ARM_CONTAINER"
        assert project["Properties"]["Cache"]["Type"] == "S3"
        assert "EncryptionKey" in project["Properties"]
    sizes = {project["Properties"]["Environment"]["ComputeType"] for project in projects.values()}
    assert sizes == {"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM"}


def test_unit_test_results_go_to_a_report_group(template, stages):
    from aws_cdk.assertions import Match

    actions = {action["Name"]: action for action in stages["Checks"]["Actions"]}
    spec = _buildspec(_project(template, actions["UnitTests"]))
    assert spec["reports"] == {
        "ARN": {"base-directory": "reports", "files": ["pytest.xml"], "file-format": "JUNITXML"}
    }
    template.has_resource_properties(
        "AWS::CodeBuild::ReportGroup",
        {"Name": Match.string_like_regexp("-pipeline-unit-tests$"), "Type": "TEST"},
    )


def test_each_environment_deploys_into_its_account_then_tests_and_watches(
    project, template, stages
):
    from stacks.delivery_pipeline_stack import ENVIRONMENT_VARIABLE

    for environment in project.config.environments:
        stage = stages[environment.name.capitalize()]
        stack = f"{project.config.project}-{environment.name}-data-workflow"
        assert _actions(stage) == [
            (f"{stack}.Prepare", 1, "CloudFormation"),
            (f"{stack}.Deploy", 2, "CloudFormation"),
            ("IntegrationTest", 3, "CodeBuild"),
            ("AlarmWatch", 4, "CodeBuild"),
        ]
        prepare = stage["Actions"][0]
        assert environment.account in json.dumps(prepare["RoleArn"])
        assert f"cfn-exec-role-{environment.account}" in json.dumps(
            prepare["Configuration"]["RoleArn"]
        )
        assert prepare.get("Region", project.config.tooling.region) == environment.region
        for action in stage["Actions"][2:]:
            variables = json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))
            build_env = _project(template, action)["Environment"]["EnvironmentVariables"]
            assert {
                "Name": ENVIRONMENT_VARIABLE,
                "Type": "PLAINTEXT",
                "Value": environment.name,
            } in [
                *variables,
                *build_env,
            ]


def test_failed_environment_stages_roll_back(project, stages):
    for environment in project.config.environments:
        assert stages[environment.name.capitalize()]["OnFailure"] == {"Result": "ROLLBACK"}
    for name in ("Source", "Build", "UpdatePipeline", "Assets", "Checks", "Tooling", "ApproveProd"):
        assert "OnFailure" not in stages[name]


def test_alarm_watch_lasts_the_environments_watch_time(project, template, stages):
    for environment in project.config.environments:
        stage = stages[environment.name.capitalize()]
        watch = next(action for action in stage["Actions"] if action["Name"] == "AlarmWatch")
        assert _project(template, watch)["TimeoutInMinutes"] > environment.alarm_watch_minutes
        spec = _buildspec(_project(template, watch))
        assert any("make alarm-watch" in command for command in spec["phases"]["build"]["commands"])


def test_post_deploy_steps_may_only_assume_the_environments_integration_role(project, template):
    name = project.config.project
    roles = template.find_resources("AWS::IAM::Role")
    policies = template.find_resources("AWS::IAM::Policy")
    for environment in project.config.environments:
        role_id = next(
            logical_id
            for logical_id, role in roles.items()
            if role["Properties"].get("RoleName")
            == post_deploy_step_role_name(name, environment.name)
        )
        statements = [
            statement
            for policy in policies.values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assume = [s for s in statements if s["Action"] == "sts:AssumeRole"]
        assert len(assume) == 1
        assert assume[0]["Resource"] == (
            f"arn:aws:iam::{environment.account}:role/"
            f"{integration_test_role_name(name, environment.name)}"
        )


def test_prod_waits_for_an_approval_announced_on_its_topic(project, template, stages):
    (action,) = stages["ApproveProd"]["Actions"]
    assert action["ActionTypeId"]["Provider"] == "Manual"
    configuration = action["Configuration"]
    topics = template.find_resources("AWS::SNS::Topic")
    approvals = next(
        k for k, t in topics.items() if t["Properties"]["TopicName"].endswith("-approvals")
    )
    assert configuration["NotificationArn"] == {"Ref": approvals}
    assert configuration["CustomData"].startswith("Deploy commit #{Source@")
    assert ".CommitId} to prod?" in configuration["CustomData"]
    assert configuration["ExternalEntityLink"] == "#{Staging@IntegrationTest.RESULTS_URL}"
    prod = project.config.environment("prod")
    for email in project.config.emails_for(prod):
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {"Protocol": "email", "Endpoint": email, "TopicArn": {"Ref": approvals}},
        )


def test_the_staging_integration_test_exports_its_results_url(template, stages):
    test = next(a for a in stages["Staging"]["Actions"] if a["Name"] == "IntegrationTest")
    assert test["Namespace"] == "Staging@IntegrationTest"
    spec = _buildspec(_project(template, test))
    assert spec["env"]["exported-variables"] == ["RESULTS_URL"]


def test_pipeline_events_reach_the_team_through_a_notification_rule(project, template):
    from stacks.delivery_pipeline.notifications import PIPELINE_EVENTS

    topics = template.find_resources("AWS::SNS::Topic")
    events = next(k for k, t in topics.items() if t["Properties"]["TopicName"].endswith("-events"))
    template.has_resource_properties(
        "AWS::CodeStarNotifications::NotificationRule",
        {
            "EventTypeIds": list(PIPELINE_EVENTS),
            "Targets": [{"TargetType": "SNS", "TargetAddress": {"Ref": events}}],
            "DetailType": "FULL",
        },
    )
    for email in project.config.notifications.emails:
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {"Protocol": "email", "Endpoint": email, "TopicArn": {"Ref": events}},
        )


def test_topics_are_encrypted_and_only_their_services_publish(template):
    for topic in template.find_resources("AWS::SNS::Topic").values():
        assert "KmsMasterKeyId" in topic["Properties"]
    publishers = []
    for policy in template.find_resources("AWS::SNS::TopicPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                publishers.append(statement["Principal"])
    assert publishers == [{"Service": "codestar-notifications.amazonaws.com"}]


def test_artifacts_are_encrypted_with_a_rotated_key_for_cross_account_deploys(template):
    from aws_cdk.assertions import Match

    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                ]
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "artifacts/"}),
        },
    )


def test_self_mutation_lists_only_the_bootstrap_buckets(project, template):
    policies = template.find_resources("AWS::IAM::Policy")
    (policy,) = [
        p for k, p in policies.items() if k.startswith("PipelineUpdatePipelineSelfMutation")
    ]
    listing = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:ListBucket"
    ]
    tooling = project.config.tooling
    assert [s["Resource"] for s in listing] == [
        f"arn:aws:s3:::cdk-*-assets-{tooling.account}-{tooling.region}"
    ]


def test_each_environment_trusts_only_its_post_deploy_step_role(project, built_app):
    from aws_cdk.assertions import Match, Template

    name = project.config.project
    tooling = project.config.tooling.account
    for environment_name, stage in built_app.stages.items():
        template = Template.from_stack(stage.data_workflow)
        template.has_resource_properties(
            "AWS::IAM::Role",
            {
                "RoleName": integration_test_role_name(name, environment_name),
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"AWS": Match.string_like_regexp(tooling)},
                            "Condition": {
                                "ArnEquals": {
                                    "aws:PrincipalArn": Match.string_like_regexp(
                                        f":iam::{tooling}:role/"
                                        f"{post_deploy_step_role_name(name, environment_name)}$"
                                    )
                                }
                            },
                        }
                    ]
                },
            },
        )


def test_the_integration_role_reaches_only_what_the_post_deploy_checks_use(built_app):
    from aws_cdk.assertions import Template

    template = Template.from_stack(built_app.stages["dev"].data_workflow)
    roles = template.find_resources("AWS::IAM::Role")
    (role_id,) = [k for k in roles if k.startswith("IntegrationTestAccessRole")]
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Resource"] != "*"
                value = statement["Action"]
                actions.update(value if isinstance(value, list) else [value])
    assert {
        "s3:PutObject",
        "s3:DeleteObject",
        "states:StartExecution",
        "states:StopExecution",
        "athena:StartQueryExecution",
        "athena:GetQueryResults",
        "glue:GetTable",
        "ssm:GetParameters",
        "cloudwatch:DescribeAlarms",
        "kms:Decrypt",
    } <= actions
    assert not [a for a in actions if a.startswith(("iam:", "glue:Update", "glue:Delete"))]
    assert not [a for a in actions if a.endswith("*")]
