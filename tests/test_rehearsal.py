"""The cloud rehearsal of dev, end to end: the synthesized stack stood up in moto, its workflow
run on generated flow logs by the job scripts from the assembly, then ``integration-test``
against it. Spark is the tests' shared session and the assembly the synth worker's, so this
starts neither a JVM nor a synth of its own."""

from __future__ import annotations

import pytest

from dataops.integration.report import Outcome, results_table
from dataops.rehearsal.assembly import find_stack
from dataops.rehearsal.command import rehearse
from dataops.resource_names import stack_name

pytestmark = pytest.mark.xdist_group("spark")


def test_the_clean_run_of_dev_and_the_integration_test_against_it_pass(
    project, shared_assembly_dir, spark, tmp_path
):
    stack = find_stack(shared_assembly_dir, stack_name(project.config.project, "dev"))
    results = rehearse(
        project, "dev", stack, scenarios=["clean"], work_dir=tmp_path, spark=lambda: spark
    )
    outcomes = {result.name: result.outcome for result in results}
    assert set(outcomes.values()) == {Outcome.PASSED}, results_table(results)
    # The execution succeeded along the clean path, the mart holds the predicted rows, and
    # the post-deploy check passed against the rehearsed environment.
    machines = [
        resource
        for resource in stack.template["Resources"].values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    for check in ("execution", "path", "notifications"):
        assert sum(name.endswith(f": {check}") for name in outcomes) == len(machines)
    assert any(name.startswith("clean: mart ") for name in outcomes)
    assert "clean: integration-test" in outcomes
