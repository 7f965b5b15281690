"""Every command the README tells a user to run is checked: make targets through a dry run
(``make -n``), ``python -m dataops`` commands through their own argument parser (and run when
they only read the config), anything else only if it is a git command."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import subprocess

import pytest

from dataops import cli
from dataops.project import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
FENCE = re.compile(r"^( *)```bash\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
DATAOPS = ("python -m dataops", ".venv/bin/python -m dataops")
# Commands cheap and side-effect free enough to run for real.
RUN_FOR_REAL = {"validate-config"}


def readme_commands() -> list[str]:
    commands = []
    for block in FENCE.finditer(README.read_text(encoding="utf-8")):
        text = block.group(2).replace("\\\n", " ")
        for line in text.splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_the_readme_has_the_two_quickstart_commands():
    commands = readme_commands()
    assert commands[:2] == ["make demo", "make test"]


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_is_valid(command: str, project):
    words = shlex.split(command)
    if words[0] == "make":
        result = subprocess.run(
            ["make", "-n", *words[1:]],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        names = {environment.name for environment in project.config.environments}
        for word in words[1:]:
            if word.startswith("ENV="):
                assert word.removeprefix("ENV=") in names | {"tooling"}, command
        return
    prefix = next((p for p in DATAOPS if command.startswith(p + " ")), None)
    if prefix is not None:
        name, *arguments = shlex.split(command[len(prefix) :])
        spec = next(spec for spec in cli.COMMANDS if spec.name == name)
        parser = argparse.ArgumentParser(prog=name)
        importlib.import_module(spec.module).add_arguments(parser)
        parser.parse_args(arguments)
        if name in RUN_FOR_REAL:
            assert cli.main([name, *arguments]) == cli.EXIT_OK
        return
    assert words[0] == "git", f"README command nobody checks: {command}"
