"""``Job``: Glue's bookkeeping of a run (bookmarks), nothing to keep locally."""

from __future__ import annotations

from typing import Any


class Job:
    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context
        self.name = ""
        self.arguments: dict[str, str] = {}
        self.committed = False

    def init(self, job_name: str, args: dict[str, str] | None = None) -> None:
        self.name = job_name
        self.arguments = dict(args or {})

    def commit(self) -> None:
        self.committed = True
