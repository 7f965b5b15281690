"""A local SparkSession tuned to start fast and behave like Glue (UTC, dynamic overwrite)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import SparkSession

GLUE_LIKE_SETTINGS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
}

# Which methods HotSpot's optimizing compiler (C2) may compile; all others stay with C1.
# On two cores, C2 compiling everything that gets warm (Janino, task serialization, the
# generated stage code) took 35 s of compiler time in a 40 s run-local of a million records.
# Restricted to the hot loops of Parquet encoding and decoding, strings and Unsafe access, it
# takes about 10 s and the Parquet writes run about twice as fast as C1 code. The first
# matching entry wins.
JIT_DIRECTIVES = """[
  { match: ["org/apache/parquet/*.*", "shaded/parquet/*.*",
            "org/apache/spark/sql/execution/datasources/parquet/*.*",
            "org/apache/spark/sql/execution/vectorized/*.*", "org/apache/spark/unsafe/*.*",
            "org/apache/spark/sql/catalyst/expressions/codegen/Unsafe*.*",
            "org/apache/spark/sql/catalyst/expressions/UnsafeRow.*", "java/lang/String*.*",
            "java/util/zip/*.*", "java/util/regex/*.*", "java/nio/*.*",
            "jdk/internal/misc/Unsafe.*", "org/xerial/snappy/*.*"],
    c2: { Exclude: false } },
  { match: "*.*", c2: { Exclude: true } }
]
"""
# A local run of a small batch finishes before C2's code pays for its compile time: with C1
# alone, run-local took 14.6 s instead of 17 s on 100,000 records (16 MiB of log text), 17.5 s
# instead of 19.1 s on 300,000 (47 MiB), and the tests' Spark files 22.6 s instead of 26.5 s;
# on 1,000,000 records (158 MiB) it took 36.9 s instead of 29.6 s (Parquet encoding at half
# speed). The bound sits between, nearer the side where C1 is known to win.
SMALL_BATCH_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"
SMALL_BATCH_TEXT_BYTES = 64 * 2**20
# Spark's interpreted expressions instead of Java generated and compiled for every query: for
# a batch of a few hundred lines (the tests', the rehearsal's, a data diff's sample) compiling
# costs more than it saves. The results are the same either way.
INTERPRETED_EXPRESSIONS: dict[str, str] = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def jit_options(text_bytes: int) -> str:
    """The driver's JIT for a batch of ``text_bytes`` of log text: C1 alone when small."""
    return SMALL_BATCH_JVM_OPTIONS if text_bytes <= SMALL_BATCH_TEXT_BYTES else ""


_JIT_DIRECTIVES_FILE = Path(tempfile.gettempdir()) / (
    "dataops-jit-" + hashlib.sha256(JIT_DIRECTIVES.encode()).hexdigest()[:12] + ".json"
)

_DRIVER_JVM_OPTIONS = "spark.driver.extraJavaOptions"

LOCAL_SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    # The heap a run-local of a million records needs, with room: the whole process tree then
    # stays within a 3 GB CodeBuild box.
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "true",
    # Compile Spark's large generated methods too, which HotSpot would otherwise leave
    # interpreted (over 8000 bytes: the quarantine checks, wide headers); C2 only where
    # JIT_DIRECTIVES allows it. The JVM's own messages (one about the directives) go to stderr.
    _DRIVER_JVM_OPTIONS: (
        "-XX:+UseParallelGC -XX:-DontCompileHugeMethods -XX:+UnlockDiagnosticVMOptions "
        f"-XX:CompilerDirectivesFile={_JIT_DIRECTIVES_FILE} -XX:+DisplayVMOutputToStderr "
        "-Duser.timezone=UTC"
    ),
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.warehouse.dir": "/tmp/dataops-spark-warehouse",
    # The staging job names its files one by one; listing more than 32 paths would otherwise
    # start a Spark job for it (about a second locally).
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # Writes keep a file open a dt partition instead of sorting every row by dt first.
    "spark.sql.maxConcurrentOutputFileWriters": "16",
    # No .crc file next to every file written and read back: Hadoop's checksummed local file
    # system computes them, and starts a `chmod` process for each file it creates (no native
    # Hadoop library here), besides one for each directory.
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
}


# The JVM classes and packages PySpark finds by simple name for nearly every Column it builds.
# py4j resolves such a name by trying each imported package in turn, and each miss searches
# the whole class path: hundreds of searches a job. Resolved once, they are kept on the view.
PINNED_JVM_NAMES = (
    "SparkSession",
    "SparkSession$",
    "functions",
    "PythonUtils",
    "PythonSQLUtils",
    "py4j",
    "org",
)


def pin_jvm_names(spark: SparkSession) -> None:
    """Keep PINNED_JVM_NAMES resolved on the session's JVM view (the same objects py4j would
    return each time)."""
    view = spark.sparkContext._jvm
    for name in PINNED_JVM_NAMES:
        if name not in vars(view):
            setattr(view, name, getattr(view, name))


def apply_job_settings(spark: SparkSession) -> None:
    """Settings every job relies on, applied in Glue and locally alike."""
    for key, value in GLUE_LIKE_SETTINGS.items():
        spark.conf.set(key, value)
    pin_jvm_names(spark)


def _write_jit_directives() -> None:
    """The directives file the local JVM reads at start (written once, atomically)."""
    if not _JIT_DIRECTIVES_FILE.is_file():
        partial = _JIT_DIRECTIVES_FILE.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(JIT_DIRECTIVES, encoding="utf-8")
        partial.replace(_JIT_DIRECTIVES_FILE)


def build_local_session(
    app_name: str = "dataops-local",
    settings: Mapping[str, str] | None = None,
    jvm_options: str = "",
) -> SparkSession:
    """The local session; ``settings`` override LOCAL_SETTINGS (the tests' smaller heap) and
    ``jvm_options`` are added to the driver's (the local tools' class-data sharing archive)."""
    _write_jit_directives()
    merged = {**LOCAL_SETTINGS, **(settings or {}), **GLUE_LIKE_SETTINGS}
    if jvm_options:
        merged[_DRIVER_JVM_OPTIONS] = f"{merged[_DRIVER_JVM_OPTIONS]} {jvm_options}"
    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in merged.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
