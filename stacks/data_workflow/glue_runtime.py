"""What every Glue job of an environment shares: the security configuration, the one entry
script and the job framework's zip.

Every job of every data set runs ``glue_scripts/run_job.py`` with two zips on
``--extra-py-files``: ``jobkit`` (the framework, an asset built here once) and its data set's
package (see :mod:`stacks.data_workflow.glue_jobs`). The worker type is checked here, once an
environment, so a config mistake fails the synth on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from dataops.config import EnvironmentConfig
from dataops.datasets import FRAMEWORK_PACKAGE
from stacks.data_workflow.job_library import build_library_zip

ENTRY_SCRIPT = "run_job.py"


@dataclass(frozen=True)
class GlueRuntimeProps:
    name: str
    environment: EnvironmentConfig
    scripts_dir: Path
    data_key: kms.IKey


class GlueRuntime(Construct):
    """``security_configuration``, the ``entry_script`` and ``framework`` assets."""

    def __init__(self, scope: Construct, construct_id: str, *, props: GlueRuntimeProps) -> None:
        super().__init__(scope, construct_id)
        key_arn = props.data_key.key_arn
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=props.name,
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key_arn
                ),
            ),
        )
        self.entry_script = s3_assets.Asset(
            self,
            "EntryScript",
            path=str(props.scripts_dir / ENTRY_SCRIPT),
            display_name="Glue entry script of every job",
        )
        self.framework = s3_assets.Asset(
            self,
            "Framework",
            path=str(build_library_zip(props.scripts_dir / FRAMEWORK_PACKAGE)),
            display_name=f"{FRAMEWORK_PACKAGE} job framework",
        )

    def read_statement(self, package: s3_assets.Asset) -> iam.PolicyStatement:
        """Reading the entry script, the framework zip and a data set's ``package`` zip."""
        return iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[
                asset.bucket.arn_for_objects(asset.s3_object_key)
                for asset in (self.entry_script, self.framework, package)
            ],
        )
