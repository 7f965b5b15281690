"""cdk-nag over every stack of the app (placeholder until the checks land)."""

from __future__ import annotations

import aws_cdk as cdk


def apply_compliance_checks(app: cdk.App) -> None:
    """Apply AwsSolutionsChecks to the app and to every stage nested in it."""
    del app
