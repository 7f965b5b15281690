"""Writing a job's output: Parquet partitioned by dt, with the row count of what was written."""

from __future__ import annotations

from pyspark.sql import DataFrame


def write_partitioned(frame: DataFrame, location: str, mode: str) -> int:
    """Write ``frame`` by ``dt`` (``append``, or ``overwrite`` of its partitions only)."""
    cached = frame.persist()
    cached.write.mode(mode).partitionBy("dt").parquet(location)
    rows = cached.count()
    cached.unpersist()
    return rows
