"""Drops ``DependsOn`` entries CDK adds next to a ``GetAtt`` of the same resource.

cfn-lint reports each as W3005 (redundant dependency); the ``GetAtt`` already orders the
resources, so the templates stay warning-free without ignoring the rule.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn

AUTO_DELETE_PROVIDER_ID = "Custom::S3AutoDeleteObjectsCustomResourceProvider"


def drop_redundant_dependencies(stack: cdk.Stack, state_machine: sfn.StateMachine) -> None:
    """The state machine keeps its dependency on the role's policy (not referenced by any
    ``GetAtt``); the auto-delete handler none (it reads its role's ARN)."""
    machine = state_machine.node.default_child
    role = state_machine.role
    if isinstance(machine, cdk.CfnResource) and isinstance(role, iam.Role):
        policy = role.node.try_find_child("DefaultPolicy")
        kept = (
            [stack.get_logical_id(policy.node.default_child)]
            if policy is not None and isinstance(policy.node.default_child, cdk.CfnElement)
            else []
        )
        machine.add_override("DependsOn", kept)
    provider = stack.node.try_find_child(AUTO_DELETE_PROVIDER_ID)
    if provider is not None:
        handler = provider.node.try_find_child("Handler")
        if isinstance(handler, cdk.CfnResource):
            handler.add_deletion_override("DependsOn")
