"""``pull-request-report``: the last step of a pull-request check, whether it passed or not.

It makes sure the build has a report to keep among its artifacts (a check that failed before
its data diff leaves a line saying so), and on a GitHub pull request it comments the report
when the project has a token for that (``source.github_token_secret``: the build gets the
secret's value as ``GITHUB_TOKEN``). CodeCommit pull requests are commented by the stack's
reporter function instead, which reads the same report from the build's artifacts. A comment
that cannot be posted is a warning, never a failed check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dataops.cli import EXIT_OK
from dataops.config import DEFAULT_CONFIG_PATH, SourceConfig, load_config
from dataops.data_diff import DEFAULT_REPORT
from dataops.project import PROJECT_ROOT
from dataops.pull_request_reporter.handler import trimmed

# The environment variable the build gets the secret in (its name, not a token).
TOKEN_VARIABLE = "GITHUB_TOKEN"  # noqa: S105
# CodeBuild names what started a webhook build: pr/<number> for a pull request.
TRIGGER_VARIABLE = "CODEBUILD_WEBHOOK_TRIGGER"
API = "https://api.github.com"
API_VERSION = "2022-11-28"
# GitHub refuses a longer comment body ("body is too long (maximum is 65536 characters)").
COMMENT_LIMIT = 65_536
TRIMMED = (
    "\n\n_The report is trimmed to fit a comment; the whole of it is among the build's artifacts._"
)
NOT_RUN = (
    "## Data diff\n\nThe data diff did not run: an earlier step of the pull-request check "
    "failed (see the build's log).\n"
)
SHORT_COMMIT = 7

Opener = Callable[..., Any]


def pull_request_number(environ: Mapping[str, str]) -> int | None:
    """The number of the GitHub pull request the build checks, if a pull request started it."""
    match = re.fullmatch(r"pr/(\d+)", environ.get(TRIGGER_VARIABLE, ""))
    return int(match.group(1)) if match else None


def comment_body(report: str, environ: Mapping[str, str]) -> str:
    """Verdict, commit and a link to the build, then the report (trimmed to GitHub's limit)."""
    verdict = "passed" if environ.get("CODEBUILD_BUILD_SUCCEEDING") == "1" else "failed"
    commit = environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "")[:SHORT_COMMIT]
    region, build = environ.get("AWS_REGION", ""), environ.get("CODEBUILD_BUILD_ID", "")
    project = build.split(":", 1)[0]
    url = (
        f"https://{region}.console.aws.amazon.com/codesuite/codebuild/projects/"
        f"{quote(project, safe='')}/build/{quote(build, safe='')}/?region={region}"
    )
    head = f"**Pull request check {verdict}** for commit `{commit}` ([build]({url})).\n\n"
    return head + trimmed(report.strip(), COMMENT_LIMIT - len(head), TRIMMED)


def post_comment(
    source: SourceConfig,
    number: int,
    body: str,
    token: str,
    opener: Opener = urllib.request.urlopen,
) -> int:
    """``POST /repos/{owner}/{repo}/issues/{number}/comments``; the HTTP status."""
    request = urllib.request.Request(  # noqa: S310 (a fixed https URL)
        f"{API}/repos/{quote(str(source.owner), safe='')}/{quote(source.repository, safe='')}"
        f"/issues/{number}/comments",
        data=json.dumps({"body": body}).encode("utf-8"),
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": API_VERSION,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with opener(request, timeout=30) as response:
        return int(response.status)


def report_pull_request(
    report: Path,
    source: SourceConfig,
    environ: Mapping[str, str],
    opener: Opener = urllib.request.urlopen,
) -> str:
    """Keep a report for the artifacts, comment it when this is a GitHub pull request with a
    token; what was done, in one line."""
    if not report.is_file():
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(NOT_RUN, encoding="utf-8")
    number = pull_request_number(environ)
    token = environ.get(TOKEN_VARIABLE, "")
    if source.provider != "github" or number is None or not token:
        return f"pull-request report: {report} kept for the build (no GitHub comment to post)"
    body = comment_body(report.read_text(encoding="utf-8"), environ)
    try:
        status = post_comment(source, number, body, token, opener)
    except (urllib.error.URLError, TimeoutError) as exc:
        return f"warning: pull-request report: the comment on pull request #{number} failed: {exc}"
    return f"pull-request report: commented on pull request #{number} (HTTP {status})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="Markdown report")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    source = load_config(args.root / DEFAULT_CONFIG_PATH).source
    print(report_pull_request(args.report, source, os.environ))
    return EXIT_OK
