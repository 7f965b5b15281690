"""Check results: the table printed at the end and the JUnit XML CodeBuild reports show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class CheckFailed(Exception):
    """A check found the deployed environment wrong; ``lines`` are evidence (sample rows)."""

    def __init__(self, detail: str, lines: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.lines = lines


class Outcome(StrEnum):
    PASSED = "ok"
    FAILED = "FAILED"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    seconds: float
    detail: str = ""
    lines: tuple[str, ...] = ()


def passed(results: list[CheckResult]) -> bool:
    """True when no check failed and at least one ran."""
    return any(r.outcome is Outcome.PASSED for r in results) and not any(
        r.outcome is Outcome.FAILED for r in results
    )


def results_table(results: list[CheckResult]) -> str:
    width = max([len("check"), *(len(r.name) for r in results)]) + 2
    lines = [f"{'check':<{width}}{'result':<9}{'seconds':>8}  detail"]
    for result in results:
        lines.append(
            f"{result.name:<{width}}{result.outcome.value:<9}{result.seconds:>8.1f}  "
            f"{result.detail}".rstrip()
        )
        lines.extend(f"{'':<{width + 19}}{line}" for line in result.lines)
    failed = sum(r.outcome is Outcome.FAILED for r in results)
    skipped = sum(r.outcome is Outcome.SKIPPED for r in results)
    lines.append(f"{len(results) - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return "\n".join(lines)


def write_junit(path: Path, suite: str, results: list[CheckResult]) -> None:
    """One testcase a check, in the JUnit XML CodeBuild report groups read."""
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(sum(r.outcome is Outcome.FAILED for r in results)),
        skipped=str(sum(r.outcome is Outcome.SKIPPED for r in results)),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            root, "testcase", classname=suite, name=result.name, time=f"{result.seconds:.3f}"
        )
        if result.outcome is Outcome.FAILED:
            failure = ET.SubElement(case, "failure", message=result.detail)
            failure.text = "\n".join([result.detail, *result.lines])
        elif result.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=result.detail)
        elif result.detail:
            ET.SubElement(case, "system-out").text = result.detail
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
