"""config/environments.yaml: loading, and one clear line for every class of mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dataops.config import load_config
from dataops.declarations import DeclarationError
from dataops.project import PROJECT_ROOT

CONFIG_PATH = PROJECT_ROOT / "config" / "environments.yaml"
GITHUB_ARN = (
    "arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd1234-ab12-cd34-ef56-abcdef123456"
)


def _base() -> dict:
    return yaml.safe_load(CONFIG_PATH.read_text())


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "environments.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_shipped_config_loads_in_pipeline_order() -> None:
    config = load_config(CONFIG_PATH)
    assert [env.name for env in config.environments] == ["dev", "staging", "prod"]
    assert config.environment("prod").approval_before_deploy is True
    assert config.environment("dev").schedule is None
    assert all(len(env.account) == 12 for env in config.environments)


def test_unknown_environment_lookup_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid: dev, staging, prod"):
        load_config(CONFIG_PATH).environment("qa")


def test_github_source_with_connection_loads(tmp_path: Path) -> None:
    data = _base()
    data["source"] = {
        "provider": "github",
        "owner": "acme",
        "repository": "flowlogs",
        "branch": "main",
        "connection_arn": GITHUB_ARN,
    }
    assert load_config(_write(tmp_path, data)).source.owner == "acme"
    data["source"]["github_token_secret"] = "flowlogs-dataops/github-token"
    assert load_config(_write(tmp_path, data)).source.github_token_secret == (
        "flowlogs-dataops/github-token"
    )


def _drop_staging(data: dict) -> None:
    data["environments"] = [e for e in data["environments"] if e["name"] != "staging"]


def _short_account(data: dict) -> None:
    data["environments"][0]["account"] = "12345"


def _unknown_region(data: dict) -> None:
    data["environments"][1]["region"] = "eu-westt-1"


def _github_without_arn(data: dict) -> None:
    data["source"] = {"provider": "github", "owner": "acme", "repository": "r", "branch": "main"}


def _github_told_to_create_a_repository(data: dict) -> None:
    data["source"] = {
        "provider": "github",
        "owner": "acme",
        "repository": "r",
        "connection_arn": GITHUB_ARN,
        "create_repository": True,
    }


def _malformed_arn(data: dict) -> None:
    data["source"] = {
        "provider": "github",
        "owner": "acme",
        "repository": "r",
        "connection_arn": "arn:aws:codeconnections:eu-west-1:1111:connection/nope",
    }


def _token_secret_on_codecommit(data: dict) -> None:
    data["source"]["github_token_secret"] = "flowlogs/github-token"


def _token_secret_arn(data: dict) -> None:
    _github_told_to_create_a_repository(data)
    del data["source"]["create_repository"]
    data["source"]["github_token_secret"] = "arn:aws:secretsmanager:eu-west-1:1:secret:x"


def _typo_key(data: dict) -> None:
    data["environments"][0]["glue"]["wokers"] = 2


def _negative_workers(data: dict) -> None:
    data["environments"][2]["glue"]["workers"] = -1


def _bad_email(data: dict) -> None:
    data["notifications"]["emails"] = ["data-platform.example.com"]


def _duplicate_names(data: dict) -> None:
    data["environments"][1]["name"] = "dev"


def _bad_schedule(data: dict) -> None:
    data["environments"][1]["schedule"] = "every hour"


def _flex_on_large_workers(data: dict) -> None:
    data["environments"][0]["glue"]["worker_type"] = "G.4X"


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (_drop_staging, "environments", "missing environment(s): staging"),
        (_short_account, "environments[0].account", "not a 12-digit AWS account id"),
        (_unknown_region, "environments[1].region", "unknown region 'eu-westt-1'"),
        (_github_without_arn, "source", "needs 'connection_arn'"),
        (_malformed_arn, "source", "is not a CodeStar connection ARN"),
        (_github_told_to_create_a_repository, "source", "create_repository applies to codecommit"),
        (_token_secret_on_codecommit, "source", "github_token_secret applies to github only"),
        (_token_secret_arn, "source", "is not a Secrets Manager secret name"),
        (_typo_key, "environments[0].glue.wokers", "did you mean 'workers'?"),
        (_negative_workers, "environments[2].glue.workers", "greater than or equal to 2"),
        (_bad_email, "notifications.emails[0]", "is not an email address"),
        (_duplicate_names, "environments", "duplicate environment name(s): dev"),
        (_bad_schedule, "environments[1].schedule", "not an EventBridge schedule"),
        (_flex_on_large_workers, "environments[0].glue", "flex is not offered for G.4X"),
    ],
)
def test_bad_config_is_one_line_naming_file_key_and_fix(tmp_path: Path, mutate, key, words) -> None:
    data = _base()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(DeclarationError) as caught:
        load_config(path)
    line = next(line for line in caught.value.lines if words in line)
    assert line.startswith(f"{path}: {key}: ")
    assert "; fix: " in line
    assert "\n" not in line


def test_duplicate_yaml_key_is_rejected_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "environments.yaml"
    path.write_text(CONFIG_PATH.read_text().replace("project:", "project: a\nproject:", 1))
    with pytest.raises(DeclarationError, match="duplicate key 'project'"):
        load_config(path)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="file not found; fix: "):
        load_config(tmp_path / "nope.yaml")


def test_validate_config_cli_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    data = _base()
    _short_account(data)
    (tmp_path / "config").mkdir()
    _write(tmp_path / "config", data)
    for name in ("contracts", "glue_scripts"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    result = subprocess.run(
        [sys.executable, "-m", "dataops", "validate-config", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path}/config/environments.yaml: environments[0].account: '12345' is not "
        'a 12-digit AWS account id; fix: write the 12 digits in quotes, e.g. "123456789012"'
    ]
