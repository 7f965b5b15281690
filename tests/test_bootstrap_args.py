"""bootstrap-args: the cdk bootstrap arguments come from the config, never typed by hand."""

from __future__ import annotations

from dataops import cli


def test_environments_trust_the_tooling_account(project, capsys):
    assert cli.main(["bootstrap-args", "--env", "staging"]) == cli.EXIT_OK
    staging = project.config.environment("staging")
    tooling = project.config.tooling.account
    assert capsys.readouterr().out.split() == [
        f"aws://{staging.account}/{staging.region}",
        "--trust",
        tooling,
        "--trust-for-lookup",
        tooling,
        "--cloudformation-execution-policies",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ]


def test_the_tooling_account_trusts_nobody(project, capsys):
    assert cli.main(["bootstrap-args", "--env", "tooling"]) == cli.EXIT_OK
    tooling = project.config.tooling
    assert capsys.readouterr().out.split() == [f"aws://{tooling.account}/{tooling.region}"]


def test_execution_policies_can_be_narrowed(capsys):
    policy = "arn:aws:iam::222222222222:policy/flowlogs-deploy"
    args = ["bootstrap-args", "--env", "dev", "--execution-policy", policy]
    assert cli.main(args) == cli.EXIT_OK
    assert capsys.readouterr().out.split()[-1] == policy


def test_an_unknown_account_name_says_which_exist(capsys):
    assert cli.main(["bootstrap-args", "--env", "qa"]) == cli.EXIT_USAGE
    assert "fix: pass --env tooling or one of them" in capsys.readouterr().err
