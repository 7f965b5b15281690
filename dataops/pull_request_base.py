"""``pull-request-base``: the commit a pull request merges into, for its contract gate.

Each place a pull request is checked names that commit its own way: the EventBridge rule that
starts a CodeCommit pull request's build passes the destination commit (``DESTINATION_COMMIT``);
a GitHub webhook build knows the base branch (``CODEBUILD_WEBHOOK_BASE_REF``,
``refs/heads/<branch>``), which its clone may lack and is then fetched; on a laptop it is the
configured branch on ``origin``. ``PULL_REQUEST_BASE`` overrides all of them. The commit is
printed; a base that cannot be found is an error, never an empty comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from dataops.cli import EXIT_OK
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT, load_project

OVERRIDE = "PULL_REQUEST_BASE"
CODECOMMIT_DESTINATION = "DESTINATION_COMMIT"
GITHUB_BASE_REF = "CODEBUILD_WEBHOOK_BASE_REF"
BRANCH_PREFIX = "refs/heads/"
FIX = f"fix: set {OVERRIDE}=<ref> (e.g. origin/main or HEAD~1)"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def _commit(root: Path, ref: str) -> str | None:
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 else None


def _fetch_branch(root: Path, branch: str) -> str | None:
    """``origin/<branch>``, fetched first when this clone does not have it."""
    remote_ref = f"origin/{branch}"
    if _commit(root, remote_ref) is None:
        _git(
            root,
            "fetch",
            "--no-tags",
            "origin",
            f"+{BRANCH_PREFIX}{branch}:refs/remotes/{remote_ref}",
        )
    return _commit(root, remote_ref)


def _destination_commit(root: Path, commit: str, branch: str) -> str | None:
    """A CodeCommit destination commit: the base branch's tip when the pull request changed,
    so fetching the branch brings it into a clone made before it moved."""
    if _commit(root, commit) is None:
        _fetch_branch(root, branch)
    return _commit(root, commit)


def resolve_base(root: Path, environ: Mapping[str, str], default_branch: str) -> str:
    """The base commit of the pull request being checked (see the module docstring)."""
    if environ.get(OVERRIDE):
        ref, source = environ[OVERRIDE], OVERRIDE
        commit = _commit(root, ref)
    elif environ.get(CODECOMMIT_DESTINATION):
        ref, source = environ[CODECOMMIT_DESTINATION], CODECOMMIT_DESTINATION
        commit = _destination_commit(root, ref, default_branch)
    elif environ.get(GITHUB_BASE_REF):
        ref, source = environ[GITHUB_BASE_REF], GITHUB_BASE_REF
        commit = _fetch_branch(root, ref.removeprefix(BRANCH_PREFIX))
    else:
        ref, source = f"origin/{default_branch}", "source.branch in the config"
        commit = _fetch_branch(root, default_branch)
    if commit is None:
        raise DeclarationError(
            [f"pull request base '{ref}' (from {source}): no such commit; {FIX}"]
        )
    return commit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    branch = load_project(args.root).config.source.branch
    print(resolve_base(args.root, os.environ, branch))
    return EXIT_OK
