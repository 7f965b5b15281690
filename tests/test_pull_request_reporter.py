"""The pull-request reporter against botocore's Stubber.

moto implements none of CodeCommit's pull request APIs, so every call is stubbed: the Stubber
checks each request against the real service model and each canned response against the output
shape, and fails on any call that was not queued. The events follow the documented shapes of
"CodeCommit Pull Request State Change" and "CodeBuild Build State Change".
"""

from __future__ import annotations

import ast
import io
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from dataops.pull_request_reporter import handler as reporter

REGION = "eu-west-1"
ACCOUNT = "111111111111"
REPOSITORY = "flowlogs-dataops"
PROJECT = "flowlogs-dataops-pull-request-check"
BUILD_UUID = "8745a7a9-c340-456a-9166-edf953571b1e"
BUILD_ARN = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:build/{PROJECT}:{BUILD_UUID}"
PULL_REQUEST_ID = "42"
SOURCE_COMMIT = "2774290d6a4d4e6e0f5d8f6b1c2a3e4f5a6b7c8d"
DESTINATION_COMMIT = "12241970aa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d"
REVISION_ID = "bdc0cb9b4cf3e4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"
NEWER_REVISION_ID = "e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9bdc0cb9b4cf3e4b5c6d7e8f9a0b1c2d3"
RULE_NAME = "pull-request-check"
ROLE_NAME = "flowlogs-dataops-pull-request-reporter"
LOGS_LINK = (
    f"https://console.aws.amazon.com/cloudwatch/home?region={REGION}#logEvent:"
    f"group=/aws/codebuild/{PROJECT};stream={BUILD_UUID}"
)
BUILD_CONSOLE_URL = (
    f"https://{REGION}.console.aws.amazon.com/codesuite/codebuild/projects/{PROJECT}"
    f"/build/{PROJECT}%3A{BUILD_UUID}/?region={REGION}"
)
BUILD_FAILURE = (
    "COMMAND_EXECUTION_ERROR: Error while executing command: make pull-request-check. "
    "Reason: exit status 2"
)
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ARTIFACTS_BUCKET = "flowlogs-dataops-pull-request-checks-reports"
# Unzipped artifacts, one folder a build: <build id>/<artifact name>/.
ARTIFACTS = f"arn:aws:s3:::{ARTIFACTS_BUCKET}/{BUILD_UUID}/report"
REPORT_KEY = f"{BUILD_UUID}/report/data-diff.md"
REPORT = (
    "## Data diff\n\n**1 of 4 tables differ** between the base `main` and this change.\n\n"
    "| Table | Base rows | Head rows | Added | Removed | Changed | Schema | Head run |\n"
    "|---|---:|---:|---:|---:|---:|---|---|\n"
    "| `data_app_conn_stats` | 496 | 496 | 0 | 0 | 496 | - | recomputed |\n"
)
PR_VARIABLES = {
    "PULL_REQUEST_ID": PULL_REQUEST_ID,
    "REPOSITORY_NAME": REPOSITORY,
    "SOURCE_COMMIT": SOURCE_COMMIT,
    "DESTINATION_COMMIT": DESTINATION_COMMIT,
    "REVISION_ID": REVISION_ID,
}


class FakeCodeCommit:
    """A real CodeCommit client under a Stubber, recording the parameters of every call."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "codecommit",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.calls: list[tuple[str, dict]] = []
        self.regions: list[str] = []
        self.client.meta.events.register("before-parameter-build.codecommit", self._record)

    def _record(self, params, model, **kwargs) -> None:
        self.calls.append((model.name, dict(params)))

    def factory(self, region: str):
        self.regions.append(region)
        return self.client

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def params(self, operation: str) -> dict:
        (params,) = [params for name, params in self.calls if name == operation]
        return params

    def run(self, event: dict, s3: FakeS3 | None = None) -> dict[str, str]:
        s3_factory = s3.factory if s3 is not None else no_s3
        with self.stubber:
            decision = reporter.handler(
                event, None, client_factory=self.factory, s3_factory=s3_factory
            )
        self.stubber.assert_no_pending_responses()
        return decision

    def expect_get(self, **pull_request_fields) -> None:
        self.stubber.add_response(
            "get_pull_request",
            pull_request_response(**pull_request_fields),
            {"pullRequestId": PULL_REQUEST_ID},
        )

    def expect_approval(self, state: str) -> None:
        self.stubber.add_response(
            "update_pull_request_approval_state",
            {},
            {"pullRequestId": PULL_REQUEST_ID, "revisionId": REVISION_ID, "approvalState": state},
        )

    def expect_comment(self) -> None:
        self.stubber.add_response(
            "post_comment_for_pull_request",
            comment_response(),
            {
                "pullRequestId": PULL_REQUEST_ID,
                "repositoryName": REPOSITORY,
                "beforeCommitId": DESTINATION_COMMIT,
                "afterCommitId": SOURCE_COMMIT,
                "content": ANY,
                "clientRequestToken": ANY,
            },
        )

    def comment(self) -> str:
        return self.params("PostCommentForPullRequest")["content"]


def no_s3(region: str):
    raise AssertionError(f"an S3 client was made ({region}) for a build without artifacts")


class FakeS3:
    """A real S3 client under a Stubber, for the report among the build's artifacts."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)

    def factory(self, region: str):
        assert region == REGION
        return self.client

    def expect_report(self, text: str) -> None:
        body = text.encode("utf-8")
        self.stubber.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)},
            {"Bucket": ARTIFACTS_BUCKET, "Key": REPORT_KEY, "Range": "bytes=0-65535"},
        )


@pytest.fixture(autouse=True)
def _function_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPROVAL_RULE_NAME", RULE_NAME)
    monkeypatch.setenv("APPROVER_ROLE_NAME", ROLE_NAME)


@pytest.fixture
def codecommit() -> FakeCodeCommit:
    return FakeCodeCommit()


def logged_decision(capsys: pytest.CaptureFixture[str]) -> dict:
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)


# --- events and responses, after the documented shapes ----------------------------------------


def pull_request_event(
    event: str = "pullRequestCreated",
    status: str = "Open",
    region: str = REGION,
    partition: str = "aws",
) -> dict:
    author = f"arn:{partition}:sts::{ACCOUNT}:assumed-role/Developer/alice"
    return {
        "version": "0",
        "id": "98377d67-1c5e-4a5e-8d2b-7f1e2d3c4b5a",
        "detail-type": "CodeCommit Pull Request State Change",
        "source": "aws.codecommit",
        "account": ACCOUNT,
        "time": "2026-03-02T09:30:00Z",
        "region": region,
        "resources": [f"arn:{partition}:codecommit:{region}:{ACCOUNT}:{REPOSITORY}"],
        "detail": {
            "author": author,
            "callerUserArn": author,
            "creationDate": "Mon Mar 02 09:30:00 UTC 2026",
            "description": "Adds the flow-log mart.",
            "destinationCommit": DESTINATION_COMMIT,
            "destinationReference": "refs/heads/main",
            "event": event,
            "isMerged": "False",
            "lastModifiedDate": "Mon Mar 02 09:30:00 UTC 2026",
            "notificationBody": "A pull request event occurred in the following AWS CodeCommit "
            f"repository: {REPOSITORY}.",
            "pullRequestId": PULL_REQUEST_ID,
            "pullRequestStatus": status,
            "repositoryNames": [REPOSITORY],
            "revisionId": REVISION_ID,
            "sourceCommit": SOURCE_COMMIT,
            "sourceReference": "refs/heads/feature/flow-mart",
            "title": "Flow-log mart",
        },
    }


def phases(failed: str | None = None, status: str = "FAILED", context: str = "") -> list[dict]:
    """The phases of a finished build; ``failed`` names the phase that ended with ``status``."""
    durations = {
        "SUBMITTED": 0,
        "QUEUED": 1,
        "PROVISIONING": 31,
        "DOWNLOAD_SOURCE": 4,
        "INSTALL": 22,
        "PRE_BUILD": 3,
        "BUILD": 297,
        "POST_BUILD": 1,
        "UPLOAD_ARTIFACTS": 0,
        "FINALIZING": 2,
    }
    listed = [
        {
            # CodeBuild writes ": " as the context of a phase that has nothing to say.
            "phase-context": [context] if phase == failed else [": "],
            "start-time": "Mar 2, 2026 9:30:00 AM",
            "end-time": "Mar 2, 2026 9:36:01 AM",
            "duration-in-seconds": seconds,
            "phase-type": phase,
            "phase-status": status if phase == failed else "SUCCEEDED",
        }
        for phase, seconds in durations.items()
    ]
    return [*listed, {"start-time": "Mar 2, 2026 9:36:01 AM", "phase-type": "COMPLETED"}]


def build_event(
    status: str,
    build_phases: list[dict] | None = None,
    variables: dict[str, str] = PR_VARIABLES,
    source_version: str = SOURCE_COMMIT,
    artifact: str | None = None,
) -> dict:
    event = {
        "version": "0",
        "id": "c030038d-8c4d-6141-9545-00ff7b7153e1",
        "detail-type": "CodeBuild Build State Change",
        "source": "aws.codebuild",
        "account": ACCOUNT,
        "time": "2026-03-02T09:36:01Z",
        "region": REGION,
        "resources": [BUILD_ARN],
        "detail": {
            "build-status": status,
            "project-name": PROJECT,
            "build-id": BUILD_ARN,
            "additional-information": {
                "cache": {"type": "NO_CACHE"},
                "timeout-in-minutes": 60,
                "build-complete": status != "IN_PROGRESS",
                "build-start-time": "Mar 2, 2026 9:30:00 AM",
                "source": {
                    "location": f"https://git-codecommit.{REGION}.amazonaws.com/v1/repos/{REPOSITORY}",
                    "type": "CODECOMMIT",
                },
                "source-version": source_version,
                "environment": {
                    "image": "aws/codebuild/amazonlinux-aarch64-standard:3.0",
                    "privileged-mode": False,
                    "compute-type": "BUILD_GENERAL1_MEDIUM",
                    "type": "ARM_CONTAINER",
                    "environment-variables": [
                        {"name": name, "type": "PLAINTEXT", "value": value}
                        for name, value in variables.items()
                    ],
                },
                "logs": {
                    "group-name": f"/aws/codebuild/{PROJECT}",
                    "stream-name": BUILD_UUID,
                    "deep-link": LOGS_LINK,
                },
                "phases": phases() if build_phases is None else build_phases,
            },
            "current-phase": "COMPLETED" if status != "IN_PROGRESS" else "SUBMITTED",
            "current-phase-context": "[]",
            "version": "1",
        },
    }
    if artifact is not None:
        event["detail"]["additional-information"]["artifact"] = {
            "md5sum": "",
            "sha256sum": "",
            "location": artifact,
        }
    return event


def approval_rule(name: str) -> dict:
    return {
        "approvalRuleId": "0a9b5dfc-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "approvalRuleName": name,
        "approvalRuleContent": '{"Version": "2018-11-08", "Statements": []}',
        "ruleContentSha256": "f742eebb" * 8,
        "lastModifiedDate": WHEN,
        "creationDate": WHEN,
        "lastModifiedUser": f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/session",
    }


def pull_request_response(
    status: str = "OPEN", revision: str = REVISION_ID, rules: tuple[str, ...] = ()
) -> dict:
    return {
        "pullRequest": {
            "pullRequestId": PULL_REQUEST_ID,
            "title": "Flow-log mart",
            "description": "Adds the flow-log mart.",
            "lastActivityDate": WHEN,
            "creationDate": WHEN,
            "pullRequestStatus": status,
            "authorArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer/alice",
            "pullRequestTargets": [
                {
                    "repositoryName": REPOSITORY,
                    "sourceReference": "refs/heads/feature/flow-mart",
                    "destinationReference": "refs/heads/main",
                    "destinationCommit": DESTINATION_COMMIT,
                    "sourceCommit": SOURCE_COMMIT,
                    "mergeBase": DESTINATION_COMMIT,
                    "mergeMetadata": {"isMerged": status == "CLOSED"},
                }
            ],
            "revisionId": revision,
            "approvalRules": [approval_rule(name) for name in rules],
        }
    }


def comment_response() -> dict:
    return {
        "repositoryName": REPOSITORY,
        "pullRequestId": PULL_REQUEST_ID,
        "beforeCommitId": DESTINATION_COMMIT,
        "afterCommitId": SOURCE_COMMIT,
        "comment": {
            "commentId": "463b8d25-4d1a-4c4b-9a7e-2f6f0d1e2c3b",
            "content": "Pull request check ...",
            "creationDate": WHEN,
            "lastModifiedDate": WHEN,
            "authorArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/session",
            "deleted": False,
            "callerReactions": [],
            "reactionCounts": {},
        },
    }


# --- pull request events: the approval rule ----------------------------------------------------


def test_new_pull_request_gets_the_approval_rule(codecommit, capsys):
    codecommit.expect_get(rules=("team-review",))
    codecommit.stubber.add_response(
        "create_pull_request_approval_rule",
        {"approvalRule": approval_rule(RULE_NAME)},
        {
            "pullRequestId": PULL_REQUEST_ID,
            "approvalRuleName": RULE_NAME,
            "approvalRuleContent": ANY,
        },
    )

    decision = codecommit.run(pull_request_event())

    content = codecommit.params("CreatePullRequestApprovalRule")["approvalRuleContent"]
    assert json.loads(content) == {
        "Version": "2018-11-08",
        "Statements": [
            {
                "Type": "Approvers",
                "NumberOfApprovalsNeeded": 1,
                "ApprovalPoolMembers": [f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/*"],
            }
        ],
    }
    assert codecommit.regions == [REGION]
    assert decision["action"] == "approval rule created"
    assert logged_decision(capsys) == {
        "action": "approval rule created",
        "event": "pullRequestCreated",
        "pullRequestId": PULL_REQUEST_ID,
        "repository": REPOSITORY,
        "rule": RULE_NAME,
    }


def test_approval_pool_member_takes_partition_and_account_from_the_event(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_response(
        "create_pull_request_approval_rule", {"approvalRule": approval_rule(RULE_NAME)}
    )

    codecommit.run(pull_request_event(region="cn-north-1", partition="aws-cn"))

    content = json.loads(codecommit.params("CreatePullRequestApprovalRule")["approvalRuleContent"])
    assert content["Statements"][0]["ApprovalPoolMembers"] == [
        f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/*"
    ]
    assert codecommit.regions == ["cn-north-1"]


def test_updated_pull_request_with_the_rule_creates_nothing(codecommit, capsys):
    codecommit.expect_get(rules=("team-review", RULE_NAME))

    decision = codecommit.run(pull_request_event("pullRequestSourceBranchUpdated"))

    assert codecommit.operations() == ["GetPullRequest"]
    assert decision["action"] == "approval rule present"
    assert logged_decision(capsys)["event"] == "pullRequestSourceBranchUpdated"


def test_rule_created_meanwhile_by_a_concurrent_event_is_no_failure(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_client_error(
        "create_pull_request_approval_rule", "ApprovalRuleNameAlreadyExistsException"
    )

    assert codecommit.run(pull_request_event())["action"] == "approval rule present"


def test_closed_pull_request_event_calls_nothing(codecommit, capsys):
    decision = codecommit.run(pull_request_event("pullRequestStatusChanged", status="Closed"))

    assert codecommit.calls == []
    assert codecommit.regions == []
    assert decision["reason"] == "pull request closed"
    assert logged_decision(capsys)["action"] == "ignored"


def test_pull_request_closed_since_the_event_gets_no_rule(codecommit):
    codecommit.expect_get(status="CLOSED")

    decision = codecommit.run(pull_request_event("pullRequestSourceBranchUpdated"))

    assert codecommit.operations() == ["GetPullRequest"]
    assert decision["reason"] == "pull request closed"


def test_pull_request_closed_while_creating_the_rule_is_no_failure(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_client_error(
        "create_pull_request_approval_rule", "PullRequestAlreadyClosedException"
    )

    assert codecommit.run(pull_request_event())["reason"] == "pull request closed"


def test_unexpected_error_creating_the_rule_propagates(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_client_error(
        "create_pull_request_approval_rule", "AccessDeniedException", http_status_code=403
    )

    with pytest.raises(ClientError, match="AccessDeniedException"):
        codecommit.run(pull_request_event())


# --- build state changes: comment and approval ------------------------------------------------


def test_succeeded_build_comments_and_approves(codecommit, capsys):
    codecommit.expect_get()
    codecommit.expect_approval("APPROVE")
    codecommit.expect_comment()

    decision = codecommit.run(build_event("SUCCEEDED"))

    assert codecommit.operations() == [
        "GetPullRequest",
        "UpdatePullRequestApprovalState",
        "PostCommentForPullRequest",
    ]
    comment = codecommit.comment()
    assert comment.startswith("**Pull request check passed** (SUCCEEDED)")
    assert f"`{SOURCE_COMMIT[:7]}`" in comment
    assert SOURCE_COMMIT not in comment
    assert "6 min 1 s" in comment  # the phases' durations add up to 361 s
    assert f"]({BUILD_CONSOLE_URL})" in comment
    assert f"]({LOGS_LINK})" in comment
    assert "Failed phases" not in comment
    assert "older commit" not in comment
    assert decision == logged_decision(capsys)
    assert decision == {
        "action": "commented",
        "approval": "APPROVE",
        "buildId": BUILD_ARN,
        "buildStatus": "SUCCEEDED",
        "pullRequestId": PULL_REQUEST_ID,
        "repository": REPOSITORY,
        "report": "no artifacts",
        "sourceCommit": SOURCE_COMMIT,
    }


def test_the_data_diff_report_is_commented_and_linked_in_full(codecommit):
    s3 = FakeS3()
    s3.expect_report(REPORT)
    codecommit.expect_get()
    codecommit.expect_approval("APPROVE")
    codecommit.expect_comment()

    with s3.stubber:
        decision = codecommit.run(build_event("SUCCEEDED", artifact=ARTIFACTS), s3)

    comment = codecommit.comment()
    assert decision["report"] == "included"
    assert REPORT.strip() in comment
    assert comment.index("**Pull request check passed**") < comment.index("## Data diff")
    report_url = (
        f"https://{REGION}.console.aws.amazon.com/s3/object/{ARTIFACTS_BUCKET}?region={REGION}"
        f"&prefix={BUILD_UUID}%2Freport%2Fdata-diff.md"
    )
    assert comment.rstrip().endswith(f"[Full data diff report]({report_url})")
    assert "trimmed" not in comment


def test_a_long_report_is_trimmed_to_codecommits_comment_limit(codecommit):
    rows = "".join(
        f"| `table_{n}` | {n} | {n + 1} | 1 | 0 | 0 | - | recomputed |\n" for n in range(900)
    )
    s3 = FakeS3()
    s3.expect_report(REPORT + rows)
    codecommit.expect_get(revision=NEWER_REVISION_ID)
    codecommit.expect_comment()

    with s3.stubber:
        codecommit.run(
            build_event("FAILED", phases("BUILD", "FAILED", BUILD_FAILURE), artifact=ARTIFACTS),
            s3,
        )

    comment = codecommit.comment()
    assert len(comment) <= reporter.COMMENT_LIMIT == 10_240
    assert len(REPORT + rows) > reporter.COMMENT_LIMIT
    assert comment.startswith("**Pull request check failed** (FAILED)")
    assert f"- BUILD (FAILED): {BUILD_FAILURE}" in comment
    assert "| `table_0` |" in comment
    assert "| `table_899` |" not in comment
    assert "_The report is trimmed to fit a comment; the full report is linked below._" in comment
    assert "[Full data diff report](" in comment
    assert comment.rstrip().endswith("so the approval was left unchanged.")


def test_an_unreadable_report_leaves_it_out_and_says_why_in_the_log(codecommit, capsys):
    s3 = FakeS3()
    s3.stubber.add_client_error("get_object", "AccessDenied", http_status_code=403)
    codecommit.expect_get()
    codecommit.expect_approval("REVOKE")
    codecommit.expect_comment()

    with s3.stubber:
        codecommit.run(build_event("FAILED", artifact=ARTIFACTS), s3)

    assert "Data diff" not in codecommit.comment()
    assert "Full data diff report" not in codecommit.comment()
    assert logged_decision(capsys)["report"] == "unreadable (AccessDenied)"


def test_failed_build_names_the_failed_phase_and_revokes(codecommit):
    codecommit.expect_get()
    codecommit.expect_approval("REVOKE")
    codecommit.expect_comment()

    decision = codecommit.run(build_event("FAILED", phases("BUILD", "FAILED", BUILD_FAILURE)))

    comment = codecommit.comment()
    assert comment.startswith("**Pull request check failed** (FAILED)")
    assert f"- BUILD (FAILED): {BUILD_FAILURE}" in comment
    assert "PROVISIONING" not in comment
    assert ": : " not in comment  # the succeeded phases' empty contexts stay out
    assert decision["approval"] == "REVOKE"


@pytest.mark.parametrize(
    ("status", "context", "named"),
    [
        ("TIMED_OUT", "BUILD_TIMED_OUT: Build has timed out. ", "BUILD (TIMED_OUT): BUILD_TIMED"),
        ("STOPPED", ": ", "BUILD (STOPPED): no reason given"),
        ("FAULT", "", "BUILD (FAULT): no reason given"),
    ],
)
def test_builds_that_did_not_succeed_revoke(codecommit, status, context, named):
    codecommit.expect_get()
    codecommit.expect_approval("REVOKE")
    codecommit.expect_comment()

    codecommit.run(build_event(status, phases("BUILD", status, context)))

    assert codecommit.comment().startswith(f"**Pull request check failed** ({status})")
    assert named in codecommit.comment()


def test_result_for_an_older_revision_leaves_the_approval_alone(codecommit, capsys):
    codecommit.expect_get(revision=NEWER_REVISION_ID)
    codecommit.expect_comment()

    decision = codecommit.run(build_event("SUCCEEDED"))

    assert "UpdatePullRequestApprovalState" not in codecommit.operations()
    assert "for an older commit" in codecommit.comment()
    assert "a newer check is running" in codecommit.comment()
    assert logged_decision(capsys)["approval"] == decision["approval"] == "stale"


def test_revision_replaced_while_approving_is_reported_as_older(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_client_error(
        "update_pull_request_approval_state",
        "RevisionNotCurrentException",
        expected_params={
            "pullRequestId": PULL_REQUEST_ID,
            "revisionId": REVISION_ID,
            "approvalState": "APPROVE",
        },
    )
    codecommit.expect_comment()

    decision = codecommit.run(build_event("SUCCEEDED"))

    assert "for an older commit" in codecommit.comment()
    assert decision["approval"] == "stale"


def test_pull_request_closed_while_approving_is_no_failure(codecommit):
    codecommit.expect_get()
    codecommit.stubber.add_client_error(
        "update_pull_request_approval_state", "PullRequestAlreadyClosedException"
    )
    codecommit.expect_comment()

    decision = codecommit.run(build_event("FAILED", phases("BUILD", "FAILED", BUILD_FAILURE)))

    assert decision["approval"] == "closed"
    assert "pull request is closed" in codecommit.comment()


def test_closed_pull_request_gets_the_comment_but_no_approval_call(codecommit):
    codecommit.expect_get(status="CLOSED")
    codecommit.expect_comment()

    decision = codecommit.run(build_event("SUCCEEDED"))

    assert codecommit.operations() == ["GetPullRequest", "PostCommentForPullRequest"]
    assert decision["approval"] == "closed"


@pytest.mark.parametrize("missing", [None, *reporter.BUILD_VARIABLES])
def test_build_without_the_pull_request_variables_makes_no_call(codecommit, capsys, missing):
    variables = {} if missing is None else {k: v for k, v in PR_VARIABLES.items() if k != missing}

    decision = codecommit.run(build_event("FAILED", variables=variables))

    assert codecommit.calls == []
    assert decision["reason"] == "build has no pull request variables"
    assert logged_decision(capsys) == {
        "action": "ignored",
        "buildId": BUILD_ARN,
        "buildStatus": "FAILED",
        "reason": "build has no pull request variables",
    }


@pytest.mark.parametrize("source_version", ["refs/heads/feature/flow-mart", DESTINATION_COMMIT])
def test_build_of_another_commit_than_the_variables_name_makes_no_call(
    codecommit, capsys, source_version
):
    decision = codecommit.run(build_event("SUCCEEDED", source_version=source_version))

    assert codecommit.calls == []
    assert decision["action"] == "ignored"
    assert decision["reason"] == f"build checked {source_version!r}"
    assert logged_decision(capsys)["sourceCommit"] == SOURCE_COMMIT


def test_build_in_progress_only_logs(codecommit, capsys):
    decision = codecommit.run(build_event("IN_PROGRESS", build_phases=[]))

    assert codecommit.calls == []
    assert decision["action"] == "ignored"
    assert logged_decision(capsys)["pullRequestId"] == PULL_REQUEST_ID


@pytest.mark.parametrize("failing", ["get_pull_request", "update", "post_comment"])
def test_unexpected_aws_errors_propagate(codecommit, failing):
    def fail(method: str) -> None:
        codecommit.stubber.add_client_error(method, "ThrottlingException", http_status_code=400)

    if failing == "get_pull_request":
        fail("get_pull_request")
    else:
        codecommit.expect_get()
        if failing == "update":
            fail("update_pull_request_approval_state")
        else:
            codecommit.expect_approval("APPROVE")
            fail("post_comment_for_pull_request")

    with pytest.raises(ClientError, match="ThrottlingException"), codecommit.stubber:
        reporter.handler(build_event("SUCCEEDED"), None, client_factory=codecommit.factory)


def test_a_retry_posts_with_the_same_token(codecommit):
    tokens = []
    for _ in range(2):
        codecommit.expect_get()
        codecommit.expect_approval("REVOKE")
        codecommit.expect_comment()
        codecommit.run(build_event("FAILED", phases("BUILD", "FAILED", BUILD_FAILURE)))
        tokens.append(codecommit.calls[-1][1]["clientRequestToken"])

    assert tokens[0] == tokens[1]
    assert uuid.UUID(tokens[0]).version == 5
    assert tokens[0] != reporter.comment_token(BUILD_ARN, "SUCCEEDED")
    assert tokens[0] != reporter.comment_token(BUILD_ARN.replace(BUILD_UUID[:8], "0" * 8), "FAILED")


def test_redelivery_after_the_pull_request_moved_on_is_not_posted_again(codecommit, capsys):
    """The first delivery posted "passed"; a late one words the comment for an older commit
    under the same token, which CodeCommit refuses: the result is already on the pull request."""
    codecommit.expect_get(revision=NEWER_REVISION_ID)
    codecommit.stubber.add_client_error(
        "post_comment_for_pull_request", "IdempotencyParameterMismatchException"
    )

    decision = codecommit.run(build_event("SUCCEEDED"))

    assert decision["action"] == logged_decision(capsys)["action"] == "comment already posted"


def test_unexpected_detail_type_is_ignored(codecommit, capsys):
    event = {**build_event("SUCCEEDED"), "detail-type": "CodeBuild Build Phase Change"}

    decision = codecommit.run(event)

    assert codecommit.calls == []
    assert decision["action"] == logged_decision(capsys)["action"] == "ignored"


# --- packaging ---------------------------------------------------------------------------------


def test_module_imports_only_the_standard_library_and_boto3():
    """The directory is deployed alone as the function's asset: nothing else of the project."""
    package = Path(reporter.__file__).parent
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"relative import in {source.name}"
                imported.add(node.module.split(".")[0])

    assert {"boto3", "botocore", "json"} <= imported
    assert imported - {"boto3", "botocore"} <= sys.stdlib_module_names
