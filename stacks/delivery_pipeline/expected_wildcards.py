"""The IAM wildcards CDK Pipelines grants by itself, beyond those of any CodeBuild project,
each with its reason.

Acknowledged one pattern at a time (see :func:`stacks.compliance.acknowledge_expected_wildcards`):
a wildcard that matches none of these still fails the synth.
"""

from __future__ import annotations

from stacks.compliance import ExpectedWildcard
from stacks.tooling.expected_wildcards import BUILD_WILDCARDS

PIPELINE_WILDCARDS: tuple[ExpectedWildcard, ...] = (
    *BUILD_WILDCARDS,
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
