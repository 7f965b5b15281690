"""Mart job: connection statistics, recomputing whole every dt partition that got new data."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from vpcflow_jobs.context import JobContext, JobResult
from vpcflow_jobs.intermediate import INTERMEDIATE_TABLE
from vpcflow_jobs.intermediate import JOB_NAME as INTERMEDIATE_JOB
from vpcflow_jobs.session import apply_job_settings
from vpcflow_jobs.storage import BatchLedger, storage_for
from vpcflow_jobs.tables import write_partitioned

JOB_NAME = "mart"
MART_TABLE = "data_app_conn_stats"


def conn_stats(flows: DataFrame) -> DataFrame:
    """Per dt, source address and destination port, over accepted flows with status OK."""
    accepted = flows.where((F.col("log_status") == "OK") & (F.col("action") == "ACCEPT"))
    seconds = F.col("last_packet_received_time").cast("bigint") - F.col(
        "first_packet_received_time"
    ).cast("bigint")
    return (
        accepted.groupBy("dt", "source_ip_address", "destination_port")
        .agg(
            F.sum("num_packets_transferred").cast("bigint").alias("total_packets_sent"),
            F.sum("bytes_sent").cast("bigint").alias("total_bytes_sent"),
            F.sum(seconds).cast("bigint").alias("connection_length_sec"),
        )
        .select(
            "source_ip_address",
            "destination_port",
            "total_packets_sent",
            "total_bytes_sent",
            "connection_length_sec",
            "dt",
        )
    )


def run(spark: SparkSession, context: JobContext) -> JobResult:
    """Recompute the partitions the new intermediate batches touched (no double counting)."""
    apply_job_settings(spark)
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    batch_ids, dts = ledger.pending_batches(INTERMEDIATE_JOB, JOB_NAME)
    if not dts:
        ledger.consume(JOB_NAME, batch_ids)
        return JobResult(job=JOB_NAME, rows_in=0, rows_out=0)
    flows = spark.read.parquet(context.table_uri(INTERMEDIATE_TABLE)).where(
        F.col("dt").isin([F.lit(dt).cast("date") for dt in dts])
    )
    rows_out = write_partitioned(conn_stats(flows), context.table_uri(MART_TABLE), "overwrite")
    ledger.record(JOB_NAME, context.batch_id, dts, {"rows": rows_out})
    ledger.consume(JOB_NAME, batch_ids)
    return JobResult(job=JOB_NAME, rows_in=flows.count(), rows_out=rows_out, partitions=tuple(dts))
