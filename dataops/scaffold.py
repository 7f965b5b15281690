"""``new-dataset NAME``: a new data set that passes every check as generated.

It writes a JSON Lines parser, its staging and quarantine contracts, a SQL model with its mart
contract, two data tests and the data set's declaration, from ``dataops/templates/dataset/``;
a data team then edits them to their source. Nothing under ``stacks/`` changes: the CDK app
builds the new data set's workflow from these files.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from string import Template

from dataops.cli import EXIT_OK
from dataops.datasets import CONTRACTS_DIR, DATA_TESTS_DIR, FRAMEWORK_PACKAGE
from dataops.declarations import DeclarationError
from dataops.job_graph import GLUE_SCRIPTS_DIR
from dataops.project import PROJECT_ROOT, load_project

TEMPLATES = Path(__file__).parent / "templates" / "dataset"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# Template file -> where it goes, both relative (targets may use $name).
FILES = {
    "glue_scripts/__init__.py": f"{GLUE_SCRIPTS_DIR}/$name/__init__.py",
    "glue_scripts/dataset.yaml": f"{GLUE_SCRIPTS_DIR}/$name/dataset.yaml",
    "glue_scripts/job_graph.yaml": f"{GLUE_SCRIPTS_DIR}/$name/job_graph.yaml",
    "glue_scripts/staging.py": f"{GLUE_SCRIPTS_DIR}/$name/staging.py",
    "glue_scripts/models/daily_counts.sql": (
        f"{GLUE_SCRIPTS_DIR}/$name/models/${{name}}_daily_counts.sql"
    ),
    "contracts/staging_events.yaml": f"{CONTRACTS_DIR}/$name/staging_${{name}}_events.yaml",
    "contracts/quarantine.yaml": f"{CONTRACTS_DIR}/$name/quarantine_${{name}}.yaml",
    "contracts/daily_counts.yaml": f"{CONTRACTS_DIR}/$name/${{name}}_daily_counts.yaml",
    "data_tests/daily_counts_grain_unique.sql": (
        f"{DATA_TESTS_DIR}/$name/${{name}}_daily_counts_grain_unique.sql"
    ),
    "data_tests/daily_counts_match_staging.sql": (
        f"{DATA_TESTS_DIR}/$name/${{name}}_daily_counts_match_staging.sql"
    ),
}


def scaffold(root: Path, name: str) -> list[Path]:
    """Write the data set ``name`` under ``root``; the files written, in order."""
    if not _NAME.match(name) or name == FRAMEWORK_PACKAGE:
        raise DeclarationError(
            [
                f"NAME: '{name}' cannot name a data set; fix: use 2-31 lowercase letters, digits "
                f"or '_', starting with a letter (not {FRAMEWORK_PACKAGE})"
            ]
        )
    if (root / GLUE_SCRIPTS_DIR / name).exists():
        raise DeclarationError(
            [f"NAME: {root / GLUE_SCRIPTS_DIR / name} exists; fix: choose another name"]
        )
    written = []
    for template, target in FILES.items():
        path = root / Template(target).substitute(name=name)
        text = Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the data set's name (lowercase letters, digits, '_')")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    written = scaffold(args.root, args.name)
    load_project(args.root)
    for path in written:
        print(f"created {path.relative_to(args.root)}")
    print(
        f"next: describe the source in glue_scripts/{args.name}/dataset.yaml, adapt the parser "
        f"and the contracts, then run make test (the data set deploys with the next push)"
    )
    return EXIT_OK
