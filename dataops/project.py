"""All declarations of a project checkout, loaded together and cross-checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dataops.config import DEFAULT_CONFIG_PATH, ProjectConfig, load_config
from dataops.contracts import DEFAULT_CONTRACTS_DIR, Contract, load_contracts
from dataops.declarations import DeclarationError
from dataops.job_graph import DEFAULT_JOB_GRAPH_PATH, JobGraph, load_job_graph

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    """The configuration, the table contracts and the job graph of one checkout."""

    root: Path
    config: ProjectConfig
    contracts: dict[str, Contract]
    job_graph: JobGraph


def load_project(root: Path = PROJECT_ROOT, config_path: Path | str | None = None) -> Project:
    """Load every declaration under ``root``; all errors of all files are raised together."""
    errors: list[str] = []
    config = contracts = job_graph = None
    try:
        config = load_config(root / (config_path or DEFAULT_CONFIG_PATH))
    except DeclarationError as exc:
        errors.extend(exc.lines)
    try:
        contracts = load_contracts(root / DEFAULT_CONTRACTS_DIR)
        job_graph = load_job_graph(contracts, root / DEFAULT_JOB_GRAPH_PATH)
    except DeclarationError as exc:
        errors.extend(exc.lines)
    if errors or config is None or contracts is None or job_graph is None:
        raise DeclarationError(errors)
    return Project(root=root, config=config, contracts=contracts, job_graph=job_graph)
