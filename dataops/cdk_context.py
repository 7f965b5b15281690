"""The context the CDK CLI hands the app, read as ``cdk.App`` reads it.

The app reads its configuration's path from it before the CDK is loaded, so a bad declaration
fails in a moment instead of after the CDK's runtime has started. The CLI passes the context as
JSON in ``CDK_CONTEXT_JSON`` and, when that would be too large for the environment, the rest
in a JSON file named by ``CONTEXT_OVERFLOW_LOCATION_ENV``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONTEXT_ENV = "CDK_CONTEXT_JSON"
CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"


def cli_context(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every context value the CLI passed (none when the app runs without the CLI)."""
    context: dict[str, Any] = json.loads(environ.get(CONTEXT_ENV) or "{}")
    overflow = environ.get(CONTEXT_OVERFLOW_ENV)
    if overflow:
        context.update(json.loads(Path(overflow).read_text(encoding="utf-8")))
    return context
