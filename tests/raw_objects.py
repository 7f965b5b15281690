"""Small raw flow-log objects written by hand in the delivery layout, for the framework's tests.

The sample generator always injects bad lines; these helpers make the ordinary cases too: a
clean object, an empty one, a header-only one, a truncated gzip, and so on.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

V2_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
ACCOUNT = "123456789012"
REGION = "eu-west-1"


def day_folder(raw: Path, day: dt.date, account: str = ACCOUNT) -> Path:
    """Where AWS delivers an account's flow logs of ``day`` under the raw root ``raw``."""
    return raw / "AWSLogs" / account / "vpcflowlogs" / REGION / f"{day:%Y/%m/%d}"


def flow_line(
    start: int, source: str = "10.0.0.1", port: int = 443, action: str = "ACCEPT", size: int = 840
) -> str:
    """A valid default-format line of a 60-second flow starting at unix ``start``."""
    return (
        f"2 {ACCOUNT} eni-1 {source} 10.0.0.2 49152 {port} 6 10 {size} {start} {start + 60} "
        f"{action} OK"
    )


def unix(day: dt.date, seconds: int = 3600) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) + seconds


def write_object(raw: Path, day: dt.date, name: str, body: bytes, account: str = ACCOUNT) -> Path:
    """An object as delivered on ``day`` (gzip-compressed when ``name`` ends in .gz)."""
    path = day_folder(raw, day, account) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(body, mtime=0) if name.endswith(".gz") else body)
    return path


def write_flow_log(raw: Path, day: dt.date, name: str, lines: list[str]) -> Path:
    """A flow-log object of ``lines`` under the default header."""
    return write_object(raw, day, name, ("\n".join([V2_HEADER, *lines]) + "\n").encode())


def clean_lines(day: dt.date, count: int, offset: int = 0) -> list[str]:
    """``count`` valid lines of ``day`` over a few sources and ports."""
    return [
        flow_line(unix(day, 60 * (i + offset)), f"10.0.{i % 3}.{i % 7}", (443, 22, 53)[i % 3])
        for i in range(count)
    ]
