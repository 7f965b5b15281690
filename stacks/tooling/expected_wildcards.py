"""The IAM wildcards CDK grants CodeBuild projects of the tooling account by itself, each with
its reason (acknowledged one pattern at a time: see
:func:`stacks.compliance.acknowledge_expected_wildcards`)."""

from __future__ import annotations

from stacks.compliance import ExpectedWildcard

ACCOUNT_REGION = r"[a-z0-9-]+:\d{12}"
LOGICAL = r"<[A-Za-z0-9]+>"

BUILD_WILDCARDS: tuple[ExpectedWildcard, ...] = (
    ExpectedWildcard(
        r"Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*",
        "CDK's bucket grants: read and write of the tooling account's artifact and cache buckets",
    ),
    ExpectedWildcard(
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
        "CDK's key grants on the tooling account's own KMS keys (artifacts, notifications)",
    ),
    ExpectedWildcard(
        r"Resource::<(PipelineArtifactsBucket|BuildCacheBucket|CheckReports)[A-Za-z0-9]+\.Arn>/\*",
        "Objects of the tooling account's artifact, build-cache and check-report buckets",
    ),
    ExpectedWildcard(
        rf"Resource::arn:aws:codebuild:{ACCOUNT_REGION}:report-group/({LOGICAL}-)?\*",
        "Report groups CodeBuild creates for the tooling account's own projects",
    ),
    ExpectedWildcard(
        rf"Resource::arn:aws:logs:{ACCOUNT_REGION}:log-group:/aws/codebuild/({LOGICAL}:)?\*",
        "Log streams of the tooling account's CodeBuild projects",
    ),
)
