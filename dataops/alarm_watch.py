"""``alarm-watch``: after an environment deploys, fail if one of its alarms fires in time.

The delivery pipeline runs this as the last step of an environment's stage; its failure fails
the stage, and the stage's on-failure condition rolls the deploy back. A CodePipeline
CloudWatchAlarm rule would be the native way, but it reads alarms by name in the pipeline's
own account and region, while each environment's alarms live in that environment's account:
so the step assumes the environment's integration-test role and reads them there.

The alarms are the ones the environment's stack publishes (SSM parameter ``alarm-names``).
An alarm already in ALARM when the watch starts fails it too: a deploy does not get to
hide a standing problem. Exit 0 when no alarm fired, 1 when one did, 2 for usage errors.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from botocore.client import BaseClient

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.declarations import DeclarationError
from dataops.deployed_environment import add_role_arguments, environment_named, role_arn
from dataops.integration.pacing import Pacing
from dataops.integration.report import CheckResult, Outcome, results_table, write_junit
from dataops.project import PROJECT_ROOT, load_project
from dataops.resource_names import PublishedResource, parameter_name

FIRING = "ALARM"
# DescribeAlarms takes at most this many names a call.
NAMES_PER_CALL = 100


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    reason: str
    updated: str


@dataclass(frozen=True)
class WatchOutcome:
    """What the watch saw: the alarms watched, the first ones found firing, the time it took."""

    watched: tuple[str, ...]
    firing: tuple[AlarmState, ...]
    missing: tuple[str, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.firing and not self.missing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, help="environment name from the config")
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="how long to watch (default: the environment's alarm_watch_minutes)",
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=30.0, help="between checks (default: %(default)s)"
    )
    add_role_arguments(parser)
    parser.add_argument("--junit-xml", type=Path, default=None, help="write a JUnit XML report")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def published_alarm_names(ssm: BaseClient, project: str, environment: str) -> tuple[str, ...]:
    """The environment's alarm names, as its stack published them."""
    name = parameter_name(project, environment, PublishedResource.ALARM_NAMES)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        raise DeclarationError(
            [
                f"SSM parameter {name}: not found; fix: deploy the data-workflow stack of "
                f"'{environment}' in this account and region"
            ]
        ) from None
    return tuple(alarm for alarm in value.split(",") if alarm)


def _chunks(names: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(names), NAMES_PER_CALL):
        yield list(names[start : start + NAMES_PER_CALL])


def alarm_states(cloudwatch: BaseClient, names: Sequence[str]) -> dict[str, AlarmState]:
    """Current state of each named alarm that exists (metric and composite alarms)."""
    states: dict[str, AlarmState] = {}
    for chunk in _chunks(names):
        response = cloudwatch.describe_alarms(
            AlarmNames=chunk, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for alarm in [*response["MetricAlarms"], *response["CompositeAlarms"]]:
            states[alarm["AlarmName"]] = AlarmState(
                name=alarm["AlarmName"],
                state=alarm["StateValue"],
                reason=alarm.get("StateReason", ""),
                updated=str(alarm.get("StateUpdatedTimestamp", "")),
            )
    return states


def watch(
    cloudwatch: BaseClient,
    names: Sequence[str],
    *,
    seconds: float,
    poll_seconds: float,
    pacing: Pacing,
) -> WatchOutcome:
    """Poll the alarms until ``seconds`` have passed or one of them fires (whichever first)."""
    start = pacing.clock()
    while True:
        states = alarm_states(cloudwatch, names)
        elapsed = pacing.clock() - start
        missing = tuple(name for name in names if name not in states)
        firing = tuple(state for state in states.values() if state.state == FIRING)
        if firing or missing or elapsed >= seconds:
            return WatchOutcome(tuple(names), firing, missing, elapsed)
        pacing.echo(
            f"alarm-watch: {len(names)} alarms quiet after {elapsed:.0f} s of {seconds:.0f} s"
        )
        pacing.sleep(min(poll_seconds, seconds - elapsed))


def results(outcome: WatchOutcome) -> list[CheckResult]:
    """One result an alarm, for the table and JUnit."""
    firing = {state.name: state for state in outcome.firing}
    rows = []
    for name in outcome.watched:
        if name in firing:
            state = firing[name]
            rows.append(
                CheckResult(
                    name,
                    Outcome.FAILED,
                    outcome.seconds,
                    f"in ALARM since {state.updated}",
                    (state.reason,),
                )
            )
        elif name in outcome.missing:
            rows.append(
                CheckResult(
                    name,
                    Outcome.FAILED,
                    outcome.seconds,
                    "published but not found; fix: redeploy the environment's stack",
                )
            )
        else:
            rows.append(CheckResult(name, Outcome.PASSED, outcome.seconds, "quiet"))
    return rows


def main(args: argparse.Namespace, pacing: Pacing | None = None) -> int:
    from dataops.integration.clients import session_for

    project = load_project(args.root)
    environment = environment_named(project, args.env)
    minutes = environment.alarm_watch_minutes if args.minutes is None else args.minutes
    if minutes < 0 or args.poll_seconds <= 0:
        raise DeclarationError(["--minutes/--poll-seconds: must be positive; fix: pass e.g. 15/30"])
    session = session_for(environment.region, role_arn(args, project, environment))
    names = published_alarm_names(session.client("ssm"), project.config.project, environment.name)
    if not names:
        raise DeclarationError(
            [f"alarm-names of '{environment.name}': empty; fix: redeploy the environment's stack"]
        )
    pacing = pacing or Pacing()
    pacing.echo(
        f"alarm-watch: {len(names)} alarms of '{environment.name}' ({environment.account}, "
        f"{environment.region}) for {minutes:g} minutes"
    )
    outcome = watch(
        session.client("cloudwatch"),
        names,
        seconds=minutes * 60,
        poll_seconds=args.poll_seconds,
        pacing=pacing,
    )
    rows = results(outcome)
    print(results_table(rows))
    if args.junit_xml:
        write_junit(args.junit_xml, f"alarm-watch.{environment.name}", rows)
    return EXIT_OK if outcome.passed else EXIT_CHECK_FAILED
