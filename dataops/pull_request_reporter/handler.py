"""Reports the pull-request check build onto the CodeCommit pull request.

The check build runs the pull request's own (untrusted) code, so it gets no CodeCommit write
rights; this function does the writing instead. On a pull request event it gives the pull request
an approval rule that only this function's role can satisfy, so nothing merges unchecked. On a
finished build it comments the result, with the check's data diff report (from the build's
artifacts, trimmed to CodeCommit's comment limit and linked in full), and approves or revokes
the pull request's revision.

Deployed alone as a Lambda asset of this directory: it imports nothing but the standard library,
boto3 and botocore.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from urllib.parse import quote

if TYPE_CHECKING:
    from botocore.client import BaseClient

PULL_REQUEST_EVENT = "CodeCommit Pull Request State Change"
BUILD_EVENT = "CodeBuild Build State Change"
BUILD_VARIABLES = (
    "PULL_REQUEST_ID",
    "REPOSITORY_NAME",
    "SOURCE_COMMIT",
    "DESTINATION_COMMIT",
    "REVISION_ID",
)
# The function's own settings (Lambda environment variables).
APPROVAL_RULE_SETTING = "APPROVAL_RULE_NAME"
APPROVER_ROLE_SETTING = "APPROVER_ROLE_NAME"
APPROVAL_RULE_CONTENT_VERSION = "2018-11-08"
SHORT_COMMIT = 7
# Phase-context messages are short in practice; the cap keeps a comment within CodeCommit's
# 10,240 characters even if one is not.
MAX_CONTEXT_CHARS = 500
# CodeCommit refuses a longer comment (CommentContentSizeLimitExceededException).
COMMENT_LIMIT = 10_240
# The data diff's Markdown report among the build's artifacts (buildspecs/pull_request.yml).
REPORT_FILE = "data-diff.md"
# Read at most this much of a report: more never fits a comment.
REPORT_READ_BYTES = 64 * 1024
TRIMMED = "\n\n_The report is trimmed to fit a comment; the full report is linked below._"

ClientFactory: TypeAlias = Callable[[str], "BaseClient"]
# What became of the approval: set as the build says, or left alone.
Approval: TypeAlias = Literal["APPROVE", "REVOKE", "stale", "closed"]


@functools.cache
def codecommit_client(region: str) -> BaseClient:
    """One client per region for the life of the execution environment (boto3 is imported
    here, so that the stack which reads this module's settings does not import it)."""
    import boto3

    return boto3.client("codecommit", region_name=region)


@functools.cache
def s3_client(region: str) -> BaseClient:
    """The client reading the build's report from its artifacts bucket (same region)."""
    import boto3

    return boto3.client("s3", region_name=region)


def handler(
    event: Mapping[str, Any],
    context: object,
    client_factory: ClientFactory = codecommit_client,
    s3_factory: ClientFactory = s3_client,
) -> dict[str, str]:
    """Lambda entry point; returns the decision it logged (tests pass their own factories)."""
    detail_type = event.get("detail-type")
    if detail_type == PULL_REQUEST_EVENT:
        decision = _on_pull_request(event, client_factory)
    elif detail_type == BUILD_EVENT:
        decision = _on_build(event, client_factory, s3_factory)
    else:
        decision = {"action": "ignored", "reason": f"unexpected detail-type {detail_type!r}"}
    print(json.dumps(decision, sort_keys=True), flush=True)
    return decision


def approval_rule_content(partition: str, account: str, role_name: str) -> str:
    """One approval, from this function's role in any session: the check build's verdict."""
    member = f"arn:{partition}:sts::{account}:assumed-role/{role_name}/*"
    return json.dumps(
        {
            "Version": APPROVAL_RULE_CONTENT_VERSION,
            "Statements": [
                {"Type": "Approvers", "NumberOfApprovalsNeeded": 1, "ApprovalPoolMembers": [member]}
            ],
        }
    )


def _on_pull_request(event: Mapping[str, Any], client_factory: ClientFactory) -> dict[str, str]:
    """Makes sure an open pull request carries the approval rule, so it waits for its check."""
    detail = event["detail"]
    rule_name = os.environ[APPROVAL_RULE_SETTING]
    role_name = os.environ[APPROVER_ROLE_SETTING]
    decision = {
        "pullRequestId": detail["pullRequestId"],
        "repository": detail["repositoryNames"][0],
        "event": detail["event"],
        "rule": rule_name,
    }
    closed = {**decision, "action": "ignored", "reason": "pull request closed"}
    present = {**decision, "action": "approval rule present"}
    # The event spells the status "Open"/"Closed", the API "OPEN"/"CLOSED".
    if detail["pullRequestStatus"].upper() == "CLOSED":
        return closed
    client = client_factory(event["region"])
    pull_request = client.get_pull_request(pullRequestId=detail["pullRequestId"])["pullRequest"]
    if pull_request["pullRequestStatus"] == "CLOSED":
        return closed
    if any(rule["approvalRuleName"] == rule_name for rule in pull_request["approvalRules"]):
        return present
    partition = event["resources"][0].split(":")[1]  # of the repository's ARN
    try:
        client.create_pull_request_approval_rule(
            pullRequestId=detail["pullRequestId"],
            approvalRuleName=rule_name,
            approvalRuleContent=approval_rule_content(partition, event["account"], role_name),
        )
    # The created and source-branch-updated events of one pull request can race each other.
    except client.exceptions.ApprovalRuleNameAlreadyExistsException:
        return present
    except client.exceptions.PullRequestAlreadyClosedException:
        return closed
    return {**decision, "action": "approval rule created"}


@dataclass(frozen=True)
class CheckedPullRequest:
    """What the build checked, as the rule that started it passed it in environment variables."""

    pull_request_id: str
    repository_name: str
    source_commit: str
    destination_commit: str
    revision_id: str

    @classmethod
    def from_build(cls, detail: Mapping[str, Any]) -> CheckedPullRequest | None:
        """None for builds not started for a pull request (by hand, say)."""
        environment = detail.get("additional-information", {}).get("environment", {})
        values = {v["name"]: v["value"] for v in environment.get("environment-variables", [])}
        if not all(values.get(name) for name in BUILD_VARIABLES):
            return None
        return cls(*(values[name] for name in BUILD_VARIABLES))


def _on_build(
    event: Mapping[str, Any], client_factory: ClientFactory, s3_factory: ClientFactory
) -> dict[str, str]:
    """A finished build: approve or revoke the revision it checked, then comment the result."""
    detail = event["detail"]
    status = detail["build-status"]
    decision = {"buildId": detail["build-id"], "buildStatus": status}
    checked = CheckedPullRequest.from_build(detail)
    if checked is None:
        return {**decision, "action": "ignored", "reason": "build has no pull request variables"}
    decision = {
        **decision,
        "pullRequestId": checked.pull_request_id,
        "repository": checked.repository_name,
        "sourceCommit": checked.source_commit,
    }
    # Only the commit the build actually checked out may be approved: variables naming another
    # (a build started by hand with the variables copied) prove nothing about that commit.
    built = detail.get("additional-information", {}).get("source-version")
    if built != checked.source_commit:
        return {**decision, "action": "ignored", "reason": f"build checked {built!r}"}
    if status == "IN_PROGRESS":
        return {**decision, "action": "ignored", "reason": "build running; the rule shows pending"}
    client = client_factory(event["region"])
    # Approval first: whether it still applies decides what the comment says.
    approval = _set_approval(client, checked, approve=status == "SUCCEEDED")
    report = build_report(event, s3_factory)
    decision = {**decision, "approval": approval, "report": report.status}
    try:
        client.post_comment_for_pull_request(
            pullRequestId=checked.pull_request_id,
            repositoryName=checked.repository_name,
            beforeCommitId=checked.destination_commit,
            afterCommitId=checked.source_commit,
            content=result_comment(event, checked, approval, report),
            clientRequestToken=comment_token(detail["build-id"], status),
        )
    # Our tokens are always well-formed, so this means a redelivery that came after the pull
    # request moved on (and so words the comment differently): the result is already posted.
    except client.exceptions.IdempotencyParameterMismatchException:
        return {**decision, "action": "comment already posted"}
    return {**decision, "action": "commented"}


def _set_approval(client: BaseClient, checked: CheckedPullRequest, *, approve: bool) -> Approval:
    """Approves or revokes the checked revision; a newer revision or a closed one is left alone."""
    pull_request = client.get_pull_request(pullRequestId=checked.pull_request_id)["pullRequest"]
    if pull_request["pullRequestStatus"] == "CLOSED":
        return "closed"
    if pull_request["revisionId"] != checked.revision_id:
        return "stale"
    state: Approval = "APPROVE" if approve else "REVOKE"
    try:
        client.update_pull_request_approval_state(
            pullRequestId=checked.pull_request_id,
            revisionId=checked.revision_id,
            approvalState=state,
        )
    except client.exceptions.RevisionNotCurrentException:
        return "stale"
    except client.exceptions.PullRequestAlreadyClosedException:
        return "closed"
    return state


def comment_token(build_arn: str, status: str) -> str:
    """The same token for every delivery of one build's result, so retries never post twice.

    The service model gives the token no length or pattern; the SDKs fill it with a UUID when it
    is left out, so a name-based UUID is the shape CodeCommit is known to accept.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{build_arn}#{status}"))


@dataclass(frozen=True)
class BuildReport:
    """The check's data diff report from the build's artifacts: its Markdown and where a person
    opens it whole (both empty when there is none), and what became of the reading."""

    text: str = ""
    url: str = ""
    status: str = "no artifacts"


def build_report(event: Mapping[str, Any], s3_factory: ClientFactory) -> BuildReport:
    """The report among the artifacts of the event's build, when it uploaded any.

    The event gives the artifacts' location as an S3 ARN (``arn:aws:s3:::bucket/folder``; the
    project stores them unzipped, one folder a build)."""
    info = event["detail"].get("additional-information", {})
    location = info.get("artifact", {}).get("location", "")
    bucket, _, folder = location.partition(":::")[2].partition("/")
    if not (bucket and folder):
        return BuildReport()
    key = f"{folder.rstrip('/')}/{REPORT_FILE}"
    region = event["region"]
    url = (
        f"https://{region}.console.aws.amazon.com/s3/object/{quote(bucket, safe='')}"
        f"?region={region}&prefix={quote(key, safe='')}"
    )
    from botocore.exceptions import ClientError

    try:
        response = s3_factory(region).get_object(
            Bucket=bucket, Key=key, Range=f"bytes=0-{REPORT_READ_BYTES - 1}"
        )
    # A build that failed before its data diff has no report; the role may not list the bucket,
    # so S3 answers that with AccessDenied as well as NoSuchKey.
    except ClientError as exc:
        return BuildReport(status=f"unreadable ({exc.response['Error']['Code']})")
    text = response["Body"].read().decode("utf-8", errors="replace")
    return BuildReport(text.strip(), url, "included")


def trimmed(text: str, limit: int, note: str = TRIMMED) -> str:
    """``text`` within ``limit`` characters, cut at a line's end and saying so."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(note), 0)]
    if "\n" in cut:
        cut = cut[: cut.rfind("\n")]
    return cut + note


def result_comment(
    event: Mapping[str, Any],
    checked: CheckedPullRequest,
    approval: Approval,
    report: BuildReport,
) -> str:
    """The comment: verdict, commit, failed phases, the data diff report, duration, links and
    what happened to the approval; the report is trimmed so the whole stays within
    CodeCommit's limit. Deterministic, since a retry must send the same content with the same
    token."""
    detail = event["detail"]
    info = detail.get("additional-information", {})
    phases = info.get("phases", [])
    status = detail["build-status"]
    verdict = "passed" if status == "SUCCEEDED" else "failed"
    seconds = round(sum(phase.get("duration-in-seconds", 0) for phase in phases))
    head = [
        f"**Pull request check {verdict}** ({status}) for commit "
        f"`{checked.source_commit[:SHORT_COMMIT]}`, build time {_duration(seconds)}.",
        *_failed_phases(phases),
    ]
    links = _links(event, info.get("logs", {}).get("deep-link"))
    if report.url:
        links += f" · [Full data diff report]({report.url})"
    tail = ["", links]
    if approval == "stale":
        tail += [
            "",
            "This result is for an older commit of the pull request; a newer check is running, "
            "so the approval was left unchanged.",
        ]
    elif approval == "closed":
        tail += ["", "The pull request is closed, so the approval was left unchanged."]
    if not report.text:
        return "\n".join([*head, *tail])
    # Two line breaks join the report to the head and to the tail.
    room = COMMENT_LIMIT - len("\n".join(head)) - len("\n".join(tail)) - 2
    return "\n".join([*head, "", trimmed(report.text, room), *tail])


def _failed_phases(phases: list[Mapping[str, Any]]) -> list[str]:
    """One line per phase that did not succeed, with CodeBuild's reason (its phase context)."""
    failed = [p for p in phases if p.get("phase-status") not in (None, "SUCCEEDED")]
    if not failed:
        return []
    lines = ["", "Failed phases:"]
    for phase in failed:
        # CodeBuild writes ": " where a phase has no context to give.
        reasons = [c for c in phase.get("phase-context", []) if c.strip(" :")]
        reason = "; ".join(reasons)[:MAX_CONTEXT_CHARS] or "no reason given"
        lines.append(f"- {phase['phase-type']} ({phase['phase-status']}): {reason}")
    return lines


def _links(event: Mapping[str, Any], logs_link: str | None) -> str:
    """Links to the build in the CodeBuild console and to its log in CloudWatch Logs."""
    detail, region = event["detail"], event["region"]
    # The console names a build by its id, "PROJECT:UUID", the part of the ARN after "build/".
    build_id = detail["build-id"].split(":build/", 1)[1]
    build_url = (
        f"https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/"
        f"{quote(detail['project-name'], safe='')}/build/{quote(build_id, safe='')}/"
        f"?region={region}"
    )
    links = f"[Build in the CodeBuild console]({build_url})"
    return f"{links} · [Build log]({logs_link})" if logs_link else links


def _duration(seconds: int) -> str:
    """Minutes and seconds, as a reader compares them with the build's timeout."""
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
