"""Drops ``DependsOn`` entries CDK adds next to a ``GetAtt`` of the same resource.

cfn-lint reports each as W3005 (redundant dependency); the ``GetAtt`` already orders the
resources, so the templates stay warning-free without ignoring the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn

from stacks.dependencies import depend_on_role_policy_only

AUTO_DELETE_PROVIDER_ID = "Custom::S3AutoDeleteObjectsCustomResourceProvider"


def drop_redundant_dependencies(
    stack: cdk.Stack, state_machines: Iterable[sfn.StateMachine]
) -> None:
    """Each state machine keeps its dependency on its role's policy (which no ``GetAtt``
    references); the auto-delete handler, present where buckets are destroyed with the stack,
    keeps none (it reads its role's ARN)."""
    for state_machine in state_machines:
        depend_on_role_policy_only(state_machine, state_machine.role)
    provider = stack.node.try_find_child(AUTO_DELETE_PROVIDER_ID)
    if provider is not None:
        cast(cdk.CfnResource, provider.node.find_child("Handler")).add_deletion_override(
            "DependsOn"
        )
