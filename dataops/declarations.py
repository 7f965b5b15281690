"""Loading of the YAML declarations (config, contracts, job graph) with one-line errors.

A declaration error must tell a data engineer which file, which key and what to do, on one
line, and never surface as a Python or jsii stack trace. Every loader raises
:class:`DeclarationError`; the CLI and ``app.py`` print its lines and exit 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


class DeclarationError(Exception):
    """One or more problems in a declaration file, each a complete one-line message."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


# libyaml's parser when PyYAML was built with it: the same documents, several times faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(SafeLoader):
    """A YAML loader that rejects duplicate keys instead of silently keeping the last one."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` strictly; a missing file or bad YAML is a :class:`DeclarationError`."""
    if not path.is_file():
        raise DeclarationError([f"{path}: file not found; fix: create it or pass the right path"])
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DeclarationError(
            [f"{path}:{where}: invalid YAML ({problem}); fix: correct the YAML syntax"]
        ) from None


def key_path(location: Iterable[str | int]) -> str:
    """Render a pydantic error location as ``environments[1].glue.workers``."""
    rendered = ""
    for part in location:
        if isinstance(part, int):
            rendered += f"[{part}]"
        else:
            rendered += f".{part}" if rendered else str(part)
    return rendered or "(top level)"


def _allowed_keys(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The field names valid at the parent of ``location`` (for typo suggestions)."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
            for inner in getattr(candidate, "__args__", ()):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    current = inner
                    break
    return sorted(getattr(current, "model_fields", {}))


def _fix_for(model: type[BaseModel], error: Any) -> str:
    kind = error["type"]
    location = error["loc"]
    if kind == "missing":
        return "add this key"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, location)
        close = difflib.get_close_matches(str(location[-1]), allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"{hint}remove it or use one of: {', '.join(allowed)}"
    if kind.startswith(("greater_than", "less_than")):
        return "use a value in the allowed range"
    if kind in {"literal_error", "enum"}:
        return "use one of the listed values"
    if kind == "value_error":
        return error.get("ctx", {}).get("fix", "correct the value")
    return "correct the value's type"


def validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    """Build ``model`` from ``data``; every pydantic error becomes one line with a fix."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            fix = _fix_for(model, error)
            if "; fix: " in message:
                message, fix = message.split("; fix: ", 1)
            lines.append(f"{path}: {key_path(error['loc'])}: {message}; fix: {fix}")
        raise DeclarationError(lines) from None
