"""A data set's job graph (``glue_scripts/<data set>/job_graph.yaml``).

The Step Functions workflow, the local runner, the rehearsal and the diagrams are all built from
:func:`load_job_graph`, so which job reads and writes which table, and in which order the jobs
run, is written once. Job code never names another job or a table its declaration does not give
it: the framework hands each run its inputs and outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dataops.contracts import Contract
from dataops.declarations import DeclarationError, load_yaml, validate

GLUE_SCRIPTS_DIR = Path("glue_scripts")
JOB_GRAPH_FILE = "job_graph.yaml"
RAW_SOURCE = "raw"
# Every table a job writes is partitioned by this date column: the incremental protocol tracks
# and commits partitions of it.
PARTITION_KEY = "dt"
# Columns the framework adds to every row a raw-objects job stages or quarantines.
LINEAGE_COLUMNS = ("source_file", "line_number", "ingested_at", "ingest_batch_id")
# The columns of every quarantine table, in this order (the framework writes whole objects too).
QUARANTINE_COLUMNS = (
    "source_file",
    "line_number",
    "raw_line",
    "reason",
    "detail",
    "object_bytes",
    "ingested_at",
    "ingest_batch_id",
    "dt",
)

Incremental = Literal["raw_objects", "append", "recompute_partitions"]


class JobSpec(BaseModel):
    """One job: a Python parser of raw objects or a SQL model, its tables and its increment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    description: str = Field(min_length=1)
    python: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    sql: str | None = Field(default=None, pattern=r"^[a-z0-9_/]+\.sql$")
    reads: list[str] = Field(min_length=1)
    writes: list[str] = Field(min_length=1)
    quarantine: str | None = None
    incremental: Incremental

    @model_validator(mode="after")
    def _kind(self) -> JobSpec:
        if (self.python is None) == (self.sql is None):
            raise ValueError(
                "a job is either python: <module> or sql: <file>; fix: give exactly one of them"
            )
        reads_raw = RAW_SOURCE in self.reads
        if reads_raw != (self.incremental == "raw_objects"):
            raise ValueError(
                "incremental: raw_objects is for the job that reads raw (and only it); fix: "
                "read [raw] with raw_objects, or tables with append or recompute_partitions"
            )
        if reads_raw and (self.reads != [RAW_SOURCE] or self.python is None):
            raise ValueError(
                "a job reading raw reads nothing else and is a python parser; fix: reads: [raw] "
                "and python: <data set>.<module>"
            )
        if reads_raw != (self.quarantine is not None):
            raise ValueError(
                "a job reading raw names its quarantine table (and only such a job); fix: add or "
                "remove quarantine: <table>"
            )
        if self.incremental == "append" and len(self.reads) != 1:
            raise ValueError(
                "an append job reads exactly one table (it sees only its input's new rows, so "
                "a join would miss older rows); fix: read one table, or use recompute_partitions"
            )
        if self.sql is not None and len(self.writes) != 1:
            raise ValueError("a SQL model writes exactly one table; fix: writes: [<table>]")
        return self

    @property
    def outputs(self) -> list[str]:
        """Every table the job writes, its quarantine last."""
        return [*self.writes, *([self.quarantine] if self.quarantine else [])]

    @property
    def input_tables(self) -> list[str]:
        return [name for name in self.reads if name != RAW_SOURCE]


class _JobGraphFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: list[JobSpec] = Field(min_length=1)


class JobGraph:
    """Jobs in the order they must run; every name checked against its files and contracts."""

    def __init__(self, jobs: list[JobSpec]) -> None:
        self.jobs = jobs

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def job(self, name: str) -> JobSpec:
        return next(job for job in self.jobs if job.name == name)

    def producer_of(self, table: str) -> JobSpec:
        return next(job for job in self.jobs if table in job.outputs)

    def consumers_of(self, job: JobSpec) -> list[JobSpec]:
        """The jobs reading any table ``job`` writes, in run order."""
        return [other for other in self.jobs if set(other.reads) & set(job.outputs)]

    @property
    def tables(self) -> list[str]:
        return [table for job in self.jobs for table in job.outputs]

    @property
    def raw_jobs(self) -> list[JobSpec]:
        return [job for job in self.jobs if job.incremental == "raw_objects"]


def _ordered(jobs: list[JobSpec], path: Path) -> list[JobSpec]:
    """Topological order, keeping the declared order among independent jobs."""
    producers = {table: job.name for job in jobs for table in job.outputs}
    done: set[str] = set()
    ordered: list[JobSpec] = []
    pending = list(jobs)
    while pending:
        ready = [
            job
            for job in pending
            if all(producers.get(table, RAW_SOURCE) in done | {RAW_SOURCE, job.name}
                   for table in job.reads)
        ]  # fmt: skip
        if not ready:
            cycle = ", ".join(job.name for job in pending)
            raise DeclarationError(
                [f"{path}: jobs: cycle between {cycle}; fix: make the reads/writes acyclic"]
            )
        ordered.append(ready[0])
        done.add(ready[0].name)
        pending.remove(ready[0])
    return ordered


def _module_path(dataset_dir: Path, module: str) -> Path:
    return dataset_dir.parent.joinpath(*module.split(".")).with_suffix(".py")


def _job_errors(
    job: JobSpec, where: str, dataset_dir: Path, contracts: Mapping[str, Contract]
) -> list[str]:
    """What a job names that does not exist, or a table its framework cannot keep."""
    errors = []
    dataset = dataset_dir.name
    if job.python is not None:
        if not job.python.startswith(f"{dataset}."):
            errors.append(
                f"{where}.python: {job.python} is outside the data set; fix: use a module of the "
                f"'{dataset}' package, e.g. {dataset}.{job.python.rsplit('.', 1)[-1]}"
            )
        elif not _module_path(dataset_dir, job.python).is_file():
            errors.append(
                f"{where}.python: {_module_path(dataset_dir, job.python)} not found; fix: add the "
                "module or correct the name"
            )
    if job.sql is not None and not (dataset_dir / job.sql).is_file():
        errors.append(f"{where}.sql: {dataset_dir / job.sql} not found; fix: add the SQL model")
    for table in [*job.input_tables, *job.outputs]:
        if table not in contracts:
            errors.append(
                f"{where}: table '{table}' has no contract; fix: add "
                f"contracts/{dataset}/{table}.yaml"
            )
    for table in job.outputs:
        contract = contracts.get(table)
        if contract is not None and contract.partition_keys != [PARTITION_KEY]:
            errors.append(
                f"{where}.writes: '{table}' must be partitioned by {PARTITION_KEY} alone "
                f"(runs commit whole {PARTITION_KEY} partitions); fix: set partition_keys: "
                f"[{PARTITION_KEY}] in its contract"
            )
    return errors + _framework_column_errors(job, where, contracts)


def _framework_column_errors(
    job: JobSpec, where: str, contracts: Mapping[str, Contract]
) -> list[str]:
    """A raw job's tables carry the lineage the framework writes; a quarantine its columns."""
    errors = []
    if job.quarantine in contracts:
        columns = tuple(column.name for column in contracts[job.quarantine].columns)
        if columns != QUARANTINE_COLUMNS:
            errors.append(
                f"{where}.quarantine: '{job.quarantine}' must have exactly the columns "
                f"{', '.join(QUARANTINE_COLUMNS)} (in this order); fix: correct its contract"
            )
    if job.incremental == "raw_objects":
        for table in job.writes:
            if table not in contracts:
                continue
            names = {column.name for column in contracts[table].columns}
            missing = [column for column in LINEAGE_COLUMNS if column not in names]
            if missing:
                errors.append(
                    f"{where}.writes: '{table}' lacks the lineage column(s) {', '.join(missing)} "
                    "every staged row carries; fix: add them to its contract"
                )
    return errors


def load_job_graph(dataset_dir: Path, contracts: Mapping[str, Contract]) -> JobGraph:
    """Load ``<dataset_dir>/job_graph.yaml``, check it against the data set's files and
    ``contracts``, and order the jobs."""
    path = dataset_dir / JOB_GRAPH_FILE
    declared: _JobGraphFile = validate(_JobGraphFile, load_yaml(path), path)
    errors: list[str] = []
    writers: dict[str, str] = {}
    for index, job in enumerate(declared.jobs):
        where = f"{path}: jobs[{index}]"
        errors.extend(_job_errors(job, where, dataset_dir, contracts))
        for table in job.outputs:
            if table in writers:
                errors.append(
                    f"{where}.writes: '{table}' is also written by job '{writers[table]}'; "
                    "fix: let one job own each table"
                )
            writers[table] = job.name
    names = [job.name for job in declared.jobs]
    if len(set(names)) != len(names):
        errors.append(f"{path}: jobs: duplicate job names; fix: give every job a unique name")
    unwritten = sorted(set(contracts) - set(writers))
    if unwritten:
        errors.append(
            f"{path}: no job writes {', '.join(unwritten)}; fix: add the job that writes it or "
            f"remove its contract"
        )
    if errors:
        raise DeclarationError(errors)
    return JobGraph(_ordered(declared.jobs, path))
