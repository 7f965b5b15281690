"""cdk-nag AwsSolutionsChecks over the whole app: no unacknowledged finding in any stack, and
every acknowledgement names a rule and gives a reason."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.compliance import apply_compliance_checks

pytestmark = pytest.mark.xdist_group("synth")

NAG_PLUGIN = "AwsSolutions"
MIN_REASON_LENGTH = 30


def _nag_errors(report: dict) -> list[str]:
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report.get("pluginReports", [])
        if plugin["pluginName"].startswith(NAG_PLUGIN)
        for violation in plugin["violations"]
        if violation["severity"] == "error"
        for construct in violation.get("violatingConstructs", [])
    ]


def test_no_unacknowledged_nag_error_in_any_stack_of_the_app(assembly_dir: Path):
    report_path = assembly_dir / "validation-report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    assert _nag_errors(report) == []


def test_every_acknowledgement_names_an_aws_solutions_rule_and_a_reason(built_app):
    acknowledged = {
        f"{construct.node.path}: {rule}": reason
        for construct in built_app.app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    }
    assert acknowledged
    for where, reason in acknowledged.items():
        assert "AwsSolutions-" in where
        assert len(reason) >= MIN_REASON_LENGTH, where


@pytest.fixture(scope="module")
def noncompliant_stage_error(tmp_path_factory) -> str:
    """Synth an app whose only finding sits in a stack nested in a stage."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("nag")))
    stage = cdk.Stage(app, "Nested")
    stack = cdk.Stack(stage, "Plain")
    s3.Bucket(stack, "Unlogged")
    apply_compliance_checks(app)
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    return str(raised.value)


def test_checks_reach_stacks_inside_nested_stages(noncompliant_stage_error):
    assert "AwsSolutions-S1" in noncompliant_stage_error
    assert "AwsSolutions-S10" in noncompliant_stage_error
