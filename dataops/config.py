"""The typed project configuration: accounts, regions, source, notifications, sizes.

``config/environments.yaml`` is the only place these are written. The CDK app, the local
runner, the post-deploy checks and the pull-request checks all read them through
:func:`load_config`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from dataops.declarations import load_yaml, validate

if TYPE_CHECKING:
    from dataops.datasets import DataSet

DEFAULT_CONFIG_PATH = Path("config/environments.yaml")

# Regions where Glue 5.1, Step Functions, Athena and CodePipeline V2 are all offered.
KNOWN_REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2",
        "eu-north-1", "eu-south-1", "eu-south-2",
        "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7", "ap-east-1",
        "me-south-1", "me-central-1", "il-central-1", "af-south-1",
        "us-gov-west-1", "us-gov-east-1",
    }
)  # fmt: skip
REQUIRED_ENVIRONMENTS = ("dev", "staging", "prod")
STREAMING_ONLY_WORKER_TYPES = frozenset({"G.025X"})

_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:"
    r"connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# A Secrets Manager secret's name (not its ARN): what the build resolves by name.
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


def _account_id(value: object) -> str:
    text = str(value)
    if not _ACCOUNT.match(text):
        raise ValueError(
            f"'{text}' is not a 12-digit AWS account id; "
            'fix: write the 12 digits in quotes, e.g. "123456789012"'
        )
    return text


def _region(value: str) -> str:
    if value not in KNOWN_REGIONS:
        raise ValueError(
            f"unknown region '{value}'; fix: use an AWS region code such as eu-west-1 or us-east-1"
        )
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address; fix: write it as name@example.com")
    return value


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"'{value}' is not a valid name; fix: use 2-31 lowercase letters, digits or '-', "
            "starting with a letter"
        )
    return value


def _schedule(value: str | None) -> str | None:
    if value is not None and not _SCHEDULE.match(value):
        raise ValueError(
            f"'{value}' is not an EventBridge schedule; "
            "fix: use rate(N minutes|hours|days), cron(...) or null for no schedule"
        )
    return value


def _vpc_id(value: str) -> str:
    if not _VPC_ID.match(value):
        raise ValueError(
            f"'{value}' is not a VPC id; fix: copy it from the console, e.g. vpc-0abc..."
        )
    return value


def _source_name(value: str) -> str:
    if not _SOURCE_NAME.match(value):
        raise ValueError(
            f"'{value}' is not a resource name; fix: use letters, digits, '.', '_' or '-'"
        )
    return value


AccountId = Annotated[str, BeforeValidator(_account_id)]
Region = Annotated[str, AfterValidator(_region)]
Email = Annotated[str, AfterValidator(_email)]
Name = Annotated[str, AfterValidator(_name)]
VpcId = Annotated[str, AfterValidator(_vpc_id)]
SourceName = Annotated[str, AfterValidator(_source_name)]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountRegion(_Strict):
    account: AccountId
    region: Region


class SourceConfig(_Strict):
    """Where the delivery pipeline takes the code from."""

    provider: Literal["codecommit", "github"]
    repository: str = Field(min_length=1)
    branch: str = Field(default="main", min_length=1)
    owner: str | None = None
    connection_arn: str | None = None
    # codecommit: false imports an existing repository of that name instead of creating it.
    create_repository: bool = True
    # github: a Secrets Manager secret (its name) holding a token that may comment on pull
    # requests; the pull-request check then comments its report on the pull request.
    github_token_secret: str | None = None

    @model_validator(mode="after")
    def _github_needs_connection(self) -> SourceConfig:
        if self.provider == "github":
            if "create_repository" in self.model_fields_set:
                raise ValueError(
                    "create_repository applies to codecommit only; fix: remove it "
                    "(a github repository is never created by the stack)"
                )
            if not self.owner:
                raise ValueError(
                    "a github source needs 'owner'; fix: add owner: <github org or user>"
                )
            if not self.connection_arn:
                raise ValueError(
                    "a github source needs 'connection_arn'; fix: create a CodeStar connection "
                    "in the tooling account and add connection_arn: arn:aws:codeconnections:..."
                )
        if self.github_token_secret is not None:
            if self.provider != "github":
                raise ValueError(
                    "github_token_secret applies to github only; fix: remove it (CodeCommit pull "
                    "requests are commented by the stack's reporter function)"
                )
            if not _SECRET_NAME.match(self.github_token_secret):
                raise ValueError(
                    f"'{self.github_token_secret}' is not a Secrets Manager secret name; fix: "
                    "write the secret's name, e.g. flowlogs-dataops/github-token"
                )
        if self.connection_arn is not None and not _CONNECTION_ARN.match(self.connection_arn):
            raise ValueError(
                f"'{self.connection_arn}' is not a CodeStar connection ARN; fix: copy the ARN "
                "from the console, arn:aws:codeconnections:REGION:ACCOUNT:connection/UUID"
            )
        return self


class NotificationConfig(_Strict):
    emails: list[Email] = Field(default_factory=list)


class GlueSizing(_Strict):
    """Per-environment Glue job sizing; Flex is only offered for G.1X and G.2X."""

    # G.025X is a Glue worker type too, but it runs streaming jobs only: every job here is a
    # batch job, so it is named and refused with its fix.
    worker_type: Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    workers: int = Field(default=2, ge=2, le=299)
    flex: bool = False
    timeout_minutes: int = Field(default=60, ge=1, le=2880)
    max_retries: int = Field(default=0, ge=0, le=10)

    @field_validator("worker_type")
    @classmethod
    def _batch_worker_type(cls, value: str) -> str:
        if value in STREAMING_ONLY_WORKER_TYPES:
            raise ValueError(f"{value} runs streaming jobs only; fix: use G.1X or larger")
        return value

    @model_validator(mode="after")
    def _flex_worker_type(self) -> GlueSizing:
        if self.flex and self.worker_type not in {"G.1X", "G.2X"}:
            raise ValueError(
                f"flex is not offered for {self.worker_type}; fix: set flex: false or "
                "worker_type: G.1X/G.2X"
            )
        return self


class DataSetSettings(_Strict):
    """What one environment says about one data set's raw source (all optional)."""

    # Accounts whose deliveries the raw bucket and its key accept (default: the environment's).
    source_accounts: list[AccountId] = Field(default_factory=list)
    # Names in the delivery's source ARN, e.g. CloudTrail trail names (default: any).
    source_names: list[SourceName] = Field(default_factory=list)
    # collector vpc_flow_logs: VPCs of the environment's account that get a flow log.
    vpc_ids: list[VpcId] = Field(default_factory=list)
    # Overrides the environment's raw_freshness_minutes for this data set (0: no alarm).
    freshness_minutes: int | None = Field(default=None, ge=0, le=10080)


class EnvironmentConfig(_Strict):
    """One deployment target of the data workflow (a stage of the delivery pipeline)."""

    name: Name
    account: AccountId
    region: Region
    removal_policy: Literal["retain", "destroy"] = "retain"
    schedule: Annotated[str | None, AfterValidator(_schedule)] = None
    alarm_watch_minutes: int = Field(default=15, ge=5, le=360)
    approval_before_deploy: bool = False
    post_deploy_check: Literal["integration", "integration-with-data-tests", "smoke"] = (
        "integration"
    )
    notification_emails: list[Email] = Field(default_factory=list)
    glue: GlueSizing = Field(default_factory=GlueSizing)
    # An alarm when no raw object arrived for this long (null: no alarm, e.g. where nothing
    # delivers); a data set may override it.
    raw_freshness_minutes: int | None = Field(default=None, ge=15, le=10080)
    datasets: dict[str, DataSetSettings] = Field(default_factory=dict)

    def dataset_settings(self, dataset: str) -> DataSetSettings:
        return self.datasets.get(dataset, DataSetSettings())

    def source_accounts(self, dataset: str) -> list[str]:
        """Accounts that may deliver ``dataset``'s raw objects here."""
        return self.dataset_settings(dataset).source_accounts or [self.account]

    def freshness_minutes(self, dataset: str) -> int | None:
        """Minutes without a new raw object before ``dataset``'s alarm fires (None: no alarm)."""
        override = self.dataset_settings(dataset).freshness_minutes
        minutes = self.raw_freshness_minutes if override is None else override
        return minutes or None


class ProjectConfig(_Strict):
    """The whole of ``config/environments.yaml``."""

    project: Name
    source: SourceConfig
    notifications: NotificationConfig = Field(default_factory=NotificationConfig)
    tooling: AccountRegion
    environments: list[EnvironmentConfig] = Field(min_length=1)

    @field_validator("environments")
    @classmethod
    def _environment_names(cls, environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
        names = [env.name for env in environments]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"duplicate environment name(s): {', '.join(duplicates)}; "
                "fix: give every environment a unique name"
            )
        missing = [name for name in REQUIRED_ENVIRONMENTS if name not in names]
        if missing:
            raise ValueError(
                f"missing environment(s): {', '.join(missing)}; fix: add an entry with "
                f"name: {missing[0]}, account and region under 'environments'"
            )
        return environments

    def environment(self, name: str) -> EnvironmentConfig:
        """The environment called ``name``; a :class:`KeyError` names the valid ones."""
        for env in self.environments:
            if env.name == name:
                return env
        valid = ", ".join(env.name for env in self.environments)
        raise KeyError(f"unknown environment '{name}'; valid: {valid}")

    def dataset_setting_errors(self, datasets: Mapping[str, DataSet], path: Path) -> list[str]:
        """Per-environment data set settings that name no data set or do not apply to it."""
        errors = []
        for index, env in enumerate(self.environments):
            for name, settings in env.datasets.items():
                where = f"{path}: environments[{index}].datasets.{name}"
                dataset = datasets.get(name)
                if dataset is None:
                    errors.append(
                        f"{where}: no data set '{name}'; fix: use one of "
                        f"{', '.join(sorted(datasets))}"
                    )
                    continue
                if settings.vpc_ids and dataset.spec.collector != "vpc_flow_logs":
                    errors.append(
                        f"{where}.vpc_ids: '{name}' collects no flow logs; fix: remove vpc_ids"
                    )
                names_sources = dataset.spec.delivery and dataset.spec.delivery.names_sources
                if settings.source_names and not names_sources:
                    errors.append(
                        f"{where}.source_names: '{name}' is not delivered by named sources; "
                        "fix: remove source_names"
                    )
        return errors

    def emails_for(self, env: EnvironmentConfig) -> list[str]:
        """Everyone told about ``env``: the team's addresses plus the environment's own."""
        return list(dict.fromkeys([*self.notifications.emails, *env.notification_emails]))


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> ProjectConfig:
    """Load and validate the configuration; raises :class:`DeclarationError` with fixes."""
    path = Path(path)
    return validate(ProjectConfig, load_yaml(path), path)
