"""Writing a job's output: Parquet partitioned by dt, with the row count of what was written."""

from __future__ import annotations

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F


def write_partitioned(frame: DataFrame, location: str, mode: str) -> int:
    """Write ``frame`` by ``dt`` (``append``, or ``overwrite`` of its partitions only).

    The rows are counted as they are written (an observation), so ``frame`` is computed once
    and never cached.
    """
    observation = Observation("rows_written")
    counted = frame.observe(observation, F.count(F.lit(1)).alias("rows"))
    counted.write.mode(mode).partitionBy("dt").parquet(location)
    return int(observation.get["rows"])
