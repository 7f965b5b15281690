"""CDK entry point: load the declarations, build the stacks, nothing else.

The declarations are loaded and checked before the CDK is: a bad one fails in a moment, with
one line and exit 2, never after the CDK's runtime has started.
"""

import sys
from typing import NoReturn

from dataops.cdk_context import cli_context
from dataops.declarations import DeclarationError
from dataops.project import load_project

CONFIG_CONTEXT_KEY = "config"


def _fail(error: DeclarationError) -> NoReturn:
    for line in error.lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    try:
        project = load_project(config_path=cli_context().get(CONFIG_CONTEXT_KEY))
    except DeclarationError as exc:
        _fail(exc)
    from stacks.app_builder import build_app, new_app

    app = new_app()
    try:
        build_app(app, project)
    except DeclarationError as exc:
        _fail(exc)
    app.synth()


if __name__ == "__main__":
    main()
