"""Mermaid diagrams: derived from a pipeline template and from the declared job graph."""

from __future__ import annotations

import dataclasses

import pytest

from dataops.diagrams import (
    README_MARKER,
    WORKFLOWS_BEGIN,
    WORKFLOWS_END,
    data_workflow_file,
    data_workflow_mermaid,
    delivery_pipeline_mermaid,
    embed_in_readme,
    render,
    stale_files,
)
from dataops.project import PROJECT_ROOT

TEMPLATE = {
    "Resources": {
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Stages": [
                    {"Name": "Source", "Actions": [{"Name": "Repo", "RunOrder": 1}]},
                    {
                        "Name": "Checks",
                        "Actions": [
                            {"Name": "Lint", "RunOrder": 1},
                            {"Name": "Unit", "RunOrder": 1},
                            {"Name": "Synth", "RunOrder": 2},
                        ],
                    },
                ]
            },
        }
    }
}


def test_pipeline_diagram_keeps_stage_order_and_parallel_actions() -> None:
    text = delivery_pipeline_mermaid(TEMPLATE)
    assert text.index('stage_Source["Source"]') < text.index('stage_Checks["Checks"]')
    assert "stage_Source --> stage_Checks" in text
    assert "Checks_Lint --> Checks_Synth" in text
    assert "Checks_Unit --> Checks_Synth" in text
    assert "Checks_Lint --> Checks_Unit" not in text


def test_data_workflow_diagram_of_a_data_set_follows_its_job_graph(project) -> None:
    dataset = project.datasets["vpcflow"]
    text = data_workflow_mermaid(dataset)
    assert text.index("job_staging") < text.index("job_intermediate") < text.index("job_mart")
    assert "raw landing zone<br/>AWSLogs/.../vpcflowlogs" in text
    assert "crawler -. then .-> job_staging" in text
    for job in dataset.job_graph.jobs:
        for table in job.outputs:
            assert f"job_{job.name} --> {table}" in text
    assert set(project.contracts) - set(dataset.contracts) == {
        table for table in project.contracts if f"{table}[" not in text
    }


def test_a_data_set_without_a_crawler_starts_with_its_first_job(project) -> None:
    dataset = project.datasets["vpcflow"]
    uncrawled = dataclasses.replace(dataset, spec=dataset.spec.model_copy(update={"crawler": None}))
    text = data_workflow_mermaid(uncrawled)
    assert "crawler" not in text
    assert "raw --> job_staging" in text


def test_every_data_set_s_diagram_is_written_into_the_readme_region() -> None:
    readme = f"intro\n{WORKFLOWS_BEGIN}\nold\n{WORKFLOWS_END}\nend\n"
    diagrams = {
        "delivery_pipeline.mmd": "p\n",
        data_workflow_file("b"): "second\n",
        data_workflow_file("a"): "first\n",
    }
    text = embed_in_readme(readme, diagrams)
    assert "old" not in text
    assert text.index("`a`:") < text.index("`b`:") < text.index(WORKFLOWS_END)
    assert f"{README_MARKER.format(name=data_workflow_file('a'))}\n```mermaid\nfirst\n```" in text
    assert embed_in_readme(text, diagrams) == text


def test_a_diagram_of_a_data_set_that_is_gone_is_stale(tmp_path) -> None:
    (tmp_path / "README.md").write_text("")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / data_workflow_file("gone")).write_text("flowchart LR\n")
    assert list(stale_files(tmp_path, {}, docs)) == [str(docs / data_workflow_file("gone"))]


def test_readme_blocks_are_replaced_in_place() -> None:
    readme = "intro\n<!-- diagram:a.mmd -->\n```mermaid\nold\n```\nend\n"
    assert embed_in_readme(readme, {"a.mmd": "new\n"}) == (
        "intro\n<!-- diagram:a.mmd -->\n```mermaid\nnew\n```\nend\n"
    )


def test_stages_that_roll_back_say_so() -> None:
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Stages": [
                        {"Name": "Dev", "Actions": [], "OnFailure": {"Result": "ROLLBACK"}},
                        {"Name": "Checks", "Actions": []},
                    ]
                },
            }
        }
    }
    text = delivery_pipeline_mermaid(template)
    assert 'stage_Dev["Dev<br/><i>rolls back on failure</i>"]' in text
    assert 'stage_Checks["Checks"]' in text


@pytest.mark.xdist_group("synth")
def test_committed_diagrams_match_the_code(project, assembly_dir) -> None:
    diagrams = render(project, assembly_dir)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name in diagrams:
        assert README_MARKER.format(name=name) in readme, f"README shows no {name}"
    stale = list(stale_files(PROJECT_ROOT, diagrams, PROJECT_ROOT / "docs"))
    assert stale == [], "stale diagrams; fix: run `make diagrams` and commit the result"
