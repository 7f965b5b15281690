"""``data-diff --base REF``: what a change does to the data.

The data workflow runs twice on the same generated sample data, at the base commit (in a git
worktree, in a subprocess with that commit's own code, on this process's Spark driver) and
here, and every table both runs produce is compared row by row with DuckDB: :mod:`.runs` makes
the two runs (:mod:`.borrowed_driver` starts the base's), :mod:`.compare` compares a table,
:mod:`.report` writes Markdown and JSON, :mod:`.command` ties them together.
"""

from pathlib import Path

# Where the pull-request check writes the reports (its build keeps them as artifacts).
DEFAULT_REPORT = Path("reports/data-diff.md")
DEFAULT_JSON = Path("reports/data-diff.json")
