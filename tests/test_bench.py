"""The benchmark tooling: process-tree measurement, the results file and the README's copy of
its table (which must match the committed ``bench/results.md``)."""

from __future__ import annotations

import os
import sys

from bench.process_tree import measure
from bench.readme import END, START, readme_block, shown_block, update_readme
from bench.report import render
from bench.scenarios import Outcome, Row, _one_model_change
from dataops.impact import changed_files, impact_of
from dataops.project import PROJECT_ROOT, load_project
from tests.git_repos import project_repo

# A child process holding ~200 MiB, started by the measured process: the tree's peak counts it.
CHILD_HOLDING_MEMORY = (
    "import subprocess, sys; subprocess.run([sys.executable, '-c', "
    "\"import time; block = bytearray(200 * 2**20); time.sleep(1)\"], check=True); print('done')"
)

# A child that spends about a second of CPU and is never waited for: the measured process exits
# while it sleeps, as a pytest worker leaves its JVM, so only the tree's own count sees it.
CHILD_NEVER_REAPED = (
    "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
    '"import time; end = time.process_time() + 1.0\\nwhile time.process_time() < end: pass\\n'
    "time.sleep(2)\"]); time.sleep(1.6); print('done')"
)


def _results() -> str:
    rows = [
        Row("synth", "6.0 s", "4.0 s", "1.50x", "<= 1.5x", True, "bare app"),
        Row("memory", "1.00 GiB", "-", "1.00 GiB", "<= 3 GiB", True),
    ]
    return render("2 cores, test machine", "python -m bench", [Outcome(rows, {})], "analysis\n")


def test_the_peak_counts_every_process_of_the_tree():
    run = measure([sys.executable, "-c", CHILD_HOLDING_MEMORY], PROJECT_ROOT)
    assert run.returncode == 0
    assert run.output.strip() == "done"
    assert run.peak_rss_bytes >= 200 * 2**20
    assert run.seconds >= 1


def test_cpu_time_counts_a_process_the_command_never_reaps():
    run = measure([sys.executable, "-c", CHILD_NEVER_REAPED], PROJECT_ROOT)
    assert run.returncode == 0
    assert run.output.strip() == "done"
    assert 0.8 <= run.cpu_seconds <= run.seconds * (os.cpu_count() or 1)


def test_the_results_table_lists_every_row_with_its_verdict():
    results = _results()
    assert "Machine: 2 cores, test machine." in results
    assert "| synth | 6.0 s | 4.0 s | 1.50x | <= 1.5x | yes |" in results
    assert "- synth: bare app" in results
    assert results.rstrip().endswith("analysis")


def test_the_readme_block_is_replaced_with_the_table_and_the_machine(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{START}\nold figures\n{END}\n\n## Next\n", encoding="utf-8")
    update_readme(readme, _results())
    text = readme.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert "Measured on: 2 cores, test machine" in text
    assert "| memory | 1.00 GiB |" in text
    assert text.startswith("# Title\n\n")
    assert text.endswith(f"{END}\n\n## Next\n")


def test_the_readme_shows_the_committed_results():
    results = (PROJECT_ROOT / "bench" / "results.md").read_text(encoding="utf-8")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert shown_block(readme) == readme_block(results), "run make bench (or copy the table)"


def test_the_one_model_change_commits_a_change_to_one_sql_job(tmp_path):
    clone = project_repo(tmp_path / "clone")
    changed = _one_model_change(clone)
    impact = impact_of(load_project(clone), changed_files(clone, "HEAD~1"))
    assert impact.changed == (changed,)
    assert changed.endswith(".sql")
    assert [len(entry.jobs) for entry in impact.datasets.values()] == [1]
