"""The crawler of a data set's raw landing zone (when its dataset.yaml declares ``crawler:``).

It catalogs ``s3://<raw>/<raw.prefix>`` into ``raw_<data set>_*`` tables. Data sets can share
a prefix (AWS delivers every service under ``AWSLogs/<account>/<service>/``), so the service
folders of the other data sets there, and their siblings such as ``CloudTrail-Digest``, are
excluded. With ``delimiter:``, a CSV classifier reads the header line, so custom formats are
catalogued with their own columns. The crawler has no schedule: the data set's workflow starts
it at the beginning of each run.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from dataops.datasets import CrawlerSpec, DataSet
from stacks.data_workflow.access import (
    CATALOG_READ,
    CATALOG_WRITE,
    attach,
    key_statement,
    location_statements,
    log_group_statement,
    table_arns,
)
from stacks.data_workflow.layout import Location

CRAWLER_LOG_GROUP_PREFIX = "/aws-glue/crawlers"


def raw_table_prefix(dataset: str) -> str:
    """The crawler's tables: ``raw_<data set>_<folder>``, apart from other data sets' tables."""
    return f"raw_{dataset}_"


def crawler_exclusions(dataset: DataSet, datasets: Mapping[str, DataSet]) -> list[str]:
    """Glob patterns (relative to the data set's prefix) for the service folders of the other
    data sets under the same prefix and their siblings ``<folder>-*`` (``CloudTrail-Digest``),
    except a pattern that would exclude the data set's own folder."""
    own = dataset.spec.raw.service_folder
    others = dict.fromkeys(
        other.spec.raw.service_folder
        for other in datasets.values()
        if other.name != dataset.name and other.spec.raw.prefix == dataset.spec.raw.prefix
    )
    return [
        f"*/{pattern}/**"
        for folder in others
        for pattern in (folder, f"{folder}-*")
        if not fnmatch.fnmatchcase(own, pattern)
    ]


@dataclass(frozen=True)
class CrawlerProps:
    name: str
    dataset: str
    spec: CrawlerSpec
    database_name: str
    landing: Location
    exclusions: tuple[str, ...]
    data_key: kms.IKey
    security_configuration: glue.CfnSecurityConfiguration


class RawCrawler(Construct):
    """``crawler`` (its ``name`` is the props' name), its ``role`` and ``arn``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CrawlerProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.name = props.name
        table_prefix = raw_table_prefix(props.dataset)
        self.classifier = (
            glue.CfnClassifier(
                self,
                "Classifier",
                csv_classifier=glue.CfnClassifier.CsvClassifierProperty(
                    name=f"{props.name}-csv",
                    delimiter=props.spec.delimiter,
                    contains_header="PRESENT",
                    quote_symbol='"',
                    disable_value_trimming=False,
                    allow_single_column=False,
                ),
            )
            if props.spec.delimiter is not None
            else None
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Raw landing zone crawler of {props.dataset}: reads its raw prefix, "
            f"writes {table_prefix}* tables",
        )
        attach(
            self.role,
            (
                *location_statements([props.landing], write=False),
                iam.PolicyStatement(
                    actions=[*CATALOG_READ, *CATALOG_WRITE, "glue:CreateTable"],
                    resources=table_arns(stack, props.database_name, [f"{table_prefix}*"]),
                ),
                log_group_statement(stack, CRAWLER_LOG_GROUP_PREFIX),
                key_statement(props.data_key),
            ),
            f"the crawler reads its data set's raw prefix, writes only {table_prefix}* tables "
            "of its database and the log groups Glue creates under /aws-glue/crawlers",
        )
        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=props.name,
            description=f"Catalogs the raw landing zone of {props.dataset}; started by its "
            "data workflow",
            role=self.role.role_arn,
            database_name=props.database_name,
            table_prefix=table_prefix,
            classifiers=[f"{props.name}-csv"] if self.classifier else None,
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=props.landing.uri, exclusions=list(props.exclusions) or None
                    )
                ]
            ),
            crawler_security_configuration=props.security_configuration.name,
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(
                recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY"
            ),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            configuration=json.dumps(
                {
                    "Version": 1.0,
                    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
                    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
                }
            ),
        )
        if self.classifier is not None:
            self.crawler.node.add_dependency(self.classifier)
        self.crawler.node.add_dependency(props.security_configuration)
        self.arn = stack.format_arn(service="glue", resource="crawler", resource_name=props.name)
