"""``GlueContext``: here only a holder of the SparkSession the rehearsal started."""

from __future__ import annotations

from pyspark import SparkContext
from pyspark.sql import SparkSession


class GlueContext:
    def __init__(self, spark_context: SparkContext) -> None:
        self.spark_context = spark_context
        # The rehearsal's one local session (Glue starts a fresh one for every run).
        self.spark_session = SparkSession.builder.getOrCreate()
