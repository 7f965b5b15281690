"""The declared job graph of the data workflow (``glue_scripts/job_graph.yaml``).

Both the Step Functions state machine and the local runner are built from
:func:`load_job_graph`, so the order in which jobs run is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dataops.contracts import Contract
from dataops.declarations import DeclarationError, load_yaml, validate

GLUE_SCRIPTS_DIR = Path("glue_scripts")
DEFAULT_JOB_GRAPH_PATH = GLUE_SCRIPTS_DIR / "job_graph.yaml"
RAW_SOURCE = "raw"


class JobSpec(BaseModel):
    """One Glue job: its entry-point script, the library module it runs, its inputs and outputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    script: str = Field(pattern=r"^[a-z][a-z0-9_]*\.py$")
    module: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    description: str = Field(min_length=1)
    reads: list[str] = Field(min_length=1)
    writes: list[str] = Field(min_length=1)


class _JobGraphFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: list[JobSpec] = Field(min_length=1)


class JobGraph:
    """Jobs in the order they must run; every name checked against scripts and contracts."""

    def __init__(self, jobs: list[JobSpec]) -> None:
        self.jobs = jobs

    @property
    def names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def job(self, name: str) -> JobSpec:
        return next(job for job in self.jobs if job.name == name)

    def producer_of(self, table: str) -> JobSpec:
        return next(job for job in self.jobs if table in job.writes)

    @property
    def tables(self) -> list[str]:
        return [table for job in self.jobs for table in job.writes]


def _ordered(jobs: list[JobSpec], path: Path) -> list[JobSpec]:
    """Topological order, keeping the declared order among independent jobs."""
    producers = {table: job.name for job in jobs for table in job.writes}
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


def load_job_graph(
    contracts: Mapping[str, Contract],
    path: Path | str = DEFAULT_JOB_GRAPH_PATH,
) -> JobGraph:
    """Load, validate against ``contracts`` and the scripts on disk, and order the jobs."""
    path = Path(path)
    declared: _JobGraphFile = validate(_JobGraphFile, load_yaml(path), path)
    errors: list[str] = []
    writers: dict[str, str] = {}
    for index, job in enumerate(declared.jobs):
        where = f"{path}: jobs[{index}]"
        if not (path.parent / job.script).is_file():
            errors.append(f"{where}.script: {job.script} not found; fix: add it to {path.parent}")
        for table in [*job.reads, *job.writes]:
            if table != RAW_SOURCE and table not in contracts:
                errors.append(
                    f"{where}: table '{table}' has no contract; fix: add contracts/{table}.yaml"
                )
        for table in job.writes:
            if table in writers:
                errors.append(
                    f"{where}.writes: '{table}' is also written by job '{writers[table]}'; "
                    "fix: let one job own each table"
                )
            writers[table] = job.name
    names = [job.name for job in declared.jobs]
    if len(set(names)) != len(names):
        errors.append(f"{path}: jobs: duplicate job names; fix: give every job a unique name")
    if errors:
        raise DeclarationError(errors)
    return JobGraph(_ordered(declared.jobs, path))
