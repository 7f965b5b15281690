"""CDK assertions on the pull-request checks: the build, its triggers for both sources, the
reporter of CodeCommit results, the report artifacts, and what each role may do."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from dataops.project import PROJECT_ROOT, load_project
from dataops.pull_request_base import CODECOMMIT_DESTINATION
from dataops.pull_request_reporter.handler import (
    APPROVAL_RULE_SETTING,
    APPROVER_ROLE_SETTING,
    BUILD_VARIABLES,
    REPORT_FILE,
)
from tests.conftest import GITHUB_CONNECTION_ARN

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

pytestmark = pytest.mark.xdist_group("synth")

CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/"
TOKEN_SECRET = "flowlogs-dataops/github-token"


@pytest.fixture(scope="module")
def template(built_app) -> Template:
    from aws_cdk.assertions import Template

    return Template.from_stack(built_app.pull_request_checks)


@pytest.fixture(scope="module")
def github_template(variant_app) -> Template:
    from aws_cdk.assertions import Template

    return Template.from_stack(variant_app.pull_request_checks)


@pytest.fixture(scope="module")
def token_template(tmp_path_factory) -> Template:
    """The checks stack alone (no pipeline around it), for GitHub with a token secret."""
    from aws_cdk.assertions import Template

    from stacks.app_builder import new_app
    from stacks.compliance import apply_compliance_checks
    from stacks.pull_request_checks_stack import PullRequestChecksStack, PullRequestChecksStackProps

    work = tmp_path_factory.mktemp("github-token")
    config = yaml.safe_load((PROJECT_ROOT / "config/environments.yaml").read_text())
    config["source"] = {
        "provider": "github",
        "owner": "acme",
        "repository": "flowlogs-dataops",
        "connection_arn": GITHUB_CONNECTION_ARN,
        "github_token_secret": TOKEN_SECRET,
    }
    (work / "environments.yaml").write_text(yaml.safe_dump(config))
    project = load_project(PROJECT_ROOT, work / "environments.yaml")
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    app = new_app(outdir=str(work / "cdk.out"), context=context)
    tooling = project.config.tooling
    stack = PullRequestChecksStack(
        app,
        "Checks",
        props=PullRequestChecksStackProps(project=project),
        env={"account": tooling.account, "region": tooling.region},
    )
    apply_compliance_checks(app)
    app.synth()
    return Template.from_stack(stack)


def _only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = template.find_resources(resource_type).items()
    return logical_id, resource["Properties"]


def _statements_of_role(template: Template, role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        actions.update(value if isinstance(value, list) else [value])
    return actions


def _build_role(template: Template) -> str:
    _, project = _only(template, "AWS::CodeBuild::Project")
    return project["ServiceRole"]["Fn::GetAtt"][0]


def _buildspec(project: dict[str, Any]) -> dict[str, Any]:
    parts = project["Source"]["BuildSpec"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "ARN" for part in parts))


def test_one_build_runs_the_pull_request_buildspec(project, template):
    from stacks.tooling.build_settings import BUILD_IMAGE

    _, build = _only(template, "AWS::CodeBuild::Project")
    assert build["Name"] == f"{project.config.project}-pull-request-checks"
    spec = _buildspec(build)
    on_disk = yaml.safe_load((PROJECT_ROOT / "buildspecs/pull_request.yml").read_text())
    assert spec["phases"] == on_disk["phases"]
    assert spec["phases"]["build"]["commands"] == ["make pull-request-check"]
    assert spec["phases"]["install"]["commands"] == ["make setup"]
    assert spec["phases"]["post_build"]["commands"] == ["make pull-request-report"]
    assert spec["artifacts"] == {"files": ["reports/data-diff.*"], "discard-paths": "yes"}
    assert f"reports/{REPORT_FILE}".startswith(spec["artifacts"]["files"][0].removesuffix("*"))
    assert spec["reports"] == {"ARN": on_disk["reports"]["pull-request-tests"]}
    assert build["Environment"]["Image"] == BUILD_IMAGE.image_id
    assert build["Environment"]["ComputeType"] == "BUILD_GENERAL1_MEDIUM"
    assert build["Cache"]["Type"] == "S3"
    assert "EncryptionKey" in build
    assert build["TimeoutInMinutes"] == 30
    template.has_resource_properties(
        "AWS::CodeBuild::ReportGroup",
        {"Name": f"{project.config.project}-pull-request-checks-pull-request-tests"},
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_each_build_keeps_its_report_unzipped_in_its_own_folder_of_an_encrypted_bucket(template):
    _, build = _only(template, "AWS::CodeBuild::Project")
    bucket_id = build["Artifacts"]["Location"]["Ref"]
    assert build["Artifacts"] == {
        "Location": {"Ref": bucket_id},
        "Name": "report",
        "NamespaceType": "BUILD_ID",
        "Packaging": "NONE",
        "Type": "S3",
    }
    bucket = template.find_resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert bucket["LoggingConfiguration"]["LogFilePrefix"].endswith("-reports/")
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 30


def test_pull_request_check_runs_the_gate_the_lints_the_impacted_tests_then_the_data_diff():
    dry_run = subprocess.run(
        ["make", "-n", "pull-request-check"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    base = dry_run.index("-m dataops pull-request-base")
    gate = dry_run.index("-m dataops check-contracts --base")
    impact = dry_run.index("-m dataops impact --base")
    lint = dry_run.index("-m ruff check")
    tests = dry_run.index("-m pytest")
    diff = dry_run.index("-m dataops data-diff --base")
    assert base < gate < impact < lint < tests < diff
    assert "--impact=reports/impact.json" in dry_run[tests:diff]


def test_codecommit_pull_requests_into_the_branch_start_the_build_at_their_commit(
    project, template
):
    build_id, _ = _only(template, "AWS::CodeBuild::Project")
    source = project.config.source
    rules = template.find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"source": ["aws.codecommit"]}}},
    )
    ((_, rule),) = rules.items()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Pull Request State Change"],
        "resources": [f"arn:aws:codecommit:eu-west-1:111111111111:{source.repository}"],
        "detail": {
            "event": ["pullRequestCreated", "pullRequestSourceBranchUpdated"],
            "destinationReference": [f"refs/heads/{source.branch}"],
            "pullRequestStatus": ["Open"],
        },
    }
    targets = {target["Arn"]["Fn::GetAtt"][0]: target for target in rule["Properties"]["Targets"]}
    start = targets.pop(build_id)
    transformer = start["InputTransformer"]
    paths = transformer["InputPathsMap"]
    template_text = transformer["InputTemplate"]
    for name, value in paths.items():
        template_text = template_text.replace(f"<{name}>", json.dumps(f"EVENT{value}"))
    request = json.loads(template_text)
    assert request["sourceVersion"] == "EVENT$.detail.sourceCommit"
    variables = {v["name"]: v["value"] for v in request["environmentVariablesOverride"]}
    assert list(variables) == list(BUILD_VARIABLES)
    assert variables == {
        "PULL_REQUEST_ID": "EVENT$.detail.pullRequestId",
        "REPOSITORY_NAME": source.repository,
        "SOURCE_COMMIT": "EVENT$.detail.sourceCommit",
        "DESTINATION_COMMIT": "EVENT$.detail.destinationCommit",
        "REVISION_ID": "EVENT$.detail.revisionId",
    }
    assert CODECOMMIT_DESTINATION in variables
    (reporter_id,) = targets
    assert reporter_id.startswith("CodeCommitReporter")
    for target in rule["Properties"]["Targets"]:
        assert "DeadLetterConfig" in target


def test_every_state_change_of_the_build_reaches_the_reporter(template):
    from aws_cdk.assertions import Match

    build_id, _ = _only(template, "AWS::CodeBuild::Project")
    reporter_id, _ = _only(template, "AWS::Lambda::Function")
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.codebuild"],
                "detail-type": ["CodeBuild Build State Change"],
                "detail": {"project-name": [{"Ref": build_id}]},
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [reporter_id, "Arn"]},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )


def test_the_reporter_is_the_handler_module_alone_with_its_settings(project, template, built_app):
    from aws_cdk.assertions import Match

    _, function = _only(template, "AWS::Lambda::Function")
    name = f"{project.config.project}-pull-request-checks"
    assert function["Handler"] == "handler.handler"
    assert function["Runtime"].startswith("python3.")
    role_id = function["Role"]["Fn::GetAtt"][0]
    assert function["Environment"]["Variables"] == {
        APPROVAL_RULE_SETTING: name,
        APPROVER_ROLE_SETTING: {"Ref": role_id},
    }
    assert function["FunctionName"] == f"{name}-reporter"
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": f"{name}-reporter"})
    assert "DeadLetterConfig" in function
    assert function["LoggingConfig"]["LogGroup"]["Ref"].startswith("CodeCommitReporterLogs")
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": f"/aws/lambda/{name}-reporter",
            "RetentionInDays": 365,
            "KmsKeyId": Match.any_value(),
        },
    )
    _, key = _only(template, "AWS::KMS::Key")
    logs_statements = {
        statement["Sid"]: statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    }
    assert set(logs_statements) == {"CloudWatchLogsOfThisAccount", "CloudWatchLogsDescribesTheKey"}
    condition = logs_statements["CloudWatchLogsOfThisAccount"]["Condition"]
    assert condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/{name}-reporter"
    )
    assert logs_statements["CloudWatchLogsDescribesTheKey"]["Action"] == "kms:DescribeKey"
    assert "Condition" not in logs_statements["CloudWatchLogsDescribesTheKey"]
    asset_hash = function["Code"]["S3Key"].removesuffix(".zip")
    asset = Path(built_app.app.outdir) / f"asset.{asset_hash}"
    assert sorted(path.name for path in asset.iterdir()) == ["__init__.py", "handler.py"]


def test_the_reporter_may_only_comment_approve_and_read_the_reports(project, template):
    from stacks.pull_request_checks.codecommit import REPORT_READ_ACTIONS, REPORTER_ACTIONS

    roles = template.find_resources("AWS::IAM::Role")
    (role_id,) = [k for k in roles if k.startswith("CodeCommitReporterRole")]
    statements = _statements_of_role(template, role_id)
    repository = f"arn:aws:codecommit:eu-west-1:111111111111:{project.config.source.repository}"
    codecommit = [s for s in statements if str(s["Action"]).count("codecommit:")]
    assert len(codecommit) == 1
    assert sorted(codecommit[0]["Action"]) == sorted(REPORTER_ACTIONS)
    assert codecommit[0]["Resource"] == repository
    assert _actions(statements) == {
        *REPORTER_ACTIONS,
        *REPORT_READ_ACTIONS,
        "kms:Decrypt",
        "sqs:SendMessage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    _, build = _only(template, "AWS::CodeBuild::Project")
    bucket_id = build["Artifacts"]["Location"]["Ref"]
    (read,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert read["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"]["Fn::GetAtt"][0].startswith("Key")
    assert all(statement["Resource"] != "*" for statement in statements)


def test_the_build_can_read_the_source_but_never_approve_or_deploy(template):
    statements = _statements_of_role(template, _build_role(template))
    actions = _actions(statements)
    assert "codecommit:GitPull" in actions
    assert [a for a in actions if a.startswith("codecommit:")] == ["codecommit:GitPull"]
    assert not [a for a in actions if a.startswith(("sts:", "iam:", "cloudformation:", "lambda:"))]
    assert all(statement["Resource"] != "*" for statement in statements)
    (events_role,) = [
        k for k in template.find_resources("AWS::IAM::Role") if k.startswith("BuildEventsRole")
    ]
    assert _actions(_statements_of_role(template, events_role)) == {"codebuild:StartBuild"}


def test_dead_letters_are_kept_encrypted_and_ssl_only(template):
    from aws_cdk.assertions import Match

    _, queue = _only(template, "AWS::SQS::Queue")
    assert queue["QueueName"].endswith("-pull-request-checks-dead-letters")
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_github_pull_requests_into_the_branch_trigger_the_webhook(project, github_template):
    from stacks.pull_request_checks.github import FORK_BUILD_APPROVERS

    _, build = _only(github_template, "AWS::CodeBuild::Project")
    source = build["Source"]
    assert source["Type"] == "GITHUB"
    assert source["Location"] == "https://github.com/acme/flowlogs-dataops.git"
    assert source["ReportBuildStatus"] is True
    assert source["BuildStatusConfig"]["Context"] == f"{project.config.project}-pull-request-checks"
    assert source["Auth"]["Type"] == "CODECONNECTIONS"
    assert source["Auth"]["Resource"].startswith(CONNECTION)
    triggers = build["Triggers"]
    assert triggers["Webhook"] is True
    assert triggers["FilterGroups"] == [
        [
            {
                "Type": "EVENT",
                "Pattern": "PULL_REQUEST_CREATED, PULL_REQUEST_UPDATED, PULL_REQUEST_REOPENED",
            },
            {"Type": "BASE_REF", "Pattern": "refs/heads/main"},
        ]
    ]
    assert triggers["PullRequestBuildPolicy"] == {
        "RequiresCommentApproval": "FORK_PULL_REQUESTS",
        "ApproverRoles": list(FORK_BUILD_APPROVERS),
    }


def test_github_build_uses_the_connection_and_needs_no_reporter(github_template):
    statements = _statements_of_role(github_template, _build_role(github_template))
    connection = [s for s in statements if "codeconnections:UseConnection" in s["Action"]]
    assert len(connection) == 1
    assert connection[0]["Resource"].startswith(CONNECTION)
    github_template.resource_count_is("AWS::Lambda::Function", 0)
    github_template.resource_count_is("AWS::Events::Rule", 0)
    assert not [a for a in _actions(statements) if a.startswith("codecommit:")]
    assert not [a for a in _actions(statements) if a.startswith("secretsmanager:")]
    _, build = _only(github_template, "AWS::CodeBuild::Project")
    assert "EnvironmentVariables" not in build["Environment"]


def test_a_github_token_secret_reaches_the_build_which_may_read_that_secret_alone(
    token_template,
):
    _, build = _only(token_template, "AWS::CodeBuild::Project")
    assert build["Environment"]["EnvironmentVariables"] == [
        {"Name": "GITHUB_TOKEN", "Type": "SECRETS_MANAGER", "Value": TOKEN_SECRET}
    ]
    statements = _statements_of_role(token_template, _build_role(token_template))
    (secret,) = [s for s in statements if "secretsmanager" in str(s["Action"])]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert secret["Resource"] == (
        f"arn:aws:secretsmanager:eu-west-1:111111111111:secret:{TOKEN_SECRET}-??????"
    )


def test_the_pipeline_deploys_the_checks_into_the_tooling_account_after_its_checks(
    project, built_app
):
    from aws_cdk.assertions import Template

    from stacks.delivery_pipeline_stack import TOOLING_STAGE

    template = Template.from_stack(built_app.delivery_pipeline)
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    stages = [stage["Name"] for stage in pipeline["Properties"]["Stages"]]
    assert stages.index("Checks") + 1 == stages.index(TOOLING_STAGE)
    assert stages.index(TOOLING_STAGE) < stages.index("Dev")
    tooling = pipeline["Properties"]["Stages"][stages.index(TOOLING_STAGE)]
    name = f"{project.config.project}-pull-request-checks"
    assert [action["Name"] for action in tooling["Actions"]] == ["Prepare", "Deploy"]
    for action in tooling["Actions"]:
        assert action["Configuration"]["StackName"] == name
    stack = built_app.pull_request_checks
    assert stack.account == project.config.tooling.account
    assert stack.region == project.config.tooling.region
