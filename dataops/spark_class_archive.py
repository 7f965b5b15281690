"""``spark-class-archive``: a class-data sharing archive of the local Spark driver JVM.

A cold local SparkSession spends seconds loading and verifying the JDK, Spark and Parquet
classes it needs before its first job runs; mapped from one archive, the same classes cost
about 3 s less on every run-local and every test session. ``make spark-class-archive`` (which
``make unit``, ``demo`` and ``bench`` run first) builds it once, from a run of the whole data
workflow on sample data, so it holds the classes the jobs and checks really load.

A JVM aborts when the archive it maps is cut short, and it writes the archive only as it
exits, so the archive is written to a temporary name, kept only once that JVM has exited
cleanly, renamed into place, and used only while its size is the size recorded for it.
An archive a JVM cannot use (another JDK build, another Spark) is ignored by the JVM itself;
its name carries the Java binary and the pyspark version, so such a change builds a new one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.project import PROJECT_ROOT

ARCHIVE_DIR = PROJECT_ROOT / ".venv" / "spark-class-archive"
TRAINING_RECORDS = 1_000
SWITCH = "DATAOPS_SPARK_CLASS_ARCHIVE"
# The JVM lists every class it could not archive (signed jars, generated classes) at exit.
_QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


@dataclass(frozen=True)
class ClassArchive:
    """Where the archive for this Java and this pyspark lives, and its recorded size."""

    path: Path

    @property
    def record(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def unsupported_marker(self) -> Path:
        """Written when this JVM could not write an archive, so that nobody waits for one."""
        return self.path.with_suffix(".unsupported")

    def usable(self) -> bool:
        """Present, and as long as when it was written (never a cut-short file)."""
        try:
            recorded = json.loads(self.record.read_text(encoding="utf-8"))["bytes"]
            return self.path.stat().st_size == recorded
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def jvm_options(self) -> str:
        """Driver JVM options mapping the archive; empty when there is none to use."""
        return f"-XX:SharedArchiveFile={self.path} {_QUIET}" if self.usable() else ""


def _java_binary() -> Path | None:
    """The ``java`` Spark's launcher runs: ``$JAVA_HOME/bin/java``, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).is_file() else None


def switched_off() -> bool:
    return os.environ.get(SWITCH, "").lower() == "off"


def current_archive(archive_dir: Path = ARCHIVE_DIR) -> ClassArchive | None:
    """The archive for the installed Java and pyspark (it may not exist yet); None without
    Java, or when switched off (``DATAOPS_SPARK_CLASS_ARCHIVE=off``)."""
    java = _java_binary()
    if java is None or switched_off():
        return None
    import pyspark

    from dataops.local_file_system import driver_settings

    # The archive holds the driver's class path: another file system jar needs another archive.
    class_path = driver_settings().get("spark.driver.extraClassPath", "")
    identity = f"{java}:{java.stat().st_mtime_ns}:{pyspark.__version__}:{class_path}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return ClassArchive(archive_dir / f"driver-{key}.jsa")


def jvm_options(archive_dir: Path = ARCHIVE_DIR) -> str:
    """What a local session adds to its driver's JVM options: the archive, when usable."""
    archive = current_archive(archive_dir)
    return archive.jvm_options() if archive else ""


def _run_training_workflow(spark: Any) -> None:
    """The whole data workflow and its checks on a small sample: the classes of a real run."""
    from dataops.local_runner import run_workflow
    from dataops.project import load_project
    from dataops.sample_data import generate

    with tempfile.TemporaryDirectory(prefix="spark-class-archive-") as scratch:
        raw, warehouse = Path(scratch) / "raw", Path(scratch) / "warehouse"
        generate(raw, TRAINING_RECORDS, seed=7, days=1, keep_records=False)
        run_workflow(spark, load_project(), raw, warehouse, "class-archive", quiet=True)


def build(archive: ClassArchive) -> bool:
    """Run the training workflow in a fresh driver JVM that writes its loaded classes as it
    exits; keep the archive only if that JVM exited cleanly. True when it is usable after."""
    from pyspark import SparkContext

    from dataops.local_file_system import driver_settings
    from jobkit.session import build_local_session

    if SparkContext._active_spark_context is not None:
        raise RuntimeError("a SparkSession is running here; the archive needs a JVM of its own")
    archive.path.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.path.with_suffix(f".{os.getpid()}.partial")
    spark = build_local_session(
        "vpcflow-class-archive",
        settings=driver_settings(),
        jvm_options=f"-XX:ArchiveClassesAtExit={partial} {_QUIET}",
    )
    gateway = SparkContext._gateway
    try:
        _run_training_workflow(spark)
    finally:
        spark.stop()
        gateway.shutdown()
        gateway.proc.stdin.close()  # the driver exits on end of input, writing the archive
        exit_code = gateway.proc.wait(timeout=300)
        SparkContext._gateway = SparkContext._jvm = None
    if exit_code != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        archive.unsupported_marker.write_text(f"driver JVM exit code {exit_code}\n")
        return False
    archive.record.write_text(json.dumps({"bytes": partial.stat().st_size}), encoding="utf-8")
    partial.replace(archive.path)
    return archive.usable()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebuild", action="store_true", help="build again even if a usable archive exists"
    )


def _build_file_system() -> None:
    """The driver's file system jar first: the archive is made for the class path it is on."""
    from dataops import local_file_system

    try:
        jar = local_file_system.build()
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"spark local file system: Hadoop's own ({local_file_system.SOURCE.name}: {exc})")
        return
    if jar is None:
        print(
            "spark local file system: Hadoop's own (no javac: a JDK would spare a chmod process "
            "per file written)"
        )
    else:
        print(f"spark local file system: {jar}")


def main(args: argparse.Namespace) -> int:
    _build_file_system()
    if switched_off():
        print(f"spark class archive: off ({SWITCH}=off)")
        return EXIT_OK
    archive = current_archive(ARCHIVE_DIR)
    if archive is None:
        print("error: java: not found; fix: install Java 17 (make setup says how)")
        return EXIT_CHECK_FAILED
    if archive.usable() and not args.rebuild:
        print(f"spark class archive: {archive.path} (up to date)")
        return EXIT_OK
    if archive.unsupported_marker.is_file() and not args.rebuild:
        print("spark class archive: this JVM cannot write one; Spark runs without")
        return EXIT_OK
    # Archives of another Java or pyspark go; this one's files are replaced atomically (another
    # build of the same archive may be writing its own partial file now).
    for stale in archive.path.parent.glob("driver-*"):
        if not stale.name.startswith(f"{archive.path.stem}."):
            stale.unlink(missing_ok=True)
    if not build(archive):
        print("spark class archive: not built (this JVM could not write one); Spark runs without")
        return EXIT_OK
    size_mib = archive.path.stat().st_size / 2**20
    print(f"spark class archive: {archive.path} ({size_mib:.0f} MiB)")
    return EXIT_OK
