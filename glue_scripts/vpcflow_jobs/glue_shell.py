"""The thin Glue shell: job arguments in, the plain PySpark job out. Only here is awsglue used.

Glue job bookmarks stay enabled on the jobs (Glue's own run bookkeeping), but which raw files
and batches a run processes is decided by the JSON state under ``--state_uri``: the staging job
reads each file whole (to number lines and parse by the file's header), which Glue bookmarks,
tied to DynamicFrame sources, cannot track.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pyspark.sql import SparkSession

from vpcflow_jobs.context import JobContext, JobResult

JOB_ARGUMENTS = ("JOB_NAME", "raw_uri", "warehouse_uri", "quarantine_uri", "state_uri", "batch_id")
OPTIONAL_ARGUMENTS = ("database",)


def context_from_arguments(arguments: dict[str, str]) -> JobContext:
    return JobContext(
        raw_uri=arguments["raw_uri"],
        warehouse_uri=arguments["warehouse_uri"],
        quarantine_uri=arguments["quarantine_uri"],
        state_uri=arguments["state_uri"],
        batch_id=arguments["batch_id"],
        database=arguments.get("database", ""),
    )


def run_glue_job(run: Callable[[SparkSession, JobContext], JobResult]) -> JobResult:
    """Resolve Glue arguments, run ``run`` and commit the Glue job."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    present = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in sys.argv]
    arguments = getResolvedOptions(sys.argv, [*JOB_ARGUMENTS, *present])
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(arguments["JOB_NAME"], arguments)
    result = run(glue_context.spark_session, context_from_arguments(arguments))
    print(
        f"{result.job}: in {result.rows_in}, out {result.rows_out}, "
        f"quarantined {result.rows_quarantined}, partitions {list(result.partitions)}"
    )
    job.commit()
    return result
