"""The local Spark session of the project's tools (run-local, the rehearsal, the data diff and
the tests): its driver with the class archive and the file system built for it, each when
built (``make spark-class-archive``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def local_session(
    app_name: str = "dataops-local", settings: Mapping[str, str] | None = None, jit: str = ""
) -> Any:
    """:func:`jobkit.session.build_local_session` with ``settings`` and the JIT options
    ``jit`` (``jobkit.session.jit_options``), on the driver ``make`` built."""
    from dataops.local_file_system import driver_settings
    from dataops.spark_class_archive import jvm_options
    from jobkit.session import build_local_session

    return build_local_session(
        app_name,
        settings={**driver_settings(), **(settings or {})},
        jvm_options=f"{jvm_options()} {jit}".strip(),
    )
