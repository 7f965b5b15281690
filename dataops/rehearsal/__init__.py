"""The cloud rehearsal: an environment's synthesized stack stood up in moto and run for real.

Nothing is deployed and no AWS account is needed. The data-workflow template in ``cdk.out`` is
read, its resources are created in moto (``standup``), the state machine runs on moto's ASL
interpreter with the gaps that matter here closed (``sfn_patches``), every Glue job run executes
the job's real entry script on a local SparkSession (``glue_runner``), and Athena queries run on
DuckDB (``athena_duckdb``) over a directory mirroring moto's S3 (``s3_mirror``). Scenarios
(``scenarios``) put data in, arm faults, run executions and assert on what happened.
"""

from __future__ import annotations

from dataops.declarations import DeclarationError


class RehearsalError(DeclarationError):
    """Bad input the rehearsal cannot work with: one line naming it and the fix (exit 2)."""

    def __init__(self, line: str) -> None:
        super().__init__([line])
