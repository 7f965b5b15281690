"""Realistic CloudTrail log files, deterministic for a seed (the CloudTrail data set's sample
data, see :mod:`dataops.samples`).

A trail delivers one gzip JSON object, ``{"Records": [...]}``, every few minutes per account and
region, named ``<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz`` under the folder
of its delivery date, and digests of them under ``CloudTrail-Digest/`` beside it. The generator
writes both, from a small estate of accounts, people, workloads and AWS services calling a
catalogue of real API actions (some failing with the error codes those services return), and
predicts in the same pass what the data workflow must make of them (``expected_rows``). Fewer,
larger objects than a trail's keep a local run quick.

What the staging job must quarantine: records without ``eventTime``. Objects broken whole (not
JSON, cut short) are not generated: a run that quarantines one needs a person's attention and
exits 1, which sample data must not cause; the staging tests write them by hand. Late records:
the last window of a day is delivered in the next day's folder, and a few events are an hour
older than the window they are delivered with.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import gzip
import hashlib
import itertools
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

MART_TABLE = "cloudtrail_api_activity"
DEFAULT_START = dt.date(2024, 5, 6)
SECONDS_PER_DAY = 86_400
MIN_RECORDS = 60
ESTATE_SEED = 20240506  # accounts, people and roles stay the same across seeds
REGIONS = ("us-east-1", "eu-west-1")
TRAIL = "management-events"
TRAIL_BUCKET = "example-org-cloudtrail"
RECORDS_PER_OBJECT = 1_000
MAX_OBJECTS_PER_DAY = 24
MISSING_TIME_SHARE = 0.003
FAILED_SHARE = 0.06
LATE_SHARE = 0.01
ROOT_SHARE = 0.01
SERVICE_SHARE = 0.35
EPOCH = dt.date(1970, 1, 1)
JSON_SEPARATORS = (",", ":")
SIGN_IN = "ConsoleLogin"

# Quarantine reason codes, as the staging job writes them.
MISSING_EVENT_TIME = "missing_event_time"
QUARANTINE_REASONS = (MISSING_EVENT_TIME,)

Parameters = Callable[[random.Random, "_Account", str], dict[str, Any] | None]


class StagedRecord(NamedTuple):
    """Where a record the staging job must stage is, and its day."""

    source_file: Path
    line_number: int
    event_id: str
    dt: dt.date


@dataclass(frozen=True)
class _Event:
    """One API action of the catalogue."""

    source: str
    name: str
    read_only: bool
    weight: int
    parameters: Parameters
    # AWS services that make this call themselves (userIdentity type AWSService, no ARN).
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Caller:
    """An identity, the tools it calls with and the addresses it calls from."""

    identity: dict[str, Any]
    agents: tuple[str, ...]
    addresses: tuple[str, ...]

    @functools.cached_property
    def identity_json(self) -> str:
        """The userIdentity element's text, encoded once: it is a third of a record's."""
        return json.dumps(self.identity, separators=JSON_SEPARATORS)

    @property
    def principal(self) -> str:
        """Who the mart counts as the caller: the ARN, or the type of an identity without."""
        return self.identity.get("arn") or self.identity["type"]


@dataclass(frozen=True)
class _Account:
    """One account of the estate: who calls its APIs, and a few of its resources."""

    id: str
    people: tuple[_Caller, ...]
    workloads: tuple[_Caller, ...]
    root: _Caller
    buckets: tuple[str, ...]
    roles: tuple[str, ...]
    instances: tuple[str, ...]
    key_id: str

    @functools.cached_property
    def callers(self) -> tuple[_Caller, ...]:
        return self.people + self.workloads


def _upper_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(string.ascii_uppercase + string.digits, k=17))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _uuid(rng: random.Random) -> str:
    """A random (version 4) UUID, spelled out directly: uuid.UUID takes several times longer."""
    bits = rng.getrandbits(128) & ~(0xF << 76 | 0x3 << 62) | (0x4 << 76 | 0x2 << 62)
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _pick(rng: random.Random, options: tuple[Any, ...]) -> Any:
    """``rng.choice``, faster (one draw of ``random()``)."""
    return options[int(rng.random() * len(options))]


# Tools that call AWS, as their user agents read.
CLI = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.79-99.167.amzn2023.x86_64 "
    "md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard "
    "md/installer#exe md/distrib#amzn.2023 md/prompt#off"
)
BOTO3 = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 "
    "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 "
    "cfg/retry-mode#legacy Botocore/1.34.69"
)
TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) "
    "terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64"
)
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
CONSOLE = "AWS Internal"


def _iam_user(rng: random.Random, account: str, name: str, addresses: tuple[str, ...]) -> _Caller:
    identity = {
        "type": "IAMUser",
        "principalId": _upper_id(rng, "AIDA"),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": _upper_id(rng, "AKIA"),
        "userName": name,
    }
    return _Caller(identity, (CLI, TERRAFORM), addresses)


def _role_session(
    rng: random.Random,
    account: str,
    role: str,
    session: str,
    *,
    agents: tuple[str, ...],
    addresses: tuple[str, ...],
) -> _Caller:
    role_id = _upper_id(rng, "AROA")
    identity = {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": _upper_id(rng, "ASIA"),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }
    return _Caller(identity, agents, addresses)


def _estate() -> tuple[_Account, ...]:
    """Three accounts: people (IAM users, single sign-on sessions), workloads (a legacy CI user,
    deploy and workload roles) and the root user; addresses from the documentation ranges
    (RFC 5737) and private ones for calls through VPC endpoints."""
    rng = random.Random(ESTATE_SEED)  # noqa: S311 (test data, not secrets)
    offices = tuple(f"198.51.100.{rng.randrange(1, 255)}" for _ in range(6))
    homes = tuple(f"192.0.2.{rng.randrange(1, 255)}" for _ in range(10))
    runners = tuple(f"203.0.113.{rng.randrange(1, 255)}" for _ in range(8))
    accounts = []
    for _ in range(3):
        account = str(rng.randrange(10**11, 10**12))
        nat = tuple(f"203.0.113.{rng.randrange(1, 255)}" for _ in range(2))
        endpoints = tuple(f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                          for _ in range(3))  # fmt: skip
        sso_role = f"AWSReservedSSO_AdministratorAccess_{_hex(rng, 16)}"
        people = [_iam_user(rng, account, name, offices + homes) for name in ("alice", "bob")]
        people += [
            _role_session(
                rng, account, sso_role, person, agents=(CONSOLE, CLI), addresses=offices + homes
            )
            for person in ("carol@example.com", "dan@example.com")
        ]
        instance = f"i-0{_hex(rng, 16)}"
        workloads = [
            _iam_user(rng, account, "ci-legacy", runners),
            _role_session(
                rng, account, "github-actions-deploy", "GitHubActions",
                agents=(TERRAFORM, CLI), addresses=runners,
            ),
            _role_session(
                rng, account, "orders-api-lambda", "orders-api",
                agents=(BOTO3,), addresses=nat + endpoints,
            ),
            _role_session(
                rng, account, "app-instance", instance,
                agents=(BOTO3, CLI), addresses=nat + endpoints,
            ),
        ]  # fmt: skip
        root = _Caller(
            {
                "type": "Root",
                "principalId": account,
                "arn": f"arn:aws:iam::{account}:root",
                "accountId": account,
                "accessKeyId": "",
            },
            (CONSOLE,),
            offices,
        )
        accounts.append(
            _Account(
                id=account,
                people=tuple(people),
                workloads=tuple(workloads),
                root=root,
                buckets=tuple(f"{kind}-{account}" for kind in ("app-data", "terraform-state")),
                roles=(sso_role, "github-actions-deploy", "orders-api-lambda", "app-instance"),
                instances=tuple(f"i-0{_hex(rng, 16)}" for _ in range(4)),
                key_id=_uuid(rng),
            )
        )
    return tuple(accounts)


def _bucket(rng: random.Random, account: _Account, _: str) -> dict[str, Any]:
    bucket = _pick(rng, account.buckets)
    return {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "location": ""}


def _key(rng: random.Random, account: _Account, region: str) -> dict[str, Any]:
    key = f"arn:aws:kms:{region}:{account.id}:key/{account.key_id}"
    if rng.random() < 0.5:
        return {"keyId": key, "keySpec": "AES_256"}
    bucket = _pick(rng, account.buckets)
    return {
        "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{bucket}/exports/part-0000.parquet"},
    }


# The catalogue: management events of the services a small team uses, weighted as often called.
EVENTS: tuple[_Event, ...] = (
    _Event(
        "ec2.amazonaws.com",
        "DescribeInstances",
        True,
        30,
        lambda r, a, g: {"instancesSet": {}, "filterSet": {}},
    ),
    _Event(
        "ec2.amazonaws.com",
        "DescribeSecurityGroups",
        True,
        10,
        lambda r, a, g: {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}},
    ),
    _Event(
        "ec2.amazonaws.com",
        "RunInstances",
        False,
        2,
        lambda r, a, g: {
            "instancesSet": {
                "items": [{"imageId": f"ami-0{_hex(r, 16)}", "minCount": 1, "maxCount": 1}]
            },
            "instanceType": _pick(r, ("t3.micro", "m7g.large")),
        },
    ),
    _Event(
        "ec2.amazonaws.com",
        "CreateTags",
        False,
        4,
        lambda r, a, g: {
            "resourcesSet": {"items": [{"resourceId": _pick(r, a.instances)}]},
            "tagSet": {"items": [{"key": "team", "value": "data"}]},
        },
        services=("autoscaling.amazonaws.com",),
    ),
    _Event(
        "s3.amazonaws.com", "ListBuckets", True, 8, lambda r, a, g: {"Host": "s3.amazonaws.com"}
    ),
    _Event(
        "s3.amazonaws.com",
        "GetBucketLocation",
        True,
        10,
        _bucket,
        services=("cloudtrail.amazonaws.com",),
    ),
    _Event("s3.amazonaws.com", "PutBucketPolicy", False, 1, _bucket),
    _Event("iam.amazonaws.com", "ListRoles", True, 5, lambda r, a, g: None),
    _Event(
        "iam.amazonaws.com", "GetRole", True, 6, lambda r, a, g: {"roleName": _pick(r, a.roles)}
    ),
    _Event(
        "iam.amazonaws.com",
        "AttachRolePolicy",
        False,
        1,
        lambda r, a, g: {
            "roleName": _pick(r, a.roles),
            "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        },
    ),
    _Event(
        "sts.amazonaws.com",
        "AssumeRole",
        True,
        12,
        lambda r, a, g: {
            "roleArn": f"arn:aws:iam::{a.id}:role/{_pick(r, a.roles)}",
            "roleSessionName": f"botocore-session-{r.randrange(10**9, 10**10)}",
            "durationSeconds": 3600,
        },
        services=("lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com"),
    ),
    _Event("sts.amazonaws.com", "GetCallerIdentity", True, 8, lambda r, a, g: None),
    _Event(
        "kms.amazonaws.com",
        "Decrypt",
        True,
        15,
        _key,
        services=("s3.amazonaws.com", "secretsmanager.amazonaws.com"),
    ),
    _Event(
        "kms.amazonaws.com",
        "GenerateDataKey",
        True,
        8,
        _key,
        services=("s3.amazonaws.com", "cloudtrail.amazonaws.com"),
    ),
    _Event(
        "logs.amazonaws.com",
        "CreateLogStream",
        False,
        6,
        lambda r, a, g: {
            "logGroupName": "/aws/lambda/orders-api",
            "logStreamName": f"[$LATEST]{_hex(r, 32)}",
        },
    ),
    _Event("lambda.amazonaws.com", "ListFunctions20150331", True, 3, lambda r, a, g: None),
    _Event("cloudtrail.amazonaws.com", "LookupEvents", True, 2, lambda r, a, g: {"maxResults": 50}),
    _Event(
        "monitoring.amazonaws.com", "DescribeAlarms", True, 4, lambda r, a, g: {"maxRecords": 100}
    ),
    _Event("signin.amazonaws.com", SIGN_IN, False, 2, lambda r, a, g: None),
)
CUMULATIVE_WEIGHTS = tuple(itertools.accumulate(event.weight for event in EVENTS))
SIGN_IN_EVENT = next(event for event in EVENTS if event.name == SIGN_IN)
# Per service: how a refused call fails, and another way calls fail.
DENIED: dict[str, tuple[str, str]] = {
    "ec2.amazonaws.com": (
        "Client.UnauthorizedOperation",
        "You are not authorized to perform this operation. User: {arn} is not authorized to "
        "perform: ec2:{action} because no identity-based policy allows the ec2:{action} action",
    ),
    "s3.amazonaws.com": ("AccessDenied", "Access Denied"),
    "kms.amazonaws.com": (
        "AccessDeniedException",
        "User: {arn} is not authorized to perform: kms:{action} on this resource because the "
        "resource does not exist in this Region, no resource-based policies allow access, or a "
        "resource-based policy explicitly denies access",
    ),
}
DENIED_DEFAULT = (
    "AccessDenied",
    "User: {arn} is not authorized to perform: {prefix}:{action} because no identity-based "
    "policy allows the {prefix}:{action} action",
)
THROTTLED: dict[str, tuple[str, str]] = {
    "ec2.amazonaws.com": ("Client.RequestLimitExceeded", "Request limit exceeded."),
    "iam.amazonaws.com": (
        "NoSuchEntityException",
        "The role with name deleted-role cannot be found.",
    ),
}
THROTTLED_DEFAULT = ("ThrottlingException", "Rate exceeded")


@dataclass
class _Activity:
    """The mart's counters of one (day, event source, event name)."""

    calls: int = 0
    failed: int = 0
    principals: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)


@dataclass
class CloudTrailSampleData:
    """What was written, and what the data workflow must make of it."""

    out_dir: Path
    files: list[Path]
    log_files: list[Path]
    digest_files: list[Path]
    data_lines: int
    malformed_by_reason: dict[str, int]
    staged_records: list[StagedRecord]
    activity: dict[tuple[int, str, str], _Activity] = field(repr=False)

    def expected_rows(self) -> dict[str, list[dict[str, object]]]:
        """The mart's rows by the mart's name, sorted by its grain (see
        :class:`dataops.samples.SampleData`)."""
        return {
            MART_TABLE: [
                {
                    "dt": EPOCH + dt.timedelta(days=day),
                    "event_source": source,
                    "event_name": name,
                    "calls": counts.calls,
                    "failed_calls": counts.failed,
                    "principals": len(counts.principals),
                    "source_ips": len(counts.addresses),
                }
                for (day, source, name), counts in sorted(self.activity.items())
            ]
        }


@dataclass(frozen=True)
class _ObjectPlan:
    """One log object: where it goes, whose events of which window, which records lack a
    time, and whether it opens with the root user signing in."""

    path: Path
    account: _Account
    region: str
    window_start: int
    window_end: int
    records: int
    missing_time: frozenset[int]
    root_sign_in: bool


def _delivered(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _log_path(
    out_dir: Path, account: str, region: str, delivered: dt.datetime, rng: random.Random
) -> Path:
    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
    name = f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    return out_dir / "AWSLogs" / account / "CloudTrail" / region / f"{delivered:%Y/%m/%d}" / name


def _plan(out_dir: Path, records: int, seed: int, days: int, start: dt.date) -> list[_ObjectPlan]:
    """Split ``records`` over each account and region's deliveries: several windows a day, each
    delivered 5 to 12 minutes after it ends (the last one of a day in the next day's folder)."""
    rng = random.Random(f"plan-{seed}")  # noqa: S311
    streams = [(account, region) for account in _estate() for region in REGIONS]
    per_day = min(
        MAX_OBJECTS_PER_DAY, max(1, records // (days * len(streams) * RECORDS_PER_OBJECT))
    )
    windows = days * per_day * len(streams)
    base, extra = divmod(records, windows)
    missing = set(rng.sample(range(records), max(2, round(records * MISSING_TIME_SHARE))))
    day0 = (start - EPOCH).days * SECONDS_PER_DAY
    width = SECONDS_PER_DAY // per_day
    plans, first = [], 0
    for index in range(windows):
        (account, region), slot = streams[index % len(streams)], index // len(streams)
        window_start = day0 + slot * width
        count = base + (1 if index < extra else 0)
        delivered = _delivered(window_start + width + rng.randrange(300, 720))
        plans.append(
            _ObjectPlan(
                path=_log_path(out_dir, account.id, region, delivered, rng),
                account=account,
                region=region,
                window_start=window_start,
                window_end=window_start + width,
                records=count,
                missing_time=frozenset(n - first for n in missing if first <= n < first + count),
                # Console sign-ins are recorded in us-east-1; each account's root user signs in
                # once, besides using its credentials now and then.
                root_sign_in=slot == 0 and region == REGIONS[0],
            )
        )
        first += count
    return plans


@functools.cache
def _date_text(day: int) -> str:
    return (EPOCH + dt.timedelta(days=day)).isoformat()


def _time(seconds: int) -> str:
    """Unix seconds as CloudTrail writes a time: 2024-05-06T10:00:00Z."""
    day, second = divmod(seconds, SECONDS_PER_DAY)
    hour, rest = divmod(second, 3600)
    return f"{_date_text(day)}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@functools.cache
def _service(name: str) -> _Caller:
    """An AWS service calling for the account: no ARN; it names itself as address and agent."""
    return _Caller({"type": "AWSService", "invokedBy": name}, (name,), (name,))


def _caller(rng: random.Random, event: _Event, account: _Account) -> _Caller:
    """Who makes this call: an AWS service that makes it, the root user now and then, else a
    person or, except for signing in, a workload."""
    if event.services and rng.random() < SERVICE_SHARE:
        return _service(_pick(rng, event.services))
    if rng.random() < ROOT_SHARE:
        return account.root
    if event.name == SIGN_IN:
        return _pick(rng, account.people)
    return _pick(rng, account.callers)


def _record(
    rng: random.Random, plan: _ObjectPlan, seconds: int, *, root_sign_in: bool = False
) -> _Record:
    """One event as CloudTrail writes it (the root user signing in, when asked)."""
    account = plan.account
    if root_sign_in:
        event, caller = SIGN_IN_EVENT, account.root
    else:
        event = EVENTS[bisect.bisect(CUMULATIVE_WEIGHTS, rng.random() * CUMULATIVE_WEIGHTS[-1])]
        caller = _caller(rng, event, account)
    console = event.name == SIGN_IN
    record: dict[str, Any] = {
        "eventTime": _time(seconds),
        "eventSource": event.source,
        "eventName": event.name,
        "awsRegion": plan.region,
        "sourceIPAddress": _pick(rng, caller.addresses),
        "userAgent": BROWSER if console else _pick(rng, caller.agents),
        "requestParameters": event.parameters(rng, account, plan.region),
        "responseElements": None,
    }
    arn = caller.identity.get("arn")
    if console:
        failed = rng.random() < 0.2
        # A failed sign-in has an errorMessage but no errorCode.
        if failed:
            record["errorMessage"] = "Failed authentication"
        record["responseElements"] = {"ConsoleLogin": "Failure" if failed else "Success"}
        record["additionalEventData"] = {"MFAUsed": "No", "MobileVersion": "No"}
    elif arn is not None and rng.random() < FAILED_SHARE:
        if rng.random() < 0.7:
            code, message = DENIED.get(event.source, DENIED_DEFAULT)
        else:
            code, message = THROTTLED.get(event.source, THROTTLED_DEFAULT)
        record["errorCode"] = code
        prefix = event.source.split(".", 1)[0]
        record["errorMessage"] = message.format(arn=arn, action=event.name, prefix=prefix)
    record["requestID"] = _uuid(rng)
    record["eventID"] = _uuid(rng)
    record["readOnly"] = event.read_only
    record["eventType"] = "AwsConsoleSignIn" if console else "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = account.id
    record["eventCategory"] = "Management"
    return _Record(caller, record)


class _Record(NamedTuple):
    """One event: who called, and every other field of the record."""

    caller: _Caller
    fields: dict[str, Any]

    def text(self) -> str:
        """The record's JSON text, its first fields in CloudTrail's order."""
        rest = json.dumps(self.fields, separators=JSON_SEPARATORS)
        return f'{{"eventVersion":"1.09","userIdentity":{self.caller.identity_json},{rest[1:]}'


def _log_text(records: list[str]) -> str:
    """A log object's text: one line of compact JSON, as CloudTrail writes it."""
    return '{"Records":[' + ",".join(records) + "]}"


@dataclass
class _Tally:
    """Running totals of one generation, filled object by object."""

    keep_records: bool
    units: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUARANTINE_REASONS, 0))
    staged: list[StagedRecord] = field(default_factory=list)
    activity: dict[tuple[int, str, str], _Activity] = field(default_factory=dict)

    def stage(self, path: Path, line_number: int, seconds: int, record: _Record) -> None:
        day, fields = seconds // SECONDS_PER_DAY, record.fields
        key = (day, fields["eventSource"], fields["eventName"])
        counts = self.activity.get(key)
        if counts is None:
            counts = self.activity[key] = _Activity()
        counts.calls += 1
        counts.failed += "errorCode" in fields
        counts.principals.add(record.caller.principal)
        counts.addresses.add(fields["sourceIPAddress"])
        if self.keep_records:
            stage_day = EPOCH + dt.timedelta(days=day)
            self.staged.append(StagedRecord(path, line_number, fields["eventID"], stage_day))


def _write_json_gz(path: Path, text: str) -> bytes:
    """Gzip without a name or time stamp in its header, so output is reproducible; the fastest
    level, as JSON text is large (readers decompress any level alike)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile("", "wb", 1, raw, mtime=0) as zipped:
        zipped.write(text.encode("utf-8"))
    return path.read_bytes()


def _write_object(plan: _ObjectPlan, seed: int, tally: _Tally) -> bytes:
    """Generate one log object's records and record what the data workflow must make of them."""
    rng = random.Random(f"{seed}-{plan.path.name}")  # noqa: S311
    width = plan.window_end - plan.window_start
    records = []
    for number in range(plan.records):
        seconds = plan.window_start + int(rng.random() * width)
        if rng.random() < LATE_SHARE:
            seconds = plan.window_start - 1 - int(rng.random() * 3600)
        record = _record(rng, plan, seconds, root_sign_in=plan.root_sign_in and number == 0)
        if number in plan.missing_time:
            del record.fields["eventTime"]
            tally.malformed[MISSING_EVENT_TIME] += 1
        else:
            tally.stage(plan.path, number + 1, seconds, record)
        records.append(record.text())
    tally.units += plan.records
    return _write_json_gz(plan.path, _log_text(records))


def _write_digests(out_dir: Path, seed: int, logs: dict[Path, bytes]) -> list[Path]:
    """One digest a day per account and region, listing that day's log objects and their
    SHA-256, as CloudTrail-Digest/ holds them (hourly there)."""
    rng = random.Random(f"digest-{seed}")  # noqa: S311
    by_folder: dict[Path, list[Path]] = {}
    for path in logs:
        by_folder.setdefault(path.parent, []).append(path)
    digests = []
    for folder, paths in sorted(by_folder.items()):
        region, account = folder.parts[-4], folder.parts[-6]
        day = dt.datetime.strptime("/".join(folder.parts[-3:]), "%Y/%m/%d").replace(tzinfo=dt.UTC)
        end = day + dt.timedelta(hours=23, minutes=rng.randrange(60))
        relative = folder.relative_to(out_dir).parts
        digest_folder = out_dir.joinpath(*relative[:2], "CloudTrail-Digest", *relative[3:])
        name = f"{account}_CloudTrail-Digest_{region}_{TRAIL}_{REGIONS[0]}_{end:%Y%m%dT%H%M%SZ}"
        document = {
            "awsAccountId": account,
            "digestStartTime": _time(int(day.timestamp())),
            "digestEndTime": _time(int(end.timestamp())),
            "digestS3Bucket": TRAIL_BUCKET,
            "digestS3Object": (digest_folder / f"{name}.json.gz").relative_to(out_dir).as_posix(),
            "digestPublicKeyFingerprint": _hex(rng, 32),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "logFiles": [
                {
                    "s3Bucket": TRAIL_BUCKET,
                    "s3Object": path.relative_to(out_dir).as_posix(),
                    "hashValue": hashlib.sha256(logs[path]).hexdigest(),
                    "hashAlgorithm": "SHA-256",
                }
                for path in sorted(paths)
            ],
        }
        path = digest_folder / f"{name}.json.gz"
        _write_json_gz(path, json.dumps(document, separators=JSON_SEPARATORS))
        digests.append(path)
    return digests


def generate(
    out_dir: Path,
    records: int,
    seed: int,
    days: int = 3,
    start: dt.date | None = None,
    *,
    keep_records: bool = True,
) -> CloudTrailSampleData:
    """Write CloudTrail log objects holding ``records`` records read under ``out_dir``, for
    ``days`` days of events from ``start``, and a digest beside each day's logs.

    ``records`` counts the records the staging job reads. ``keep_records=False`` keeps only the
    totals and the predicted mart (``staged_records`` stays empty).
    """
    if records < MIN_RECORDS:
        raise ValueError(f"records must be at least {MIN_RECORDS} to hold every kind of record")
    if days < 1:
        raise ValueError("days must be at least 1")
    out_dir = Path(out_dir)
    plans = _plan(out_dir, records, seed, days, start or DEFAULT_START)
    tally = _Tally(keep_records=keep_records)
    logs = {plan.path: _write_object(plan, seed, tally) for plan in plans}
    digests = _write_digests(out_dir, seed, logs)
    log_files = list(logs)
    return CloudTrailSampleData(
        out_dir=out_dir,
        files=[*log_files, *digests],
        log_files=log_files,
        digest_files=digests,
        data_lines=tally.units,
        malformed_by_reason=tally.malformed,
        staged_records=tally.staged,
        activity=tally.activity,
    )
