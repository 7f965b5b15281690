"""The VPC flow-log source format as AWS defines it (fields up to version 8).

This is the *source* format, not a table schema: the staging contract declares the table, and
a test keeps the two in step. Field names are as in file headers (``log-status``); columns use
underscores (``log_status``).
"""

from __future__ import annotations

REQUIRED_FIELDS: tuple[str, ...] = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)  # fmt: skip
OPTIONAL_FIELDS: tuple[str, ...] = (
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr",
    "region", "az-id", "sublocation-type", "sublocation-id", "pkt-src-aws-service",
    "pkt-dst-aws-service", "flow-direction", "traffic-path", "ecs-cluster-arn",
    "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
    "ecs-container-id", "ecs-second-container-id", "ecs-service-name",
    "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id", "reject-reason",
)  # fmt: skip
KNOWN_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

# Integer fields and the Spark type they are stored as (int holds 9 digits safely).
INTEGER_FIELDS: dict[str, str] = {
    "version": "int",
    "srcport": "int",
    "dstport": "int",
    "protocol": "int",
    "tcp-flags": "int",
    "traffic-path": "int",
    "packets": "bigint",
    "bytes": "bigint",
    "start": "bigint",
    "end": "bigint",
}
MAX_DIGITS = {"int": 9, "bigint": 18}
ACTIONS = ("ACCEPT", "REJECT")
LOG_STATUSES = ("OK", "NODATA", "SKIPDATA")
MISSING = "-"


def column_name(field_name: str) -> str:
    return field_name.replace("-", "_")
