"""Every IAM policy document of a CloudFormation template, intrinsics rendered.

Identity policies: ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` documents, and the
inline ``Policies`` of roles, users and groups. Resource policies: bucket, key, topic, queue and
CloudWatch Logs resource policies (the last is a JSON string, often an ``Fn::Join``). Role trust
policies are left out: their statements have no ``Resource``, which a permissions-policy linter
rightly calls malformed, and Lambda permissions are properties, not documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dataops.cfn_placeholders import StackContext, UnrenderableError, render


class PolicyKind(StrEnum):
    IDENTITY = "identity"
    RESOURCE = "resource"


@dataclass(frozen=True)
class PolicyDocument:
    """One policy document: the resource holding it, where in it, and the rendered document."""

    logical_id: str
    resource_type: str
    location: str
    kind: PolicyKind
    document: dict[str, Any]


IDENTITY_DOCUMENT = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
}
INLINE_POLICIES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}
RESOURCE_DOCUMENT = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
}


def _unpacked(logical_id: str, document: Any) -> dict[str, Any]:
    """A rendered document; a document given as JSON text (Logs) parsed."""
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError as exc:
        raise UnrenderableError(
            f"{logical_id}: its policy document is not JSON ({exc.msg}); "
            "fix: build it with iam.PolicyDocument"
        ) from exc


def policy_documents(context: StackContext) -> Iterator[PolicyDocument]:
    """Each identity and resource policy document of the template, in template order."""
    for logical_id, resource in context.template.get("Resources", {}).items():
        resource_type = resource["Type"]
        properties = resource.get("Properties", {})
        located: list[tuple[str, PolicyKind, Any]] = []
        if resource_type in IDENTITY_DOCUMENT:
            key = IDENTITY_DOCUMENT[resource_type]
            located.append((key, PolicyKind.IDENTITY, properties.get(key)))
        if resource_type in INLINE_POLICIES:
            for index, policy in enumerate(properties.get("Policies", [])):
                located.append(
                    (f"Policies[{index}]", PolicyKind.IDENTITY, policy.get("PolicyDocument"))
                )
        if resource_type in RESOURCE_DOCUMENT:
            key = RESOURCE_DOCUMENT[resource_type]
            located.append((key, PolicyKind.RESOURCE, properties.get(key)))
        for location, kind, document in located:
            if document is not None:
                yield PolicyDocument(
                    logical_id,
                    resource_type,
                    location,
                    kind,
                    _unpacked(logical_id, render(document, context)),
                )
