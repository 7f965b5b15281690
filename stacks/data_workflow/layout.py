"""Where each table and the workflow's state live in S3: the one mapping every reader uses.

Tables live at ``s3://<curated>/<table>/`` except the quarantine table, which has a bucket of
its own; the incremental state lives under ``s3://<curated>/_state/``. The Glue job arguments,
the catalog locations and the IAM scopes are all derived from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_s3 as s3

from dataops.job_graph import RAW_SOURCE
from vpcflow_jobs.context import QUARANTINE_TABLE

STATE_PREFIX = "_state"
DEFAULT_RAW_PREFIX = "AWSLogs/"
GLUE_TEMP_PREFIX = "glue-temp"
SPARK_UI_PREFIX = "spark-ui"
ATHENA_RESULTS_PREFIX = "athena"


@dataclass(frozen=True)
class Location:
    """A prefix in a bucket; ``prefix`` has no slashes at either end (empty: the whole bucket)."""

    bucket: s3.IBucket
    prefix: str

    @property
    def uri(self) -> str:
        path = f"{self.prefix}/" if self.prefix else ""
        return f"s3://{self.bucket.bucket_name}/{path}"

    def object_arns(self) -> list[str]:
        """Objects under the prefix, the prefix's own key and the ``_$folder$`` marker Glue's S3
        file system writes for a directory."""
        if not self.prefix:
            return [self.bucket.arn_for_objects("*")]
        return [
            self.bucket.arn_for_objects(f"{self.prefix}/*"),
            self.bucket.arn_for_objects(self.prefix),
            self.bucket.arn_for_objects(f"{self.prefix}_$folder$"),
        ]

    def list_prefixes(self) -> list[str]:
        """Values of ``s3:prefix`` a lister of this location may ask for."""
        if not self.prefix:
            return ["*"]
        return [self.prefix, f"{self.prefix}/*", f"{self.prefix}_$folder$"]


@dataclass(frozen=True)
class DataLayout:
    """The buckets of one environment and what lives where in them."""

    raw_bucket: s3.IBucket
    curated_bucket: s3.IBucket
    quarantine_bucket: s3.IBucket

    def table(self, name: str) -> Location:
        bucket = self.quarantine_bucket if name == QUARANTINE_TABLE else self.curated_bucket
        return Location(bucket, name)

    def source(self, name: str) -> Location:
        """What a job's ``reads``/``writes`` entry names: the raw landing zone or a table.

        The raw landing zone is the whole raw bucket: the workflow may be told to read any
        prefix of it (``raw_prefix``), e.g. a post-deploy test's own seeded objects."""
        if name == RAW_SOURCE:
            return Location(self.raw_bucket, "")
        return self.table(name)

    @property
    def state(self) -> Location:
        return Location(self.curated_bucket, STATE_PREFIX)

    @property
    def quarantine(self) -> Location:
        return self.table(QUARANTINE_TABLE)

    @property
    def warehouse_uri(self) -> str:
        return Location(self.curated_bucket, "").uri

    @property
    def raw_landing(self) -> Location:
        """What the crawler catalogs: the S3 layout flow logs are delivered in."""
        return Location(self.raw_bucket, DEFAULT_RAW_PREFIX.rstrip("/"))
