"""``diagrams``: Mermaid pictures of the delivery pipeline and the data workflow.

All are derived, never drawn by hand: the delivery pipeline from the synthesized
CodePipeline resource (stages, and actions grouped by run order, so parallel actions show side
by side), each data set's workflow from its declarations (dataset.yaml, job graph, contracts).
The README embeds them between markers; a test fails when a committed copy is stale, or when a
diagram of a data set that no longer exists is left in docs/.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.datasets import DataSet
from dataops.declarations import DeclarationError
from dataops.job_graph import RAW_SOURCE
from dataops.project import PROJECT_ROOT, Project, load_project

PIPELINE_TEMPLATE = "DeliveryPipeline.template.json"
DELIVERY_PIPELINE_FILE = "delivery_pipeline.mmd"
DATA_WORKFLOW_PREFIX = "data_workflow_"
README_MARKER = "<!-- diagram:{name} -->"
# The README region holding every data set's diagram, rewritten whole (a new data set needs no
# marker of its own).
WORKFLOWS_BEGIN = "<!-- diagrams:data-workflows -->"
WORKFLOWS_END = "<!-- /diagrams:data-workflows -->"


def data_workflow_file(dataset: str) -> str:
    return f"{DATA_WORKFLOW_PREFIX}{dataset}.mmd"


def _node_id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _pipeline_stages(template: dict) -> list[dict]:
    pipelines = [
        resource["Properties"]
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::CodePipeline::Pipeline"
    ]
    if len(pipelines) != 1:
        raise DeclarationError(
            [f"{PIPELINE_TEMPLATE}: expected one CodePipeline, found {len(pipelines)}; "
             "fix: synthesize the app first (make synth)"]
        )  # fmt: skip
    return pipelines[0]["Stages"]


def delivery_pipeline_mermaid(template: dict) -> str:
    """Stages left to right; inside a stage, actions of one run order form one column."""
    lines = ["flowchart LR"]
    previous_stage: str | None = None
    for stage in _pipeline_stages(template):
        stage_id = _node_id("stage", stage["Name"])
        label = stage["Name"]
        if stage.get("OnFailure", {}).get("Result") == "ROLLBACK":
            label += "<br/><i>rolls back on failure</i>"
        lines.append(f'  subgraph {stage_id}["{label}"]')
        lines.append("    direction TB")
        by_order: dict[int, list[str]] = {}
        for action in stage["Actions"]:
            by_order.setdefault(int(action.get("RunOrder", 1)), []).append(action["Name"])
        previous_step: list[str] = []
        for order in sorted(by_order):
            step = [_node_id(stage["Name"], name) for name in by_order[order]]
            for node, name in zip(step, by_order[order], strict=True):
                lines.append(f'    {node}["{name}"]')
            lines.extend(f"    {before} --> {after}" for before in previous_step for after in step)
            previous_step = step
        lines.append("  end")
        if previous_stage:
            lines.append(f"  {previous_stage} --> {stage_id}")
        previous_stage = stage_id
    return "\n".join(lines) + "\n"


def data_workflow_mermaid(dataset: DataSet) -> str:
    """A data set's workflow: its landing zone, the crawler when declared, its jobs (rounded)
    in graph order with the tables (cylinders, by layer) they read and write, the data checks
    and the quarantine notice."""
    raw = dataset.spec.raw
    lines = [
        "flowchart LR",
        f'  {RAW_SOURCE}[("raw landing zone<br/>{raw.prefix}.../{raw.service_folder}")]',
    ]
    previous: str | None = None
    if dataset.spec.crawler is not None:
        lines.append('  crawler{{"crawler"}}')
        lines.append(f"  {RAW_SOURCE} --> crawler")
        previous = "crawler"
    for table, contract in sorted(dataset.contracts.items()):
        lines.append(f'  {table}[("{table}<br/><i>{contract.layer}</i>")]')
    for job in dataset.job_graph.jobs:
        job_id = _node_id("job", job.name)
        lines.append(f'  {job_id}(["{job.name} job"])')
        if previous is not None:
            lines.append(f"  {previous} -. then .-> {job_id}")
        lines.extend(f"  {table} --> {job_id}" for table in job.reads)
        lines.extend(f"  {job_id} --> {table}" for table in job.outputs)
        previous = job_id
    lines.append('  checks(["data checks<br/>of the partitions the run wrote"])')
    lines.append(f"  {previous} -. then .-> checks")
    lines.append('  attention(["notice of quarantined objects"])')
    lines.append("  checks -. then .-> attention")
    return "\n".join(lines) + "\n"


def render(project: Project, assembly: Path) -> dict[str, str]:
    """File name -> Mermaid text for both diagrams."""
    template_path = assembly / PIPELINE_TEMPLATE
    if not template_path.is_file():
        raise DeclarationError(
            [f"{template_path}: not found; fix: run `make synth` (or pass --assembly)"]
        )
    template = json.loads(template_path.read_text(encoding="utf-8"))
    return {
        DELIVERY_PIPELINE_FILE: delivery_pipeline_mermaid(template),
        **{
            data_workflow_file(name): data_workflow_mermaid(dataset)
            for name, dataset in sorted(project.datasets.items())
        },
    }


def leftover_files(diagrams: dict[str, str], docs: Path) -> list[Path]:
    """Data workflow diagrams in ``docs`` of data sets that no longer exist."""
    return sorted(
        path for path in docs.glob(f"{DATA_WORKFLOW_PREFIX}*.mmd") if path.name not in diagrams
    )


def _workflow_blocks(diagrams: dict[str, str]) -> str:
    """Each data set's diagram under its name and marker, by data set."""
    blocks = [
        f"`{name.removeprefix(DATA_WORKFLOW_PREFIX).removesuffix('.mmd')}`:\n\n"
        f"{README_MARKER.format(name=name)}\n```mermaid\n{text}```\n"
        for name, text in sorted(diagrams.items())
        if name.startswith(DATA_WORKFLOW_PREFIX)
    ]
    return "\n".join(blocks)


def embed_in_readme(readme: str, diagrams: dict[str, str]) -> str:
    """Rewrite the data workflows region whole, then replace the fenced block after each
    ``<!-- diagram:<file> -->`` marker."""
    region = re.compile(
        rf"({re.escape(WORKFLOWS_BEGIN)}\n).*?({re.escape(WORKFLOWS_END)})", re.DOTALL
    )
    readme = region.sub(
        lambda match: f"{match.group(1)}{_workflow_blocks(diagrams)}{match.group(2)}", readme
    )
    for name, text in diagrams.items():
        marker = re.escape(README_MARKER.format(name=name))
        pattern = re.compile(rf"({marker}\n```mermaid\n).*?(```)", re.DOTALL)
        readme = pattern.sub(
            lambda match, body=text: f"{match.group(1)}{body}{match.group(2)}", readme
        )
    return readme


def stale_files(root: Path, diagrams: dict[str, str], docs: Path) -> Iterable[str]:
    """Names of committed diagrams (in ``docs`` and the README) that differ from ``diagrams``,
    and of leftover ones."""
    yield from (str(path) for path in leftover_files(diagrams, docs))
    for name, text in diagrams.items():
        path = docs / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            yield str(path)
    readme = root / "README.md"
    current = readme.read_text(encoding="utf-8")
    if embed_in_readme(current, diagrams) != current:
        yield str(readme)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="cdk.out dir")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where the .mmd go")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a diagram is stale"
    )


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    diagrams = render(project, args.assembly)
    if args.check:
        stale = list(stale_files(args.root, diagrams, args.out))
        for path in stale:
            print(f"stale: {path}; fix: run `make diagrams` and commit the result")
        return EXIT_CHECK_FAILED if stale else EXIT_OK
    args.out.mkdir(parents=True, exist_ok=True)
    for path in leftover_files(diagrams, args.out):
        path.unlink()
        print(f"removed {path}")
    for name, text in diagrams.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    readme = args.root / "README.md"
    readme.write_text(embed_in_readme(readme.read_text(encoding="utf-8"), diagrams), "utf-8")
    return EXIT_OK
