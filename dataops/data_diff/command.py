"""``data-diff --base REF``: run the data workflow at the base and here, compare every table.

Only the data sets the change impacts run (``python -m dataops impact``): the others would
produce the same tables on both sides. The base is where this branch left ``REF`` (their merge
base), so the comparison shows what this change does and nothing that happened on ``REF``
since. The working tree must be clean: the diff is between commits, and the report names them.
Exit 0 (also with differences, unless ``--fail-on-change``), 1 a difference with
``--fail-on-change`` or the change breaks the workflow, 2 bad input (an unknown base, a base
without the workflow, uncommitted changes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections import defaultdict
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from dataops.cli import EXIT_CHECK_FAILED, EXIT_OK
from dataops.contract_changes import Change, compare, load_base_contracts
from dataops.contracts import DEFAULT_CONTRACTS_DIR
from dataops.data_diff import DEFAULT_JSON, DEFAULT_REPORT
from dataops.data_diff.compare import compare_rows, reason_counts
from dataops.data_diff.report import DataDiff, QuarantineDiff, TableDiff, render_markdown
from dataops.data_diff.runs import (
    HeadPlan,
    Sample,
    generate_sample,
    has_workflow,
    plan_head,
    present_at,
    run_base,
    run_head,
    sample_heap,
)
from dataops.declarations import DeclarationError
from dataops.impact import SHORT_COMMIT, changed_files, impact_of, merge_base, resolve_commit
from dataops.local_runner import STATE_DIR, log_text_bytes
from dataops.project import PROJECT_ROOT, Project, load_project

# Under the checkout (git ignores .local/): the sample and both runs, kept after the diff.
WORK_DIR = Path(".local/data-diff")
# Small enough for the pull-request check's time, large enough to reach every kind of row.
DEFAULT_RECORDS = 2_000
DEFAULT_SEED = 7
DEFAULT_DAYS = 3


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def require_clean(root: Path) -> None:
    """Uncommitted or untracked files would run in the head but be named by no commit."""
    dirty = _git(root, "status", "--porcelain", "--untracked-files=normal").splitlines()
    if dirty:
        raise DeclarationError(
            [
                f"the working tree has uncommitted changes ({len(dirty)} file(s), e.g. "
                f"{dirty[0][3:]}); fix: commit or stash them: the data diff compares commits "
                "(python -m dataops impact counts uncommitted changes)"
            ]
        )


def _contract_owners(root: Path, commit: str) -> dict[str, str]:
    """Table -> data set, from the contract files at ``commit``."""
    paths = _git(root, "ls-tree", "-r", "--name-only", commit, f"{DEFAULT_CONTRACTS_DIR}/")
    return {
        PurePosixPath(path).stem: PurePosixPath(path).parts[1]
        for path in paths.split()
        if path.endswith(".yaml") and len(PurePosixPath(path).parts) == 3
    }


def _tables(
    project: Project, base_commit: str, plans: list[HeadPlan], base: Path, head: Path
) -> list[TableDiff]:
    """Every table either run wrote or whose contract changed, compared."""
    root = project.root
    base_contracts = load_base_contracts(root, base_commit)
    owners = _contract_owners(root, base_commit)
    changes: dict[str, list[Change]] = defaultdict(list)
    for change in compare(base_contracts, project.contracts)[0]:
        changes[change.table].append(change)
    written = {path.name for side in (base, head) if side.is_dir() for path in side.iterdir()}
    names = sorted((written - {STATE_DIR}) | set(changes))
    recomputed = {
        table
        for plan in plans
        for job in project.datasets[plan.dataset].job_graph.jobs
        if job.name in plan.jobs
        for table in job.outputs
    }
    diffs = []
    for name in names:
        contract = project.contracts.get(name) or base_contracts.get(name)
        dataset = (
            project.dataset_of(name).name if name in project.contracts else owners.get(name, "")
        )
        rows = compare_rows(base / name, head / name, contract.grain if contract else [])
        diffs.append(TableDiff(name, dataset, rows, tuple(changes[name]), name in recomputed))
    return diffs


def _quarantine(
    project: Project, plans: list[HeadPlan], base: Path, head: Path
) -> list[QuarantineDiff]:
    """The quarantine tables of the data sets that ran, by reason."""
    diffs = []
    for plan in plans:
        for job in project.datasets[plan.dataset].job_graph.raw_jobs:
            assert job.quarantine is not None
            before = reason_counts(base / job.quarantine)
            after = reason_counts(head / job.quarantine)
            reasons = {r: (before.get(r, 0), after.get(r, 0)) for r in {*before, *after}}
            diffs.append(QuarantineDiff(job.quarantine, reasons))
    return diffs


def _head_session(text_bytes: int, heap: str | None) -> Any:
    """The head run's local Spark session, sized as run-local sizes one for the sample."""
    from dataops.local_driver import local_session
    from jobkit.session import INTERPRETED_EXPRESSIONS, jit_options

    return local_session(
        settings={"spark.driver.memory": heap, **INTERPRETED_EXPRESSIONS} if heap else None,
        jit=jit_options(text_bytes),
    )


def _run_base(
    root: Path,
    commit: str,
    names: list[str],
    *,
    raw: Path,
    work: Path,
    fingerprint: str,
    spark: Any,
) -> bool:
    """The base run (or the kept one); whether its own checks failed."""
    if not names:
        shutil.rmtree(work, ignore_errors=True)
        return False
    print(f"data diff: the base run of {', '.join(names)} at {commit[:SHORT_COMMIT]}", flush=True)
    run = run_base(root, commit, names, raw=raw, work=work, fingerprint=fingerprint, spark=spark)
    kept = "kept from an earlier diff" if run.reused else "done"
    print(f"data diff: base run {kept} (log: {run.log})", flush=True)
    return run.exit_code != EXIT_OK


def data_diff(project: Project, base: str, sample: Sample, work: Path) -> DataDiff:
    """The data diff of the clean checkout ``project.root`` against ``base`` (a ref)."""
    root = project.root
    base_commit = resolve_commit(root, base)
    require_clean(root)
    since = merge_base(root, base_commit)
    impact = impact_of(project, changed_files(root, since))
    running = [name for name, entry in impact.datasets.items() if entry.jobs]
    result = DataDiff(
        base=base,
        base_commit=base_commit,
        merge_base=since,
        head_commit=_git(root, "rev-parse", "HEAD").strip(),
        sample=sample,
        impact=impact,
        not_impacted=tuple(name for name in project.datasets if name not in running),
    )
    in_base = present_at(root, since, [*running, *impact.removed])
    if not running and not in_base:
        return result
    if not has_workflow(root, since):
        raise DeclarationError(
            [
                f"--base: {base} (merge base {since[:SHORT_COMMIT]}) has no data workflow to "
                "compare with (no python -m dataops run-local); fix: pass a later base"
            ]
        )
    work = work.resolve()
    raw, base_warehouse, head_warehouse = (
        work / "raw",
        work / "base" / "warehouse",
        work / "head" / "warehouse",
    )
    fingerprint = generate_sample(project, running, sample, raw)
    text_bytes = log_text_bytes([str(path) for path in raw.rglob("*") if path.is_file()])
    spark = _head_session(text_bytes, sample_heap(text_bytes))
    plans = plan_head(project, impact, in_base)
    head_error = ""
    try:
        base_checks_failed = _run_base(
            root,
            since,
            in_base,
            raw=raw,
            work=base_warehouse.parent,
            fingerprint=fingerprint,
            spark=spark,
        )
        try:
            run_head(spark, project, plans, raw=raw, base=base_warehouse, head=head_warehouse)
        # Whatever the change's own job code raises is the finding: reported, not a crash.
        except Exception as exc:
            head_error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
    finally:
        spark.stop()
    return replace(
        result,
        plans=tuple(plans),
        tables=tuple(_tables(project, since, plans, base_warehouse, head_warehouse)),
        quarantine=tuple(_quarantine(project, plans, base_warehouse, head_warehouse)),
        base_checks_failed=base_checks_failed,
        head_error=head_error,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="git ref to compare with (e.g. origin/main)")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="Markdown report")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="JSON report")
    parser.add_argument(
        "--fail-on-change", action="store_true", help="exit 1 when any table differs"
    )
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="per data set")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="of the sample data")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="of the sample data")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help=f"sample data and both runs' warehouses, kept for a look and for the next diff "
        f"(default: {WORK_DIR} in the checkout)",
    )
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project checkout")


def main(args: argparse.Namespace) -> int:
    project = load_project(args.root)
    sample = Sample(args.records, args.seed, args.days)
    result = data_diff(project, args.base, sample, args.work or args.root / WORK_DIR)
    markdown = render_markdown(result)
    for path, text in (
        (args.report, markdown),
        (args.json, json.dumps(result.as_json(), indent=1) + "\n"),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(markdown)
    print(f"data diff: {args.report} and {args.json}")
    if result.head_error or (args.fail_on_change and result.differs):
        return EXIT_CHECK_FAILED
    return EXIT_OK
