"""The crawler of the raw landing zone and its classifier for flow-log text.

Flow-log files are space-separated with a header line naming the fields; the classifier reads
the header, so custom formats are catalogued with their own columns. The crawler has no
schedule: the data workflow starts it at the beginning of each run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

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

RAW_TABLE_PREFIX = "raw_"
CRAWLER_LOG_GROUP_PREFIX = "/aws-glue/crawlers"


@dataclass(frozen=True)
class CrawlerProps:
    name: str
    database_name: str
    landing: Location
    data_key: kms.IKey
    security_configuration: glue.CfnSecurityConfiguration


class RawCrawler(Construct):
    """``crawler`` (its ``name`` is the props' name) and its ``role``."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CrawlerProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.name = props.name
        self.classifier = glue.CfnClassifier(
            self,
            "FlowLogClassifier",
            csv_classifier=glue.CfnClassifier.CsvClassifierProperty(
                name=f"{props.name}-flowlogs",
                delimiter=" ",
                contains_header="PRESENT",
                quote_symbol='"',
                disable_value_trimming=False,
                allow_single_column=False,
            ),
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Raw landing zone crawler: reads the raw bucket, writes raw_* tables",
        )
        statements = (
            *location_statements([props.landing], write=False),
            iam.PolicyStatement(
                actions=[*CATALOG_READ, *CATALOG_WRITE, "glue:CreateTable"],
                resources=table_arns(stack, props.database_name, [f"{RAW_TABLE_PREFIX}*"]),
            ),
            log_group_statement(stack, CRAWLER_LOG_GROUP_PREFIX),
            key_statement(props.data_key),
        )
        attach(
            self.role,
            statements,
            "the crawler reads the raw landing prefix, writes only raw_* tables of its "
            "database and the log groups Glue creates under /aws-glue/crawlers",
        )
        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=props.name,
            description="Catalogs the raw flow-log landing zone; started by the data workflow",
            role=self.role.role_arn,
            database_name=props.database_name,
            table_prefix=RAW_TABLE_PREFIX,
            classifiers=[f"{props.name}-flowlogs"],
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[glue.CfnCrawler.S3TargetProperty(path=props.landing.uri)]
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
        self.crawler.node.add_dependency(self.classifier)
        self.crawler.node.add_dependency(props.security_configuration)
        self.arn = stack.format_arn(service="glue", resource="crawler", resource_name=props.name)
