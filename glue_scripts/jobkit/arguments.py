"""A job's Glue arguments: written by the CDK app from the job graph, read back by the job.

Both directions live here so the names and formats are written once. The state machine
overrides three of them for each run: ``--batch_id``, ``--raw_uri`` and ``--replay``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from jobkit.context import NO_REPLAY, ContextError, DateRange, JobContext, RawLayout

# Set by the state machine on each run (see RUN_ARGUMENTS); the rest are the job's defaults.
BATCH_ID = "batch_id"
RAW_URI = "raw_uri"
REPLAY = "replay"
RUN_ARGUMENTS = (BATCH_ID, RAW_URI, REPLAY)
REQUIRED = (
    "dataset",
    "job",
    "incremental",
    "inputs",
    "outputs",
    "schemas",
    "state_uri",
    BATCH_ID,
)
OPTIONAL = (
    "job_python",
    "job_sql",
    "quarantine",
    "downstream",
    RAW_URI,
    "raw_layout",
    "raw_suffixes",
    "raw_lateness_days",
    REPLAY,
    "database",
)
# Glue rejects an empty argument value, so "no such thing" is spelled out.
NONE = "none"


def _optional(value: str | None) -> str:
    return NONE if value in (None, "") else str(value)


def _json_object(name: str, text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContextError(f"--{name}: not JSON ({exc.msg}); fix: pass a JSON object") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ContextError(f"--{name}: not an object of strings; fix: pass {{table: location}}")
    return value


def to_arguments(context: JobContext) -> dict[str, str]:
    """``--name`` -> value for every argument of ``context`` (its batch included)."""
    raw = context.raw
    values = {
        "dataset": context.dataset,
        "job": context.job,
        "incremental": context.incremental,
        "inputs": json.dumps(context.inputs, sort_keys=True),
        "outputs": json.dumps(context.outputs),
        "schemas": json.dumps(context.schemas, sort_keys=True),
        "state_uri": context.state_uri,
        BATCH_ID: context.batch_id,
        "job_python": _optional(context.python),
        "job_sql": _optional(context.sql),
        "quarantine": _optional(context.quarantine),
        "downstream": _optional(",".join(context.downstream)),
        RAW_URI: _optional(context.raw_uri),
        "raw_layout": _optional(raw.layout if raw else None),
        "raw_suffixes": _optional(",".join(raw.suffixes) if raw else None),
        "raw_lateness_days": _optional(raw.lateness_days if raw else None),
        REPLAY: str(context.replay) if context.replay else NO_REPLAY,
        "database": _optional(context.database),
    }
    return {f"--{name}": value for name, value in values.items()}


def from_arguments(arguments: Mapping[str, str]) -> JobContext:
    """The context of a run from resolved arguments (names without ``--``)."""
    missing = [name for name in REQUIRED if not arguments.get(name)]
    if missing:
        raise ContextError(
            f"--{missing[0]}: missing; fix: pass it (the CDK app sets it on every job)"
        )

    def optional(name: str) -> str | None:
        value = arguments.get(name, NONE)
        return None if value in (NONE, "") else value

    layout = optional("raw_layout")
    raw = None
    if layout is not None:
        lateness = optional("raw_lateness_days") or "0"
        if not lateness.isdigit():
            raise ContextError(f"--raw_lateness_days: '{lateness}'; fix: pass a whole number")
        raw = RawLayout(
            layout=layout,
            suffixes=tuple((optional("raw_suffixes") or "").split(",")),
            lateness_days=int(lateness),
        )
    return JobContext(
        dataset=arguments["dataset"],
        job=arguments["job"],
        incremental=arguments["incremental"],  # type: ignore[arg-type]
        inputs=_json_object("inputs", arguments["inputs"]),
        outputs=_json_object("outputs", arguments["outputs"]),
        schemas=_json_object("schemas", arguments["schemas"]),
        state_uri=arguments["state_uri"],
        batch_id=arguments[BATCH_ID],
        python=optional("job_python"),
        sql=optional("job_sql"),
        quarantine=optional("quarantine"),
        downstream=tuple((optional("downstream") or "").split(","))
        if optional("downstream")
        else (),
        raw_uri=optional(RAW_URI) or "",
        raw=raw,
        replay=DateRange.parse(arguments.get(REPLAY, NO_REPLAY)),
        database=optional("database") or "",
    )
