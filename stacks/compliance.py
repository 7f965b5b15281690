"""cdk-nag (AwsSolutionsChecks) over every stack of the app, nested stages included.

cdk-nag 3 is a CDK validation plugin, not an Aspect: a plugin registered on the app checks
every stack of the app's cloud assembly recursively, the nested assemblies of the stages
(dev, staging, prod, sandbox) included, while a plugin on a stage would check that stage's
stacks only. So it is registered once, on the app. Unacknowledged findings fail the synth;
acknowledgements live next to the constructs they concern, each naming the rule (and the
finding, e.g. ``AwsSolutions-IAM5[Resource::*]``) and the reason.
"""

from __future__ import annotations

import aws_cdk as cdk
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
