"""A mart's rows against the rows the data set's sample-data generator predicts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from sqlglot import exp

from dataops.contracts import Contract
from dataops.data_tests import SOURCE_DIALECT
from dataops.integration.athena import Row
from dataops.integration.report import CheckFailed

MAX_SHOWN = 5


def mart_query(contract: Contract, database: str, first: dt.date, last: dt.date) -> str:
    """SELECT the contract's columns of the partitions from ``first`` to ``last`` (Trino SQL):
    rows the prediction lacks show up wherever in the range they landed."""
    query = (
        exp.select(*(exp.column(column.name) for column in contract.columns))
        .from_(exp.table_(contract.name, db=database))
        .where(
            exp.column(contract.partition_keys[0]).between(
                *(exp.cast(exp.Literal.string(day.isoformat()), "date") for day in (first, last))
            )
        )
    )
    return query.sql(dialect=SOURCE_DIALECT)


_PARSERS: dict[str, Callable[[str], object]] = {
    **dict.fromkeys(("tinyint", "smallint", "int", "bigint"), int),
    **dict.fromkeys(("float", "double"), float),
    "date": dt.date.fromisoformat,
    "boolean": lambda text: text == "true",
}


def _parse(text: str | None, glue_type: str) -> object:
    """An Athena result string as the Python value the generator predicts."""
    if text is None:
        return None
    if glue_type.startswith("decimal"):
        return Decimal(text)
    return _PARSERS.get(glue_type, str)(text)


def compare(contract: Contract, expected: list[dict[str, object]], rows: list[Row]) -> str:
    """Key by the contract's grain; raise :class:`CheckFailed` listing the differences."""
    names = [column.name for column in contract.columns]
    predicted = set(expected[0]) if expected else set(names)
    if predicted != set(names):
        raise CheckFailed(
            f"the generator predicts the columns {', '.join(sorted(predicted))}, the contract "
            f"declares {', '.join(names)}; fix: keep the data set's sample data generator and "
            "its mart contract in step"
        )
    actual = [
        {
            name: _parse(value, column.type)
            for name, value, column in zip(names, row, contract.columns, strict=True)
        }
        for row in rows
    ]
    grain = contract.grain or names

    def keyed(records: list[dict[str, object]]) -> dict[tuple, dict[str, object]]:
        return {tuple(record[name] for name in grain): record for record in records}

    want, got = keyed(expected), keyed(actual)
    problems = [f"missing {key}" for key in sorted(want.keys() - got.keys(), key=str)]
    problems += [f"unexpected {key}" for key in sorted(got.keys() - want.keys(), key=str)]
    if len(got) != len(actual):
        problems.append(f"{len(actual) - len(got)} duplicate row(s) for the grain {grain}")
    for key in sorted(want.keys() & got.keys(), key=str):
        differing = [
            f"{name} {got[key][name]!r} != {want[key][name]!r}"
            for name in names
            if got[key][name] != want[key][name]
        ]
        if differing:
            problems.append(f"{key}: {', '.join(differing)}")
    if problems:
        shown = tuple(problems[:MAX_SHOWN])
        more = len(problems) - len(shown)
        raise CheckFailed(
            f"{len(problems)} difference(s) from the prediction ({len(expected)} rows expected)",
            shown + ((f"... and {more} more",) if more else ()),
        )
    return f"{len(actual)} rows as predicted"
