"""The environment's Glue Data Catalog database and, per data set, one table a contract.

Partition keys are projected (Athena partition projection) from
:data:`jobkit.partitions.PARTITION_FLOOR`, the first day the staging jobs accept, so new ``dt``
partitions written by the jobs are visible to Athena at once, without a crawler or
``MSCK REPAIR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from constructs import Construct

from dataops.contracts import Column, Contract
from dataops.datasets import CONTRACTS_DIR
from dataops.declarations import DeclarationError
from jobkit.partitions import PARTITION_FLOOR
from stacks.data_workflow.layout import DataLayout
from stacks.data_workflow.names import pascal

PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def projection_parameters(dataset: str, contract: Contract, location_uri: str) -> dict[str, str]:
    """Table parameters projecting every (date) partition key; other types cannot be projected
    without declaring their values, so they are a declaration error."""
    parameters = {"projection.enabled": "true"}
    template = location_uri
    for column in contract.partition_columns:
        if column.type != "date":
            raise DeclarationError(
                [
                    f"{CONTRACTS_DIR / dataset / contract.name}.yaml: partition_keys: "
                    f"'{column.name}' is "
                    f"{column.type}, only date partition keys are projected; fix: partition "
                    "by a date column"
                ]
            )
        parameters |= {
            f"projection.{column.name}.type": "date",
            f"projection.{column.name}.format": "yyyy-MM-dd",
            f"projection.{column.name}.range": f"{PARTITION_FLOOR.isoformat()},NOW",
            f"projection.{column.name}.interval": "1",
            f"projection.{column.name}.interval.unit": "DAYS",
        }
        template += f"{column.name}=${{{column.name}}}/"
    parameters["storage.location.template"] = template
    return parameters


def _columns(columns: list[Column]) -> list[glue.CfnTable.ColumnProperty]:
    return [
        glue.CfnTable.ColumnProperty(name=c.name, type=c.type, comment=c.description or None)
        for c in columns
    ]


class CatalogDatabase(Construct):
    """The environment's database, shared by every data set's tables."""

    def __init__(self, scope: Construct, construct_id: str, *, database_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.database_name = database_name
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name,
                description=f"{stack.stack_name}: tables of the data workflows (from contracts/)",
            ),
        )


@dataclass(frozen=True)
class CatalogTablesProps:
    dataset: str
    database: CatalogDatabase
    contracts: Mapping[str, Contract]
    layout: DataLayout


class CatalogTables(Construct):
    """One data set's tables; ``tables`` by contract name, for dependencies on them."""

    def __init__(self, scope: Construct, construct_id: str, *, props: CatalogTablesProps) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.tables: dict[str, glue.CfnTable] = {}
        for name, contract in sorted(props.contracts.items()):
            location = props.layout.table(name).uri
            parameters = {
                "classification": "parquet",
                "contract_version": contract.version,
                "layer": contract.layer,
                **(
                    projection_parameters(props.dataset, contract, location)
                    if contract.partition_keys
                    else {}
                ),
            }
            table = glue.CfnTable(
                self,
                f"Table{pascal(name)}",
                catalog_id=stack.account,
                database_name=props.database.database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=name,
                    description=contract.description,
                    table_type="EXTERNAL_TABLE",
                    parameters=parameters,
                    partition_keys=_columns(contract.partition_columns),
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=_columns(contract.data_columns),
                        location=location,
                        input_format=PARQUET_INPUT,
                        output_format=PARQUET_OUTPUT,
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library=PARQUET_SERDE,
                            parameters={"serialization.format": "1"},
                        ),
                    ),
                ),
            )
            table.node.add_dependency(props.database.database)
            self.tables[name] = table
