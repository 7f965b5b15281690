"""The environment's Athena workgroup: enforced settings, encrypted results in its own bucket."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_athena as athena
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.data_workflow.layout import ATHENA_RESULTS_PREFIX, Location

# A runaway query stops at 10 GiB scanned; the checks and post-deploy tests scan far less.
BYTES_SCANNED_CUTOFF = 10 * 1024**3


@dataclass(frozen=True)
class WorkgroupProps:
    name: str
    results: Location
    data_key: kms.IKey
    delete_with_stack: bool


class AthenaWorkgroup(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, props: WorkgroupProps) -> None:
        super().__init__(scope, construct_id)
        self.name = props.name
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=props.name,
            description="Data checks of the data workflow and post-deploy tests",
            state="ENABLED",
            recursive_delete_option=props.delete_with_stack,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=Location(props.results.bucket, ATHENA_RESULTS_PREFIX).uri,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=props.data_key.key_arn
                    ),
                ),
            ),
        )
