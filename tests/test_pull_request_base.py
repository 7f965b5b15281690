"""pull-request-base: the commit a pull request merges into, however the build was started."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dataops import cli
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT
from dataops.pull_request_base import resolve_base


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def commit(root: Path, message: str) -> str:
    git(root, "commit", "--allow-empty", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """An origin with main and a feature branch, and a clone of feature alone (as CodeBuild's
    single-branch checkouts are), made before main moved on."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "dev@example.com")
    git(origin, "config", "user.name", "dev")
    first = commit(origin, "first")
    git(origin, "checkout", "-q", "-b", "feature")
    feature = commit(origin, "feature work")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--single-branch", "--branch", "feature", str(origin), str(clone))
    git(origin, "checkout", "-q", "main")
    moved = commit(origin, "main moved on")
    return origin, clone, {"first": first, "feature": feature, "moved": moved}


def test_an_explicit_base_wins(repos):
    _, clone, commits = repos
    environ = {"PULL_REQUEST_BASE": "HEAD~1", "DESTINATION_COMMIT": commits["moved"]}
    assert resolve_base(clone, environ, "main") == commits["first"]


def test_codecommit_destination_commit_is_fetched_when_the_clone_lacks_it(repos):
    _, clone, commits = repos
    assert git(clone, "cat-file", "-t", commits["feature"]) == "commit"
    with pytest.raises(subprocess.CalledProcessError):
        git(clone, "cat-file", "-t", commits["moved"])
    base = resolve_base(clone, {"DESTINATION_COMMIT": commits["moved"]}, "main")
    assert base == commits["moved"]


def test_github_base_branch_is_fetched_from_origin(repos):
    _, clone, commits = repos
    environ = {"CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main"}
    assert resolve_base(clone, environ, "unused") == commits["moved"]


def test_on_a_laptop_the_configured_branch_on_origin(repos):
    _, clone, commits = repos
    assert resolve_base(clone, {}, "main") == commits["moved"]


def test_a_missing_base_is_an_error_naming_where_it_came_from(repos):
    _, clone, _ = repos
    with pytest.raises(DeclarationError) as raised:
        resolve_base(clone, {"CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/release"}, "main")
    (line,) = raised.value.lines
    assert "'refs/heads/release' (from CODEBUILD_WEBHOOK_BASE_REF): no such commit" in line
    assert "fix: set PULL_REQUEST_BASE=<ref>" in line
    with pytest.raises(DeclarationError, match="DESTINATION_COMMIT"):
        resolve_base(clone, {"DESTINATION_COMMIT": "0" * 40}, "main")


def test_the_command_prints_the_commit_and_fails_with_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("PULL_REQUEST_BASE", "HEAD")
    assert cli.main(["pull-request-base"]) == cli.EXIT_OK
    assert capsys.readouterr().out.strip() == git(PROJECT_ROOT, "rev-parse", "HEAD")
    monkeypatch.setenv("PULL_REQUEST_BASE", "no-such-ref")
    assert cli.main(["pull-request-base"]) == cli.EXIT_USAGE
    assert "'no-such-ref' (from PULL_REQUEST_BASE)" in capsys.readouterr().err
