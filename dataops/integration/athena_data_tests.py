"""The SQL data tests of ``data_tests/`` on Athena, over the environment's tables."""

from __future__ import annotations

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from dataops.data_tests import DataTest, DataTestResult
from dataops.integration.athena import AthenaTarget, QueryError, qualify, run_query
from dataops.integration.pacing import Pacing

SAMPLE_ROWS = 5


def run_data_test(
    athena: BaseClient, target: AthenaTarget, test: DataTest, pacing: Pacing
) -> DataTestResult:
    """Zero rows passes; any row, or a query that fails, fails the test."""
    started = pacing.clock()
    try:
        rows = run_query(athena, target, qualify(test.sql, target.database), pacing)
    except (QueryError, ClientError, BotoCoreError) as exc:
        return DataTestResult(test, 0, [], pacing.clock() - started, str(exc))
    return DataTestResult(test, len(rows), rows[:SAMPLE_ROWS], pacing.clock() - started)
