"""cdk-nag AwsSolutionsChecks over the whole app: no unacknowledged finding in any stack, and
every acknowledgement names a rule and gives a reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from constructs import IConstruct

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


def _metadata(assembly_dir: Path) -> Iterator[tuple[str, dict]]:
    """(construct path, entry) for every metadata entry of every stack of the assembly and its
    nested ones: a stack's metadata holds that of every construct in it, stages included."""
    for manifest in assembly_dir.rglob("manifest.json"):
        for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
            sources = [artifact.get("metadata", {})]
            if "additionalMetadataFile" in artifact:
                sources.append(
                    json.loads((manifest.parent / artifact["additionalMetadataFile"]).read_text())
                )
            for metadata in sources:
                for path, entries in metadata.items():
                    for entry in entries:
                        yield path.removeprefix("/"), entry


def _outside_stacks(construct: IConstruct) -> Iterator[IConstruct]:
    """The construct and every descendant no stack holds (the app, a stage at its root)."""
    import aws_cdk as cdk

    yield construct
    for child in construct.node.children:
        if not cdk.Stack.is_stack(child):
            yield from _outside_stacks(child)


def test_every_acknowledgement_names_an_aws_solutions_rule_and_a_reason(built_app, assembly_dir):
    """Read from the assembly for the constructs in stacks: walking every construct of the app
    through jsii costs several calls per construct."""
    import aws_cdk as cdk

    acknowledged_key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledged = {
        f"{path}: {rule}": reason
        for path, entry in _metadata(assembly_dir)
        if entry["type"] == acknowledged_key
        for rule, reason in entry["data"].items()
    } | {
        f"{construct.node.path}: {rule}": reason
        for construct in _outside_stacks(built_app.app)
        for entry in construct.node.metadata
        if entry.type == acknowledged_key
        for rule, reason in entry.data.items()
    }
    assert acknowledged
    for where, reason in acknowledged.items():
        assert "AwsSolutions-" in where
        assert len(reason) >= MIN_REASON_LENGTH, where


@pytest.fixture(scope="module")
def noncompliant_stage_error(tmp_path_factory) -> str:
    """Synth an app whose only finding sits in a stack nested in a stage."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from stacks.compliance import apply_compliance_checks

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
