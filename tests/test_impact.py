"""The impact of changed files, from the job graphs, contracts and data tests (no Spark)."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Iterator

import pytest

from dataops import cli
from dataops.impact import Impact, impact_of, local_run_files
from dataops.project import PROJECT_ROOT, load_project
from tests.git_repos import commit, copy_project, git, project_repo

DATASET = "vpcflow"
MART_MODEL = f"glue_scripts/{DATASET}/models/data_app_conn_stats.sql"
OTHER = "alb_logs"


@pytest.fixture(autouse=True, scope="module")
def _local_run_files_found_once() -> Iterator[None]:
    """``impact_of`` finds the local run's imports on every call; no checkout these tests read
    changes under them, so each checkout's are found once."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("dataops.impact.local_run_files", functools.cache(local_run_files))
        yield


def jobs(project, *changed: str) -> dict[str, tuple[str, ...]]:
    return {name: entry.jobs for name, entry in impact_of(project, changed).datasets.items()}


def test_a_mart_model_affects_its_job_its_table_and_the_tests_reading_it(project):
    entry = impact_of(project, [MART_MODEL]).datasets[DATASET]
    graph = project.datasets[DATASET].job_graph
    mart = graph.producer_of("data_app_conn_stats")
    assert entry.jobs == (mart.name,)
    assert entry.tables == ("data_app_conn_stats",)
    assert "mart_grain_unique" in entry.data_tests
    assert "intermediate_time_order" not in entry.data_tests
    assert entry.files == (MART_MODEL,)


def test_a_contract_affects_its_producer_and_everything_downstream(project):
    graph = project.datasets[DATASET].job_graph
    producer = graph.producer_of("inter_model_flowlogs")
    downstream = graph.names[graph.names.index(producer.name) :]
    assert jobs(project, f"contracts/{DATASET}/inter_model_flowlogs.yaml") == {
        DATASET: tuple(downstream)
    }


@pytest.mark.parametrize(
    "changed",
    [
        f"glue_scripts/{DATASET}/dataset.yaml",
        f"glue_scripts/{DATASET}/job_graph.yaml",
        f"glue_scripts/{DATASET}/flowlog_format.py",
        f"glue_scripts/{DATASET}/staging.py",
    ],
)
def test_the_declaration_a_helper_or_the_raw_job_affect_the_whole_data_set(project, changed):
    assert jobs(project, changed) == {DATASET: tuple(project.datasets[DATASET].job_graph.names)}


def test_a_data_test_affects_itself_and_no_job(project):
    impact = impact_of(project, [f"data_tests/{DATASET}/mart_grain_unique.sql"])
    entry = impact.datasets[DATASET]
    assert (entry.jobs, entry.tables, entry.data_tests) == ((), (), ("mart_grain_unique",))
    assert not impact.shared


@pytest.mark.parametrize(
    "changed",
    [
        "glue_scripts/jobkit/runner.py",
        "glue_scripts/run_job.py",
        "dataops/local_runner.py",
        "dataops/job_contexts.py",
        "dataops/contracts.py",
        "requirements.txt",
        "config/environments.yaml",
    ],
)
def test_shared_code_and_configuration_affect_every_job_of_every_data_set(project, changed):
    impact = impact_of(project, [changed])
    assert impact.shared == (changed,)
    assert impact.all_tests
    assert jobs(project, changed) == {
        name: tuple(dataset.job_graph.names) for name, dataset in project.datasets.items()
    }


@pytest.mark.parametrize(
    "changed",
    [
        "README.md",
        "stacks/pull_request_checks_stack.py",
        "dataops/pii_gate.py",
        "bench/report.py",
        "tests/test_impact.py",
        "buildspecs/pull_request.yml",
    ],
)
def test_files_no_job_reads_affect_nothing(project, changed):
    impact = impact_of(project, [changed])
    assert (impact.datasets, impact.shared, impact.test_support) == ({}, (), ())


@pytest.mark.parametrize("changed", ["tests/conftest.py", "pyproject.toml", "Makefile"])
def test_test_support_runs_every_test_and_affects_no_data(project, changed):
    impact = impact_of(project, [changed])
    assert impact.all_tests
    assert (impact.datasets, impact.shared) == ({}, ())


def test_the_sample_generator_affects_its_data_sets_tests_but_no_job(project):
    generator = project.datasets[DATASET].spec.sample_data.replace(".", "/") + ".py"
    entry = impact_of(project, [generator]).datasets[DATASET]
    assert entry.files == (generator,)
    assert entry.jobs == ()


def test_the_local_run_imports_are_found_statically():
    files = local_run_files(PROJECT_ROOT)
    assert {"dataops/__main__.py", "dataops/cli.py", "dataops/local_runner.py"} <= files
    assert {"dataops/job_graph.py", "dataops/config.py"} <= files  # through dataops.project
    assert "dataops/pii_gate.py" not in files


def test_a_removed_data_set_is_named_and_shares_nothing(project):
    impact = impact_of(
        project,
        [
            "glue_scripts/gone/dataset.yaml",
            "glue_scripts/gone/models/x.sql",
            "contracts/gone/x.yaml",
        ],
    )
    assert impact.removed == ("gone",)
    assert (impact.datasets, impact.shared) == ({}, ())


@pytest.fixture(scope="module")
def two_datasets(tmp_path_factory):
    """A copy of the project with a second data set."""
    root = copy_project(tmp_path_factory.mktemp("two-datasets"))
    assert cli.main(["new-dataset", OTHER, "--root", str(root)]) == 0
    return load_project(root)


def test_a_change_to_one_data_set_leaves_the_others_jobs_out(two_datasets):
    theirs = two_datasets.datasets[OTHER]
    model = f"glue_scripts/{OTHER}/{theirs.job_graph.jobs[-1].sql}"
    impact = impact_of(two_datasets, [model])
    assert list(impact.datasets) == [OTHER]
    assert impact.datasets[OTHER].jobs == (theirs.job_graph.jobs[-1].name,)
    assert list(impact_of(two_datasets, [MART_MODEL]).datasets) == [DATASET]


@pytest.mark.parametrize(
    ("test_file", "runs"),
    [("tests/test_end_to_end.py", False), ("tests/test_impact.py", True)],
)
def test_a_data_sets_tests_run_when_it_is_impacted_or_the_test_changed(
    two_datasets, test_file, runs
):
    impact = impact_of(two_datasets, [f"data_tests/{OTHER}/x.sql", "tests/test_impact.py"])
    assert impact.runs_tests_of(OTHER, test_file)
    assert impact.runs_tests_of(DATASET, test_file) is runs
    shared = impact_of(two_datasets, ["glue_scripts/jobkit/ledger.py"])
    assert shared.runs_tests_of(DATASET, "tests/test_end_to_end.py")


def test_the_json_reads_back(project):
    impact = impact_of(project, [MART_MODEL, "tests/conftest.py"])
    assert Impact.from_json(json.loads(json.dumps(impact.as_json()))) == impact


@pytest.fixture
def repo(tmp_path):
    return project_repo(tmp_path / "repo")


def test_cli_counts_committed_uncommitted_and_untracked_changes(repo, tmp_path, capsys):
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / MART_MODEL).write_text((repo / MART_MODEL).read_text() + "-- reviewed\n")
    commit(repo, "a mart change")
    contract = repo / f"contracts/{DATASET}/inter_model_flowlogs.yaml"
    contract.write_text(contract.read_text() + "\n")
    tests = repo / "data_tests" / DATASET
    shutil.copy(tests / "mart_grain_unique.sql", tests / "mart_grain_unique_again.sql")
    output = tmp_path / "impact.json"

    code = cli.main(["impact", "--base", base, "--root", str(repo), "--json", str(output)])

    document = json.loads(output.read_text())
    assert code == 0
    assert document["changed"] == [
        f"contracts/{DATASET}/inter_model_flowlogs.yaml",
        f"data_tests/{DATASET}/mart_grain_unique_again.sql",
        MART_MODEL,
    ]
    assert document["datasets"][DATASET]["jobs"] == ["intermediate", "mart"]
    assert "mart_grain_unique_again" in document["datasets"][DATASET]["data_tests"]
    assert f"{DATASET}: jobs intermediate, mart;" in capsys.readouterr().out


def test_cli_unknown_base_is_one_line_and_exit_2(repo, capsys):
    assert cli.main(["impact", "--base", "no-such-branch", "--root", str(repo)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --base: 'no-such-branch' is no commit of this clone; fix:")
