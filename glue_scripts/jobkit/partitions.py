"""The dt partitions Athena can see: the catalog projects days from PARTITION_FLOOR to today.

The CDK app writes this floor into every table's partition projection and the staging jobs
quarantine rows dated outside it (``date_out_of_range``), so no row lands in a partition that
Athena and the date data tests never read.
"""

from __future__ import annotations

import datetime as dt

PARTITION_FLOOR = dt.date(2000, 1, 1)
OUT_OF_RANGE = "date_out_of_range"


def visible_range_sql(column: str, run_date: dt.date) -> str:
    """A Spark SQL condition: ``column`` lies in the projected days as of ``run_date``."""
    return f"{column} BETWEEN DATE'{PARTITION_FLOOR.isoformat()}' AND DATE'{run_date.isoformat()}'"


def dt_list_sql(dts: list[str]) -> str:
    """``DATE 'a', DATE 'b'``: the partitions a run wrote, for a ``dt IN (...)`` filter."""
    return ", ".join(f"DATE '{day}'" for day in sorted(dts))
