"""Throwaway git repositories holding a copy of the project, for the impact and the data diff.

A copy has what ``python -m dataops run-local`` needs at a commit (the tools, the job code and
every declaration), committed on its own history, so a test can change it and commit again.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from dataops.project import PROJECT_ROOT

COPIED = ("config", "contracts", "data_tests", "dataops", "glue_scripts", ".gitignore")
IDENTITY = ("-c", "user.name=Data Diff Test", "-c", "user.email=data-diff@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    ).stdout


def commit(repo: Path, message: str) -> str:
    """Commit everything in ``repo``; the new commit."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def copy_project(target: Path) -> Path:
    """The project's files (tracked and new, as the working tree has them) under ``target``."""
    listing = ["ls-files", "--cached", "--others", "--exclude-standard", "-z", *COPIED]
    listed = git(PROJECT_ROOT, *listing)
    for name in filter(None, listed.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def project_repo(target: Path) -> Path:
    """A new repository at ``target`` whose first commit is a copy of the project."""
    target.mkdir(parents=True, exist_ok=True)
    git(target, "init", "--quiet", "--initial-branch=main")
    copy_project(target)
    commit(target, "the project")
    return target
