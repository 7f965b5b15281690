"""Where each table, each data set's state and its raw objects live in S3: the one mapping every
reader uses.

Tables live at ``s3://<curated>/<table>/``, except the quarantine tables (a raw job's
``quarantine:``), which live in a bucket of their own; a data set's incremental state lives
under ``s3://<curated>/_state/<data set>/`` and its raw objects land under
``s3://<raw>/<raw.prefix>``. The Glue job arguments, the catalog locations and the IAM scopes are
all derived from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import aws_s3 as s3

from dataops.datasets import DataSet
from dataops.job_contexts import Locations
from dataops.resource_names import state_prefix

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


def quarantine_tables(datasets: Mapping[str, DataSet]) -> frozenset[str]:
    """Every table a raw job names as its ``quarantine:``, of every data set."""
    return frozenset(
        job.quarantine
        for dataset in datasets.values()
        for job in dataset.job_graph.jobs
        if job.quarantine
    )


@dataclass(frozen=True)
class DataLayout:
    """The buckets of one environment and what lives where in them."""

    raw_bucket: s3.IBucket
    curated_bucket: s3.IBucket
    quarantine_bucket: s3.IBucket
    quarantine_tables: frozenset[str]

    def table(self, name: str) -> Location:
        bucket = self.quarantine_bucket if name in self.quarantine_tables else self.curated_bucket
        return Location(bucket, name)

    def state(self, dataset: str) -> Location:
        """A data set's queues, run records, processed-object records and work directories."""
        return Location(self.curated_bucket, state_prefix(dataset))

    def raw_landing(self, dataset: DataSet) -> Location:
        """Where the data set's raw objects are delivered (its ``raw.prefix``)."""
        return Location(self.raw_bucket, dataset.spec.raw.prefix.rstrip("/"))

    @property
    def raw_bucket_root(self) -> Location:
        """The whole raw bucket: a run may be told to read any prefix of it (``raw_prefix``),
        e.g. a post-deploy test's own seeded objects."""
        return Location(self.raw_bucket, "")

    def job_locations(self) -> Locations:
        """The locations :func:`dataops.job_contexts.job_context` writes into a job's arguments."""
        return Locations(
            table=lambda name: self.table(name).uri,
            state=lambda dataset: self.state(dataset).uri,
            raw=lambda dataset: self.raw_landing(dataset).uri,
        )
