"""Names of deployed resources, published by the data-workflow stack as SSM parameters.

The stack writes each value once under :func:`parameter_name`; the post-deploy checks read
them back. Neither side spells a bucket, database or state machine name of its own.
"""

from __future__ import annotations

from enum import StrEnum


class PublishedResource(StrEnum):
    """What the data-workflow stack publishes for the post-deploy checks."""

    RAW_BUCKET = "raw-bucket"
    CURATED_BUCKET = "curated-bucket"
    QUARANTINE_BUCKET = "quarantine-bucket"
    ATHENA_RESULTS_BUCKET = "athena-results-bucket"
    GLUE_DATABASE = "glue-database"
    ATHENA_WORKGROUP = "athena-workgroup"
    ALARM_NAMES = "alarm-names"
    KMS_KEY_ARN = "kms-key-arn"


class DataSetResource(StrEnum):
    """What the data-workflow stack publishes for each data set."""

    STATE_MACHINE_ARN = "state-machine-arn"


def parameter_prefix(project: str, environment: str) -> str:
    return f"/{project}/{environment}/"


def parameter_name(project: str, environment: str, resource: PublishedResource) -> str:
    """The SSM parameter holding ``resource`` of ``environment``."""
    return f"{parameter_prefix(project, environment)}{resource.value}"


def dataset_parameter_name(
    project: str, environment: str, dataset: str, resource: DataSetResource
) -> str:
    """The SSM parameter holding ``resource`` of ``dataset`` in ``environment``."""
    return f"{parameter_prefix(project, environment)}datasets/{dataset}/{resource.value}"


def state_machine_name(project: str, environment: str, dataset: str) -> str:
    """The Step Functions state machine running ``dataset``'s data workflow."""
    return f"{project}-{environment}-{dataset}"


def glue_job_name(project: str, environment: str, dataset: str, job: str) -> str:
    """The Glue job of ``job`` in ``dataset``'s job graph."""
    return f"{project}-{environment}-{dataset}-{job}"


def crawler_name(project: str, environment: str, dataset: str) -> str:
    """The crawler of ``dataset``'s raw landing zone."""
    return f"{project}-{environment}-{dataset}-raw"


def state_prefix(dataset: str) -> str:
    """Where ``dataset``'s incremental state lives in the curated bucket."""
    return f"_state/{dataset}"


def stack_name(project: str, environment: str) -> str:
    """CloudFormation name of an environment's data-workflow stack."""
    return f"{project}-{environment}-data-workflow"


def glue_database_name(project: str, environment: str) -> str:
    """Glue Data Catalog database of an environment (underscores: Athena-friendly)."""
    return f"{project}_{environment}".replace("-", "_")


def integration_test_role_name(project: str, environment: str) -> str:
    """Role in an environment's account that the delivery pipeline's test step assumes."""
    return f"{project}-{environment}-integration-test"


def post_deploy_step_role_name(project: str, environment: str) -> str:
    """Role of the delivery pipeline's post-deploy steps (integration test, alarm watch) for an
    environment, in the tooling account: the only principal the integration-test role trusts."""
    return f"{project}-{environment}-post-deploy-steps"


def pull_request_checks_name(project: str) -> str:
    """The pull-request checks' stack and CodeBuild project (in the tooling account)."""
    return f"{project}-pull-request-checks"
