"""A job's context survives its trip through Glue arguments; bad arguments name their fix."""

from __future__ import annotations

import datetime as dt

import pytest

from dataops.job_contexts import Locations, job_context
from jobkit.arguments import from_arguments, to_arguments
from jobkit.context import ContextError, DateRange

LOCATIONS = Locations(
    table=lambda table: f"s3://curated/{table}/",
    state=lambda dataset: f"s3://curated/_state/{dataset}/",
    raw=lambda dataset: f"s3://raw/{dataset.spec.raw.prefix}",
)


@pytest.mark.parametrize("job", ["staging", "intermediate", "mart"])
def test_every_job_context_round_trips_through_its_arguments(project, job) -> None:
    dataset = project.datasets["vpcflow"]
    context = job_context(
        dataset,
        dataset.job_graph.job(job),
        LOCATIONS,
        "exec-1",
        replay=DateRange(dt.date(2024, 5, 1), dt.date(2024, 5, 2)),
        database="db",
    )
    arguments = {name.removeprefix("--"): value for name, value in to_arguments(context).items()}
    assert from_arguments(arguments) == context
    assert all(value for value in arguments.values()), "Glue rejects empty argument values"


def test_the_context_names_inputs_outputs_and_downstream_from_the_job_graph(project) -> None:
    dataset = project.datasets["vpcflow"]
    staging = job_context(dataset, dataset.job_graph.job("staging"), LOCATIONS, "b")
    assert staging.output == "staging_raw_vpcflowlogs"
    assert staging.quarantine == "quarantine_vpcflowlogs"
    assert staging.downstream == ("intermediate",)
    assert staging.raw_uri == "s3://raw/AWSLogs/"
    mart = job_context(dataset, dataset.job_graph.job("mart"), LOCATIONS, "b")
    assert list(mart.inputs) == ["inter_model_flowlogs"]
    assert mart.downstream == ()
    assert mart.schemas["data_app_conn_stats"].startswith("`dt` date, `source_ip_address` string")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"replay": "2024-05-03..2024-05-01"}, "--replay: '2024-05-03..2024-05-01' starts after"),
        ({"replay": "yesterday"}, "--replay: 'yesterday' is not a date range"),
        ({"replay": "2024-02-30..2024-03-01"}, "--replay: '2024-02-30..2024-03-01'"),
        ({"outputs": "[1]"}, "--outputs: not an object of strings"),
        ({"inputs": "{"}, "--inputs: not JSON"),
        ({"incremental": "sometimes"}, "--incremental: 'sometimes'; fix: use one of"),
        ({"batch_id": ""}, "--batch_id: missing"),
        ({"raw_lateness_days": "two"}, "--raw_lateness_days: 'two'"),
    ],
)
def test_a_bad_argument_fails_with_one_line_naming_it(project, change, message) -> None:
    dataset = project.datasets["vpcflow"]
    context = job_context(dataset, dataset.job_graph.job("staging"), LOCATIONS, "b")
    arguments = {name.removeprefix("--"): value for name, value in to_arguments(context).items()}
    with pytest.raises(ContextError, match="fix:") as error:
        from_arguments({**arguments, **change})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
