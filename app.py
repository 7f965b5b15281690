"""CDK entry point: load the declarations, build the stacks, nothing else."""

import sys

from dataops.declarations import DeclarationError
from dataops.project import load_project
from stacks.app_builder import build_app, new_app


def main() -> None:
    app = new_app()
    try:
        project = load_project(config_path=app.node.try_get_context("config"))
        build_app(app, project)
    except DeclarationError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(2)
    app.synth()


if __name__ == "__main__":
    main()
