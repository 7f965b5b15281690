"""``jobkit.tables.local_rows``: a job's few local rows as a frame, built in the JVM."""

from __future__ import annotations

import datetime as dt

import pytest

from jobkit.tables import local_rows

pytestmark = pytest.mark.xdist_group("spark")

DDL = "object_uri STRING, size BIGINT, dt DATE"


def test_rows_come_back_typed_as_the_ddl_declares_nulls_included(spark) -> None:
    rows = [("s3://raw/a.gz", 12, dt.date(2024, 5, 6)), ("s3://raw/b.gz", None, None)]
    frame = local_rows(spark, rows, DDL)
    assert frame.schema.simpleString() == "struct<object_uri:string,size:bigint,dt:date>"
    assert [tuple(row) for row in frame.collect()] == rows


def test_no_rows_is_an_empty_frame_with_the_columns(spark) -> None:
    frame = local_rows(spark, [], DDL)
    assert frame.columns == ["object_uri", "size", "dt"]
    assert frame.count() == 0


def test_a_value_that_does_not_fit_its_column_fails_instead_of_turning_null(spark) -> None:
    with pytest.raises(Exception, match="MALFORMED_RECORD"):
        local_rows(spark, [("s3://raw/a.gz", "twelve", None)], DDL).collect()


def test_a_row_of_the_wrong_length_fails_before_spark(spark) -> None:
    with pytest.raises(ValueError, match="zip"):
        local_rows(spark, [("s3://raw/a.gz", 12)], DDL)
