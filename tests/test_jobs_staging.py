"""The flow-log parser on small, hand-written lines: header-driven, every quarantine reason.

The hand-written files are parsed together, one file a case, in a single run (as a staging run
parses every header group of a batch together): a run costs about a second of Spark planning
and scheduling whatever its size, and there are a dozen cases.
"""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from jobkit.raw_source import RawObject
from jobkit.raw_staging import ObjectProblem, read_texts
from jobkit.storage import LocalStorage, first_line
from vpcflow.staging import PARSER, parse_header, read_raw_lines

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.dataset("vpcflow")]

RUN_DATE = date(2024, 6, 1)
V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
OK_LINE = (
    "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1715000000 1715000060 ACCEPT OK"
)
CUSTOM = "log-status action end start bytes packets protocol dstport srcport dstaddr srcaddr interface-id account-id version vpc-id future-field"
CUSTOM_LINE = (
    "OK REJECT 1715000060 1715000000 840 10 17 53 5353 10.0.0.2 10.0.0.1 eni-1 123 5 vpc-9 x1"
)
# An unknown header field whose name needs quoting in SQL.
ODD_FIELD = "it's\\odd"
NODATA = "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"
SKIPDATA = "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - SKIPDATA"
BAD_LINES = [
    (OK_LINE.rsplit(" ", 1)[0], "wrong_field_count", "expected 14 fields, found 13"),
    (OK_LINE.replace(" 840 ", " 8x0 "), "not_an_integer", "bytes is '8x0'"),
    (OK_LINE.replace(" 840 ", " 1.5 "), "not_an_integer", "bytes is '1.5'"),
    (OK_LINE.replace("1715000060", "1714999999"), "end_before_start", "is before start"),
    (OK_LINE.replace("ACCEPT", "ALLOW"), "unknown_action", "action 'ALLOW'"),
    (OK_LINE.replace(" OK", " PARTIAL"), "unknown_log_status", "log-status 'PARTIAL'"),
    (OK_LINE.replace(" 1715000000 ", " - "), "missing_value", "start is '-'"),
]
# Every hand-written file: its name, header and data lines (line 1 is the header).
FILES: dict[str, tuple[str, list[str]]] = {
    "valid": (V2, [OK_LINE]),
    "custom": (CUSTOM, [CUSTOM_LINE]),
    "odd-field-name": (f"{V2} {ODD_FIELD}", [f"{OK_LINE} v"]),
    "nodata": (V2, [NODATA, SKIPDATA]),
    "blank": (V2, [OK_LINE, "", "   ", OK_LINE]),
    "no-log-status": (V2.replace(" log-status", ""), [OK_LINE.rsplit(" ", 1)[0]] * 3),
    **{f"bad-{index}": (V2, [OK_LINE, line]) for index, (line, _, _) in enumerate(BAD_LINES)},
}
# Another header, without vpc-id, with a field AWS may add one day.
MIXED_HEADER = "log-status action end start bytes packets protocol dstport srcport dstaddr srcaddr interface-id account-id version future-field"
MIXED_LINE = "OK REJECT 1715000060 1715000000 840 10 17 53 5353 10.0.0.2 10.0.0.1 eni-1 123 5 x1"
# Flows dated before the first projected day and after the run's day.
EARLY = OK_LINE.replace("1715000000 1715000060", "946684799 946684800")
LATE = OK_LINE.replace("1715000000 1715000060", "1719878400 1719878460")
# Objects written byte for byte: carriage returns, gzip, no final newline, dates.
OBJECTS: dict[str, bytes] = {
    "mixed-a.log": f"{V2}\r\n{OK_LINE}\r\n\n{OK_LINE.replace('ACCEPT', 'ALLOW')}\n".encode(),
    "mixed-b.log.gz": gzip.compress(f"{MIXED_HEADER}\n{MIXED_LINE}\n".encode()),
    "mixed-c.log": f"{V2}\n{OK_LINE.replace('eni-1', 'eni-3')}".encode(),
    "dates.log": ("\n".join([V2, OK_LINE, EARLY, LATE]) + "\n").encode(),
}
DAY = "AWSLogs/1/vpcflowlogs/r/2024/05/06"


def parse_files(spark, paths: list[Path]):
    """What the staging run makes of ``paths``: grouped by header, parsed in one go."""
    groups: dict = {}
    for path in paths:
        key = PARSER.classify(first_line(LocalStorage().head(str(path))))
        assert not isinstance(key, ObjectProblem), key
        groups.setdefault(key, []).append(RawObject(str(path), 0, date(2024, 5, 6)))
    texts = {
        key: read_texts(spark, objects, n)[0] for n, (key, objects) in enumerate(groups.items())
    }
    return PARSER.parse(texts, RUN_DATE)


@pytest.fixture(scope="module")
def parsed(spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list, list]]:
    """Staged and quarantined rows of each file in FILES (by name) and OBJECTS (by file
    name), all staged in one run."""
    day = tmp_path_factory.mktemp("raw") / DAY
    day.mkdir(parents=True)
    for name, (header, lines) in FILES.items():
        (day / f"{name}.log").write_text("\n".join([header, *lines]) + "\n")
    for file_name, body in OBJECTS.items():
        (day / file_name).write_bytes(body)
    output = parse_files(spark, sorted(day.iterdir()))
    staged, quarantined = output.staged.collect(), output.quarantined.collect()
    assert output.records_read.get["records"] == len(staged) + len(quarantined)
    names = {**{name: f"{name}.log" for name in FILES}, **{name: name for name in OBJECTS}}
    return {
        name: (
            [row for row in staged if row.source_file.endswith(f"/{DAY}/{file_name}")],
            [row for row in quarantined if row.source_file.endswith(f"/{DAY}/{file_name}")],
        )
        for name, file_name in names.items()
    }


def test_valid_line_is_typed_and_dated_by_start_utc(parsed) -> None:
    staged, quarantined = parsed["valid"]
    assert quarantined == []
    (row,) = staged
    assert (row.srcaddr, row.dstport, row.bytes, row.action) == ("10.0.0.1", 49152, 840, "ACCEPT")
    assert row.dt == date(2024, 5, 6)
    assert row.line_number == 2


def test_custom_format_is_parsed_by_header_not_position(parsed) -> None:
    staged, quarantined = parsed["custom"]
    assert quarantined == []
    (row,) = staged
    assert (row.srcaddr, row.dstport, row.protocol, row.version) == ("10.0.0.1", 53, 17, 5)
    assert row.vpc_id == "vpc-9"
    assert row.extra_fields == {"future-field": "x1"}


def test_unknown_fields_keep_their_names_whatever_characters_they_hold(parsed) -> None:
    staged, quarantined = parsed["odd-field-name"]
    assert quarantined == []
    (row,) = staged
    assert row.extra_fields == {ODD_FIELD: "v"}


def test_nodata_and_skipdata_are_staged_with_null_addresses(parsed) -> None:
    staged, quarantined = parsed["nodata"]
    assert quarantined == []
    assert {row.log_status for row in staged} == {"NODATA", "SKIPDATA"}
    assert all(row.srcaddr is None and row.action is None for row in staged)


@pytest.mark.parametrize(("line", "reason", "detail"), BAD_LINES)
def test_every_bad_line_is_quarantined_with_its_reason(parsed, line, reason, detail) -> None:
    staged, quarantined = parsed[f"bad-{BAD_LINES.index((line, reason, detail))}"]
    assert len(staged) == 1
    (row,) = quarantined
    assert (row.reason, row.raw_line, row.line_number) == (reason, line, 3)
    assert detail in row.detail


def test_header_without_a_required_field_quarantines_the_whole_file(parsed) -> None:
    staged, quarantined = parsed["no-log-status"]
    assert staged == []
    assert [row.reason for row in quarantined] == ["missing_required_fields"] * 3
    assert {row.detail for row in quarantined} == {"header lacks log-status"}


def test_blank_lines_and_the_header_are_not_data(parsed) -> None:
    staged, quarantined = parsed["blank"]
    assert len(staged) == 2
    assert quarantined == []


def test_header_is_split_on_runs_of_spaces_without_carriage_returns() -> None:
    assert parse_header("  version  srcaddr end\r") == ("version", "srcaddr", "end")
    assert parse_header("") == ("",)


def test_files_of_different_headers_in_one_run_are_each_parsed_by_their_own(parsed) -> None:
    names = ("mixed-a.log", "mixed-b.log.gz", "mixed-c.log")
    staged = sorted(
        (row for name in names for row in parsed[name][0]),
        key=lambda row: (row.interface_id, row.protocol),
    )
    # Four records (the blank line is none); the run's count of records read is checked
    # against all of its rows where they are parsed.
    (bad,) = [row for name in names for row in parsed[name][1]]
    assert [(row.interface_id, row.protocol, row.line_number) for row in staged] == [
        ("eni-1", 6, 2),
        ("eni-1", 17, 2),
        ("eni-3", 6, 2),
    ]
    assert [row.extra_fields for row in staged] == [{}, {"future-field": "x1"}, {}]
    assert (bad.reason, bad.line_number, bad.source_file.endswith("mixed-a.log")) == (
        "unknown_action",
        4,
        True,
    )


def test_raw_lines_are_numbered_from_the_header_without_carriage_returns(spark, tmp_path) -> None:
    path = tmp_path / "f.log.gz"
    path.write_bytes(gzip.compress(b"h1 h2\r\na b\r\n\r\nc\rd\n"))
    texts, _ = read_texts(spark, [RawObject(str(path), 0, date(2024, 5, 6))], 0)
    rows = read_raw_lines(texts).collect()
    assert [(row.line_number, row.raw_line) for row in rows] == [
        (1, "h1 h2"),
        (2, "a b"),
        (3, ""),
        (4, "cd"),
        (5, ""),
    ]


def test_a_first_line_that_is_data_is_never_used_as_a_header() -> None:
    problem = PARSER.classify(OK_LINE)
    assert isinstance(problem, ObjectProblem)
    assert problem.reason == "missing_header"
    assert PARSER.classify(V2) == parse_header(V2)
    assert PARSER.classify(CUSTOM) == parse_header(CUSTOM)
    assert isinstance(PARSER.classify("vpc-0abc eni-1 ingress egress"), ObjectProblem)


def test_flows_dated_where_athena_cannot_see_them_are_quarantined(parsed) -> None:
    staged, quarantined = parsed["dates.log"]
    assert [row.line_number for row in staged] == [2]
    rows = sorted(quarantined, key=lambda row: row.line_number)
    assert [(row.line_number, row.reason) for row in rows] == [
        (3, "date_out_of_range"),
        (4, "date_out_of_range"),
    ]
    assert "flow dated 1999-12-31, outside the days Athena projects (2000-01-01 to 2024-06-01)" in (
        rows[0].detail
    )
