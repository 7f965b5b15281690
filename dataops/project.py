"""All declarations of a project checkout, loaded together and cross-checked."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from dataops.config import DEFAULT_CONFIG_PATH, ProjectConfig, load_config
from dataops.contracts import Contract
from dataops.datasets import DataSet, load_datasets
from dataops.declarations import DeclarationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    """The configuration and the data sets (contracts, job graph, data tests) of one checkout."""

    root: Path
    config: ProjectConfig
    datasets: dict[str, DataSet]

    @property
    def contracts(self) -> dict[str, Contract]:
        """Every table of every data set by name (names are unique across data sets)."""
        return {
            name: contract
            for dataset in self.datasets.values()
            for name, contract in dataset.contracts.items()
        }

    def select(self, names: list[str] | None, option: str = "--dataset") -> list[DataSet]:
        """The data sets called ``names`` (all when None); an unknown name is a usage error."""
        unknown = sorted(set(names or []) - set(self.datasets))
        if unknown:
            raise DeclarationError(
                [
                    f"{option}: no data set '{unknown[0]}'; fix: use one of "
                    f"{', '.join(self.datasets)}"
                ]
            )
        return [ds for name, ds in self.datasets.items() if names is None or name in names]

    def dataset_of(self, table: str) -> DataSet:
        return next(dataset for dataset in self.datasets.values() if table in dataset.contracts)


def add_datasets_argument(parser: argparse.ArgumentParser) -> None:
    """``--dataset NAME`` (repeatable): the data sets a command works on; every one by default.
    :meth:`Project.select` turns it into data sets, or a one-line usage error."""
    parser.add_argument(
        "--dataset",
        action="append",
        default=None,
        help="only this data set (repeatable; default: every data set)",
    )


def load_project(root: Path = PROJECT_ROOT, config_path: Path | str | None = None) -> Project:
    """Load every declaration under ``root``; all errors of all files are raised together."""
    errors: list[str] = []
    config = datasets = None
    try:
        config = load_config(root / (config_path or DEFAULT_CONFIG_PATH))
    except DeclarationError as exc:
        errors.extend(exc.lines)
    try:
        datasets = load_datasets(root)
    except DeclarationError as exc:
        errors.extend(exc.lines)
    if config is not None and datasets is not None:
        errors.extend(
            config.dataset_setting_errors(datasets, root / (config_path or DEFAULT_CONFIG_PATH))
        )
    if errors or config is None or datasets is None:
        raise DeclarationError(errors)
    return Project(root=root, config=config, datasets=datasets)
