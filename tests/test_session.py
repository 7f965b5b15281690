"""The JVM names a job's session keeps resolved, so PySpark stops searching the class path."""

from __future__ import annotations

import py4j.java_gateway
import pytest

from jobkit.session import PINNED_JVM_NAMES, apply_job_settings

pytestmark = pytest.mark.xdist_group("spark")


def test_job_settings_keep_each_pinned_name_resolved_to_what_py4j_finds(spark, monkeypatch):
    apply_job_settings(spark)
    view = spark.sparkContext._jvm
    assert set(PINNED_JVM_NAMES) <= set(vars(view))
    fresh = py4j.java_gateway.JVMView.__getattr__(view, "functions")
    assert view.functions._fqn == fresh._fqn == "org.apache.spark.sql.functions"
    assert view.SparkSession.getActiveSession().get() is not None

    def searched(_view, name):
        raise AssertionError(f"{name} was searched for again")

    monkeypatch.setattr(py4j.java_gateway.JVMView, "__getattr__", searched)
    from pyspark.sql import functions

    assert spark.range(3).select(functions.sum(functions.col("id") + 1)).first()[0] == 6
