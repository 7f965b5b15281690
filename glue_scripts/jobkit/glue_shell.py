"""The thin Glue shell: job arguments in, the job's run out. Only here is awsglue used.

Glue job bookmarks are off: which raw objects and batches a run processes is decided by the
framework's own state (:mod:`jobkit.runner`), because a staging run reads whole objects (line
numbers, per-object headers) and a rerun of a batch must find its earlier attempt, neither of
which Glue bookmarks can do.
"""

from __future__ import annotations

import sys

from jobkit.arguments import OPTIONAL, REQUIRED, from_arguments
from jobkit.context import JobResult
from jobkit.runner import run_job


def summary(result: JobResult) -> str:
    """One line a person reads in the job's log."""
    return (
        f"{result.job}: in {result.rows_in}, out {result.rows_out}, quarantined "
        f"{result.rows_quarantined} lines and {result.objects_quarantined} objects, "
        f"partitions {list(result.partitions)}"
    )


def run_glue_job() -> JobResult:
    """Resolve the Glue arguments, run the job and commit the Glue job run."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    present = [name for name in OPTIONAL if f"--{name}" in sys.argv]
    arguments = getResolvedOptions(sys.argv, ["JOB_NAME", *REQUIRED, *present])
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(arguments["JOB_NAME"], arguments)
    result = run_job(glue_context.spark_session, from_arguments(arguments))
    print(summary(result), flush=True)
    job.commit()
    return result
