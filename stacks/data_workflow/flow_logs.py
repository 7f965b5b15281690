"""Flow logs of the environment's own VPCs into a flow-log data set's landing zone
(``collector: vpc_flow_logs``, the VPCs from config's ``datasets.<name>.vpc_ids``).

Each delivers every field the data set's staging contract names (``${field} ...`` in contract
order, :func:`dataops.flow_log_format.flow_log_format`), so a contract change changes what is
delivered, as plain text in hourly folders (the staging job reads an optional hour folder).
AWS appends ``AWSLogs/<account>/vpcflowlogs/<region>/yyyy/MM/dd/HH/`` to the destination, so
the destination is the raw bucket with the part of ``raw.prefix`` before ``AWSLogs/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from dataops.datasets import DATASET_FILE, DataSet
from dataops.declarations import DeclarationError
from dataops.flow_log_format import flow_log_format
from dataops.job_graph import GLUE_SCRIPTS_DIR
from stacks.data_workflow.names import pascal

# The folder AWS delivers under, and the layout it delivers (``raw.layout`` must be it).
AWS_LOGS_FOLDER = "AWSLogs/"
FLOW_LOG_LAYOUT = "{account}/vpcflowlogs/{region}/{yyyy}/{MM}/{dd}/"
# The longest window flow records are aggregated over: fewer, larger records.
MAX_AGGREGATION_SECONDS = 600


def destination_folder(dataset: DataSet) -> str:
    """The subfolder a flow log delivers under, so that objects land at ``raw.prefix`` +
    ``raw.layout`` ('' for the bucket root)."""
    raw = dataset.spec.raw
    where = f"{GLUE_SCRIPTS_DIR / dataset.name / DATASET_FILE}: raw"
    if raw.layout != FLOW_LOG_LAYOUT:
        raise DeclarationError(
            [f"{where}.layout: flow logs deliver as {FLOW_LOG_LAYOUT}; fix: declare that layout"]
        )
    if not raw.prefix.endswith(AWS_LOGS_FOLDER) or raw.prefix == f"AWSLogs/{AWS_LOGS_FOLDER}":
        raise DeclarationError(
            [
                f"{where}.prefix: '{raw.prefix}': flow logs deliver under <folder>/"
                f"{AWS_LOGS_FOLDER} (a folder other than AWSLogs); fix: end the prefix with "
                f"{AWS_LOGS_FOLDER}, e.g. {AWS_LOGS_FOLDER} or flowlogs/{AWS_LOGS_FOLDER}"
            ]
        )
    return raw.prefix.removesuffix(AWS_LOGS_FOLDER)


@dataclass(frozen=True)
class FlowLogsProps:
    """``after``: what must exist before a flow log is created (the bucket and key policies
    letting it deliver; without them AWS rejects the destination)."""

    dataset: DataSet
    vpc_ids: tuple[str, ...]
    raw_bucket: s3.IBucket
    after: tuple[IConstruct, ...]


class VpcFlowLogs(Construct):
    """``flow_logs`` by VPC id."""

    def __init__(self, scope: Construct, construct_id: str, *, props: FlowLogsProps) -> None:
        super().__init__(scope, construct_id)
        folder = destination_folder(props.dataset)
        bucket_arn = props.raw_bucket.bucket_arn
        log_format = flow_log_format(props.dataset)
        self.flow_logs: dict[str, ec2.CfnFlowLog] = {}
        for vpc_id in props.vpc_ids:
            flow_log = ec2.CfnFlowLog(
                self,
                f"FlowLog{pascal(vpc_id)}",
                resource_id=vpc_id,
                resource_type="VPC",
                traffic_type="ALL",
                log_destination_type="s3",
                log_destination=f"{bucket_arn}/{folder}" if folder else bucket_arn,
                destination_options={
                    "FileFormat": "plain-text",
                    "HiveCompatiblePartitions": False,
                    "PerHourPartition": True,
                },
                max_aggregation_interval=MAX_AGGREGATION_SECONDS,
                log_format=log_format,
            )
            for dependency in props.after:
                flow_log.node.add_dependency(dependency)
            self.flow_logs[vpc_id] = flow_log
