"""The local Spark driver's file system: Hadoop's, setting permissions without a process.

Hadoop's local file system starts a ``chmod`` process for every file it creates when its native
library is missing, and pyspark ships none: half the time of a small partitioned write went to
those processes. ``jvm/NioLocalFileSystem.java`` sets them through Java NIO instead; it is
compiled once (``make spark-class-archive`` does it, with the JDK's ``javac``) into a jar under
``.venv``, and every local session puts it on its driver's class path. Without ``javac`` the
sessions keep Hadoop's own, and run the same, a little slower.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from dataops.project import PROJECT_ROOT

SOURCE = Path(__file__).with_name("jvm") / "NioLocalFileSystem.java"
CLASS_NAME = "dataops.jvm.NioLocalFileSystem"
JAR_DIR = PROJECT_ROOT / ".venv" / "spark-local-fs"


def _hadoop_api_jar() -> Path:
    """The Hadoop API the class compiles against: the one pyspark runs."""
    import pyspark

    (jar,) = (Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar")
    return jar


def jar_path(jar_dir: Path = JAR_DIR) -> Path:
    """Where the jar of this source, for this pyspark's Hadoop, lives (it may not exist)."""
    identity = SOURCE.read_bytes() + _hadoop_api_jar().name.encode()
    return jar_dir / f"nio-local-fs-{hashlib.sha256(identity).hexdigest()[:16]}.jar"


def build(jar_dir: Path = JAR_DIR) -> Path | None:
    """The jar, compiled now if missing; None without ``javac``."""
    jar = jar_path(jar_dir)
    if jar.is_file():
        return jar
    javac = shutil.which("javac")
    if javac is None:
        return None
    with tempfile.TemporaryDirectory(prefix="nio-local-fs-") as scratch:
        classes = Path(scratch)
        class_path = str(_hadoop_api_jar())
        subprocess.run(
            [javac, "--release", "17", "-nowarn", "-cp", class_path, "-d", str(classes), SOURCE],
            check=True,
        )
        jar_dir.mkdir(parents=True, exist_ok=True)
        partial = jar.with_suffix(f".{os.getpid()}.partial")
        with zipfile.ZipFile(partial, "w") as archive:
            for compiled in sorted(classes.rglob("*.class")):
                archive.write(compiled, compiled.relative_to(classes).as_posix())
        partial.replace(jar)
    for stale in jar_dir.glob("nio-local-fs-*.jar"):
        if stale != jar:
            stale.unlink()
    return jar


def driver_settings(jar_dir: Path = JAR_DIR) -> dict[str, str]:
    """The settings that make a local session use the jar's file system, once it is built."""
    jar = jar_path(jar_dir)
    if not jar.is_file():
        return {}
    return {"spark.driver.extraClassPath": str(jar), "spark.hadoop.fs.file.impl": CLASS_NAME}
