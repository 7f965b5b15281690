"""The app every synth starts from: CDK's built-in CloudFormation validation is off, since the
pinned cfn-lint lints every template (tests/infra/test_cfn_lint.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import aws_cdk as cdk

pytestmark = pytest.mark.xdist_group("synth")

REPORT = "validation-report.json"


def _synth_empty_stack(app: cdk.App, outdir: Path) -> None:
    """An empty stack: the built-in validation reports it (no Resources section), cfn-lint too."""
    import aws_cdk as cdk

    cdk.Stack(app, "Empty")
    app.synth()
    assert (outdir / "Empty.template.json").is_file()


def test_a_default_app_runs_the_built_in_validation(tmp_path):
    import aws_cdk as cdk

    _synth_empty_stack(cdk.App(outdir=str(tmp_path)), tmp_path)
    assert (tmp_path / REPORT).is_file()


def test_new_app_leaves_validation_to_cfn_lint(tmp_path):
    from stacks.app_builder import new_app

    _synth_empty_stack(new_app(outdir=str(tmp_path)), tmp_path)
    assert not (tmp_path / REPORT).exists()
