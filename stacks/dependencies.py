"""One explicit dependency where CDK writes two: a resource that runs as a role depends on the
role's policy only.

CDK makes such a resource (a Lambda function, a state machine, a pipeline) depend on its role
and the role's default policy; it already reads the role's ARN, so cfn-lint reports the role
dependency as W3005 (redundant). The policy dependency is kept: no ``GetAtt`` orders it.
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def depend_on_role_policy_only(resource: IConstruct, role: iam.IRole) -> None:
    policy = cast(cdk.CfnElement, role.node.find_child("DefaultPolicy").node.default_child)
    cast(cdk.CfnResource, resource.node.default_child).add_override(
        "DependsOn", [cdk.Stack.of(resource).get_logical_id(policy)]
    )
