"""Each job's run context from the declarations, for any place the data workflow runs.

The CDK app turns these into Glue job arguments (with S3 locations), the local runner and the
data diff run them as they are (with local paths): one function, so a job gets the same tables,
schemas and downstream jobs wherever it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dataops.contracts import Contract
from dataops.datasets import DataSet
from dataops.job_graph import JobSpec
from jobkit.context import DateRange, JobContext, RawLayout


@dataclass(frozen=True)
class Locations:
    """Where one deployment of the data workflow keeps things.

    ``table`` maps a table name to its location; ``state`` a data set's name to its state
    root; ``raw`` is the raw root a run reads (the landing zone plus the data set's prefix
    unless a run is told otherwise)."""

    table: Callable[[str], str]
    state: Callable[[str], str]
    raw: Callable[[DataSet], str]


def schema_ddl(contract: Contract) -> str:
    """The contract's columns as Spark DDL (Glue types are spelled the same)."""
    return ", ".join(f"`{column.name}` {column.type}" for column in contract.columns)


def job_context(
    dataset: DataSet,
    job: JobSpec,
    locations: Locations,
    batch_id: str,
    *,
    replay: DateRange | None = None,
    database: str = "",
) -> JobContext:
    """The context of ``job`` of ``dataset`` for one run."""
    tables = [*job.input_tables, *job.outputs]
    raw = dataset.spec.raw
    return JobContext(
        dataset=dataset.name,
        job=job.name,
        incremental=job.incremental,
        inputs={table: locations.table(table) for table in job.input_tables},
        outputs={table: locations.table(table) for table in job.outputs},
        schemas={table: schema_ddl(dataset.contracts[table]) for table in tables},
        state_uri=locations.state(dataset.name),
        batch_id=batch_id,
        python=job.python,
        sql=job.sql,
        quarantine=job.quarantine,
        downstream=tuple(consumer.name for consumer in dataset.job_graph.consumers_of(job)),
        raw_uri=locations.raw(dataset),
        raw=RawLayout(raw.layout, tuple(raw.suffixes), raw.lateness_days)
        if job.incremental == "raw_objects"
        else None,
        replay=replay,
        database=database,
    )
