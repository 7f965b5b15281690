"""Small corrections to the template CDK Pipelines writes, so cfn-lint passes it clean.

- Deploy actions name their CloudFormation role with ``Fn::Join``; cfn-lint validates role
  ARNs only in ``Fn::Sub`` form (E3703), so the same ARN is written as ``Fn::Sub``.
- The pipeline depends on its role explicitly although it already reads the role's ARN
  (W3005); only the dependency on the role's policy is kept.
- Self-mutation may list every bucket (``s3:ListBucket`` on ``*``); the CDK CLI only looks
  at the bootstrap asset buckets of the tooling account, so the statement names those.
"""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

from stacks.dependencies import depend_on_role_policy_only


def as_sub(value: Any) -> Any:
    """``Fn::Join`` with an empty separator over strings and ``Ref`` as ``Fn::Sub``; any other
    value unchanged."""
    if not (isinstance(value, dict) and "Fn::Join" in value):
        return value
    separator, parts = value["Fn::Join"]
    if separator != "":
        return value
    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict) and set(part) == {"Ref"}:
            pieces.append(f"${{{part['Ref']}}}")
        else:
            return value
    return {"Fn::Sub": "".join(pieces)}


def tidy_pipeline_template(pipeline: codepipeline.Pipeline) -> None:
    stack = cdk.Stack.of(pipeline)
    cfn_pipeline = cast(codepipeline.CfnPipeline, pipeline.node.default_child)
    stages = stack.resolve(cfn_pipeline.stages)
    for stage_index, stage in enumerate(stages):
        for action_index, action in enumerate(stage["actions"]):
            role_arn = action.get("configuration", {}).get("RoleArn")
            if role_arn is not None and as_sub(role_arn) is not role_arn:
                cfn_pipeline.add_property_override(
                    f"Stages.{stage_index}.Actions.{action_index}.Configuration.RoleArn",
                    as_sub(role_arn),
                )
    depend_on_role_policy_only(pipeline, pipeline.role)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def with_listing_narrowed(
    statements: list[dict[str, Any]], bucket_arn: str
) -> list[dict[str, Any]]:
    """``statements`` with ``s3:ListBucket`` on ``*`` moved to a statement naming
    ``bucket_arn``."""
    narrowed = []
    for statement in statements:
        actions = _as_list(statement["Action"])
        if statement.get("Resource") != "*" or "s3:ListBucket" not in actions:
            narrowed.append(statement)
            continue
        others = [action for action in actions if action != "s3:ListBucket"]
        if others:
            narrowed.append({**statement, "Action": others})
        narrowed.append({**statement, "Action": "s3:ListBucket", "Resource": bucket_arn})
    return narrowed


def narrow_self_mutation_listing(pipeline: pipelines.CodePipeline) -> None:
    """``s3:ListBucket`` of the self-mutation role limited to the CDK bootstrap buckets.

    Call it last: the role's statements are rendered now, and any added later would be lost.
    """
    stack = cdk.Stack.of(pipeline)
    project = pipeline.node.find_child("UpdatePipeline").node.find_child("SelfMutation")
    policy = cast(iam.Policy, project.node.find_child("Role").node.find_child("DefaultPolicy"))
    bootstrap_buckets = f"arn:{stack.partition}:s3:::cdk-*-assets-{stack.account}-{stack.region}"
    statements = stack.resolve(policy.document)["Statement"]
    cast(iam.CfnPolicy, policy.node.default_child).add_property_override(
        "PolicyDocument.Statement", with_listing_narrowed(statements, bootstrap_buckets)
    )
