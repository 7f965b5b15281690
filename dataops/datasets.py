"""Data sets, the unit a data team declares: a raw source, its contracts, jobs and data tests.

A data set ``<name>`` is ``glue_scripts/<name>/`` (a Python package with ``dataset.yaml``,
``job_graph.yaml``, its parser and its SQL models), ``contracts/<name>/`` and
``data_tests/<name>/``. The CDK app builds one data workflow per data set from these, and the
local runner, the rehearsal, the diagrams and the post-deploy checks read the same files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dataops.contracts import Contract, load_contracts
from dataops.declarations import DeclarationError, load_yaml, validate
from dataops.job_graph import GLUE_SCRIPTS_DIR, JobGraph, load_job_graph

DATASET_FILE = "dataset.yaml"
CONTRACTS_DIR = Path("contracts")
DATA_TESTS_DIR = Path("data_tests")
# The job framework's package beside the data sets under glue_scripts/: not a data set.
FRAMEWORK_PACKAGE = "jobkit"
# Placeholders a raw layout may use, in this order: who delivered, then the delivery date.
LAYOUT_FIELDS = ("account", "region", "yyyy", "MM", "dd")
_LAYOUT = re.compile(
    r"^([A-Za-z0-9_.-]+/)*\{account\}/([A-Za-z0-9_.-]+/)+\{region\}/\{yyyy\}/\{MM\}/\{dd\}/$"
)
_PREFIX = re.compile(r"^([A-Za-z0-9_.-]+/)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RawSource(_Strict):
    """Where the data set's raw objects land in the raw bucket, and what they look like."""

    prefix: str = "AWSLogs/"
    layout: str
    suffixes: list[str] = Field(min_length=1)
    lateness_days: int = Field(default=2, ge=0, le=30)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(
                f"'{value}' is not a key prefix; fix: write folder names ending in '/', e.g. "
                "AWSLogs/"
            )
        return value

    @field_validator("layout")
    @classmethod
    def _layout(cls, value: str) -> str:
        if not _LAYOUT.match(value):
            raise ValueError(
                f"'{value}' is not a delivery layout; fix: write it as AWS delivers, e.g. "
                "{account}/vpcflowlogs/{region}/{yyyy}/{MM}/{dd}/"
            )
        return value

    @field_validator("suffixes")
    @classmethod
    def _suffixes(cls, value: list[str]) -> list[str]:
        bad = [suffix for suffix in value if not re.match(r"^\.[a-z0-9.]+$", suffix)]
        if bad:
            raise ValueError(
                f"{', '.join(bad)}: not a file name suffix; fix: write e.g. .log.gz or .json.gz"
            )
        return value

    @property
    def service_folder(self) -> str:
        """The fixed folder between account and region (``vpcflowlogs``, ``CloudTrail``)."""
        return self.layout.split("{account}/", 1)[1].split("/{region}", 1)[0]


class Delivery(_Strict):
    """The AWS service that writes the raw objects, for the bucket and key policies.

    ``source_arn`` is an ARN pattern with ``{partition}``, ``{account}`` (each account that may
    deliver) and optionally ``{name}`` (each configured source name, e.g. a trail)."""

    service: str = Field(pattern=r"^[a-z0-9.-]+\.amazonaws\.com$")
    source_arn: str = Field(pattern=r"^arn:\{partition\}:[a-z0-9-]+:[^:]*:\{account\}:.+$")

    @property
    def names_sources(self) -> bool:
        return "{name}" in self.source_arn


class CrawlerSpec(_Strict):
    """A crawler of the raw landing zone; ``delimiter`` adds a CSV classifier with a header."""

    delimiter: str | None = Field(default=None, min_length=1, max_length=1)


class DataSetSpec(_Strict):
    """The whole of ``glue_scripts/<data set>/dataset.yaml``."""

    description: str = Field(min_length=1)
    raw: RawSource
    delivery: Delivery | None = None
    collector: Literal["vpc_flow_logs"] | None = None
    crawler: CrawlerSpec | None = None
    sample_data: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class DataSet:
    """One data set, loaded and cross-checked."""

    name: str
    root: Path
    spec: DataSetSpec
    contracts: dict[str, Contract]
    job_graph: JobGraph
    data_tests_dir: Path

    @property
    def staging_contract(self) -> Contract:
        """The table the raw job stages into (the first it writes)."""
        return self.contracts[self.job_graph.raw_jobs[0].writes[0]]


def dataset_dirs(root: Path) -> list[Path]:
    """Every ``glue_scripts/<name>/`` holding a ``dataset.yaml``, by name."""
    return sorted(path.parent for path in (root / GLUE_SCRIPTS_DIR).glob(f"*/{DATASET_FILE}"))


def load_dataset(root: Path, dataset_dir: Path) -> DataSet:
    """Load one data set; every problem of its files is raised together."""
    name = dataset_dir.name
    errors: list[str] = []
    spec = contracts = job_graph = None
    if not re.match(r"^[a-z][a-z0-9_]{1,30}$", name) or name == FRAMEWORK_PACKAGE:
        raise DeclarationError(
            [
                f"{dataset_dir}: '{name}' cannot name a data set; fix: rename the folder to "
                "2-31 lowercase letters, digits or '_' (not jobkit)"
            ]
        )
    if not (dataset_dir / "__init__.py").is_file():
        errors.append(
            f"{dataset_dir}: not a Python package; fix: add {dataset_dir / '__init__.py'}"
        )
    try:
        spec = validate(
            DataSetSpec, load_yaml(dataset_dir / DATASET_FILE), dataset_dir / DATASET_FILE
        )
    except DeclarationError as exc:
        errors.extend(exc.lines)
    try:
        contracts = load_contracts(root / CONTRACTS_DIR / name)
        job_graph = load_job_graph(dataset_dir, contracts)
    except DeclarationError as exc:
        errors.extend(exc.lines)
    if job_graph is not None and len(job_graph.raw_jobs) != 1:
        errors.append(
            f"{dataset_dir / 'job_graph.yaml'}: jobs: a data set has exactly one job reading raw; "
            "fix: keep one job with reads: [raw]"
        )
    if errors or spec is None or contracts is None or job_graph is None:
        raise DeclarationError(errors)
    return DataSet(
        name=name,
        root=dataset_dir,
        spec=spec,
        contracts=contracts,
        job_graph=job_graph,
        data_tests_dir=root / DATA_TESTS_DIR / name,
    )


def load_datasets(root: Path) -> dict[str, DataSet]:
    """Every data set of the checkout by name; table names are unique across data sets."""
    dirs = dataset_dirs(root)
    errors: list[str] = []
    if not dirs:
        errors.append(
            f"{root / GLUE_SCRIPTS_DIR}: no data sets; fix: add glue_scripts/<name>/dataset.yaml "
            "(python -m dataops new-dataset <name> scaffolds one)"
        )
    datasets: dict[str, DataSet] = {}
    for directory in dirs:
        try:
            datasets[directory.name] = load_dataset(root, directory)
        except DeclarationError as exc:
            errors.extend(exc.lines)
    owners: dict[str, str] = {}
    for dataset in datasets.values():
        for table in dataset.contracts:
            if table in owners:
                errors.append(
                    f"{root / CONTRACTS_DIR / dataset.name / table}.yaml: table '{table}' is also "
                    f"declared by data set '{owners[table]}'; fix: give every table a unique name"
                )
            owners[table] = dataset.name
    known = {path.name for path in dirs}
    for folder in (CONTRACTS_DIR, DATA_TESTS_DIR):
        for path in sorted((root / folder).iterdir()) if (root / folder).is_dir() else []:
            if path.is_dir() and path.name not in known:
                errors.append(
                    f"{path}: no data set '{path.name}' (no glue_scripts/{path.name}/"
                    f"{DATASET_FILE}); fix: add the data set or move the files into one"
                )
            elif path.is_file():
                errors.append(f"{path}: outside any data set; fix: move it to {folder}/<data set>/")
    if errors:
        raise DeclarationError(errors)
    return datasets
