"""The data diff: DuckDB's comparison of one table, the report, and whole diffs of commits.

The whole diffs run in a throwaway repository holding a copy of the project. Its base run is a
subprocess on the shared SparkSession's driver, as in a pull request's check; it runs once for
the module (each later diff against the same base and sample keeps it), on a small sample. The
head runs use the shared SparkSession, importing the data set packages of the copy.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dataops import cli
from dataops.contract_changes import ChangeClass
from dataops.data_diff.compare import compare_rows, reason_counts
from dataops.data_diff.runs import run_on_driver
from dataops.project import load_project
from tests.git_repos import commit, git, project_repo
from tests.local_runs import shared_session

DAY = "2024-05-06"
MART = "data_app_conn_stats"
DATASET = "vpcflow"
MART_MODEL = Path(f"glue_scripts/{DATASET}/models/{MART}.sql")
INTERMEDIATE = "inter_model_flowlogs"
INTERMEDIATE_MODEL = Path(f"glue_scripts/{DATASET}/models/{INTERMEDIATE}.sql")
MART_CONTRACT = Path(f"contracts/{DATASET}/{MART}.yaml")
SAMPLE = ["--records", "300", "--days", "2"]


def write_table(location: Path, rows_sql: str) -> Path:
    """One ``dt`` partition of Parquet holding the rows of ``rows_sql``."""
    (location / f"dt={DAY}").mkdir(parents=True)
    duckdb.sql(f"COPY ({rows_sql}) TO '{location}/dt={DAY}/part.parquet' (FORMAT parquet)")
    return location


def rows(values: str, columns: str = "k, v, ingested_at") -> str:
    return f"SELECT * FROM (VALUES {values}) t({columns})"


def test_the_same_rows_written_by_another_run_do_not_differ(tmp_path):
    base = write_table(tmp_path / "base", rows("(1, 10, TIMESTAMP '2024-01-01')"))
    head = write_table(tmp_path / "head", rows("(1, 10, TIMESTAMP '2026-01-01')"))
    diff = compare_rows(base, head, ["k"])
    assert (diff.base_rows, diff.head_rows, diff.key) == (1, 1, ("k",))
    assert not diff.differs


def test_rows_matched_by_grain_count_added_removed_and_changed_per_column(tmp_path):
    base = write_table(
        tmp_path / "base", rows("(1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')", "k, v, s")
    )
    head = write_table(
        tmp_path / "head", rows("(1, 10, 'a'), (2, 25, 'x'), (4, 40, 'd')", "k, v, s")
    )
    diff = compare_rows(base, head, ["k"])
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 1)
    assert [(c.column, c.rows, c.largest_change) for c in diff.columns] == [
        ("v", 1, 5.0),
        ("s", 1, None),
    ]


def test_a_table_without_grain_is_compared_as_a_multiset(tmp_path):
    base = write_table(tmp_path / "base", rows("(1, 10), (1, 10), (2, 20)", "k, v"))
    head = write_table(tmp_path / "head", rows("(1, 10), (2, 20), (2, 20)", "k, v"))
    diff = compare_rows(base, head, [])
    assert (diff.key, diff.added, diff.removed, diff.changed) == ((), 1, 1, 0)


def test_a_grain_that_is_not_unique_falls_back_to_a_multiset_and_says_so(tmp_path):
    base = write_table(tmp_path / "base", rows("(1, 10), (1, 11)", "k, v"))
    head = write_table(tmp_path / "head", rows("(1, 10), (1, 12)", "k, v"))
    diff = compare_rows(base, head, ["k"])
    assert (diff.key, diff.added, diff.removed) == ((), 1, 1)
    assert "not unique" in diff.note


def test_columns_of_one_side_are_listed_and_not_compared(tmp_path):
    base = write_table(tmp_path / "base", rows("(1, 10)", "k, v"))
    head = write_table(tmp_path / "head", rows("(1, 10, NULL::BIGINT)", "k, v, extra"))
    diff = compare_rows(base, head, ["k"])
    assert diff.columns_only_in_head == ("extra",)
    assert (diff.added, diff.removed, diff.changed) == (0, 0, 0)


def test_a_table_of_one_side_only_is_all_added_or_all_removed(tmp_path):
    head = write_table(tmp_path / "head", rows("(1, 10), (2, 20)", "k, v"))
    diff = compare_rows(tmp_path / "base", head, ["k"])
    assert (diff.base_rows, diff.head_rows, diff.added, diff.removed) == (None, 2, 2, 0)


def test_reasons_are_counted(tmp_path):
    table = write_table(tmp_path / "q", rows("('a'), ('b'), ('a')", "reason"))
    assert reason_counts(table) == {"a": 2, "b": 1}
    assert reason_counts(tmp_path / "nothing") == {}


# A base commit's ``python -m dataops`` that settles what its run may and may not touch.
FAKE_BASE_MAIN = """
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from dataops import only_in_the_base

spark = SparkSession.builder.config("spark.sql.session.timeZone", "Asia/Tokyo").getOrCreate()
spark.range(3).createOrReplaceTempView("base_only")
spark.range(5).write.parquet(sys.argv[2])
print(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
spark.stop()
sys.exit(1)
"""


@pytest.mark.xdist_group("spark")
def test_the_base_runs_its_own_code_on_the_heads_driver_and_leaves_it_as_it_was(spark, tmp_path):
    tree = tmp_path / "base"
    (tree / "dataops").mkdir(parents=True)
    for module in ["__init__.py", "only_in_the_base.py"]:
        (tree / "dataops" / module).write_text("")
    (tree / "dataops" / "__main__.py").write_text(FAKE_BASE_MAIN)
    written, log = tmp_path / "written", tmp_path / "run.log"
    with log.open("w", encoding="utf-8") as output:
        code = run_on_driver(spark, tree, ["run-local", str(written)], output)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    assert code == 1, lines
    assert int(lines[-1]) == spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    assert spark.read.parquet(str(written)).count() == 5
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert not spark.catalog.tableExists("base_only")
    assert spark._jvm.SparkSession.getDefaultSession().get().equals(spark._jsparkSession)


# --- whole diffs of commits ------------------------------------------------------------------


def git_branch(repo: Path, base: str, name: str) -> None:
    git(repo, "checkout", "--quiet", "-b", name, base)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def count_bytes_twice(repo: Path) -> None:
    edit(repo / MART_MODEL, "sum(bytes_sent) AS", "2 * sum(bytes_sent) AS")


def add_a_nullable_column(repo: Path) -> None:
    contract = repo / MART_CONTRACT
    edit(contract, "version: 1.0.0", "version: 1.1.0")
    contract.write_text(
        contract.read_text(encoding="utf-8")
        + "  - name: flows\n    type: bigint\n    nullable: true\n    pii: false\n"
        + '    description: "Accepted flows."\n',
        encoding="utf-8",
    )
    edit(repo / MART_MODEL, "    dt\nFROM", "    count(*) AS flows,\n    dt\nFROM")


def comment_the_intermediate_model(repo: Path) -> None:
    edit(repo / INTERMEDIATE_MODEL, "SELECT\n", "-- Reviewed.\nSELECT\n")


# Each a branch off the base commit, diffed in this order with --fail-on-change.
CHANGES = {
    "mart-logic": count_bytes_twice,
    "new-column": add_a_nullable_column,
    "comment-only": comment_the_intermediate_model,
}


@dataclass(frozen=True)
class Outcome:
    code: int
    document: dict
    markdown: str
    output: str

    def table(self, name: str) -> dict:
        return next(table for table in self.document["tables"] if table["table"] == name)


@contextlib.contextmanager
def head_code(repo: Path) -> Iterator[None]:
    """Import the copy's data set packages (their job code and SQL models) for the head run."""
    names = tuple(load_project(repo).datasets)
    ours = [name for name in sys.modules if name.split(".")[0] in names]
    with pytest.MonkeyPatch.context() as patch:
        for name in ours:
            patch.delitem(sys.modules, name)
        patch.syspath_prepend(str(repo / "glue_scripts"))
        yield
        for name in [name for name in sys.modules if name.split(".")[0] in names]:
            if name not in ours:
                del sys.modules[name]


def data_diff(spark, repo: Path, base: str, work: Path) -> Outcome:
    """``python -m dataops data-diff --fail-on-change`` of ``repo`` against ``base``."""
    report, document, output = work / "report.md", work / "report.json", io.StringIO()
    with shared_session(spark), head_code(repo), contextlib.redirect_stdout(output):
        options = {"--base": base, "--root": repo, "--work": work / "runs"}
        options |= {"--report": report, "--json": document}
        arguments = [str(part) for pair in options.items() for part in pair]
        code = cli.main(["data-diff", *arguments, "--fail-on-change", *SAMPLE])
    return Outcome(code, json.loads(document.read_text()), report.read_text(), output.getvalue())


@pytest.fixture(scope="module")
def outcomes(spark, tmp_path_factory) -> dict[str, Outcome]:
    """Every change of ``CHANGES`` diffed against the project's commit, sharing one base run."""
    root = project_repo(tmp_path_factory.mktemp("data-diff") / "repo")
    work = tmp_path_factory.mktemp("data-diff-work")
    base = git(root, "rev-parse", "HEAD").strip()
    results = {}
    for name, change in CHANGES.items():
        git_branch(root, base, name)
        change(root)
        commit(root, name)
        results[name] = data_diff(spark, root, base, work)
    return results


@pytest.mark.xdist_group("spark")
def test_a_mart_logic_change_changes_its_rows_and_nothing_else(outcomes):
    outcome = outcomes["mart-logic"]
    assert outcome.code == 1
    mart = outcome.table(MART)
    assert mart["differs"]
    assert mart["recomputed"]
    assert (mart["rows"]["added"], mart["rows"]["removed"]) == (0, 0)
    assert mart["rows"]["changed"] == mart["rows"]["head_rows"] > 0
    assert [column["column"] for column in mart["rows"]["columns"]] == ["total_bytes_sent"]
    assert mart["schema"] == []
    others = [table for table in outcome.document["tables"] if table["table"] != MART]
    assert others, "the other tables are compared too"
    assert [t["table"] for t in others if t["differs"] or t["recomputed"]] == []
    for quarantine in outcome.document["quarantine"]:
        assert all(base == head for base, head in quarantine["reasons"].values())
    (plan,) = outcome.document["plans"]
    assert plan["jobs"] == ["mart"]
    assert "**1 of" in outcome.markdown
    assert "| `total_bytes_sent` |" in outcome.markdown


@pytest.mark.xdist_group("spark")
def test_a_new_nullable_column_is_an_additive_schema_change(outcomes):
    outcome = outcomes["new-column"]
    assert outcome.code == 1
    mart = outcome.table(MART)
    assert mart["schema"] == [
        {"table": MART, "what": "column flows added (nullable)", "kind": ChangeClass.ADDITIVE}
    ]
    assert mart["rows"]["columns_only_in_head"] == ["flows"]
    assert (mart["rows"]["added"], mart["rows"]["removed"], mart["rows"]["changed"]) == (0, 0, 0)
    assert "- additive: column flows added (nullable)" in outcome.markdown


@pytest.mark.xdist_group("spark")
def test_a_change_that_leaves_the_data_alone_gives_an_empty_diff(outcomes):
    """The intermediate model (an appending job) recomputes all of its input's partitions, the
    mart follows the rewritten partitions, and both come out as the base run left them."""
    outcome = outcomes["comment-only"]
    assert outcome.code == 0
    assert not outcome.document["differs"]
    recomputed = {table["table"] for table in outcome.document["tables"] if table["recomputed"]}
    assert recomputed == {INTERMEDIATE, MART}
    assert "**No differences** in" in outcome.markdown
    assert "base run kept from an earlier diff" in outcome.output


def test_no_change_runs_nothing_and_gives_an_empty_diff(tmp_path):
    root = project_repo(tmp_path / "repo")
    report, json_report = tmp_path / "report.md", tmp_path / "report.json"
    arguments = ["--base", "HEAD", "--root", root, "--work", tmp_path / "work", "--report", report]
    code = cli.main(
        ["data-diff", *map(str, arguments), "--json", str(json_report), "--fail-on-change"]
    )
    document = json.loads(json_report.read_text())
    assert code == 0
    assert (document["tables"], document["plans"], document["differs"]) == ([], [], False)
    assert "**No data set is impacted**" in report.read_text()
    assert not (tmp_path / "work").exists()


@pytest.fixture
def first_commit_repo(tmp_path) -> Path:
    """A repository whose first commit predates the data workflow."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "--quiet")
    (root / "README.md").write_text("# a data project\n")
    commit(root, "first")
    return project_repo(root)


def usage_error(capsys, *argv: str) -> str:
    assert cli.main(["data-diff", *argv]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_bad_input_is_one_line_and_exit_2(first_commit_repo, tmp_path, capsys):
    root = str(first_commit_repo)
    work = ["--work", str(tmp_path / "work")]
    line = usage_error(capsys, "--base", "nowhere", "--root", root, *work)
    assert line.startswith("error: --base: 'nowhere' is no commit of this clone; fix:")
    line = usage_error(capsys, "--base", "HEAD~1", "--root", root, *work)
    assert line.startswith("error: --base: HEAD~1 (merge base ")
    assert "has no data workflow to compare with" in line
    (first_commit_repo / "README.md").write_text("changed\n")
    line = usage_error(capsys, "--base", "HEAD~1", "--root", root, *work)
    assert line.startswith(
        "error: the working tree has uncommitted changes (1 file(s), e.g. README.md)"
    )
