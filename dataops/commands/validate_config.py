"""``validate-config``: load every declaration and say in one screen what it declares."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataops.cli import EXIT_OK
from dataops.project import PROJECT_ROOT, load_project


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")
    parser.add_argument(
        "--config", default=None, help="config file, relative to --root (default: %(default)s)"
    )


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root, args.config)
    config = project.config
    print(f"project {config.project}: tooling {config.tooling.account}/{config.tooling.region}")
    print(f"source: {config.source.provider} {config.source.repository}@{config.source.branch}")
    for env in config.environments:
        glue = env.glue
        print(
            f"  {env.name:<8} {env.account}/{env.region}  {glue.workers}x{glue.worker_type}"
            f"{' flex' if glue.flex else ''}  schedule={env.schedule or 'off'}"
            f"  removal={env.removal_policy}  check={env.post_deploy_check}"
        )
    for name, dataset in project.datasets.items():
        print(f"data set {name}: {dataset.spec.raw.prefix}{dataset.spec.raw.layout}")
        print(f"  tables: {', '.join(sorted(dataset.contracts))}")
        print(f"  jobs: {' -> '.join(dataset.job_graph.names)}")
    return EXIT_OK
