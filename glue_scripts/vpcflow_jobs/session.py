"""A local SparkSession tuned to start fast and behave like Glue (UTC, dynamic overwrite)."""

from __future__ import annotations

from pyspark.sql import SparkSession

GLUE_LIKE_SETTINGS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
}
LOCAL_SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    # The heap a run-local of a million records needs, with room: the whole process tree then
    # stays within a 3 GB CodeBuild box.
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "true",
    # C1 only (fast start); compile Spark's large generated methods too, which HotSpot would
    # otherwise leave interpreted (over 8000 bytes: the quarantine checks, wide headers).
    "spark.driver.extraJavaOptions": (
        "-XX:+UseParallelGC -XX:TieredStopAtLevel=1 -XX:-DontCompileHugeMethods -Duser.timezone=UTC"
    ),
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.warehouse.dir": "/tmp/vpcflow-spark-warehouse",
}


def apply_job_settings(spark: SparkSession) -> None:
    """Settings every job relies on, applied in Glue and locally alike."""
    for key, value in GLUE_LIKE_SETTINGS.items():
        spark.conf.set(key, value)


def build_local_session(app_name: str = "vpcflow-local") -> SparkSession:
    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in {**LOCAL_SETTINGS, **GLUE_LIKE_SETTINGS}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
