"""cfn-lint over every template of a cloud assembly, nested stage assemblies included.

``python -m dataops.cfn_lint_templates cdk.out`` lints each ``*.template.json`` under the
directory in the region its stack deploys to (from the assemblies' ``manifest.json``), prints
every finding, and exits 1 if there is any error or warning: templates must be clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfnlint.rules import Rules

DEFAULT_REGION = "us-east-1"
STACK_ARTIFACT = "aws:cloudformation:stack"


@dataclass(frozen=True)
class Finding:
    template: Path
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.rule} {self.message}"


@dataclass(frozen=True)
class StackEnvironment:
    """Where a template's stack deploys, as its manifest says (``unknown-...`` when
    environment-agnostic)."""

    stack_name: str
    account: str
    region: str


def stack_environments(assembly_dir: Path) -> dict[Path, StackEnvironment]:
    """Template path -> its stack's environment, from every manifest of the assembly and its
    nested ones."""
    environments: dict[Path, StackEnvironment] = {}
    for manifest in assembly_dir.rglob("manifest.json"):
        artifacts = json.loads(manifest.read_text(encoding="utf-8")).get("artifacts", {})
        for artifact_id, artifact in artifacts.items():
            properties = artifact.get("properties", {})
            template = properties.get("templateFile")
            if artifact.get("type") != STACK_ARTIFACT or not template:
                continue
            account, _, region = (
                artifact.get("environment", "").removeprefix("aws://").partition("/")
            )
            environments[(manifest.parent / template).resolve()] = StackEnvironment(
                properties.get("stackName", artifact_id), account, region
            )
    return environments


def _stack_regions(assembly_dir: Path) -> dict[Path, str]:
    """Template path -> region, for the stacks whose region is known."""
    return {
        template: environment.region
        for template, environment in stack_environments(assembly_dir).items()
        if environment.region and not environment.region.startswith("unknown")
    }


def templates(assembly_dir: Path, *, nested: bool = True) -> list[Path]:
    """The templates of the assembly and, with ``nested``, of the stage assemblies in it."""
    return sorted(
        assembly_dir.rglob("*.template.json") if nested else assembly_dir.glob("*.template.json")
    )


@cache
def _rules() -> Rules:
    """cfn-lint's rules, loaded once per process as its command line does for all the templates
    it is given: loading them reads and decodes their schemas each time."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn([])).rules


def lint_templates(assembly_dir: Path, *, nested: bool = True) -> Iterator[Finding]:
    """Every error and warning cfn-lint reports, template by template."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import run_template_by_file_path

    regions = _stack_regions(assembly_dir)
    for template in templates(assembly_dir, nested=nested):
        region = regions.get(template.resolve(), DEFAULT_REGION)
        config = ConfigMixIn(["--template", str(template)], regions=[region])
        matches = run_template_by_file_path(
            str(template), config, _rules(), ignore_bad_template=False
        )
        for match in matches:
            rule = match.rule.id
            if rule[:1] in {"E", "W"}:
                yield Finding(template, rule, match.linenumber, match.message)


def assembly_templates(description: str, argv: list[str] | None) -> tuple[Path, list[Path]] | None:
    """The assembly a linter's command line names and its templates; None, said in one line,
    when it holds none."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("assembly_dir", type=Path, help="the cloud assembly, e.g. cdk.out")
    assembly_dir = parser.parse_args(argv).assembly_dir
    found = templates(assembly_dir)
    if not found:
        print(
            f"error: {assembly_dir}: no *.template.json; fix: run make synth first",
            file=sys.stderr,
        )
        return None
    return assembly_dir, found


def main(argv: list[str] | None = None) -> int:
    named = assembly_templates(__doc__.splitlines()[0], argv)
    if named is None:
        return 2
    assembly_dir, found = named
    findings = list(lint_templates(assembly_dir))
    for finding in findings:
        print(finding)
    print(f"cfn-lint: {len(found)} templates, {len(findings)} errors and warnings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
