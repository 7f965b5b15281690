"""The local Spark driver's file system: compiled once with javac, on every local session's
class path when built, setting permissions as Hadoop's own does; without javac, Hadoop's own."""

from __future__ import annotations

import shutil
import stat
import zipfile

import pytest

from dataops import local_file_system
from dataops.local_file_system import CLASS_NAME, build, driver_settings, jar_path

needs_javac = pytest.mark.skipif(shutil.which("javac") is None, reason="no javac here")


def test_without_javac_nothing_is_built_and_sessions_keep_hadoops(tmp_path, monkeypatch):
    monkeypatch.setattr(local_file_system.shutil, "which", lambda _: None)
    assert build(tmp_path) is None
    assert driver_settings(tmp_path) == {}


@needs_javac
def test_the_jar_is_compiled_once_and_replaces_one_of_an_older_source(tmp_path):
    older = tmp_path / "nio-local-fs-0000000000000000.jar"
    older.write_bytes(b"")
    jar = build(tmp_path)
    assert jar == jar_path(tmp_path)
    with zipfile.ZipFile(jar) as archive:
        assert archive.namelist() == ["dataops/jvm/NioLocalFileSystem.class"]
    assert not older.exists()
    written = jar.stat().st_mtime_ns
    assert build(tmp_path) == jar
    assert jar.stat().st_mtime_ns == written
    assert driver_settings(tmp_path) == {
        "spark.driver.extraClassPath": str(jar),
        "spark.hadoop.fs.file.impl": CLASS_NAME,
    }


@pytest.mark.xdist_group("spark")
def test_the_tests_session_sets_permissions_through_it(spark, tmp_path):
    """``make unit`` builds it first; the sticky bit, which Java cannot set, goes to Hadoop's."""
    if not driver_settings():
        pytest.skip("not built here (no javac): run `make spark-class-archive` with a JDK")
    jvm = spark.sparkContext._jvm
    hadoop = jvm.org.apache.hadoop
    local = hadoop.fs.FileSystem.get(jvm.java.net.URI("file:///"), spark._jsc.hadoopConfiguration())
    assert local.getClass().getName() == CLASS_NAME
    target, shared = tmp_path / "file", tmp_path / "shared"
    target.write_text("x")
    shared.mkdir()
    local.setPermission(hadoop.fs.Path(str(target)), hadoop.fs.permission.FsPermission("640"))
    local.setPermission(hadoop.fs.Path(str(shared)), hadoop.fs.permission.FsPermission("1777"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    spark.range(4).selectExpr("id", "CAST(id % 2 AS STRING) AS dt").write.partitionBy("dt").parquet(
        str(tmp_path / "table")
    )
    written = sorted((tmp_path / "table").rglob("*.parquet"))
    assert written
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o644}
