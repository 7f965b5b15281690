"""The IAM wildcards CDK Pipelines and CodeBuild grant by themselves, each with its reason.

Acknowledged one pattern at a time (see :func:`stacks.compliance.acknowledge_expected_wildcards`):
a wildcard that matches none of these still fails the synth.
"""

from __future__ import annotations

from stacks.compliance import ExpectedWildcard

ACCOUNT_REGION = r"[a-z0-9-]+:\d{12}"
LOGICAL = r"<[A-Za-z0-9]+>"

PIPELINE_WILDCARDS: tuple[ExpectedWildcard, ...] = (
    ExpectedWildcard(
        r"Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*",
        "CDK's bucket grants: read and write of this pipeline's artifact and cache buckets",
    ),
    ExpectedWildcard(
        r"Action::kms:(GenerateDataKey|ReEncrypt)\*",
        "CDK's key grants on this pipeline's own KMS keys (artifacts, notifications)",
    ),
    ExpectedWildcard(
        r"Resource::<(PipelineArtifactsBucket|BuildCacheBucket)[A-Za-z0-9]+\.Arn>/\*",
        "Objects of this pipeline's artifact and build-cache buckets",
    ),
    ExpectedWildcard(
        rf"Resource::arn:aws:codebuild:{ACCOUNT_REGION}:report-group/({LOGICAL}-)?\*",
        "Report groups CodeBuild creates for this pipeline's own projects",
    ),
    ExpectedWildcard(
        rf"Resource::arn:aws:logs:{ACCOUNT_REGION}:log-group:/aws/codebuild/({LOGICAL}:)?\*",
        "Log streams of this pipeline's CodeBuild projects",
    ),
    ExpectedWildcard(
        r"Resource::arn:\*:iam::\d{12}:role/\*",
        "CDK bootstrap roles only: the statement requires the aws-cdk:bootstrap-role tag",
        frozenset({"sts:AssumeRole"}),
    ),
    ExpectedWildcard(
        r"Resource::\*",
        "Self-mutation looks up stacks and the bootstrap bucket, the asset step drives its "
        "CodeBuild builds; none of these actions reads or writes data",
        frozenset(
            {
                "cloudformation:DescribeStacks",
                "s3:ListBucket",
                "codebuild:BatchGetBuilds",
                "codebuild:StartBuild",
                "codebuild:StopBuild",
            }
        ),
    ),
)
