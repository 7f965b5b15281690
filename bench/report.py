"""``bench/results.md``: the results table, the machine, and the output behind the figures."""

from __future__ import annotations

from bench.scenarios import Outcome

HEADER = "| Benchmark | Measured | Baseline | Result | Target | Met |\n|---|---|---|---|---|---|\n"


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[value]


def render(machine: str, command: str, outcomes: list[Outcome], analysis: str) -> str:
    """Markdown for the outcomes of one ``python -m bench`` run."""
    rows = [row for outcome in outcomes for row in outcome.rows]
    cells = [(r.benchmark, r.measured, r.baseline, r.result, r.target, _met(r.met)) for r in rows]
    table = "".join("| " + " | ".join(line) + " |\n" for line in cells)
    notes = "".join(f"- {r.benchmark}: {r.note}\n" for r in rows if r.note)
    details = "".join(
        f"\n<details><summary>{title}</summary>\n\n```\n{text}\n```\n</details>\n"
        for outcome in outcomes
        for title, text in outcome.details.items()
        if text
    )
    return (
        "# Benchmarks\n\n"
        f"Machine: {machine}.\n\n"
        f"Command: `{command}` (written by the command; wall time and peak memory of each "
        "command's whole process tree, one run each).\n\n"
        f"{HEADER}{table}\n{notes}\n"
        f"{analysis}"
        f"{details}"
    )
