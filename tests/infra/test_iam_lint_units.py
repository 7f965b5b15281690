"""The IAM lint on small hand-written templates: intrinsics rendered into placeholder ARNs, planted
bad statements failing by name, and acknowledgements covering only what they name."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dataops.cfn_lint_templates import StackEnvironment
from dataops.cfn_placeholders import StackContext, UnrenderableError, render
from dataops.iam_findings import NEVER_ACKNOWLEDGED, Acknowledgement, Finding
from dataops.iam_lint import lint_template, main, unacknowledged
from dataops.iam_policies import PolicyKind, policy_documents

BUCKET_ARN = {"Fn::GetAtt": ["DataBucketA1B2C3D4", "Arn"]}
RESOURCES: dict[str, Any] = {
    "DataBucketA1B2C3D4": {"Type": "AWS::S3::Bucket"},
    "NamedBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "acme-raw"}},
    "DataKey": {"Type": "AWS::KMS::Key"},
    "Topic": {"Type": "AWS::SNS::Topic"},
    "JobRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "job-role"}},
}
DEV = StackEnvironment("acme-dev-data-workflow", "222222222222", "eu-west-1")


def _context(resources: dict[str, Any] | None = None, region: str = "eu-west-1") -> StackContext:
    return StackContext(
        {"Resources": {**RESOURCES, **(resources or {})}}, "222222222222", region, "s"
    )


def _statement(actions: list[str], resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


def _template(tmp_path: Path, *statements: dict[str, Any], name: str = "Planted") -> Path:
    """A template with one identity policy holding ``statements``."""
    policy = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "planted",
            "Roles": [{"Ref": "JobRole"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        },
    }
    path = tmp_path / f"{name}.template.json"
    path.write_text(json.dumps({"Resources": {**RESOURCES, "PlantedPolicy": policy}}))
    return path


def _issues(template: Path) -> list[tuple[str, str | None]]:
    return [(finding.issue, finding.action) for finding in lint_template(template, DEV)]


# Rendering intrinsics


def test_references_render_as_arns_of_the_referenced_resource_type():
    context = _context()
    objects = {"Fn::Join": ["", [BUCKET_ARN, "/raw/*"]]}
    assert render(objects, context) == "arn:aws:s3:::databucketa1b2c3d4/raw/*"
    assert render({"Fn::GetAtt": ["NamedBucket", "Arn"]}, context) == "arn:aws:s3:::acme-raw"
    assert render({"Ref": "NamedBucket"}, context) == "acme-raw"
    assert re.fullmatch(
        r"arn:aws:kms:eu-west-1:222222222222:key/[0-9a-f-]{36}",
        render({"Fn::GetAtt": ["DataKey", "Arn"]}, context),
    )
    assert render({"Ref": "Topic"}, context) == "arn:aws:sns:eu-west-1:222222222222:Topic"
    assert (
        render({"Fn::GetAtt": ["JobRole", "Arn"]}, context)
        == "arn:aws:iam::222222222222:role/job-role"
    )


def test_subs_and_pseudo_parameters_render_for_the_stacks_region():
    sub = {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:${Name}/x/${!Literal}"
    }
    sub_with_variables = {"Fn::Sub": [sub["Fn::Sub"], {"Name": {"Ref": "NamedBucket"}}]}
    assert render(sub_with_variables, _context(region="cn-north-1")) == (
        "arn:aws-cn:logs:cn-north-1:222222222222:acme-raw/x/${Literal}"
    )
    assert render({"Fn::Sub": "${NamedBucket.Arn}/*"}, _context()) == "arn:aws:s3:::acme-raw/*"
    assert render([{"Ref": "AWS::NoValue"}, "kept"], _context()) == ["kept"]
    key_id = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["DataKey", "Arn"]}]}]}
    assert render(key_id, _context()) == render({"Ref": "DataKey"}, _context())


def test_a_reference_without_a_placeholder_fails_naming_the_type_and_the_fix():
    context = _context({"Cluster": {"Type": "AWS::EKS::Cluster"}})
    with pytest.raises(UnrenderableError, match=r"Cluster: .*AWS::EKS::Cluster; fix: add it"):
        render({"Fn::GetAtt": ["Cluster", "Arn"]}, context)
    with pytest.raises(UnrenderableError, match="Missing: no such resource"):
        render({"Ref": "Missing"}, context)
    with pytest.raises(UnrenderableError, match="Fn::If"):
        render({"Fn::If": ["c", "a", "b"]}, context)


def test_identity_and_resource_policies_are_found_and_trust_policies_left_out():
    log_policy = '{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"'
    resources = {
        "JobRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Statement": []},
                "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Statement": []}}],
            },
        },
        "LogsPolicy": {
            "Type": "AWS::Logs::ResourcePolicy",
            "Properties": {
                "PolicyDocument": {
                    "Fn::Join": ["", [log_policy, {"Fn::GetAtt": ["Logs", "Arn"]}, '"}]}']]
                }
            },
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/x"}},
        "DataKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": []}}},
    }
    found = {
        (doc.logical_id, doc.location, doc.kind): doc.document
        for doc in policy_documents(_context(resources))
    }
    assert set(found) == {
        ("JobRole", "Policies[0]", PolicyKind.IDENTITY),
        ("DataKey", "KeyPolicy", PolicyKind.RESOURCE),
        ("LogsPolicy", "PolicyDocument", PolicyKind.RESOURCE),
    }
    logs = found["LogsPolicy", "PolicyDocument", PolicyKind.RESOURCE]
    assert logs["Statement"][0]["Resource"] == (
        "arn:aws:logs:eu-west-1:222222222222:log-group:/aws/x:*"
    )


def test_rendered_arns_let_parliament_match_resource_types(tmp_path):
    """Object actions on the bucket's own ARN match no resource; on its objects they do."""
    on_bucket = _template(tmp_path, _statement(["s3:GetObject"], BUCKET_ARN), name="OnBucket")
    assert _issues(on_bucket) == [("RESOURCE_MISMATCH", "s3:GetObject")]
    objects = {"Fn::Join": ["", [BUCKET_ARN, "/*"]]}
    on_objects = _template(tmp_path, _statement(["s3:GetObject"], objects), name="OnObjects")
    assert _issues(on_objects) == []


# Planted bad statements


def test_a_bucket_read_conditioned_on_s3_prefix_fails_naming_it(tmp_path, capsys):
    statement = _statement(
        ["s3:ListBucket", "s3:GetBucketLocation"],
        BUCKET_ARN,
        Condition={"StringLike": {"s3:prefix": ["raw/*"]}},
    )
    template = _template(tmp_path, statement)
    assert _issues(template) == [("UNKNOWN_CONDITION_FOR_ACTION", "s3:GetBucketLocation")]
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        f"{template}: PlantedPolicy PolicyDocument Statement[0]: UNKNOWN_CONDITION_FOR_ACTION "
        "s3:GetBucketLocation: Unknown condition s3:prefix for action s3:GetBucketLocation"
    ) in out.splitlines()
    assert "1 unacknowledged" in out


def test_listing_alone_under_s3_prefix_and_bucket_reads_alone_pass(tmp_path):
    template = _template(
        tmp_path,
        _statement(
            ["s3:ListBucket"], BUCKET_ARN, Condition={"StringLike": {"s3:prefix": ["raw/*"]}}
        ),
        _statement(["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], BUCKET_ARN),
    )
    assert _issues(template) == []


@pytest.mark.parametrize(
    ("action", "issue"),
    [("s3:GetBucketLocations", "UNKNOWN_ACTION"), ("s4:GetObject", "UNKNOWN_PREFIX")],
)
def test_unknown_actions_and_prefixes_fail_naming_the_action(tmp_path, capsys, action, issue):
    template = _template(tmp_path, _statement([action], BUCKET_ARN))
    assert _issues(template) == [(issue, action)]
    assert main([str(tmp_path)]) == 1
    assert f"{issue} {action}:" in capsys.readouterr().out


def test_a_malformed_statement_fails(tmp_path):
    template = _template(tmp_path, {"Action": ["s3:GetObject"], "Resource": "*"})
    assert _issues(template) == [("MALFORMED", None)]


def test_a_wildcard_is_reported_once_as_the_policy_spells_it(tmp_path):
    template = _template(tmp_path, _statement(["s3:List*"], BUCKET_ARN))
    [finding] = lint_template(template, DEV)
    assert (finding.issue, finding.action) == ("RESOURCE_MISMATCH", "s3:List*")
    assert "s3:ListAllMyBuckets (needs *)" in finding.detail
    assert finding.stack == DEV.stack_name


def test_a_template_the_lint_cannot_render_fails_on_one_line_naming_it(tmp_path, capsys):
    _template(tmp_path, _statement(["s3:GetObject"], {"Fn::ImportValue": "shared-bucket"}))
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'Planted.template.json'}: Fn::ImportValue: this intrinsic has no "
        "placeholder; fix: add it to dataops.cfn_placeholders\n"
    )


def test_the_command_passes_a_clean_assembly_and_refuses_an_empty_one(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    _template(tmp_path, _statement(["s3:GetObject"], {"Fn::Join": ["", [BUCKET_ARN, "/*"]]}))
    assert main([str(tmp_path)]) == 0
    assert "0 unacknowledged" in capsys.readouterr().out


# Acknowledgements


def _finding(**changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "template": Path("t.template.json"),
        "stack": "acme-dev-data-workflow",
        "logical_id": "GlueJobsRolePolicyA1B2",
        "resource_type": "AWS::IAM::Policy",
        "location": "PolicyDocument",
        "statement": 0,
        "sid": None,
        "issue": "RESOURCE_STAR",
        "action": "cloudwatch:PutMetricData",
        "detail": "cloudwatch:PutMetricData",
    }
    return Finding(**{**fields, **changes})


ACK = Acknowledgement(
    issue="RESOURCE_STAR",
    stack="*-data-workflow",
    resource="GlueJobsRolePolicy*",
    resource_type="AWS::IAM::Policy",
    actions=("cloudwatch:PutMetricData",),
    reason="no resource-level permissions",
)


def test_an_acknowledgement_covers_its_issue_stack_resource_and_actions_only():
    assert ACK.covers(_finding())
    assert not ACK.covers(_finding(action="s3:GetObject"))
    assert not ACK.covers(_finding(action=None))
    assert not ACK.covers(_finding(issue="RESOURCE_MISMATCH"))
    assert not ACK.covers(_finding(stack="acme-delivery-pipeline"))
    assert not ACK.covers(_finding(logical_id="OtherRolePolicy"))
    assert not ACK.covers(_finding(resource_type="AWS::IAM::ManagedPolicy"))


def test_an_acknowledgement_without_actions_covers_only_findings_about_no_action():
    whole_policy = Acknowledgement(
        issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        stack="*",
        resource="*",
        resource_type="*",
        actions=(),
        reason="r",
    )
    escalation = _finding(issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION", action=None)
    assert whole_policy.covers(escalation)
    assert not whole_policy.covers(_finding(issue="RESOURCE_POLICY_PRIVILEGE_ESCALATION"))


def test_unacknowledged_returns_the_open_findings_and_the_unused_acknowledgements():
    spare = Acknowledgement(
        issue="RESOURCE_STAR",
        stack="*",
        resource="Nothing*",
        resource_type="*",
        actions=("x:Y",),
        reason="r",
    )
    other = _finding(action="s3:GetObject")
    assert unacknowledged([_finding(), other], [ACK, spare]) == ([other], [spare])


@pytest.mark.parametrize("issue", sorted(NEVER_ACKNOWLEDGED))
def test_the_never_acknowledged_kinds_cannot_be_acknowledged(issue):
    with pytest.raises(
        ValueError, match=f"{issue} cannot be acknowledged; fix: correct the policy"
    ):
        Acknowledgement(
            issue=issue, stack="*", resource="*", resource_type="*", actions=(), reason="r"
        )


def test_an_acknowledgement_needs_a_reason():
    with pytest.raises(ValueError, match="no reason"):
        Acknowledgement(
            issue="RESOURCE_STAR",
            stack="*",
            resource="*",
            resource_type="*",
            actions=(),
            reason=" ",
        )
