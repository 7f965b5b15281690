"""The CloudTrail staging job on small hand-written objects, and the mart's SQL model on
hand-written staged rows.

The objects are staged together in one run of the real job (the framework's listing, triage
and unreadable-object handling included), as a batch of a deployed run would be: a run costs
about a second of Spark planning and scheduling whatever its size.
"""

from __future__ import annotations

import datetime as dt
import gzip
import importlib.resources
import json
from pathlib import Path

import duckdb
import pytest

from dataops.job_contexts import job_context
from dataops.local_runner import local_locations
from jobkit.context import JobResult, RawLayout
from jobkit.raw_source import list_delivered
from jobkit.runner import run_job
from jobkit.storage import LocalStorage
from jobkit.tables import local_rows

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.dataset("cloudtrail")]

ACCOUNT = "111122223333"
DAY = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/05/06"
DIGESTS = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/06"
STAGED, QUARANTINE = "staging_raw_cloudtrail", "quarantine_cloudtrail"
USER = {
    "type": "IAMUser",
    "principalId": "AIDAJ45Q7YFFAREXAMPLE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/Alice",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "userName": "Alice",
}
ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAIDPPEZS35WEXAMPLE:deploy",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/deploy",
    "accountId": ACCOUNT,
    "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Deployer"}},
}
PARAMETERS = {"bucketName": "app-data", "filter": {"prefix": "a b", "keys": [1, "two", None]}}


def event(time: str | None = "2024-05-06T10:00:00Z", **fields: object) -> dict[str, object]:
    """A CloudTrail record: a read-only EC2 call by Alice unless ``fields`` say otherwise."""
    record: dict[str, object] = {
        "eventVersion": "1.09",
        "userIdentity": USER,
        "eventTime": time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.30",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "req-1",
        "eventID": "evt-1",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    record.update(fields)
    if time is None:
        del record["eventTime"]
    return record


def log(*records: object) -> str:
    return json.dumps({"Records": list(records)})


TOMORROW = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
VALID = [
    event(requestParameters=PARAMETERS, eventID="full"),
    event(userIdentity=ROLE, errorCode="AccessDenied", errorMessage="Access Denied",
          readOnly="false", eventID="failed"),
    event(userIdentity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
          sourceIPAddress="ec2.amazonaws.com", readOnly=None, eventID="service"),
    event("2024-05-06T23:30:00.250-02:00", eventID="offset"),
]  # fmt: skip
# Each bad record, its 1-based position, and what staging must say of it.
BAD = [
    (event(None), 2, "missing_event_time", "the record has no eventTime"),
    (event("2024-05-06"), 3, "invalid_event_time", "eventTime '2024-05-06' is not an ISO"),
    (event("2024-02-30T00:00:00Z"), 4, "invalid_event_time", "'2024-02-30T00:00:00Z'"),
    (event(eventName=None), 5, "missing_required_fields", "the record has no eventName"),
    ("a string", 6, "not_an_object", "record 6 is not a JSON object"),
    (event("1999-12-31T23:59:59Z"), 7, "date_out_of_range", "event dated 1999-12-31"),
    (event(TOMORROW), 8, "date_out_of_range", "outside the days Athena projects"),
]
CUT_SHORT = log(event(), event())[:150]
# Every hand-written object: its name in the day's folder and its text.
OBJECTS = {
    "valid": log(*VALID),
    "bad-records": log(event(eventID="good"), *(record for record, *_ in BAD)),
    "cut-short": CUT_SHORT,
    "not-json": "<Error><Code>AccessDenied</Code></Error>",
    "no-records": json.dumps({"logFiles": []}),
    "empty-records": log(),
}


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def rows(warehouse: Path, table: str) -> list[dict[str, object]]:
    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{warehouse / table}/**/*.parquet', hive_partitioning = true)"
    )
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def named(found: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return sorted(
        (row for row in found if str(row["source_file"]).endswith(f"/{name}.json.gz")),
        key=lambda row: row["line_number"],
    )


@pytest.fixture(scope="module")
def staged(spark, project, tmp_path_factory: pytest.TempPathFactory):
    """The staging job's result and tables after one run over every hand-written object, a
    truncated gzip object and a digest beside them."""
    raw, warehouse = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("warehouse")
    for name, text in OBJECTS.items():
        write(raw / DAY / f"{name}.json.gz", gzip.compress(text.encode()))
    many = gzip.compress(log(*(event(eventID=str(n)) for n in range(200))).encode())
    write(raw / DAY / "truncated.json.gz", many[: len(many) // 2])
    # A digest lists the logs; as a log it would be quarantined (it has no Records).
    digest = {"awsAccountId": ACCOUNT, "logFiles": [{"s3Object": f"{DAY}/valid.json.gz"}]}
    write(raw / DIGESTS / f"{ACCOUNT}_CloudTrail-Digest_x.json.gz", gzip.compress(
        json.dumps(digest).encode()))  # fmt: skip
    dataset = project.datasets["cloudtrail"]
    context = job_context(
        dataset, dataset.job_graph.job("staging"), local_locations(raw, warehouse), "b1"
    )
    result: JobResult = run_job(spark, context)
    return raw, result, rows(warehouse, STAGED), rows(warehouse, QUARANTINE)


def test_the_layout_lists_the_logs_and_never_the_digests_beside_them(staged, project) -> None:
    raw = staged[0]
    spec = project.datasets["cloudtrail"].spec.raw
    layout = RawLayout(spec.layout, tuple(spec.suffixes), spec.lateness_days)
    listed = list_delivered(LocalStorage(), f"{raw}/AWSLogs/", layout)
    assert sorted(Path(item.uri).name for item in listed) == sorted(
        [*(f"{name}.json.gz" for name in OBJECTS), "truncated.json.gz"]
    )
    assert (raw / DIGESTS).is_dir()


def test_counts_records_read_as_staged_plus_quarantined(staged) -> None:
    _, result, staged_rows, quarantined = staged
    # 4 valid records, 8 in bad-records, none in empty-records: the 3 objects rejected whole
    # once read and the truncated one hold no record and count as objects quarantined.
    assert (result.rows_in, result.rows_out, result.rows_quarantined) == (12, 5, 7)
    assert result.objects_quarantined == 4
    assert len(staged_rows) == 5
    assert len(quarantined) == 11
    assert not [row for row in staged_rows + quarantined if "Digest" in str(row["source_file"])]


def test_a_valid_record_is_flattened_with_its_lineage(staged) -> None:
    _, _, staged_rows, _ = staged
    full = named(staged_rows, "valid")[0]
    assert {k: v for k, v in full.items() if k not in {"source_file", "request_parameters"}} == {
        "event_time": dt.datetime(2024, 5, 6, 10, 0),
        "event_source": "ec2.amazonaws.com",
        "event_name": "DescribeInstances",
        "aws_region": "us-east-1",
        "source_ip_address": "198.51.100.7",
        "user_agent": "aws-cli/2.15.30",
        "user_identity_type": "IAMUser",
        "user_identity_arn": USER["arn"],
        "user_identity_account_id": ACCOUNT,
        "user_identity_principal_id": USER["principalId"],
        "error_code": None,
        "error_message": None,
        "request_id": "req-1",
        "event_id": "full",
        "read_only": True,
        "recipient_account_id": ACCOUNT,
        "line_number": 1,
        "ingested_at": full["ingested_at"],
        "ingest_batch_id": "b1",
        "dt": dt.date(2024, 5, 6),
    }
    # A nested object is kept as its JSON text.
    assert json.loads(str(full["request_parameters"])) == PARAMETERS


def test_errors_missing_arns_readonly_strings_and_offsets(staged) -> None:
    _, _, staged_rows, _ = staged
    by_id = {row["event_id"]: row for row in named(staged_rows, "valid")}
    failed, service, offset = by_id["failed"], by_id["service"], by_id["offset"]
    assert (failed["error_code"], failed["error_message"]) == ("AccessDenied", "Access Denied")
    assert (failed["read_only"], failed["request_parameters"]) == (False, None)
    assert failed["user_identity_principal_id"] == ROLE["principalId"]
    assert (service["user_identity_type"], service["user_identity_arn"]) == ("AWSService", None)
    assert (service["source_ip_address"], service["read_only"]) == ("ec2.amazonaws.com", None)
    # 23:30 at UTC-2 is 01:30 UTC the next day: dt is the UTC date.
    assert offset["event_time"] == dt.datetime(2024, 5, 7, 1, 30, 0, 250000)
    assert offset["dt"] == dt.date(2024, 5, 7)


@pytest.mark.parametrize(("record", "line", "reason", "detail"), BAD)
def test_every_bad_record_is_quarantined_with_its_reason(
    staged, record, line, reason, detail
) -> None:
    _, _, staged_rows, quarantined = staged
    assert [row["event_id"] for row in named(staged_rows, "bad-records")] == ["good"]
    (row,) = [row for row in named(quarantined, "bad-records") if row["line_number"] == line]
    assert (row["reason"], row["object_bytes"], row["dt"]) == (reason, None, dt.date(2024, 5, 6))
    assert detail in row["detail"]
    # A record's JSON text; a string in Records comes as its value.
    raw_line = str(row["raw_line"])
    assert (raw_line if isinstance(record, str) else json.loads(raw_line)) == record


@pytest.mark.parametrize(
    ("name", "reason", "start"),
    [
        ("cut-short", "invalid_json", CUT_SHORT),
        ("not-json", "invalid_json", OBJECTS["not-json"]),
        ("no-records", "missing_records", OBJECTS["no-records"]),
    ],
)
def test_an_object_that_is_not_a_cloudtrail_log_is_quarantined_whole(
    staged, name, reason, start
) -> None:
    _, _, _, quarantined = staged
    (row,) = named(quarantined, name)
    assert (row["line_number"], row["reason"], row["raw_line"]) == (0, reason, start)
    assert row["dt"] == dt.date(2024, 5, 6)
    size = Path(str(row["source_file"]).removeprefix("file://")).stat().st_size
    assert row["object_bytes"] == size


def test_empty_records_stage_nothing(staged) -> None:
    _, _, staged_rows, quarantined = staged
    assert named(staged_rows, "empty-records") == named(quarantined, "empty-records") == []


def test_a_truncated_gzip_object_is_quarantined_whole_by_the_framework(staged) -> None:
    raw, _, _, quarantined = staged
    (row,) = named(quarantined, "truncated")
    assert (row["line_number"], row["reason"]) == (0, "unreadable_object")
    assert row["object_bytes"] == (raw / DAY / "truncated.json.gz").stat().st_size


# The mart's SQL model ----------------------------------------------------------------------

STAGED_COLUMNS = "dt, event_source, event_name, user_identity_type, user_identity_arn, " \
    "source_ip_address, error_code"  # fmt: skip
D1, D2 = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
ALICE, BOB = "arn:aws:iam::1:user/alice", "arn:aws:iam::1:user/bob"
S3, KMS = "s3.amazonaws.com", "kms.amazonaws.com"
# Staged rows: (dt, event_source, event_name, type, arn, source address, error code).
MODEL_INPUT = [
    (D1, S3, "ListBuckets", "IAMUser", ALICE, "198.51.100.1", None),
    (D1, S3, "ListBuckets", "IAMUser", ALICE, "198.51.100.2", "AccessDenied"),
    (D1, S3, "ListBuckets", "IAMUser", BOB, "198.51.100.1", None),
    (D1, S3, "ListBuckets", "AWSService", None, "s3.amazonaws.com", None),
    (D1, S3, "ListBuckets", "AWSService", None, "s3.amazonaws.com", "ThrottlingException"),
    (D1, S3, "ListBuckets", "Root", "arn:aws:iam::1:root", None, None),
    (D1, KMS, "Decrypt", "AWSService", None, "s3.amazonaws.com", None),
    (D2, S3, "ListBuckets", "IAMUser", ALICE, "198.51.100.1", None),
]
# By hand: ListBuckets on day 1 has 6 calls, 2 with an error code, 4 callers (alice, bob, the
# AWSService type, root) and 3 addresses (the missing one is not an address).
MODEL_OUTPUT = [
    (D1, KMS, "Decrypt", 1, 0, 1, 1),
    (D1, S3, "ListBuckets", 6, 2, 4, 3),
    (D2, S3, "ListBuckets", 1, 0, 1, 1),
]


def test_the_mart_model_counts_calls_failures_callers_and_addresses(spark) -> None:
    local_rows(
        spark,
        MODEL_INPUT,
        "dt DATE, event_source STRING, event_name STRING, user_identity_type STRING, "
        "user_identity_arn STRING, source_ip_address STRING, error_code STRING",
    ).createOrReplaceTempView(STAGED)
    model = importlib.resources.files("cloudtrail").joinpath("models/cloudtrail_api_activity.sql")
    result = spark.sql(model.read_text("utf-8")).selectExpr(
        "dt", "event_source", "event_name", "calls", "failed_calls", "principals", "source_ips"
    )
    assert sorted(tuple(row) for row in result.collect()) == MODEL_OUTPUT
