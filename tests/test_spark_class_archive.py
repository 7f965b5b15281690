"""The local Spark driver's class-data sharing archive: used only when whole, keyed by the Java
and pyspark it was built for, off on request, and mapped by the tests' own session."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from dataops import spark_class_archive
from dataops.spark_class_archive import SWITCH, ClassArchive, current_archive, jvm_options


def _no_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    spark_class_archive.add_arguments(parser)
    return parser.parse_args([])


def _archive_in(directory: Path) -> ClassArchive:
    return ClassArchive(directory / "driver-0123456789abcdef.jsa")


def _written(archive: ClassArchive, size: int, recorded: int) -> ClassArchive:
    archive.path.write_bytes(b"\0" * size)
    archive.record.write_text(json.dumps({"bytes": recorded}), encoding="utf-8")
    return archive


def test_an_archive_of_the_recorded_size_is_mapped(tmp_path):
    archive = _written(_archive_in(tmp_path), size=64, recorded=64)
    assert archive.usable()
    assert archive.jvm_options().startswith(f"-XX:SharedArchiveFile={archive.path} ")


def test_a_cut_short_archive_is_never_mapped(tmp_path):
    """A JVM aborts on a truncated archive instead of starting without it."""
    archive = _written(_archive_in(tmp_path), size=32, recorded=64)
    assert not archive.usable()
    assert archive.jvm_options() == ""


def test_a_missing_archive_or_record_means_no_option(tmp_path):
    archive = _archive_in(tmp_path)
    assert archive.jvm_options() == ""
    archive.path.write_bytes(b"\0" * 8)
    assert archive.jvm_options() == ""


def test_the_archive_name_follows_the_pyspark_version(tmp_path, monkeypatch):
    import pyspark

    first = current_archive(tmp_path)
    monkeypatch.setattr(pyspark, "__version__", "0.0.0-other")
    second = current_archive(tmp_path)
    assert first is not None
    assert second is not None
    assert first.path != second.path
    assert first.path.parent == second.path.parent == tmp_path


def test_without_java_there_is_no_archive(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert current_archive(tmp_path) is None
    assert jvm_options(tmp_path) == ""


def test_switched_off_it_is_neither_used_nor_built(tmp_path, monkeypatch, capsys):
    _written(_archive_in(tmp_path), size=8, recorded=8)
    monkeypatch.setenv(SWITCH, "off")
    assert current_archive(tmp_path) is None
    assert spark_class_archive.main(_no_arguments()) == 0
    assert "off" in capsys.readouterr().out


@pytest.fixture
def archive_here(tmp_path, monkeypatch) -> ClassArchive:
    """The archive ``python -m dataops spark-class-archive`` would build, kept under tmp_path."""
    monkeypatch.setattr(spark_class_archive, "ARCHIVE_DIR", tmp_path)
    archive = current_archive(tmp_path)
    assert archive is not None
    return archive


def test_an_archive_is_built_once(archive_here, capsys):
    _written(archive_here, size=8, recorded=8)
    assert spark_class_archive.main(_no_arguments()) == 0
    assert "up to date" in capsys.readouterr().out


def test_a_rebuild_removes_archives_of_another_java_or_pyspark(archive_here, monkeypatch):
    other = _written(_archive_in(archive_here.path.parent), size=8, recorded=8)
    built = []
    monkeypatch.setattr(spark_class_archive, "build", built.append)
    spark_class_archive.main(_no_arguments())
    assert built == [archive_here]
    assert not other.path.exists()
    assert not other.record.exists()


def test_a_jvm_that_cannot_write_one_is_not_asked_again(archive_here, capsys):
    archive_here.unsupported_marker.write_text("driver JVM exit code 1\n")
    assert spark_class_archive.main(_no_arguments()) == 0
    assert "cannot write one" in capsys.readouterr().out
    assert not archive_here.path.exists()


@pytest.mark.xdist_group("spark")
def test_the_tests_session_maps_the_archive_setup_built(spark):
    """``make unit`` builds the archive first; the shared session's driver maps it."""
    archive = current_archive()
    if archive is None:
        pytest.skip(f"{SWITCH}=off")
    if archive.unsupported_marker.is_file():
        pytest.skip(f"this JVM could not write an archive: {archive.unsupported_marker}")
    assert archive.usable(), "no Spark class archive: run `make spark-class-archive`"
    runtime = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert f"-XX:SharedArchiveFile={archive.path}" in list(runtime.getInputArguments())


def test_the_archive_name_follows_the_drivers_file_system_jar(tmp_path, monkeypatch):
    """The archive holds the driver's class path; a file system jar built later needs another."""
    from dataops import local_file_system

    monkeypatch.setattr(local_file_system, "driver_settings", lambda: {})
    without = current_archive(tmp_path)
    jar = {"spark.driver.extraClassPath": str(tmp_path / "fs.jar")}
    monkeypatch.setattr(local_file_system, "driver_settings", lambda: jar)
    with_jar = current_archive(tmp_path)
    assert without is not None
    assert with_jar is not None
    assert without.path != with_jar.path


def test_the_file_system_jar_comes_first_and_its_absence_is_one_line(monkeypatch, capsys):
    import subprocess

    from dataops import local_file_system

    monkeypatch.setenv(SWITCH, "off")
    monkeypatch.setattr(local_file_system, "build", lambda: None)
    assert spark_class_archive.main(_no_arguments()) == 0
    first, *_ = capsys.readouterr().out.splitlines()
    assert first.startswith("spark local file system: Hadoop's own (no javac")

    def failing_javac() -> None:
        raise subprocess.CalledProcessError(1, ["javac"])

    monkeypatch.setattr(local_file_system, "build", failing_javac)
    assert spark_class_archive.main(_no_arguments()) == 0
    first, *_ = capsys.readouterr().out.splitlines()
    assert first.startswith("spark local file system: Hadoop's own (NioLocalFileSystem.java: ")
