"""``impact --base REF``: which jobs, tables and data tests a change can affect, from lineage.

A pull request's changed files are mapped onto the declarations: a data set's contract, SQL
model or job module affects that job and every job downstream of it in the job graph (and the
tables they write, and the data tests reading those tables); any other file of a data set's
declaration (``dataset.yaml``, ``job_graph.yaml``, a helper module) affects the whole data set;
a data test affects itself; a data set's sample-data generator affects its tests only. Shared
code and configuration (the job framework, the ``dataops`` modules the local run imports, the
requirements, ``config/``) affect every data set. Test support (pytest's configuration and
helpers, the Makefile) changes no data but makes every test run.

The pull-request check uses the result twice: pytest runs a data set's own tests only when the
data set is impacted, and the data diff recomputes only impacted jobs. The changed files are
those of ``git diff --name-only BASE...HEAD`` plus uncommitted and untracked ones (one
``git diff`` of the merge base against the working tree).
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from dataops.cli import EXIT_OK
from dataops.datasets import CONTRACTS_DIR, DATA_TESTS_DIR, DATASET_FILE, DataSet
from dataops.declarations import DeclarationError
from dataops.job_graph import GLUE_SCRIPTS_DIR, JobSpec
from dataops.project import PROJECT_ROOT, Project, load_project

# The entry points of a local run: every dataops module they import, directly or not, is shared.
LOCAL_RUN_MODULES = ("dataops.__main__", "dataops.local_runner")
SHARED_FILES = frozenset({"requirements.txt", "requirements-dev.txt"})
SHARED_FOLDERS = ("config/",)
TEST_SUPPORT_FILES = frozenset({"pyproject.toml", "Makefile"})
TESTS_DIR = "tests/"
SHORT_COMMIT = 7


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def resolve_commit(root: Path, ref: str) -> str:
    """The commit ``ref`` names; an unknown or unfetched ref is a usage error."""
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise DeclarationError(
            [
                f"--base: '{ref}' is no commit of this clone; fix: pass a branch, tag or commit "
                "(e.g. origin/main), fetched first"
            ]
        )
    return result.stdout.strip()


def merge_base(root: Path, base: str) -> str:
    """Where HEAD's history left ``base``'s: what a pull request's changes are relative to."""
    result = _git(root, "merge-base", base, "HEAD")
    if result.returncode != 0:
        raise DeclarationError(
            [
                f"--base: {base[:SHORT_COMMIT]} shares no history with HEAD (a shallow clone?); "
                "fix: git fetch --unshallow, or pass a base HEAD descends from"
            ]
        )
    return result.stdout.strip()


def changed_files(root: Path, since: str) -> list[str]:
    """Files that differ between commit ``since`` and the working tree, untracked ones too
    (a rename counts as its old and its new path)."""
    lines: list[str] = []
    for args in (
        ("diff", "--name-only", "--no-renames", since, "--"),
        ("ls-files", "--others", "--exclude-standard"),
    ):
        result = _git(root, *args)
        if result.returncode != 0:
            raise DeclarationError([f"git {' '.join(args)}: {result.stderr.strip()}"])
        lines.extend(result.stdout.splitlines())
    return sorted(set(filter(None, lines)))


def _imported_modules(source: Path) -> set[str]:
    """Every module name an ``import`` or ``from ... import`` in ``source`` may load (a
    ``from package import name`` also names ``package.name``, which may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_file(root: Path, module: str) -> Path | None:
    path = root.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def local_run_files(root: Path) -> set[str]:
    """The ``dataops`` files a local run imports (found statically, so a new helper module is
    covered as soon as the runner imports it), relative to ``root``."""
    pending = list(LOCAL_RUN_MODULES)
    files: set[Path] = set()
    while pending:
        path = _module_file(root, pending.pop())
        if path is None or path in files:
            continue
        files.add(path)
        pending.extend(m for m in _imported_modules(path) if m.split(".")[0] == "dataops")
    return {path.relative_to(root).as_posix() for path in files}


@dataclass(frozen=True)
class DataSetImpact:
    """What changed files can affect in one data set (jobs in run order)."""

    name: str
    files: tuple[str, ...]
    jobs: tuple[str, ...]
    tables: tuple[str, ...]
    data_tests: tuple[str, ...]


@dataclass(frozen=True)
class Impact:
    """The lineage impact of ``changed`` files.

    ``shared`` are the files that affect every data set, ``test_support`` those that make
    every test run; ``removed`` names data sets whose files changed but which no longer exist."""

    changed: tuple[str, ...]
    shared: tuple[str, ...] = ()
    test_support: tuple[str, ...] = ()
    datasets: dict[str, DataSetImpact] = field(default_factory=dict)
    removed: tuple[str, ...] = ()

    @property
    def all_tests(self) -> bool:
        return bool(self.shared or self.test_support)

    def runs_tests_of(self, dataset: str, test_file: str) -> bool:
        """Whether a test that belongs to ``dataset``, in ``test_file`` (relative to the
        checkout), must run: its data set is impacted, everything is, or the test changed."""
        return self.all_tests or dataset in self.datasets or test_file in self.changed

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["all_tests"] = self.all_tests
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Impact:
        datasets = {
            name: DataSetImpact(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
            for name, d in document["datasets"].items()
        }
        return cls(
            changed=tuple(document["changed"]),
            shared=tuple(document["shared"]),
            test_support=tuple(document["test_support"]),
            datasets=datasets,
            removed=tuple(document["removed"]),
        )


def read_impact(path: Path) -> Impact:
    """The impact ``python -m dataops impact --json PATH`` wrote; a one-line usage error when
    it cannot be read."""
    try:
        return Impact.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as exc:
        raise DeclarationError(
            [f"--impact: cannot read {path} ({exc}); fix: python -m dataops impact --json {path}"]
        ) from exc


@dataclass
class _Starts:
    """Where a data set's changes enter its job graph."""

    files: list[str] = field(default_factory=list)
    jobs: set[str] = field(default_factory=set)
    data_tests: set[str] = field(default_factory=set)


def _job_files(dataset: DataSet, job: JobSpec) -> set[str]:
    """A job's own code, relative to the checkout."""
    base = PurePosixPath(GLUE_SCRIPTS_DIR.as_posix())
    if job.sql is not None:
        return {str(base / dataset.name / job.sql)}
    assert job.python is not None
    return {str(base.joinpath(*job.python.split(".")).with_suffix(".py"))}


def _removed_datasets(project: Project, changed: Iterable[str]) -> set[str]:
    """Data sets whose declaration the change deletes."""
    folder = GLUE_SCRIPTS_DIR.as_posix()
    return {
        parts[1]
        for parts in (PurePosixPath(path).parts for path in changed)
        if len(parts) == 3 and parts[0] == folder and parts[2] == DATASET_FILE
    } - set(project.datasets)


def _place(project: Project, removed: set[str], path: str) -> tuple[str, str, str] | None:
    """(data set, its folder, the path within it) for a file of a data set's declaration."""
    parts = PurePosixPath(path).parts
    folders = {GLUE_SCRIPTS_DIR.as_posix(), CONTRACTS_DIR.as_posix(), DATA_TESTS_DIR.as_posix()}
    if len(parts) < 3 or parts[0] not in folders:
        return None
    # Beside the data sets under glue_scripts/ live the framework and the Glue entry point.
    if parts[0] == GLUE_SCRIPTS_DIR.as_posix() and parts[1] not in {*project.datasets, *removed}:
        return None
    return parts[1], parts[0], "/".join(parts[2:])


def _generator_files(project: Project) -> dict[str, set[str]]:
    """Each data set's sample-data generator module file -> the data sets using it."""
    owners: dict[str, set[str]] = {}
    for dataset in project.datasets.values():
        if dataset.spec.sample_data is not None:
            path = PurePosixPath(*dataset.spec.sample_data.split(".")).with_suffix(".py")
            owners.setdefault(str(path), set()).add(dataset.name)
    return owners


def _start_of(dataset: DataSet, folder: str, inner: str, path: str, starts: _Starts) -> None:
    """Record where ``path`` (``inner`` within the data set's ``folder``) enters the graph."""
    graph = dataset.job_graph
    if folder == DATA_TESTS_DIR.as_posix():
        starts.data_tests.add(PurePosixPath(inner).stem)
    elif folder == CONTRACTS_DIR.as_posix() and PurePosixPath(inner).stem in dataset.contracts:
        starts.jobs.add(graph.producer_of(PurePosixPath(inner).stem).name)
    else:
        owners = [job.name for job in graph.jobs if path in _job_files(dataset, job)]
        # A removed contract, the declaration or a helper module: the whole data set.
        starts.jobs.update(owners or graph.names)


def _downstream(dataset: DataSet, starts: set[str]) -> list[JobSpec]:
    """The jobs in ``starts`` and every job reading what they write, in run order."""
    graph = dataset.job_graph
    reached = set(starts)
    for job in graph.jobs:  # run order: a producer is always seen before its consumers
        if job.name in reached:
            reached.update(consumer.name for consumer in graph.consumers_of(job))
    return [job for job in graph.jobs if job.name in reached]


def _dataset_impact(dataset: DataSet, starts: _Starts) -> DataSetImpact:
    from dataops.data_tests import load_data_tests

    jobs = _downstream(dataset, starts.jobs)
    tables = [table for job in jobs for table in job.outputs]
    tests = [
        test.name
        for test in load_data_tests(dataset.data_tests_dir)
        if test.name in starts.data_tests or test.tables() & set(tables)
    ]
    return DataSetImpact(
        dataset.name,
        tuple(sorted(starts.files)),
        tuple(job.name for job in jobs),
        tuple(tables),
        tuple(tests),
    )


def impact_of(project: Project, changed: Iterable[str]) -> Impact:
    """The impact of the ``changed`` files (paths relative to the checkout) on ``project``."""
    changed = tuple(sorted(set(changed)))
    run_files = local_run_files(project.root)
    generators = _generator_files(project)
    removed = _removed_datasets(project, changed)
    shared: list[str] = []
    test_support: list[str] = []
    starts: dict[str, _Starts] = {}
    for path in changed:
        place = _place(project, removed, path)
        if place is not None:
            name, folder, inner = place
            entry = starts.setdefault(name, _Starts())
            entry.files.append(path)
            if name in project.datasets:
                _start_of(project.datasets[name], folder, inner, path, entry)
        elif path in generators:
            # Before the local run's imports (the class archive's training run generates a
            # sample): both sides of a data diff read what the working tree's generator wrote.
            for name in generators[path]:
                starts.setdefault(name, _Starts()).files.append(path)
        elif (
            path.startswith((GLUE_SCRIPTS_DIR.as_posix() + "/", *SHARED_FOLDERS))
            or path in run_files
            or path in SHARED_FILES
        ):
            shared.append(path)
        elif path in TEST_SUPPORT_FILES or (
            path.startswith(TESTS_DIR) and not PurePosixPath(path).name.startswith("test_")
        ):
            test_support.append(path)
    for name, dataset in project.datasets.items() if shared else ():
        entry = starts.setdefault(name, _Starts())
        entry.files.extend(shared)
        entry.jobs.update(dataset.job_graph.names)
    datasets = {
        name: _dataset_impact(project.datasets[name], entry)
        for name, entry in sorted(starts.items())
        if name in project.datasets
    }
    return Impact(
        changed=changed,
        shared=tuple(shared),
        test_support=tuple(test_support),
        datasets=datasets,
        removed=tuple(sorted(set(starts) - set(project.datasets))),
    )


def render(impact: Impact, project: Project, against: str) -> str:
    """The impact as a person reads it in a build log."""
    lines = [f"impact of {len(impact.changed)} changed file(s) against {against}:"]
    if impact.shared:
        lines.append(f"  every data set: shared code or configuration ({', '.join(impact.shared)})")
    if impact.test_support and not impact.shared:
        lines.append(f"  every test: test support ({', '.join(impact.test_support)})")
    for name, entry in impact.datasets.items():
        listed = {
            label: ", ".join(names) or "none"
            for label, names in (
                ("jobs", entry.jobs),
                ("tables", entry.tables),
                ("data tests", entry.data_tests),
            )
        }
        lines.append(f"  {name}: " + "; ".join(f"{k} {v}" for k, v in listed.items()))
    lines.extend(f"  {name}: removed" for name in impact.removed)
    untouched = [name for name in project.datasets if name not in impact.datasets]
    if untouched:
        lines.append(f"  not impacted: {', '.join(untouched)}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="git ref to compare with (e.g. origin/main)")
    parser.add_argument("--json", type=Path, default=None, help="also write the impact as JSON")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    base = resolve_commit(args.root, args.base)
    since = merge_base(args.root, base)
    impact = impact_of(project, changed_files(args.root, since))
    print(render(impact, project, f"{args.base} (merge base {since[:SHORT_COMMIT]})"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(impact.as_json(), indent=1) + "\n", encoding="utf-8")
    return EXIT_OK
