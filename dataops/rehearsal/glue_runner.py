"""Glue in the rehearsal: job runs execute the job's real entry script; crawls end.

Moto records a job run and never runs it, and its crawls never end. Inside
:meth:`GlueRunner.patched`, ``StartJobRun`` runs the script from the cloud assembly (the asset
behind the job's ``Command.ScriptLocation``) with the arguments the run gets (the job's
``DefaultArguments`` merged with the caller's, as moto merges them), through the local
``awsglue`` stand-in, on the rehearsal's SparkSession. S3 URIs in the arguments become paths
in the mirror (asset URIs, such as ``--extra-py-files``, the assembly's files), those in the
string values of a JSON object argument (``--outputs``) too, and what the script writes goes
back to moto's S3. A fault armed for the run fails it before its script starts, or arms a
``jobkit.faults`` checkpoint in the run's own copy of the framework, so the job fails there.
The run ends ``SUCCEEDED``, or ``FAILED`` with the exception's message, before ``StartJobRun``
returns. A crawl stays ``RUNNING`` for ``crawl_polls`` looks at the crawler and then ends as
the faults say (``COMPLETED`` unless armed otherwise), reported with the ``LastCrawl.Status``
values of the Glue API.
"""

from __future__ import annotations

import importlib
import json
import runpy
import sys
import threading
import traceback
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from moto.core.utils import utcnow
from moto.glue.models import FakeCrawler, FakeJobRun, GlueBackend

from dataops.rehearsal.faults import CrawlOutcome, Faults
from dataops.rehearsal.s3_mirror import S3_URI, S3Mirror

# GetCrawler's LastCrawl.Status (SUCCEEDED | CANCELLED | FAILED) for moto's crawl states.
LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED", "FAILED": "FAILED"}
# Job types that run Spark (a Python shell job would not need a session).
SPARK_COMMANDS = frozenset({"glueetl", "gluestreaming"})
# The job framework's fault checkpoints, and the argument naming the job to them.
FAULTS_MODULE = "jobkit.faults"
JOB_ARGUMENT = "--job"


@dataclass(frozen=True)
class GlueJob:
    """A stood-up Glue job: its name, command type and the entry script's local file."""

    name: str
    command: str
    script: Path


def _importable_names(entry: Path) -> set[str]:
    """Top-level modules and packages a ``--extra-py-files`` entry (zip or file) provides."""
    if entry.suffix == ".zip":
        with zipfile.ZipFile(entry) as archive:
            return {Path(name).parts[0].removesuffix(".py") for name in archive.namelist()}
    return {entry.stem}


@contextmanager
def _job_process(script: Path, argv: list[str], library: list[Path]) -> Iterator[None]:
    """What Glue's fresh Python process gives a run: its arguments in ``sys.argv`` and its
    libraries first on ``sys.path``. Modules of the same names loaded before (the repository's
    copies) are set aside during the run and put back after it, so the run imports exactly the
    assembly's files."""
    names = set().union(*(_importable_names(entry) for entry in library)) if library else set()

    def ours(module: str) -> bool:
        return module.partition(".")[0] in names

    saved_modules = {name: module for name, module in sys.modules.items() if ours(name)}
    saved_argv, saved_path = sys.argv, list(sys.path)
    for name in saved_modules:
        del sys.modules[name]
    sys.argv = [str(script), *argv]
    sys.path[:0] = [str(entry) for entry in library]
    try:
        yield
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        for entry in library:
            sys.path_importer_cache.pop(str(entry), None)
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)


class GlueRunner:
    """Runs job runs and ends crawls for moto's Glue backend (see the module docstring)."""

    def __init__(
        self,
        *,
        jobs: Mapping[str, GlueJob],
        assets: Mapping[str, Path],
        mirror: S3Mirror,
        faults: Faults,
        spark: Callable[[], object],
        crawl_polls: int,
    ) -> None:
        self._jobs = jobs
        self._assets = assets
        self._mirror = mirror
        self._faults = faults
        self._spark = spark
        self._crawl_polls = crawl_polls
        self._session_started = False
        # One job at a time: runs share sys.argv, sys.modules and one SparkSession.
        self._lock = threading.Lock()

    def localize(self, value: str) -> str:
        """Asset URIs -> the assembly's files; other S3 URIs -> the mirror. In a JSON object,
        each string value is localized on its own (a URI there ends at its closing quote)."""
        if value.startswith("{"):
            try:
                document = json.loads(value)
            except json.JSONDecodeError:
                document = None
            if isinstance(document, dict):
                return json.dumps(
                    {
                        key: self.localize(item) if isinstance(item, str) else item
                        for key, item in document.items()
                    }
                )

        def local(match: Any) -> str:
            uri = match.group(0)
            return str(self._assets[uri]) if uri in self._assets else self._mirror.local_path(uri)

        return S3_URI.sub(local, value)

    def _library(self, arguments: Mapping[str, str]) -> list[Path]:
        entries = [uri for uri in arguments.get("--extra-py-files", "").split(",") if uri]
        missing = [uri for uri in entries if uri not in self._assets]
        if missing:
            raise FileNotFoundError(f"--extra-py-files {missing[0]}: no such asset in the assembly")
        return [self._assets[uri] for uri in entries]

    def run(self, job_name: str, run_id: str, arguments: Mapping[str, str]) -> str | None:
        """Run the job's script for this run; ``None`` when it succeeded, else the error."""
        job = self._jobs[job_name]
        fault = self._faults.job_run_started(job_name)
        if fault is not None and fault.message:
            return fault.message
        argv = [word for key, value in arguments.items() for word in (key, self.localize(value))]
        argv += ["--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
        with self._lock:
            if job.command in SPARK_COMMANDS and not self._session_started:
                self._spark()
                self._session_started = True
            try:
                library = self._library(arguments)
                with self._mirror.synced(push=True), _job_process(job.script, argv, library):
                    if fault is not None and fault.point:
                        # The run's own copy of the framework: the one its script imports.
                        faults = importlib.import_module(FAULTS_MODULE)
                        faults.arm(arguments.get(JOB_ARGUMENT, job_name), fault.point)
                    runpy.run_path(str(job.script), run_name="__main__")
            except SystemExit as exc:
                return None if exc.code in (0, None) else f"SystemExit: {exc.code}"
            except Exception as exc:  # the run fails, as Glue reports it, with the trace in the log
                traceback.print_exc()
                return f"{type(exc).__name__}: {exc}"
        return None

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Moto's Glue backend running job runs and ending crawls as described above."""
        run, faults, crawl_polls = self.run, self._faults, self._crawl_polls
        start_job_run = GlueBackend.start_job_run
        job_run_as_dict = FakeJobRun.as_dict
        start_crawler = FakeCrawler.start_crawler
        crawler_as_dict = FakeCrawler.as_dict

        def run_job(backend: GlueBackend, name: str, *args: Any, **kwargs: Any) -> str:
            run_id = start_job_run(backend, name, *args, **kwargs)
            job_run = next(r for r in backend.get_job(name).job_runs if r.job_run_id == run_id)
            error = run(name, run_id, job_run.arguments or {})
            job_run.status = "FAILED" if error else "SUCCEEDED"
            job_run.error_message = error
            job_run.completed_on = job_run.modified_on = utcnow()
            return run_id

        def describe_job_run(job_run: FakeJobRun) -> dict[str, Any]:
            described = job_run_as_dict(job_run)
            if getattr(job_run, "error_message", None):
                described["ErrorMessage"] = job_run.error_message
            return described

        def start_crawl(crawler: FakeCrawler) -> None:
            start_crawler(crawler)
            crawler.crawls[-1].looks_left = crawl_polls

        def describe_crawler(crawler: FakeCrawler) -> dict[str, Any]:
            crawl = crawler.crawls[-1] if crawler.crawls else None
            if crawl is not None and crawl.status == "RUNNING":
                crawl.looks_left -= 1
                outcome = faults.crawl_outcome(crawler.name)
                if crawl.looks_left < 0 and outcome is not CrawlOutcome.RUNNING:
                    crawl.status = outcome.value
                    crawl.end_time = utcnow()
            described = crawler_as_dict(crawler)
            if "LastCrawl" in described:
                status = described["LastCrawl"]["Status"]
                described["LastCrawl"]["Status"] = LAST_CRAWL_STATUS.get(status, status)
            return described

        with ExitStack() as stack:
            for owner, name, replacement in (
                (GlueBackend, "start_job_run", run_job),
                (FakeJobRun, "as_dict", describe_job_run),
                (FakeCrawler, "start_crawler", start_crawl),
                (FakeCrawler, "as_dict", describe_crawler),
            ):
                stack.enter_context(mock.patch.object(owner, name, replacement))
            yield
