"""Realistic raw VPC flow-log files, deterministic for a seed (the flow-log data set's sample
data, see :mod:`dataops.samples`).

The local run, the end-to-end test, the post-deploy integration run and the benchmark all need
raw files that look like what AWS delivers to S3, including every way a line can be wrong, and
they need to know in advance what the data workflow must make of them. The generator therefore
writes the files and, in the same pass, predicts the mart (``expected_conn_stats``) and counts
the malformed lines by quarantine reason.

Lines are built with plain ``random`` and string joins, one file at a time, so a million records
take seconds and little memory (``keep_records=False`` drops the per-record list).
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

EPOCH = dt.date(1970, 1, 1)
MART_TABLE = "data_app_conn_stats"
DEFAULT_START = dt.date(2024, 5, 6)
SECONDS_PER_DAY = 86_400
MIN_RECORDS = 60

# The default (version 2) format: the fields every file's header must name.
DEFAULT_FIELDS: tuple[str, ...] = (
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
)
# Every field up to version 5, in the order AWS documents them (the "all fields" custom format).
V5_FIELDS: tuple[str, ...] = (
    *DEFAULT_FIELDS,
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
)
# A version 3 custom format from the AWS documentation: more fields, another order.
V3_REORDERED_FIELDS: tuple[str, ...] = (
    "version",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "interface-id",
    "account-id",
    "type",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "protocol",
    "bytes",
    "packets",
    "start",
    "end",
    "action",
    "tcp-flags",
    "log-status",
)
CUSTOM_FORMATS: tuple[tuple[int, tuple[str, ...]], ...] = ((3, V3_REORDERED_FIELDS), (5, V5_FIELDS))
# The header of the one file that lacks a required field: its lines can only be quarantined.
MISSING_FIELD = "log-status"

# Quarantine reason codes, as the staging job writes them.
WRONG_FIELD_COUNT = "wrong_field_count"
NOT_AN_INTEGER = "not_an_integer"
END_BEFORE_START = "end_before_start"
UNKNOWN_ACTION = "unknown_action"
UNKNOWN_LOG_STATUS = "unknown_log_status"
MISSING_REQUIRED_FIELDS = "missing_required_fields"
LINE_DEFECTS: tuple[str, ...] = (
    WRONG_FIELD_COUNT,
    NOT_AN_INTEGER,
    END_BEFORE_START,
    UNKNOWN_ACTION,
    UNKNOWN_LOG_STATUS,
)
QUARANTINE_REASONS: tuple[str, ...] = (*LINE_DEFECTS, MISSING_REQUIRED_FIELDS)

MALFORMED_SHARE = 0.004
NODATA_SHARE = 0.01
SKIPDATA_SHARE = 0.006
UNKNOWN_ACCOUNT_SHARE = 0.02
IPV6_SHARE = 0.12
ACCEPT_SHARE = 0.85
LATE_SHARE = 0.005
RECORDS_PER_FILE = 5_000
MAX_FILES_PER_DAY = 48
PROTOCOLS = (6, 17, 1)
PROTOCOL_WEIGHTS = (70, 22, 8)
SERVICE_PORTS = (22, 25, 53, 80, 123, 443, 3306, 3389, 5432, 6379, 8080, 8443, 9200)
REGIONS = ("eu-west-1", "us-east-1")
ESTATE_SEED = 20240506  # accounts, interfaces and addresses stay the same across seeds


class FlowRecord(NamedTuple):
    """One valid data line as the staging job must read it ('-' as None)."""

    source_file: Path
    line_number: int
    version: int
    account_id: str
    interface_id: str
    srcaddr: str | None
    dstaddr: str | None
    srcport: int | None
    dstport: int | None
    protocol: int | None
    packets: int | None
    bytes: int | None
    start: int
    end: int
    action: str | None
    log_status: str


@dataclass
class GeneratedDataSet:
    """What was written, and what the data workflow must make of it."""

    out_dir: Path
    files: list[Path]
    data_lines: int
    valid_lines: int
    malformed_lines: int
    malformed_by_reason: dict[str, int]
    valid_records: list[FlowRecord]
    conn_stats: dict[tuple[int, str, int], list[int]] = field(repr=False)

    def expected_rows(self) -> dict[str, list[dict[str, object]]]:
        """The mart's rows, by the mart's name (see :class:`dataops.samples.SampleData`)."""
        return {MART_TABLE: self.expected_conn_stats()}

    def expected_conn_stats(self) -> list[dict[str, object]]:
        """The mart rows the data workflow must produce, sorted by its grain."""
        return [
            {
                "dt": EPOCH + dt.timedelta(days=day),
                "source_ip_address": source,
                "destination_port": port,
                "total_packets_sent": packets,
                "total_bytes_sent": size,
                "connection_length_sec": seconds,
            }
            for (day, source, port), (packets, size, seconds) in sorted(self.conn_stats.items())
        ]


@dataclass(frozen=True)
class _Estate:
    """The accounts, interfaces and addresses flow records are drawn from."""

    accounts: tuple[str, ...]
    flow_log_ids: tuple[str, ...]
    interfaces: tuple[str, ...]
    vpcs: tuple[str, ...]
    subnets: tuple[str, ...]
    instances: tuple[str, ...]
    ipv4_sources: tuple[str, ...]
    ipv4_destinations: tuple[str, ...]
    ipv6_sources: tuple[str, ...]
    ipv6_destinations: tuple[str, ...]


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _ipv6(rng: random.Random) -> str:
    return "2001:db8:" + ":".join(f"{rng.randrange(0x1000, 0x10000):x}" for _ in range(6))


def _estate() -> _Estate:
    rng = random.Random(ESTATE_SEED)  # noqa: S311 (test data, not secrets)
    accounts = tuple(str(rng.randrange(10**11, 10**12)) for _ in range(3))
    return _Estate(
        accounts=accounts,
        flow_log_ids=tuple(f"fl-{_hex(rng, 17)}" for _ in accounts),
        interfaces=tuple(f"eni-{_hex(rng, 17)}" for _ in range(40)),
        vpcs=tuple(f"vpc-{_hex(rng, 17)}" for _ in range(3)),
        subnets=tuple(f"subnet-{_hex(rng, 17)}" for _ in range(8)),
        instances=tuple(f"i-{_hex(rng, 17)}" for _ in range(40)),
        ipv4_sources=tuple(
            f"{rng.choice((10, 172, 198, 203))}.{rng.randrange(256)}.{rng.randrange(256)}."
            f"{rng.randrange(1, 255)}"
            for _ in range(1500)
        ),
        ipv4_destinations=tuple(
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            for _ in range(300)
        ),
        ipv6_sources=tuple(_ipv6(rng) for _ in range(200)),
        ipv6_destinations=tuple(_ipv6(rng) for _ in range(60)),
    )


@dataclass(frozen=True)
class _FilePlan:
    """One raw file: where it goes, its format and which of its data lines are defective."""

    path: Path
    header: tuple[str, ...]
    version: int
    account: str
    region: str
    window_start: int
    window_end: int
    lines: int
    defects: dict[int, str]
    blank_line_after: int | None


@dataclass
class _Tally:
    """Running totals of one generation, filled file by file."""

    keep_records: bool
    valid: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(QUARANTINE_REASONS, 0))
    records: list[FlowRecord] = field(default_factory=list)
    conn_stats: dict[tuple[int, str, int], list[int]] = field(default_factory=dict)


def _file_counts(records: int, files: int) -> list[int]:
    base, extra = divmod(records, files)
    return [base + (1 if index < extra else 0) for index in range(files)]


def _plan(out_dir: Path, records: int, seed: int, days: int, start: dt.date) -> list[_FilePlan]:
    """Split ``records`` data lines over files; place every defect and the broken-header file.

    Each day gets several five-minute-to-hourly delivery windows (one file each); every third
    file of a day is a custom format and every fourth is plain text; one last, small file has a
    header without ``log-status``.
    """
    rng = random.Random(f"plan-{seed}")  # noqa: S311
    estate = _estate()
    broken_lines = max(1, min(25, records // 200))
    regular = records - broken_lines
    per_day = min(MAX_FILES_PER_DAY, max(4, regular // (days * RECORDS_PER_FILE)))
    counts = _file_counts(regular, days * per_day)
    positions = sorted(
        rng.sample(range(regular), max(len(LINE_DEFECTS), round(regular * MALFORMED_SHARE)))
    )
    day0 = (start - EPOCH).days * SECONDS_PER_DAY
    plans: list[_FilePlan] = []
    first_line = 0
    custom = 0
    for index, lines in enumerate([*counts, broken_lines]):
        broken = index == len(counts)
        day, slot = divmod(min(index, len(counts) - 1), per_day)
        window_start = day0 + day * SECONDS_PER_DAY + slot * SECONDS_PER_DAY // per_day
        window_end = day0 + day * SECONDS_PER_DAY + (slot + 1) * SECONDS_PER_DAY // per_day
        version, header = 2, DEFAULT_FIELDS
        if broken:
            header = tuple(name for name in DEFAULT_FIELDS if name != MISSING_FIELD)
            defects = dict.fromkeys(range(lines), MISSING_REQUIRED_FIELDS)
        else:
            if slot % 3 == 2:
                version, header = CUSTOM_FORMATS[custom % len(CUSTOM_FORMATS)]
                custom += 1
            defects = {
                pos - first_line: LINE_DEFECTS[rank % len(LINE_DEFECTS)]
                for rank, pos in enumerate(positions)
                if first_line <= pos < first_line + lines
            }
        which = index % len(estate.accounts)
        account, region = estate.accounts[which], REGIONS[which % len(REGIONS)]
        delivered = dt.datetime.fromtimestamp(window_end, tz=dt.UTC)
        suffix = ".log" if slot % 4 == 3 and not broken else ".log.gz"
        name = (
            f"{account}_vpcflowlogs_{region}_{estate.flow_log_ids[which]}_"
            f"{delivered:%Y%m%dT%H%MZ}_{_hex(rng, 8)}{suffix}"
        )
        folder = out_dir / "AWSLogs" / account / "vpcflowlogs" / region / f"{delivered:%Y/%m/%d}"
        plans.append(
            _FilePlan(
                path=folder / name,
                header=header,
                version=version,
                account=account,
                region=region,
                window_start=window_start,
                window_end=window_end,
                lines=lines,
                defects=defects,
                blank_line_after=lines // 2
                if suffix == ".log" and slot == 3 and day == 0
                else None,
            )
        )
        first_line += lines
    return plans


def _flow(rng: random.Random, estate: _Estate, protocol: int, start: int) -> tuple:
    """A valid OK flow: (srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start,
    end, action, log_status)."""
    rnd = rng.random
    if rnd() < IPV6_SHARE:
        source = estate.ipv6_sources[int(rnd() * len(estate.ipv6_sources))]
        destination = estate.ipv6_destinations[int(rnd() * len(estate.ipv6_destinations))]
        protocol = 58 if protocol == 1 else protocol
    else:
        source = estate.ipv4_sources[int(rnd() * len(estate.ipv4_sources))]
        destination = estate.ipv4_destinations[int(rnd() * len(estate.ipv4_destinations))]
    if protocol in (1, 58):
        source_port = destination_port = 0
        packets = 1 + int(rnd() * 8)
        size = packets * 84
    else:
        source_port = 1024 + int(rnd() * 64511)
        if rnd() < 0.7:
            destination_port = SERVICE_PORTS[int(rnd() * len(SERVICE_PORTS))]
        else:
            destination_port = 32768 + int(rnd() * 28232)
        packets = 1 + int(rnd() ** 2 * 400)
        size = packets * (40 + int(rnd() * 1460))
    end = start + int(rnd() ** 3 * 600)
    action = "ACCEPT" if rnd() < ACCEPT_SHARE else "REJECT"
    return (source, destination, source_port, destination_port, protocol, packets, size, start,
            end, action, "OK")  # fmt: skip


def _extra_values(
    rng: random.Random, estate: _Estate, plan: _FilePlan, base: list[str]
) -> list[str]:
    """The v3-v5 fields after the default ones, consistent with the default ones."""
    rnd = rng.random
    vpc = estate.vpcs[int(rnd() * len(estate.vpcs))]
    subnet = estate.subnets[int(rnd() * len(estate.subnets))]
    instance = estate.instances[int(rnd() * len(estate.instances))]
    az = f"{plan.region[:2]}{plan.region.split('-')[1][0]}{plan.region[-1]}-az{1 + int(rnd() * 3)}"
    source, destination, protocol = base[3], base[4], base[7]
    if source == "-":
        return [vpc, subnet, instance, "-", "-", "-", "-", plan.region, az, "-", "-", "-", "-",
                "-", "-"]  # fmt: skip
    family = "IPv6" if ":" in source else "IPv4"
    flags = str((2, 3, 18, 19, 27)[int(rnd() * 5)]) if protocol == "6" else "0"
    ingress = rnd() < 0.5
    service = "AMAZON" if rnd() < 0.1 else "-"
    return [vpc, subnet, instance, flags, family, source, destination, plan.region, az, "-",
            "-", service, "-", "ingress" if ingress else "egress",
            "-" if ingress else str(1 + int(rnd() * 8))]  # fmt: skip


def _spoil(reason: str, values: list[str], rng: random.Random) -> list[str]:
    """Spoil one valid OK flow line's values (in V5_FIELDS order) in exactly one way."""
    spoiled = list(values)
    if reason == NOT_AN_INTEGER:
        spoiled[rng.choice((5, 8, 9))] = rng.choice(("12O4", "n/a", "0x1F", "1.5"))
    elif reason == END_BEFORE_START:
        spoiled[11] = str(int(spoiled[10]) - 1 - int(rng.random() * 600))
    elif reason == UNKNOWN_ACTION:
        spoiled[12] = rng.choice(("ALLOW", "DROP", "PERMIT"))
    elif reason == UNKNOWN_LOG_STATUS:
        spoiled[13] = rng.choice(("FAILED", "PARTIAL", "ERROR"))
    return spoiled


def _line(reason: str | None, values: list[str], pick: Callable[[list[str]], tuple],
          rng: random.Random) -> str:  # fmt: skip
    """The text of one data line in the file's field order, spoiled for ``reason``."""
    if reason is None or reason == MISSING_REQUIRED_FIELDS:
        return " ".join(pick(values))
    if reason != WRONG_FIELD_COUNT:
        return " ".join(pick(_spoil(reason, values, rng)))
    fields = list(pick(values))
    return " ".join(fields[:-1] if rng.random() < 0.5 else [*fields, "-"])


def _record_valid(tally: _Tally, record: FlowRecord) -> None:
    tally.valid += 1
    if tally.keep_records:
        tally.records.append(record)
    if record.log_status == "OK" and record.action == "ACCEPT":
        key = (record.start // SECONDS_PER_DAY, record.srcaddr, record.dstport)
        totals = tally.conn_stats.get(key)
        if totals is None:
            tally.conn_stats[key] = [record.packets, record.bytes, record.end - record.start]
        else:
            totals[0] += record.packets
            totals[1] += record.bytes
            totals[2] += record.end - record.start


def _write_file(plan: _FilePlan, seed: int, estate: _Estate, tally: _Tally) -> None:
    """Generate one file's lines and record what the data workflow must make of them."""
    rng = random.Random(f"{seed}-{plan.path.name}")  # noqa: S311
    rnd = rng.random
    window = plan.window_end - plan.window_start
    pick = itemgetter(*(V5_FIELDS.index(name) for name in plan.header))
    extended = any(name not in DEFAULT_FIELDS for name in plan.header)
    protocols = rng.choices(PROTOCOLS, PROTOCOL_WEIGHTS, k=plan.lines)
    version = str(plan.version)
    out: list[str] = [" ".join(plan.header)]
    for number in range(plan.lines):
        reason = plan.defects.get(number)
        start = plan.window_start + int(rnd() * window)
        if rnd() < LATE_SHARE:
            start = plan.window_start - 1 - int(rnd() * 600)
        account = "unknown" if rnd() < UNKNOWN_ACCOUNT_SHARE else plan.account
        interface = estate.interfaces[int(rnd() * len(estate.interfaces))]
        status_draw = 1.0 if reason else rnd()
        if status_draw < NODATA_SHARE + SKIPDATA_SHARE:
            status = "NODATA" if status_draw < NODATA_SHARE else "SKIPDATA"
            flow: tuple = (None,) * 7 + (start, start + 60, None, status)
        else:
            flow = _flow(rng, estate, protocols[number], start)
        values = [version, account, interface, *("-" if v is None else str(v) for v in flow)]
        if extended:
            values += _extra_values(rng, estate, plan, values)
        out.append(_line(reason, values, pick, rng))
        if reason:
            tally.malformed[reason] += 1
        else:
            record = FlowRecord(plan.path, len(out), plan.version, account, interface, *flow)
            _record_valid(tally, record)
        if number == plan.blank_line_after:
            out.append("")
    _write_text(plan.path, "\n".join(out) + "\n")


def _write_text(path: Path, text: str) -> None:
    """Plain or gzip (no name, no time stamp in the gzip header, so output is reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix != ".gz":
        path.write_text(text, encoding="ascii")
        return
    with path.open("wb") as raw, gzip.GzipFile("", "wb", 6, raw, mtime=0) as zipped:
        zipped.write(text.encode("ascii"))


def generate(
    out_dir: Path,
    records: int,
    seed: int,
    days: int = 3,
    start: dt.date | None = None,
    *,
    keep_records: bool = True,
) -> GeneratedDataSet:
    """Write ``records`` data lines of raw flow-log files under ``out_dir`` for ``days`` days.

    ``records`` counts every data line, valid or malformed; ``keep_records=False`` keeps only
    the totals and the predicted mart (for a million records in little memory).
    """
    if records < MIN_RECORDS:
        raise ValueError(f"records must be at least {MIN_RECORDS} to hold every kind of line")
    if days < 1:
        raise ValueError("days must be at least 1")
    plans = _plan(Path(out_dir), records, seed, days, start or DEFAULT_START)
    estate = _estate()
    tally = _Tally(keep_records=keep_records)
    for plan in plans:
        _write_file(plan, seed, estate, tally)
    malformed = sum(tally.malformed.values())
    return GeneratedDataSet(
        out_dir=Path(out_dir),
        files=[plan.path for plan in plans],
        data_lines=tally.valid + malformed,
        valid_lines=tally.valid,
        malformed_lines=malformed,
        malformed_by_reason=tally.malformed,
        valid_records=tally.records,
        conn_stats=tally.conn_stats,
    )
