"""Intermediate job: the typed, renamed flow model of the staged rows of new batches."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from vpcflow_jobs.context import JobContext, JobResult
from vpcflow_jobs.session import apply_job_settings
from vpcflow_jobs.staging import JOB_NAME as STAGING_JOB
from vpcflow_jobs.staging import STAGING_TABLE
from vpcflow_jobs.storage import BatchLedger, storage_for
from vpcflow_jobs.tables import write_partitioned

JOB_NAME = "intermediate"
INTERMEDIATE_TABLE = "inter_model_flowlogs"


def to_flow_model(staged: DataFrame) -> DataFrame:
    """Rename and type staged rows; timestamps come from unix ``start`` and ``end`` (UTC)."""
    return staged.select(
        F.col("account_id").alias("source_account_id"),
        F.col("action"),
        F.col("bytes").cast("bigint").alias("bytes_sent"),
        F.col("srcaddr").alias("source_ip_address"),
        F.col("srcport").cast("int").alias("source_port"),
        F.col("dstaddr").alias("destination_ip_address"),
        F.col("dstport").cast("int").alias("destination_port"),
        F.timestamp_seconds("start").alias("first_packet_received_time"),
        F.timestamp_seconds("end").alias("last_packet_received_time"),
        F.col("interface_id"),
        F.col("log_status"),
        F.col("packets").cast("bigint").alias("num_packets_transferred"),
        F.col("protocol").cast("int"),
        F.col("version").cast("int").alias("flowlogs_version"),
        F.col("dt"),
    )


def run(spark: SparkSession, context: JobContext) -> JobResult:
    """Model the staged rows of every staging batch this job has not consumed yet."""
    apply_job_settings(spark)
    ledger = BatchLedger(storage_for(context.state_uri), context.state_uri)
    batch_ids, dts = ledger.pending_batches(STAGING_JOB, JOB_NAME)
    if not dts:
        ledger.consume(JOB_NAME, batch_ids)
        return JobResult(job=JOB_NAME, rows_in=0, rows_out=0)
    staged = (
        spark.read.parquet(context.table_uri(STAGING_TABLE))
        .where(F.col("dt").isin([F.lit(dt).cast("date") for dt in dts]))
        .where(F.col("ingest_batch_id").isin(batch_ids))
    )
    rows = write_partitioned(to_flow_model(staged), context.table_uri(INTERMEDIATE_TABLE), "append")
    ledger.record(JOB_NAME, context.batch_id, dts, {"rows": rows})
    ledger.consume(JOB_NAME, batch_ids)
    return JobResult(job=JOB_NAME, rows_in=rows, rows_out=rows, partitions=tuple(dts))
