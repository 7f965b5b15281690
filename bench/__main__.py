"""``python -m bench``: measure, then write ``bench/results.md``.

``--records`` scales the local-run benchmark down for a quick check; ``--skip`` leaves out the
slow parts. What bounds a missed target is written by hand in ``bench/analysis.md`` and copied
into the results, so a rerun keeps it. A whole run into ``bench/results.md`` also updates the
README's table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import scenarios
from bench.machine import describe
from bench.readme import update_readme
from bench.report import render

BENCH_DIR = Path(__file__).resolve().parent
PARTS = ("synth", "test", "pull-request", "pull-request-change", "rehearse", "local", "incremental")
RECORDS = 1_000_000


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--records", type=int, default=RECORDS, help="(default: %(default)s)")
    parser.add_argument("--skip", nargs="*", choices=PARTS, default=[], help="parts to leave out")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument("--workdir", type=Path, default=None, help="kept if given")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        outcomes = []
        if "synth" not in args.skip:
            print("bench: cdk synth, whole app vs bare app", flush=True)
            outcomes.append(scenarios.synth(workdir / "synth"))
        if "test" not in args.skip:
            print("bench: make test", flush=True)
            outcomes.append(scenarios.test_suite())
        if "pull-request" not in args.skip:
            print("bench: make pull-request-check", flush=True)
            outcomes.append(scenarios.pull_request_check())
        if "pull-request-change" not in args.skip:
            print("bench: make pull-request-check of a one-model change", flush=True)
            outcomes.append(scenarios.pull_request_check_one_model(workdir / "pull-request"))
        if "rehearse" not in args.skip:
            print("bench: make rehearse", flush=True)
            outcomes.append(scenarios.rehearsal())
        if "local" not in args.skip:
            print(f"bench: run-local on {args.records:,} records vs DuckDB", flush=True)
            incremental = "incremental" not in args.skip
            outcomes.append(scenarios.local_run(workdir / "local", args.records, incremental))
    analysis_file = BENCH_DIR / "analysis.md"
    analysis = analysis_file.read_text() if analysis_file.is_file() else ""
    command = " ".join(["python -m bench", *argv])
    results = render(describe(), command, outcomes, analysis)
    args.out.write_text(results)
    if args.out == BENCH_DIR / "results.md" and not args.skip and args.records == RECORDS:
        update_readme(BENCH_DIR.parent / "README.md", results)
    print(results)
    failed = [row for outcome in outcomes for row in outcome.rows if row.result == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
