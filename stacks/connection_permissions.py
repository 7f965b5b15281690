"""Connection permissions spelled with the service prefix of the connection's own ARN.

CodeStar Connections was renamed CodeConnections: a connection's ARN names one of the two
services, and IAM applies a connection action to it only when the action's prefix is that
service. CDK Pipelines grants ``codestar-connections:UseConnection`` whatever the ARN says,
which grants nothing on a ``codeconnections`` connection (what the console creates since July
2024).
"""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

CONNECTION_SERVICES = ("codeconnections", "codestar-connections")


def connection_service(connection_arn: str) -> str:
    """``codeconnections`` or ``codestar-connections``: the service the ARN names."""
    service = connection_arn.split(":")[2]
    if service not in CONNECTION_SERVICES:
        raise ValueError(
            f"'{connection_arn}' is not a connection ARN; fix: use the connection's ARN "
            "(arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID)"
        )
    return service


def connection_actions(connection_arn: str, *actions: str) -> list[str]:
    """``actions`` (``UseConnection``...) with the prefix that applies to the connection."""
    service = connection_service(connection_arn)
    return [f"{service}:{action}" for action in actions]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def with_connection_actions_respelled(
    statements: list[dict[str, Any]], connection_arn: str
) -> list[dict[str, Any]]:
    """``statements`` with the connection actions of every statement on ``connection_arn``
    alone spelled with the ARN's service prefix."""
    respelled = []
    for statement in statements:
        if _as_list(statement.get("Resource")) != [connection_arn]:
            respelled.append(statement)
            continue
        actions: list[str] = []
        for action in _as_list(statement["Action"]):
            service, _, name = action.partition(":")
            spelled = (
                connection_actions(connection_arn, name)[0]
                if service in CONNECTION_SERVICES
                else action
            )
            if spelled not in actions:
                actions.append(spelled)
        respelled.append({**statement, "Action": actions[0] if len(actions) == 1 else actions})
    return respelled


def respell_connection_grants(stack: cdk.Stack, connection_arn: str) -> None:
    """Every policy of ``stack`` granting a connection action on ``connection_arn`` with the
    other service's prefix gets the ARN's prefix instead.

    Call it last: a policy's statements are rendered now, and any added later would be lost.
    """
    for construct in stack.node.find_all():
        # The stack's own policies only: the stages inside it hold stacks of their own.
        if not isinstance(construct, iam.Policy) or cdk.Stack.of(construct).node.path != (
            stack.node.path
        ):
            continue
        statements = (stack.resolve(construct.document) or {}).get("Statement", [])
        respelled = with_connection_actions_respelled(statements, connection_arn)
        if respelled != statements:
            cast(iam.CfnPolicy, construct.node.default_child).add_property_override(
                "PolicyDocument.Statement", respelled
            )
