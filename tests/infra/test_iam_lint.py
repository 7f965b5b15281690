"""The IAM lint over the app's synthesized assembly: every policy of every template is checked,
and every finding is one the acknowledgements accept by name."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dataops.cfn_lint_templates import stack_environments, templates
from dataops.cfn_placeholders import StackContext
from dataops.iam_findings import NEVER_ACKNOWLEDGED, Finding
from dataops.iam_lint import lint_assembly, main, unacknowledged
from dataops.iam_lint_acknowledgements import ACKNOWLEDGEMENTS
from dataops.iam_policies import PolicyKind, policy_documents

pytestmark = pytest.mark.xdist_group("synth")


@pytest.fixture(scope="module")
def findings(assembly_dir) -> list[Finding]:
    return list(lint_assembly(assembly_dir))


def test_every_template_has_identity_policies_linted_and_resource_policies_too(assembly_dir):
    environments = stack_environments(assembly_dir)
    kinds: Counter[tuple[str, PolicyKind]] = Counter()
    resource_types = set()
    for template in templates(assembly_dir):
        environment = environments[template.resolve()]
        context = StackContext(
            json.loads(template.read_text()),
            environment.account,
            environment.region,
            environment.stack_name,
        )
        for document in policy_documents(context):
            kinds[template.name, document.kind] += 1
            resource_types.add(document.resource_type)
    assert all(kinds[template.name, PolicyKind.IDENTITY] for template in templates(assembly_dir))
    assert {
        "AWS::S3::BucketPolicy",
        "AWS::KMS::Key",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Logs::ResourcePolicy",
    } <= resource_types


def test_the_app_has_no_unacknowledged_iam_findings(findings):
    assert [str(f) for f in findings if f.issue in NEVER_ACKNOWLEDGED] == []
    failing, _ = unacknowledged(findings, ACKNOWLEDGEMENTS)
    assert [str(finding) for finding in failing] == []


def test_every_acknowledgement_is_still_needed(findings):
    _, unused = unacknowledged(findings, ACKNOWLEDGEMENTS)
    assert unused == []


def test_the_command_passes_on_the_app(assembly_dir, capsys):
    assert main([str(assembly_dir)]) == 0
    assert " 0 unacknowledged" in capsys.readouterr().out


def test_the_github_variant_of_the_tooling_templates_is_clean_too(variant_app):
    """The GitHub source brings its own connection permissions into the pipeline's roles."""
    from stacks.delivery_pipeline_stack import TOOLING_STAGE

    assembly = Path(variant_app.app.outdir)
    tooling = assembly / f"assembly-DeliveryPipeline-{TOOLING_STAGE}"
    found = [*lint_assembly(assembly, nested=False), *lint_assembly(tooling)]
    failing, _ = unacknowledged(found, ACKNOWLEDGEMENTS)
    assert [str(finding) for finding in failing] == []
