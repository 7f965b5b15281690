"""Table contracts: the one declaration of every table's schema.

``contracts/<table>.yaml`` is read by the CDK app (Glue tables, data-quality rules), the local
runner (output checks), the pull-request gates (breaking changes, PII) and the post-deploy
checks. No schema is written anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dataops.declarations import DeclarationError, load_yaml, validate

DEFAULT_CONTRACTS_DIR = Path("contracts")

_PRIMITIVE_TYPES = (
    "string|boolean|tinyint|smallint|int|bigint|float|double|date|timestamp|binary"
    r"|decimal\(\d+,\s*\d+\)|varchar\(\d+\)|char\(\d+\)"
)
_GLUE_TYPE = re.compile(
    rf"^({_PRIMITIVE_TYPES}|array<({_PRIMITIVE_TYPES})>|map<string,({_PRIMITIVE_TYPES})>)$"
)
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,127}$")


def _glue_type(value: str) -> str:
    if not _GLUE_TYPE.match(value):
        raise ValueError(
            f"'{value}' is not a supported Glue type; fix: use string, int, bigint, double, "
            "boolean, date, timestamp, decimal(p,s), array<T> or map<string,T>"
        )
    return value


def _identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ValueError(
            f"'{value}' is not a valid table or column name; fix: use lowercase letters, "
            "digits and '_', starting with a letter"
        )
    return value


def _semver(value: str) -> str:
    if not _SEMVER.match(str(value)):
        raise ValueError(f"'{value}' is not a semantic version; fix: write MAJOR.MINOR.PATCH")
    return str(value)


GlueType = Annotated[str, AfterValidator(_glue_type)]
Identifier = Annotated[str, AfterValidator(_identifier)]
Layer = Literal["staging", "intermediate", "mart"]
LAYERS: tuple[Layer, ...] = ("staging", "intermediate", "mart")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExposureApproval(_Strict):
    """An explicit, reviewed decision to expose a PII column in clear in a mart."""

    reason: str = Field(min_length=10)
    approver: str = Field(min_length=3)


class Column(_Strict):
    name: Identifier
    type: GlueType
    nullable: bool = True
    description: str = ""
    pii: bool = False
    masking: Literal["hash", "truncate", "drop"] | None = None
    exposure_approval: ExposureApproval | None = None


class Contract(_Strict):
    """One table: its place in the layers, its columns, partitioning and grain."""

    name: Identifier
    layer: Layer
    owner: str = Field(min_length=1)
    version: Annotated[str, AfterValidator(_semver)]
    description: str = Field(min_length=1)
    columns: list[Column] = Field(min_length=1)
    partition_keys: list[Identifier] = Field(default_factory=list)
    grain: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Contract:
        names = [column.name for column in self.columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(
                f"duplicate column(s) {', '.join(duplicates)}; fix: name every column once"
            )
        for key, listed in (("partition_keys", self.partition_keys), ("grain", self.grain)):
            unknown = [name for name in listed if name not in names]
            if unknown:
                raise ValueError(
                    f"{key} names unknown column(s) {', '.join(unknown)}; "
                    "fix: declare them under columns or remove them"
                )
        return self

    @property
    def major_version(self) -> int:
        return int(self.version.split(".")[0])

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def data_columns(self) -> list[Column]:
        """Columns stored in the files (a Glue table's columns, partition keys excluded)."""
        return [column for column in self.columns if column.name not in self.partition_keys]

    @property
    def partition_columns(self) -> list[Column]:
        return [self.column(name) for name in self.partition_keys]


def load_contract(path: Path) -> Contract:
    contract: Contract = validate(Contract, load_yaml(path), path)
    if contract.name != path.stem:
        raise DeclarationError(
            [
                f"{path}: name: '{contract.name}' differs from the file name; "
                f"fix: rename the file to {contract.name}.yaml or set name: {path.stem}"
            ]
        )
    return contract


def load_contracts(directory: Path | str = DEFAULT_CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract in ``directory`` by table name; all files' errors are reported at once."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise DeclarationError(
            [f"{directory}: no contracts found; fix: add one <table>.yaml per table"]
        )
    contracts: dict[str, Contract] = {}
    errors: list[str] = []
    for path in paths:
        try:
            contract = load_contract(path)
        except DeclarationError as exc:
            errors.extend(exc.lines)
            continue
        contracts[contract.name] = contract
    if errors:
        raise DeclarationError(errors)
    return contracts


def load_contract_tree(directory: Path | str = DEFAULT_CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract of every data set's folder under ``directory``, by table name."""
    contracts: dict[str, Contract] = {}
    errors: list[str] = []
    for folder in sorted(path for path in Path(directory).iterdir() if path.is_dir()):
        try:
            loaded = load_contracts(folder)
        except DeclarationError as exc:
            errors.extend(exc.lines)
            continue
        for name in sorted(set(loaded) & set(contracts)):
            errors.append(
                f"{folder / name}.yaml: table '{name}' is declared twice; fix: rename one"
            )
        contracts |= loaded
    if errors:
        raise DeclarationError(errors)
    return contracts
