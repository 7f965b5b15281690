"""The measurements; each returns result rows for the report.

Every command runs as a subprocess under :func:`bench.process_tree.measure`, so wall time and
peak memory include interpreter start-up, the JVM and worker processes, as a developer or a
CodeBuild box would see them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.duckdb_reference import MART
from bench.process_tree import Measurement, measure
from dataops.project import PROJECT_ROOT, load_project
from dataops.sample_data import DEFAULT_START, GeneratedDataSet, generate

SEED = 7
DAYS = 3
MEMORY_TARGET_GIB = 3.0
# The test suite's and the pull-request check's wall-time target (the developers' guide).
WALL_LIMIT_SECONDS = 90.0
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "scripts/setup.sh")
BARE_APP_SETTINGS = "builtin_cloud_formation_validation=False"
BARE_APP = """import aws_cdk as cdk

app = cdk.App({props})
cdk.Stack(app, "Empty")
app.synth()
"""


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    benchmark: str
    measured: str
    baseline: str
    result: str
    target: str
    met: bool | None
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """Rows plus the command output worth keeping next to them (e.g. per-step timings)."""

    rows: list[Row]
    details: dict[str, str]


def _env() -> dict[str, str]:
    """The venv and the CDK CLI first on PATH, as ``make`` sets them."""
    env = dict(os.environ)
    paths = [str(PROJECT_ROOT / ".venv" / "bin"), str(PROJECT_ROOT / "node_modules" / ".bin")]
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", "")])
    return env


def _failed(name: str, run: Measurement) -> Row:
    tail = " / ".join(run.output.strip().splitlines()[-3:])
    return Row(name, f"exit {run.returncode}", "-", "failed", "-", False, tail[:300])


def _memory_row(name: str, run: Measurement) -> Row:
    return Row(
        name,
        f"{run.peak_gib:.2f} GiB",
        "-",
        f"{run.peak_gib:.2f} GiB",
        f"<= {MEMORY_TARGET_GIB:.0f} GiB",
        run.peak_gib <= MEMORY_TARGET_GIB,
        "peak RSS summed over the process tree",
    )


def _cpu_row(name: str, run: Measurement) -> Row:
    """The tree's CPU time: steadier than wall time on a busy machine, and the floor of it."""
    cores = os.cpu_count() or 1
    floor = run.cpu_seconds / cores
    return Row(
        name,
        f"{run.cpu_seconds:.0f} s",
        "-",
        f"{run.cpu_seconds:.0f} s",
        "-",
        None,
        f"CPU time of every process of the tree (JVMs and Node too): on {cores} cores, no wall "
        f"time below {floor:.0f} s",
    )


def _synth(app_dir: Path, outdir: Path) -> Measurement:
    cdk = str(PROJECT_ROOT / "node_modules" / ".bin" / "cdk")
    return measure([cdk, "synth", "--quiet", "--output", str(outdir)], app_dir, _env())


def _bare_app(app_dir: Path, props: str) -> Path:
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "app.py").write_text(BARE_APP.format(props=props))
    (app_dir / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    return app_dir


def synth(workdir: Path) -> Outcome:
    """``cdk synth`` of the whole app against a bare app with one empty stack, as ``cdk init``
    writes it; and against a bare app with this app's one App setting (CDK's built-in
    CloudFormation validation off, cfn-lint runs instead), the floor of any synth here."""
    whole = _synth(PROJECT_ROOT, workdir / "cdk.out")
    bare_dir = _bare_app(workdir / "bare-app", "")
    bare = _synth(bare_dir, bare_dir / "cdk.out")
    floor_dir = _bare_app(workdir / "bare-app-no-validation", BARE_APP_SETTINGS)
    floor = _synth(floor_dir, floor_dir / "cdk.out")
    failed = next((run for run in (whole, bare, floor) if run.returncode), None)
    if failed:
        return Outcome([_failed("cdk synth", failed)], {})
    ratio = whole.seconds / bare.seconds
    templates = len(list((workdir / "cdk.out").rglob("*.template.json")))
    rows = [
        Row(
            "cdk synth, whole app vs bare app",
            f"{whole.seconds:.1f} s",
            f"{bare.seconds:.1f} s",
            f"{ratio:.2f}x",
            "<= 1.5x",
            ratio <= 1.5,
            f"{templates} templates; bare app: one empty stack as cdk init writes it, same CLI "
            "and Python",
        ),
        Row(
            "cdk synth, whole app vs bare app without built-in validation",
            f"{whole.seconds:.1f} s",
            f"{floor.seconds:.1f} s",
            f"{whole.seconds / floor.seconds:.2f}x",
            "-",
            None,
            "both with this app's App setting: the fixed cost of a CDK synth from Python",
        ),
    ]
    return Outcome(rows, {})


def _timed(
    name: str,
    run: Measurement,
    note: Callable[[str], str],
    *,
    limit_seconds: float | None,
    tail_lines: int = 8,
) -> Outcome:
    """A measured command's wall time (against ``limit_seconds``, when it has a target) and
    peak memory, ``note`` made from its output; one failed row when it failed."""
    if run.returncode:
        return Outcome([_failed(name, run)], {f"{name} (tail)": _tail(run.output, 30)})
    rows = [
        Row(
            f"{name}, wall time",
            f"{run.seconds:.1f} s",
            "-",
            f"{run.seconds:.1f} s",
            "-" if limit_seconds is None else f"<= {limit_seconds:.0f} s",
            None if limit_seconds is None else run.seconds <= limit_seconds,
            note(run.output),
        ),
        _cpu_row(f"{name}, CPU time", run),
        _memory_row(f"{name}, peak memory", run),
    ]
    return Outcome(rows, {f"{name} (tail)": _tail(run.output, tail_lines)})


def _last_line(output: str, matches: Callable[[str], bool]) -> str:
    return next((line for line in reversed(output.splitlines()) if matches(line)), "")


def test_suite() -> Outcome:
    """``make test``, what CI runs on a clean clone and every developer before a push: every
    lint and every test (2 pytest workers)."""
    run = measure(["make", "test"], PROJECT_ROOT, _env())
    return _timed(
        "make test",
        run,
        lambda output: (
            "every lint and every test, 2 pytest workers: "
            + _last_line(output, lambda line: " passed" in line).strip("= ")
        ),
        limit_seconds=WALL_LIMIT_SECONDS,
    )


def pull_request_check() -> Outcome:
    """``make pull-request-check``, what CodeBuild runs on every pull request, against ``HEAD``
    (``PULL_REQUEST_BASE``; a clone without ``origin`` still measures the gate's git reads):
    the contract gate, every lint and every test no data set's impact selects, and a data diff
    with nothing to run."""
    env = _env()
    env.setdefault("PULL_REQUEST_BASE", "HEAD")
    run = measure(["make", "pull-request-check"], PROJECT_ROOT, env)
    return _timed(
        "pull-request check",
        run,
        lambda _: (
            "make pull-request-check against HEAD: contract gate, lint, the tests of no "
            "data set (2 pytest workers), a data diff and a rehearsal with nothing impacted"
        ),
        limit_seconds=WALL_LIMIT_SECONDS,
    )


def rehearsal() -> Outcome:
    """``make rehearse``, part of the pull-request check and of the delivery pipeline's Checks
    stage: every scenario of every environment's data workflow in moto, in one process (one
    synth check, one JVM)."""
    run = measure(["make", "rehearse"], PROJECT_ROOT, _env())
    return _timed(
        "make rehearse",
        run,
        lambda output: (
            "every scenario of every environment: "
            + _last_line(output, lambda line: line.endswith(" skipped"))
        ),
        limit_seconds=None,
    )


def _fingerprint(*files: Path) -> str:
    """What ``scripts/setup.sh`` stamps its installs with (sha256 of the files, 16 digits)."""
    return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:16]


def _shared_installs_match(clone: Path) -> bool:
    """Whether the clone's setup would find this checkout's installs current: it runs ``make
    setup``, which must never reinstall into the linked ``.venv`` or ``node_modules``."""
    python = _fingerprint(*(clone / f for f in REQUIREMENTS))
    node = _fingerprint(clone / "package-lock.json")
    return (PROJECT_ROOT / ".venv" / f".requirements-{python}").is_file() and (
        PROJECT_ROOT / "node_modules" / f".lock-{node}"
    ).is_file()


def _one_model_change(clone: Path) -> str:
    """Commit a change to the last SQL model of the first data set that has one; its path."""
    project = load_project(clone)
    dataset = next(ds for ds in project.datasets.values() if any(j.sql for j in ds.job_graph.jobs))
    model = [job for job in dataset.job_graph.jobs if job.sql][-1]
    path = dataset.root / str(model.sql)
    path.write_text(path.read_text(encoding="utf-8") + "-- bench: a one-job change\n")
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "-C", str(clone), "add", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(clone), *identity, "commit", "--quiet", "-m", "bench: one SQL model"],
        check=True,
    )
    return str(path.relative_to(clone))


def pull_request_check_one_model(workdir: Path) -> Outcome:
    """``make pull-request-check`` of a throwaway commit that changes one SQL model, in a clone
    of this checkout's ``HEAD`` (its ``.venv`` and ``node_modules`` linked, its own code first on
    ``PYTHONPATH``) against the commit before: the impacted tests and a data diff that reruns
    one job, and the impacted data set's rehearsal."""
    name = "pull-request check, one SQL model changed"
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(clone)], check=True)
    for linked in (".venv", "node_modules"):
        (clone / linked).symlink_to(PROJECT_ROOT / linked, target_is_directory=True)
    # .gitignore's ".venv/" matches a folder, not a link: the data diff wants a clean tree.
    with (clone / ".git" / "info" / "exclude").open("a", encoding="utf-8") as exclude:
        exclude.write(".venv\nnode_modules\n")
    if not _shared_installs_match(clone):
        return Outcome(
            [Row(name, "-", "-", "failed", "-", False, "make setup first: the installs are stale")],
            {},
        )
    changed = _one_model_change(clone)
    env = _env()
    env["PULL_REQUEST_BASE"] = "HEAD~1"
    env["PYTHONPATH"] = os.pathsep.join([str(clone), str(clone / "glue_scripts")])
    run = measure(["make", "pull-request-check"], clone, env)
    return _timed(
        name,
        run,
        lambda _: (
            f"{changed} changed: contract gate, lint, the impacted tests, the data diff "
            "(base run in a subprocess on the head's driver, the changed job rerun), the "
            "rehearsal of the impacted data set"
        ),
        limit_seconds=WALL_LIMIT_SECONDS,
        tail_lines=30,
    )


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _run_local(raw: Path, warehouse: Path) -> Measurement:
    command = [sys.executable, "-m", "dataops", "run-local", "--raw", str(raw)]
    return measure([*command, "--warehouse", str(warehouse)], PROJECT_ROOT, _env())


def _mart(warehouse: Path) -> list[tuple]:
    files = f"{warehouse / MART}/**/*.parquet"
    return duckdb.sql(
        "SELECT dt, source_ip_address, destination_port, total_packets_sent, total_bytes_sent, "
        f"connection_length_sec FROM read_parquet('{files}', hive_partitioning = true) "
        "ORDER BY ALL"
    ).fetchall()


def _expected(*data_sets: GeneratedDataSet) -> list[tuple]:
    """The predicted mart of several generations into one raw directory."""
    totals: dict[tuple, list[int]] = {}
    for data in data_sets:
        for key, values in data.conn_stats.items():
            current = totals.setdefault(key, [0, 0, 0])
            for index, value in enumerate(values):
                current[index] += value
    epoch = dt.date(1970, 1, 1)
    return sorted(
        (epoch + dt.timedelta(days=day), source, port, *values)
        for (day, source, port), values in totals.items()
    )


def _verdict(warehouse: Path, expected: list[tuple]) -> str:
    try:
        actual = _mart(warehouse)
    except duckdb.Error as exc:
        return f"mart unreadable: {str(exc).splitlines()[0]}"
    if actual == expected:
        return f"mart = prediction ({len(actual)} rows)"
    return f"mart DIFFERS from prediction ({len(actual)} rows, {len(expected)} expected)"


def local_run(workdir: Path, records: int, incremental: bool) -> Outcome:
    """run-local on ``records`` generated records against DuckDB; then 1% new files."""
    raw, warehouse, reference = workdir / "raw", workdir / "warehouse", workdir / "duckdb"
    first = generate(raw, records, SEED, DAYS, keep_records=False)
    duck = measure(
        [
            sys.executable,
            "-m",
            "bench.duckdb_reference",
            "--raw",
            str(raw),
            "--warehouse",
            str(reference),
        ],
        PROJECT_ROOT,
        _env(),
    )
    spark = _run_local(raw, warehouse)
    details = {"run-local (first run)": _tail(spark.output, 25), "duckdb": duck.output.strip()}
    if spark.returncode or duck.returncode:
        return Outcome(
            [_failed("run-local vs DuckDB", spark if spark.returncode else duck)], details
        )
    expected = _expected(first)
    ratio = spark.seconds / duck.seconds
    rows = [
        Row(
            f"run-local, {records:,} records vs DuckDB",
            f"{spark.seconds:.1f} s",
            f"{duck.seconds:.1f} s",
            f"{ratio:.2f}x",
            "<= 5x",
            ratio <= 5,
            f"{_verdict(warehouse, expected)}; DuckDB {_verdict(reference, expected)}",
        ),
        _memory_row("run-local, peak memory", spark),
        Row(
            "DuckDB reference, peak memory",
            f"{duck.peak_gib:.2f} GiB",
            "-",
            f"{duck.peak_gib:.2f} GiB",
            "-",
            None,
            "memory_limit 2GB",
        ),
    ]
    if incremental:
        added = generate(
            raw,
            max(records // 100, 60),
            SEED + 1,
            1,
            DEFAULT_START + dt.timedelta(days=DAYS),
            keep_records=False,
        )
        second = _run_local(raw, warehouse)
        details["run-local (incremental run)"] = _tail(second.output, 25)
        if second.returncode:
            rows.append(_failed("run-local, incremental", second))
            return Outcome(rows, details)
        share = second.seconds / spark.seconds
        rows.append(
            Row(
                f"run-local after 1% new files ({len(added.files)} files)",
                f"{second.seconds:.1f} s",
                f"{spark.seconds:.1f} s",
                f"{share:.0%}",
                "<= 15%",
                share <= 0.15,
                _verdict(warehouse, _expected(first, added)),
            )
        )
        rows.append(_floor_row(raw, warehouse, spark))
    return Outcome(rows, details)


def _floor_row(raw: Path, warehouse: Path, first: Measurement) -> Row:
    """A third run with nothing new: what any run-local costs before it reads a line (Python,
    the JVM, the checks over every table), the floor under the incremental run."""
    name = "run-local with no new files"
    floor = _run_local(raw, warehouse)
    if floor.returncode:
        return _failed(name, floor)
    return Row(
        name,
        f"{floor.seconds:.1f} s",
        f"{first.seconds:.1f} s",
        f"{floor.seconds / first.seconds:.0%}",
        "-",
        None,
        "no job reads a line; the contract checks and data tests run on every table",
    )
