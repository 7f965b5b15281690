"""The README's benchmark block: the latest ``bench/results.md`` table and the machine it was
measured on, copied between two markers by ``python -m bench`` (a test keeps them equal)."""

from __future__ import annotations

import re
from pathlib import Path

START, END = "<!-- bench:results -->", "<!-- /bench:results -->"
_MACHINE = re.compile(r"^Machine: (.*)\.$", re.MULTILINE)
_TABLE = re.compile(r"^\| Benchmark \|.*?(?=^$)", re.MULTILINE | re.DOTALL)


def readme_block(results: str) -> str:
    """What the README shows of a results file: the machine line and the table."""
    machine, table = _MACHINE.search(results), _TABLE.search(results)
    if machine is None or table is None:
        raise ValueError("bench/results.md has no 'Machine:' line or no results table")
    return (
        f"{START}\nMeasured on: {machine.group(1)} (details, and what bounds a missed target: "
        f"`bench/results.md`).\n\n{table.group(0)}{END}"
    )


def shown_block(readme: str) -> str:
    """The block the README holds now, markers included."""
    start, end = readme.index(START), readme.index(END) + len(END)
    return readme[start:end]


def update_readme(readme: Path, results: str) -> None:
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace(shown_block(text), readme_block(results)), encoding="utf-8")
