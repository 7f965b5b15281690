"""The cloud rehearsal of staging, end to end: the synthesized stack stood up in moto, its
workflows run by the job code from the assembly on generated data, cleanly and with two jobs
failing once (staging retries a failed job; dev does not). Spark is the tests' shared session
and the assembly the synth worker's, so this starts neither a JVM nor a synth of its own.
``make rehearse`` (in the pull-request check too) runs every scenario of every environment,
each environment's then followed by ``integration-test`` against it; here that would be a
third workflow run in the suite's time budget."""

from __future__ import annotations

import pytest

from dataops.integration.report import Outcome, results_table
from dataops.rehearsal.assembly import find_stack
from dataops.rehearsal.command import rehearse
from dataops.resource_names import stack_name

pytestmark = pytest.mark.xdist_group("spark")
ENVIRONMENT = "staging"


def test_the_clean_and_the_retry_scenario_of_staging_pass(
    project, shared_assembly_dir, spark, tmp_path
):
    assert project.config.environment(ENVIRONMENT).glue.max_retries >= 1
    stack = find_stack(shared_assembly_dir, stack_name(project.config.project, ENVIRONMENT))
    results = rehearse(
        project,
        ENVIRONMENT,
        stack,
        scenarios=["clean", "retry"],
        work_dir=tmp_path,
        spark=lambda: spark,
        integration_test=False,
    )
    outcomes = {result.name: result.outcome for result in results}
    assert set(outcomes.values()) == {Outcome.PASSED}, results_table(results)
    # Each data set's execution took the clean path and its tables hold what one run of the
    # generated data gives; so do one data set's after two jobs failed once each.
    seeded = [name for name, dataset in project.datasets.items() if dataset.spec.sample_data]
    assert seeded
    for dataset in seeded:
        for check in ("execution", "tables"):
            assert f"{ENVIRONMENT}: clean: {dataset}: {check}" in outcomes
    retried = [name for name in outcomes if name.startswith(f"{ENVIRONMENT}: retry: ")]
    assert any(name.endswith(": execution, two jobs retried") for name in retried)
    assert any(name.endswith(": tables") for name in retried)
