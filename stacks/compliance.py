"""cdk-nag (AwsSolutionsChecks) over every stack of the app, nested stages included.

cdk-nag 3 is a CDK validation plugin, not an Aspect: a plugin registered on the app checks
every stack of the app's cloud assembly recursively, the nested assemblies of the stages
(dev, staging, prod, sandbox) included, while a plugin on a stage would check that stage's
stacks only. So it is registered once, on the app. Unacknowledged findings fail the synth;
acknowledgements live next to the constructs they concern, each naming the rule (and the
finding, e.g. ``AwsSolutions-IAM5[Resource::*]``) and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def apply_compliance_checks(app: cdk.App) -> None:
    """Register AwsSolutionsChecks on the app (it covers every nested stage's stacks)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(construct: IConstruct, rules: dict[str, str]) -> None:
    """Acknowledge cdk-nag findings on ``construct`` (and below): rule id -> reason."""
    cdk.Validations.of(construct).acknowledge(
        *(cdk.Acknowledgment(id=rule, reason=reason) for rule, reason in rules.items())
    )


@dataclass(frozen=True)
class ExpectedWildcard:
    """An IAM5 finding (regex over the finding id) a library construct is known to produce;
    ``actions`` limits it to statements with only these actions (``None``: any)."""

    finding: str
    reason: str
    actions: frozenset[str] | None = None


def rendered_resource(stack: cdk.Stack, value: object) -> str:
    """A resource the way cdk-nag names it in a finding (``<Logical.Arn>/prefix/*``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(rendered_resource(stack, part) for part in parts)
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    raise TypeError(f"cannot render {value!r} as a cdk-nag resource")


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def wildcard_findings(policy: iam.Policy) -> Iterator[tuple[str, frozenset[str]]]:
    """Each AwsSolutions-IAM5 finding id of ``policy`` with the actions of its statement."""
    stack = cdk.Stack.of(policy)
    document = stack.resolve(policy.document.to_json()) or {"Statement": []}
    for statement in document["Statement"]:
        actions = frozenset(str(action) for action in _as_list(statement.get("Action", [])))
        for action in actions:
            if "*" in action:
                yield f"AwsSolutions-IAM5[Action::{action}]", actions
        for resource in _as_list(statement.get("Resource", [])):
            rendered = rendered_resource(stack, resource)
            if "*" in rendered:
                yield f"AwsSolutions-IAM5[Resource::{rendered}]", actions


def acknowledge_expected_wildcards(scope: IConstruct, expected: Sequence[ExpectedWildcard]) -> None:
    """Acknowledge, on each IAM policy under ``scope``, the wildcard findings ``expected``
    describes. A finding id is acknowledged for the whole policy, so it is only when every
    statement that raises it is expected; any other wildcard fails the synth. Stages nested
    in ``scope`` (a pipeline's deployments) are left to their own acknowledgements."""
    stage = cdk.Stage.of(scope)
    for construct in scope.node.find_all():
        if not isinstance(construct, iam.Policy) or cdk.Stage.of(construct) is not stage:
            continue
        reasons: dict[str, str | None] = {}
        for finding, actions in wildcard_findings(construct):
            inner = finding[len("AwsSolutions-IAM5[") : -1]
            reason = next(
                (
                    known.reason
                    for known in expected
                    if re.fullmatch(known.finding, inner)
                    and (known.actions is None or actions <= known.actions)
                ),
                None,
            )
            if reasons.get(finding, "") is not None:
                reasons[finding] = reason
        acknowledge(construct, {finding: reason for finding, reason in reasons.items() if reason})
