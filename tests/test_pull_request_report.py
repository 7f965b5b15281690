"""The pull-request check's last step: a report kept for the build, a GitHub comment posted
through a stubbed HTTP call (no network)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest

from dataops import cli
from dataops.config import SourceConfig
from dataops.pull_request_report import COMMENT_LIMIT, NOT_RUN, report_pull_request

GITHUB = SourceConfig(
    provider="github",
    owner="acme",
    repository="flowlogs-dataops",
    connection_arn=(
        "arn:aws:codeconnections:eu-west-1:111111111111:connection/"
        "abcd1234-ab12-cd34-ef56-abcdef123456"
    ),
)
CODECOMMIT = SourceConfig(provider="codecommit", repository="flowlogs-dataops")
BUILD = {
    "CODEBUILD_WEBHOOK_TRIGGER": "pr/42",
    "GITHUB_TOKEN": "ghp_example",
    "CODEBUILD_BUILD_SUCCEEDING": "1",
    "CODEBUILD_RESOLVED_SOURCE_VERSION": "2774290d6a4d4e6e0f5d8f6b1c2a3e4f5a6b7c8d",
    "AWS_REGION": "eu-west-1",
    "CODEBUILD_BUILD_ID": "flowlogs-dataops-pull-request-checks:8745a7a9-c340-456a",
}
REPORT = "## Data diff\n\n**No differences** in 4 tables.\n"


@dataclass
class Response:
    status: int

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class FakeGitHub:
    """Stands in for ``urllib.request.urlopen``: records each request, answers ``status``."""

    status: int = 201
    error: Exception | None = None
    requests: list[urllib.request.Request] = field(default_factory=list)

    def __call__(self, request: urllib.request.Request, timeout: float) -> Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return Response(self.status)

    def body(self) -> str:
        (request,) = self.requests
        return json.loads(request.data)["body"]


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "reports" / "data-diff.md"
    path.parent.mkdir()
    path.write_text(REPORT)
    return path


def test_a_github_pull_request_gets_the_report_as_a_comment(report):
    github = FakeGitHub()

    line = report_pull_request(report, GITHUB, BUILD, github)

    (request,) = github.requests
    assert request.get_method() == "POST"
    assert (
        request.full_url == "https://api.github.com/repos/acme/flowlogs-dataops/issues/42/comments"
    )
    assert request.get_header("Authorization") == "Bearer ghp_example"
    assert request.get_header("Accept") == "application/vnd.github+json"
    assert request.get_header("X-github-api-version") == "2022-11-28"
    body = github.body()
    assert body.startswith("**Pull request check passed** for commit `2774290` ([build](https://")
    assert "/projects/flowlogs-dataops-pull-request-checks/build/" in body
    assert body.endswith(REPORT.strip())
    assert line == "pull-request report: commented on pull request #42 (HTTP 201)"


def test_a_long_report_is_trimmed_to_githubs_limit(report):
    report.write_text(REPORT + "".join(f"| `t{n}` | {n} |\n" for n in range(10_000)))
    github = FakeGitHub()

    report_pull_request(report, GITHUB, {**BUILD, "CODEBUILD_BUILD_SUCCEEDING": "0"}, github)

    body = github.body()
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith("**Pull request check failed**")
    assert body.endswith("the whole of it is among the build's artifacts._")


@pytest.mark.parametrize(
    ("source", "environ"),
    [
        (CODECOMMIT, BUILD),
        (GITHUB, {k: v for k, v in BUILD.items() if k != "GITHUB_TOKEN"}),
        (GITHUB, {**BUILD, "CODEBUILD_WEBHOOK_TRIGGER": "branch/main"}),
    ],
)
def test_without_a_github_pull_request_and_a_token_nothing_is_posted(report, source, environ):
    github = FakeGitHub()
    line = report_pull_request(report, source, environ, github)
    assert github.requests == []
    assert "no GitHub comment to post" in line


def test_a_check_that_failed_before_its_data_diff_leaves_a_report_saying_so(tmp_path):
    report = tmp_path / "reports" / "data-diff.md"
    github = FakeGitHub()
    report_pull_request(report, GITHUB, BUILD, github)
    assert report.read_text() == NOT_RUN
    assert github.body().endswith("failed (see the build's log).")


def test_a_comment_that_cannot_be_posted_is_a_warning(report):
    error = urllib.error.HTTPError("https://api.github.com", 403, "Forbidden", {}, None)
    line = report_pull_request(report, GITHUB, BUILD, FakeGitHub(error=error))
    assert line.startswith("warning: pull-request report: the comment on pull request #42 failed")


def test_cli_keeps_the_report_and_exits_0(tmp_path, monkeypatch, capsys):
    for name in BUILD:
        monkeypatch.delenv(name, raising=False)
    report = tmp_path / "data-diff.md"
    assert cli.main(["pull-request-report", "--report", str(report)]) == 0
    assert report.read_text() == NOT_RUN
    assert capsys.readouterr().out.startswith("pull-request report: ")
