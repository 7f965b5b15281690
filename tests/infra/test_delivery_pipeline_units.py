"""The delivery pipeline's helpers, without synthesizing the app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dataops.declarations import DeclarationError

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam

    from stacks.compliance import ExpectedWildcard

# With the synth tests: these import the stacks' modules, and the Spark worker never should.
pytestmark = pytest.mark.xdist_group("synth")


def test_empty_separator_joins_of_strings_and_refs_become_subs():
    from stacks.delivery_pipeline.template_hygiene import as_sub

    join = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:role/x"]]}
    assert as_sub(join) == {"Fn::Sub": "arn:${AWS::Partition}:iam::1:role/x"}
    with_getatt = {"Fn::Join": ["", ["a", {"Fn::GetAtt": ["R", "Arn"]}]]}
    assert as_sub(with_getatt) is with_getatt
    assert as_sub({"Fn::Join": ["/", ["a", "b"]]}) == {"Fn::Join": ["/", ["a", "b"]]}
    assert as_sub("plain") == "plain"


def test_bucket_listing_on_everything_is_narrowed_and_the_rest_kept():
    from stacks.delivery_pipeline.template_hygiene import with_listing_narrowed

    statements = [
        {
            "Action": ["cloudformation:DescribeStacks", "s3:ListBucket"],
            "Effect": "Allow",
            "Resource": "*",
        },
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": "arn:aws:s3:::b/*"},
    ]
    assert with_listing_narrowed(statements, "arn:aws:s3:::cdk-*") == [
        {"Action": ["cloudformation:DescribeStacks"], "Effect": "Allow", "Resource": "*"},
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": "arn:aws:s3:::cdk-*"},
        statements[1],
    ]


def test_a_buildspec_file_must_exist_and_be_version_0_2(tmp_path: Path):
    from stacks.tooling.build_settings import BuildSpecFile

    with pytest.raises(DeclarationError, match="missing; fix: add the buildspec"):
        BuildSpecFile.load("nope", tmp_path)
    (tmp_path / "old.yml").write_text("version: 0.1\nphases: {}\n")
    with pytest.raises(DeclarationError, match=r"version: must be 0\.2"):
        BuildSpecFile.load("old", tmp_path)


def test_every_shipped_buildspec_loads_and_installs_through_make_setup():
    from stacks.tooling.build_settings import BuildSpecFile

    for path in sorted(Path("buildspecs").glob("*.yml")):
        spec = BuildSpecFile.load(path.stem).spec
        assert spec["phases"]["install"]["commands"][0] == "make setup", path
        assert all(
            command.startswith(("make ", "export ", "git "))
            for command in spec["phases"]["build"]["commands"]
        ), path


def _policy_with(statements: list[iam.PolicyStatement]) -> iam.Policy:
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam

    stack = cdk.Stack(cdk.App(), "Stack")
    return iam.Policy(stack, "Policy", statements=statements)


def _acknowledged(policy: iam.Policy) -> dict[str, str]:
    import aws_cdk as cdk

    acknowledged: dict[str, str] = {}
    for entry in policy.node.metadata:
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
            acknowledged.update(
                {key.split("::", 1)[1]: reason for key, reason in entry.data.items()}
            )
    return acknowledged


def _lookups() -> ExpectedWildcard:
    from stacks.compliance import ExpectedWildcard

    return ExpectedWildcard(
        r"Resource::\*", "lookups", frozenset({"cloudformation:DescribeStacks"})
    )


def test_expected_wildcards_are_acknowledged_with_their_reason():
    from aws_cdk import aws_iam as iam

    from stacks.compliance import acknowledge_expected_wildcards, wildcard_findings

    policy = _policy_with(
        [iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=["*"])]
    )
    assert [finding for finding, _ in wildcard_findings(policy)] == [
        "AwsSolutions-IAM5[Resource::*]"
    ]
    acknowledge_expected_wildcards(policy, [_lookups()])
    assert _acknowledged(policy) == {"AwsSolutions-IAM5[Resource::*]": "lookups"}


def test_a_finding_raised_also_by_an_unexpected_statement_stays_a_finding():
    from aws_cdk import aws_iam as iam

    from stacks.compliance import acknowledge_expected_wildcards

    policy = _policy_with(
        [
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=["*"]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]),
        ]
    )
    acknowledge_expected_wildcards(policy, [_lookups()])
    assert _acknowledged(policy) == {}


NEW_CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd"
OLD_CONNECTION = "arn:aws:codestar-connections:eu-west-1:111111111111:connection/abcd"


def test_connection_actions_take_the_prefix_of_the_connection_arn():
    from stacks.connection_permissions import connection_actions

    assert connection_actions(NEW_CONNECTION, "UseConnection") == ["codeconnections:UseConnection"]
    assert connection_actions(OLD_CONNECTION, "GetConnection", "UseConnection") == [
        "codestar-connections:GetConnection",
        "codestar-connections:UseConnection",
    ]
    with pytest.raises(ValueError, match="not a connection ARN; fix:"):
        connection_actions("arn:aws:s3:::bucket", "UseConnection")


def test_connection_grants_are_respelled_and_every_other_statement_kept():
    from stacks.connection_permissions import with_connection_actions_respelled

    grant = {"Effect": "Allow", "Action": "codestar-connections:UseConnection"}
    both = {
        "Effect": "Allow",
        "Action": ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
    }
    elsewhere = {**grant, "Resource": "arn:aws:codeconnections:eu-west-1:1:connection/other"}
    bucket = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    statements = [
        {**grant, "Resource": NEW_CONNECTION},
        {**both, "Resource": [NEW_CONNECTION]},
        elsewhere,
        bucket,
    ]
    assert with_connection_actions_respelled(statements, NEW_CONNECTION) == [
        {**grant, "Action": "codeconnections:UseConnection", "Resource": NEW_CONNECTION},
        {**grant, "Action": "codeconnections:UseConnection", "Resource": [NEW_CONNECTION]},
        elsewhere,
        bucket,
    ]
    assert with_connection_actions_respelled(statements[:1], OLD_CONNECTION) == statements[:1]
