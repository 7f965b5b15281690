"""``flow-log-format``: the log format a flow log must deliver for a data set's staging job.

A VPC flow log writes the fields its log format names, in that order, and the staging job reads
every file by its header line. The format is derived from the data set's staging contract: each
column that is a flow-log field, in contract order. So a contract change changes what is
delivered: the CDK app writes this format into every flow log it creates, and this command
prints it for a flow log created by hand, e.g. in another account:
``aws ec2 create-flow-logs ... --log-format "$(python -m dataops flow-log-format)"``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from dataops.cli import EXIT_OK
from dataops.contracts import Contract
from dataops.datasets import CONTRACTS_DIR, DataSet, load_datasets
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT
from vpcflow.flowlog_format import KNOWN_FIELDS, REQUIRED_FIELDS, column_name

# The dataset.yaml collector whose raw objects are VPC flow logs.
FLOW_LOG_COLLECTOR = "vpc_flow_logs"


def flow_log_fields(contract: Contract) -> list[str]:
    """The flow-log fields among ``contract``'s columns, in contract order."""
    by_column = {column_name(field): field for field in KNOWN_FIELDS}
    return [by_column[column.name] for column in contract.columns if column.name in by_column]


def flow_log_format(dataset: DataSet) -> str:
    """``${field} ...`` for a flow log feeding ``dataset`` (its staging contract's fields)."""
    contract = dataset.staging_contract
    fields = flow_log_fields(contract)
    missing = [field for field in REQUIRED_FIELDS if field not in fields]
    if missing:
        raise DeclarationError(
            [
                f"{CONTRACTS_DIR / dataset.name / contract.name}.yaml: columns: no "
                f"{', '.join(column_name(field) for field in missing)}; the staging job "
                "quarantines a flow-log file without these fields, so a flow log must deliver "
                "them; fix: add the column(s)"
            ]
        )
    return " ".join(f"${{{field}}}" for field in fields)


def flow_log_datasets(datasets: Mapping[str, DataSet]) -> list[DataSet]:
    """The data sets whose raw objects are VPC flow logs, by name."""
    return [
        datasets[name]
        for name in sorted(datasets)
        if datasets[name].spec.collector == FLOW_LOG_COLLECTOR
    ]


def chosen_dataset(datasets: Mapping[str, DataSet], name: str | None) -> DataSet:
    """The named flow-log data set, or the only one when no name is given."""
    candidates = flow_log_datasets(datasets)
    names = ", ".join(dataset.name for dataset in candidates) or "none"
    if name is None and len(candidates) == 1:
        return candidates[0]
    if name is None:
        raise DeclarationError(
            [f"--dataset: flow-log data sets: {names}; fix: name one with --dataset <name>"]
        )
    found = next((dataset for dataset in candidates if dataset.name == name), None)
    if found is None:
        raise DeclarationError(
            [
                f"--dataset: '{name}' is not a flow-log data set (collector: "
                f"{FLOW_LOG_COLLECTOR}); fix: use one of: {names}"
            ]
        )
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default=None, help="flow-log data set (default: the only one)")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    print(flow_log_format(chosen_dataset(load_datasets(args.root), args.dataset)))
    return EXIT_OK
