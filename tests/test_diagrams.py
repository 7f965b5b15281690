"""Mermaid diagrams: derived from a pipeline template and from the declared job graph."""

from __future__ import annotations

import pytest

from dataops.diagrams import (
    README_MARKER,
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


def test_data_workflow_diagram_follows_the_job_graph(project) -> None:
    text = data_workflow_mermaid(project)
    assert text.index("job_staging") < text.index("job_intermediate") < text.index("job_mart")
    for job in project.job_graph.jobs:
        for table in job.writes:
            assert f"job_{job.name} --> {table}" in text


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
