"""run-local on generated CloudTrail logs, checked to the row against an independent computation.

The oracle below is written here, in plain Python, straight from CloudTrail's record format and
the issue's rules; it calls neither the job code nor the generator's own prediction, so a
mistake shared by both cannot pass unnoticed. It decides for itself which objects are logs (the
digests beside them are not).

run-local runs once, for this data set, through its command line in this process, on the
SparkSession the Spark tests share (:mod:`tests.local_runs`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dataops import cloudtrail_sample_data
from dataops.project import PROJECT_ROOT
from tests.local_runs import run_local, table

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.dataset("cloudtrail")]

RECORDS = 400
LOG_OBJECT = re.compile(r"^AWSLogs/\d{12}/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/[^/]+\.json\.gz$")
EVENT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
FIRST_VISIBLE_DAY = dt.date(2000, 1, 1)
STAGED_COLUMNS = (
    "source_file, line_number, event_time, event_source, event_name, aws_region, "
    "source_ip_address, user_agent, user_identity_type, user_identity_arn, "
    "user_identity_account_id, user_identity_principal_id, error_code, error_message, "
    "request_parameters, request_id, event_id, read_only, recipient_account_id, dt"
)
MART_COLUMNS = "dt, event_source, event_name, calls, failed_calls, principals, source_ips"


@dataclass
class Oracle:
    """What the data workflow must make of the raw objects."""

    read: int = 0
    staged: list[tuple] = field(default_factory=list)
    quarantined: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    callers: defaultdict = field(default_factory=lambda: defaultdict(set))
    addresses: defaultdict = field(default_factory=lambda: defaultdict(set))

    def mart(self) -> list[tuple]:
        return sorted(
            (*key, calls, self.failed[key], len(self.callers[key]), len(self.addresses[key]))
            for key, calls in self.calls.items()
        )


def event_time(text: object) -> dt.datetime | None:
    """The record's time in UTC (naive), or None when it is not an ISO 8601 time."""
    if not isinstance(text, str) or not EVENT_TIME.match(text):
        return None
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        return None


def read_only(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(str(value).lower())


def json_text(value: object) -> str | None:
    """A JSON value as comparable text (keys sorted); None for a missing or null one."""
    return None if value is None else json.dumps(value, sort_keys=True)


def reason_for(record: object, today: dt.date) -> str | None:
    if not isinstance(record, dict):
        return "not_an_object"
    if record.get("eventTime") is None:
        return "missing_event_time"
    when = event_time(record["eventTime"])
    if when is None:
        return "invalid_event_time"
    if record.get("eventSource") is None or record.get("eventName") is None:
        return "missing_required_fields"
    if not FIRST_VISIBLE_DAY <= when.date() <= today:
        return "date_out_of_range"
    return None


def stage(oracle: Oracle, name: str, number: int, record: dict) -> None:
    when = event_time(record["eventTime"])
    assert when is not None
    identity = record.get("userIdentity") or {}
    oracle.staged.append(
        (
            name,
            number,
            when,
            record["eventSource"],
            record["eventName"],
            record.get("awsRegion"),
            record.get("sourceIPAddress"),
            record.get("userAgent"),
            identity.get("type"),
            identity.get("arn"),
            identity.get("accountId"),
            identity.get("principalId"),
            record.get("errorCode"),
            record.get("errorMessage"),
            json_text(record.get("requestParameters")),
            record.get("requestID"),
            record.get("eventID"),
            read_only(record.get("readOnly")),
            record.get("recipientAccountId"),
            when.date(),
        )
    )
    key = (when.date(), record["eventSource"], record["eventName"])
    oracle.calls[key] += 1
    oracle.failed[key] += "errorCode" in record
    # A caller is its ARN, or its identity type when it has none (an AWS service).
    caller = identity.get("arn") or identity.get("type")
    if caller is not None:
        oracle.callers[key].add(caller)
    if record.get("sourceIPAddress") is not None:
        oracle.addresses[key].add(record["sourceIPAddress"])


def compute(raw: Path, today: dt.date) -> Oracle:
    oracle = Oracle()
    for path in sorted(raw.rglob("*.json.gz")):
        name = path.relative_to(raw).as_posix()
        if not LOG_OBJECT.match(name):
            continue
        try:
            document = json.loads(gzip.decompress(path.read_bytes()))
        except ValueError:
            document = None
        records = document.get("Records") if isinstance(document, dict) else None
        if not isinstance(records, list):
            # An object rejected whole holds no record.
            oracle.quarantined["invalid_json" if document is None else "missing_records"] += 1
            continue
        for number, record in enumerate(records, start=1):
            oracle.read += 1
            reason = reason_for(record, today)
            if reason:
                oracle.quarantined[reason] += 1
            else:
                stage(oracle, name, number, record)
    return oracle


@pytest.fixture(scope="module")
def outcome(spark, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cloudtrail-e2e")
    raw, warehouse = root / "raw", root / "warehouse"
    data = cloudtrail_sample_data.generate(raw, RECORDS, seed=29)
    code, output = run_local(spark, raw, warehouse, "--dataset", "cloudtrail")
    oracle = compute(raw, dt.datetime.now(dt.UTC).date())
    return Outcome(raw, warehouse, data, oracle, code, output)


@dataclass(frozen=True)
class Outcome:
    raw: Path
    warehouse: Path
    data: cloudtrail_sample_data.CloudTrailSampleData
    oracle: Oracle
    code: int
    output: str


def steps(output: str) -> dict[str, str]:
    """The summary's steps: each one's rows in, by data set and job."""
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("step "))
    found = {}
    for line in lines[header + 1 : lines.index("", header)]:
        name, rows_in, *_ = line.split()
        found[name] = rows_in
    return found


def test_run_local_runs_the_data_set_and_every_check_passes(outcome) -> None:
    assert outcome.code == 0, outcome.output
    found = steps(outcome.output)
    assert found == {
        "cloudtrail.staging": f"{RECORDS:,}",
        "cloudtrail.mart": f"{len(outcome.oracle.staged):,}",
    }, outcome.output
    lines = outcome.output.splitlines()
    data_tests = len(list((PROJECT_ROOT / "data_tests" / "cloudtrail").glob("*.sql")))
    assert "contract checks: passed" in lines, outcome.output
    assert f"data tests: {data_tests} passed, 0 failed" in lines, outcome.output


def test_every_staged_row_equals_the_independent_computation(outcome) -> None:
    assert outcome.oracle.read == RECORDS
    found = []
    for source_file, *columns in table(outcome.warehouse, "staging_raw_cloudtrail", STAGED_COLUMNS):
        parameters = columns[13]
        columns[13] = json_text(None if parameters is None else json.loads(parameters))
        found.append((source_file.split(f"{outcome.raw}/", 1)[1], *columns))
    assert sorted(found) == sorted(outcome.oracle.staged)


def test_the_mart_equals_the_independent_computation_to_the_row(outcome) -> None:
    found = table(outcome.warehouse, "cloudtrail_api_activity", MART_COLUMNS)
    assert found == outcome.oracle.mart()


def test_bad_records_and_objects_are_quarantined_and_digests_never_read(outcome) -> None:
    raw, warehouse, oracle = outcome.raw, outcome.warehouse, outcome.oracle
    reasons = dict(table(warehouse, "quarantine_cloudtrail", "reason, count(*)", "GROUP BY reason"))
    assert reasons == dict(oracle.quarantined)
    assert set(reasons) == {"missing_event_time"}
    assert list(raw.glob("AWSLogs/*/CloudTrail-Digest/*/*/*/*/*.json.gz"))
    sources = table(warehouse, "staging_raw_cloudtrail", "DISTINCT source_file")
    sources += table(warehouse, "quarantine_cloudtrail", "DISTINCT source_file")
    assert not [source for (source,) in sources if "CloudTrail-Digest" in source]


def test_the_generators_prediction_holds(outcome) -> None:
    """What the integration run checks a deployed mart against."""
    rows = outcome.data.expected_rows()["cloudtrail_api_activity"]
    found = table(outcome.warehouse, "cloudtrail_api_activity", MART_COLUMNS)
    assert found == [tuple(row.values()) for row in rows]
