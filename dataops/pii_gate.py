"""``check-pii``: personal data reaches a mart only masked and tested, or approved in the open.

IP addresses count as personal data (as AWS Glue's PII detection treats them), so a column
whose name says it holds an address must be marked ``pii`` in every layer.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.contracts import Contract
from dataops.datasets import CONTRACTS_DIR
from dataops.project import PROJECT_ROOT, load_project

ADDRESS_COLUMN = re.compile(r"(ip_address|(^|_)ip($|_)|addr)")


def masking_test_name(table: str, column: str) -> str:
    """The data test that must prove a masked column is masked."""
    return f"pii_{table}_{column}.sql"


def pii_problems(contracts: dict[str, Contract], contracts_dir: Path, tests_dir: Path) -> list[str]:
    """One line a violation, naming the contract file, the column and the fix."""
    problems = []
    for name, contract in sorted(contracts.items()):
        where = contracts_dir / f"{name}.yaml"
        for column in contract.columns:
            if ADDRESS_COLUMN.search(column.name) and not column.pii:
                problems.append(
                    f"{where}: columns.{column.name}: holds network addresses but is not marked "
                    "pii; fix: set pii: true"
                )
            if not column.pii or contract.layer != "mart":
                continue
            if column.masking is not None:
                test = masking_test_name(name, column.name)
                if not (tests_dir / test).is_file():
                    problems.append(
                        f"{where}: columns.{column.name}: masked by {column.masking} but no data "
                        f"test proves it; fix: add {tests_dir / test} returning unmasked rows"
                    )
            elif column.exposure_approval is None:
                problems.append(
                    f"{where}: columns.{column.name}: pii column reaches a mart in clear; fix: "
                    "add masking: hash|truncate|drop (with its data test) or an "
                    "exposure_approval with reason and approver"
                )
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    problems = [
        problem
        for dataset in load_project(args.root).datasets.values()
        for problem in pii_problems(
            dataset.contracts, args.root / CONTRACTS_DIR / dataset.name, dataset.data_tests_dir
        )
    ]
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return EXIT_CHECK_FAILED
    print("pii gate: every pii column in a mart is masked and tested, or approved")
    return EXIT_OK
