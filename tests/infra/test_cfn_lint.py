"""cfn-lint over every synthesized template of the app: zero errors, zero warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataops.cfn_lint_templates import lint_templates, main, templates

pytestmark = pytest.mark.xdist_group("synth")


def test_every_template_of_the_app_is_found(assembly_dir, built_app):
    found = templates(assembly_dir)
    nested = [path for path in found if path.parent != assembly_dir]
    assert len(nested) >= len(built_app.stages)
    assert len(found) == len(set(found))


def test_templates_have_no_cfn_lint_errors_or_warnings(assembly_dir):
    assert [str(finding) for finding in lint_templates(assembly_dir)] == []


def test_the_github_variant_of_the_tooling_templates_is_clean_too(variant_app):
    """The source decides the pipeline's source action and the pull-request build's triggers."""
    from stacks.delivery_pipeline_stack import TOOLING_STAGE

    assembly = Path(variant_app.app.outdir)
    tooling = assembly / f"assembly-DeliveryPipeline-{TOOLING_STAGE}"
    findings = [*lint_templates(assembly, nested=False), *lint_templates(tooling)]
    assert len(templates(assembly, nested=False)) == 1
    assert len(templates(tooling)) == 1
    assert [str(finding) for finding in findings] == []


def test_command_fails_on_a_finding_and_on_an_empty_assembly(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    (tmp_path / "Broken.template.json").write_text(
        '{"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}'
    )
    assert main([str(tmp_path)]) == 1
    assert "Broken.template.json" in capsys.readouterr().out
