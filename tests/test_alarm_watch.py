"""alarm-watch against moto: the published alarm names, CloudWatch states, exit codes, JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import boto3
import pytest

from dataops import cli
from dataops.alarm_watch import watch
from dataops.integration.clients import role_arn_for, session_for
from dataops.integration.pacing import Pacing
from dataops.resource_names import (
    PublishedResource,
    integration_test_role_name,
    parameter_name,
)
from tests.deployed_moto import REGION, moto_aws

ALARMS = ("flowlogs-dataops-dev-workflow-failed", "flowlogs-dataops-dev-job-failed")


class FakeClock:
    """Time passes only when the watch sleeps; ``on_sleep`` plays what happens meanwhile."""

    def __init__(self, on_sleep=None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep or (lambda count: None)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))

    def pacing(self) -> Pacing:
        return Pacing(clock=lambda: self.now, sleep=self.sleep, echo=lambda line: None)


def _put_alarms(session: boto3.Session, names=ALARMS) -> None:
    cloudwatch = session.client("cloudwatch")
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="ExecutionsFailed",
            Namespace="AWS/States",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )


def _publish(session: boto3.Session, project: str, environment: str, names=ALARMS) -> None:
    session.client("ssm").put_parameter(
        Name=parameter_name(project, environment, PublishedResource.ALARM_NAMES),
        Value=",".join(names),
        Type="String",
    )


def _fire(session: boto3.Session, name: str) -> None:
    session.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint [2.0]"
    )


@pytest.fixture
def aws(monkeypatch):
    """Moto, and the session whose clients the commands use too (unless they assume a role)."""
    yield from moto_aws(monkeypatch)


def test_quiet_alarms_pass_after_the_whole_watch(aws):
    _put_alarms(aws)
    clock = FakeClock()
    outcome = watch(
        aws.client("cloudwatch"), ALARMS, seconds=600, poll_seconds=60, pacing=clock.pacing()
    )
    assert outcome.passed
    assert outcome.firing == ()
    assert outcome.missing == ()
    assert sum(clock.sleeps) == 600
    assert len(clock.sleeps) == 10


def test_an_alarm_firing_during_the_watch_ends_it_failed(aws):
    _put_alarms(aws)
    clock = FakeClock(on_sleep=lambda count: count == 3 and _fire(aws, ALARMS[1]))
    outcome = watch(
        aws.client("cloudwatch"), ALARMS, seconds=600, poll_seconds=60, pacing=clock.pacing()
    )
    assert not outcome.passed
    assert [state.name for state in outcome.firing] == [ALARMS[1]]
    assert "Threshold Crossed" in outcome.firing[0].reason
    assert len(clock.sleeps) == 3


def test_an_alarm_already_firing_fails_at_once(aws):
    _put_alarms(aws)
    _fire(aws, ALARMS[0])
    clock = FakeClock()
    outcome = watch(
        aws.client("cloudwatch"), ALARMS, seconds=600, poll_seconds=60, pacing=clock.pacing()
    )
    assert [state.name for state in outcome.firing] == [ALARMS[0]]
    assert clock.sleeps == []


def test_a_published_alarm_that_does_not_exist_fails(aws):
    _put_alarms(aws, ALARMS[:1])
    outcome = watch(
        aws.client("cloudwatch"), ALARMS, seconds=60, poll_seconds=30, pacing=FakeClock().pacing()
    )
    assert outcome.missing == (ALARMS[1],)
    assert not outcome.passed


def test_more_alarms_than_one_call_takes_are_all_read(aws):
    names = tuple(f"alarm-{index:03d}" for index in range(130))
    _put_alarms(aws, names)
    _fire(aws, names[-1])
    outcome = watch(
        aws.client("cloudwatch"), names, seconds=60, poll_seconds=30, pacing=FakeClock().pacing()
    )
    assert [state.name for state in outcome.firing] == [names[-1]]
    assert outcome.missing == ()


def test_cli_reads_the_published_names_and_writes_junit(aws, project, tmp_path):
    dev = project.config.environment("dev")
    _put_alarms(aws)
    _publish(aws, project.config.project, dev.name)
    _fire(aws, ALARMS[0])
    report = tmp_path / "alarm-watch-dev.xml"
    code = cli.main(["alarm-watch", "--env", "dev", "--minutes", "0", "--junit-xml", str(report)])
    assert code == cli.EXIT_CHECK_FAILED
    suite = ET.parse(report).getroot()
    assert suite.get("name") == "alarm-watch.dev"
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == [ALARMS[0]]


def test_cli_passes_when_every_alarm_is_quiet(aws, project, capsys):
    _put_alarms(aws)
    _publish(aws, project.config.project, "dev")
    assert cli.main(["alarm-watch", "--env", "dev", "--minutes", "0"]) == cli.EXIT_OK
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_cli_reads_the_alarms_in_the_environments_account_through_its_role(aws, project):
    staging = project.config.environment("staging")
    role = role_arn_for(
        staging.account, integration_test_role_name(project.config.project, "staging")
    )
    in_staging = session_for(REGION, role)
    _put_alarms(in_staging)
    _publish(in_staging, project.config.project, "staging")
    _fire(in_staging, ALARMS[1])
    args = ["alarm-watch", "--env", "staging", "--minutes", "0"]
    assert cli.main(args) == cli.EXIT_USAGE
    assert cli.main([*args, "--assume-integration-role"]) == cli.EXIT_CHECK_FAILED


def test_cli_names_the_fix_when_the_environment_is_not_deployed(aws, capsys):
    assert cli.main(["alarm-watch", "--env", "dev", "--minutes", "0"]) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert "/flowlogs-dataops/dev/alarm-names: not found" in error
    assert "fix: deploy the data-workflow stack of 'dev'" in error


def test_cli_rejects_an_unknown_environment(aws, capsys):
    assert cli.main(["alarm-watch", "--env", "qa", "--minutes", "0"]) == cli.EXIT_USAGE
    assert "environments" in capsys.readouterr().err
