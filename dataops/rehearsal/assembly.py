"""Finding an environment's data-workflow stack in a cloud assembly, synthesizing when stale.

The delivery pipeline's stages are nested assemblies (``cdk.out/assembly-DeliveryPipeline-Dev``
and so on), so the stack is found by its CloudFormation name wherever it is nested. Its assets
(Glue entry scripts, the job library zip) are read from the stack's asset manifest: the S3 URL a
template names maps to the file in the assembly that would be uploaded there.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataops.rehearsal import RehearsalError

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
ASSET_MANIFEST = "cdk:asset-manifest"
# Where CDK's environment placeholders appear in asset destinations.
PLACEHOLDERS = ("${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}")


@dataclass(frozen=True)
class StackArtifact:
    """A synthesized stack: its template, where it lives and the files of its assets."""

    name: str
    template: dict[str, Any]
    directory: Path
    account: str
    region: str
    assets: dict[str, Path]


def _manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def _stacks(directory: Path) -> Iterator[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """Every stack artifact of the assembly and its nested assemblies, with its siblings."""
    artifacts = _manifest(directory).get("artifacts", {})
    for artifact in artifacts.values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == NESTED_ASSEMBLY:
            yield from _stacks(directory / properties["directoryName"])
        elif artifact.get("type") == STACK_ARTIFACT:
            yield directory, artifact, artifacts


def _assets(
    directory: Path, artifact: dict[str, Any], siblings: dict[str, Any], account: str, region: str
) -> dict[str, Path]:
    """``s3://bucket/key`` -> local file, for every file asset of the stack."""
    values = dict(zip(PLACEHOLDERS, (account, region, "aws"), strict=True))
    assets: dict[str, Path] = {}
    for dependency in artifact.get("dependencies", []):
        manifest_artifact = siblings.get(dependency, {})
        if manifest_artifact.get("type") != ASSET_MANIFEST:
            continue
        path = directory / manifest_artifact["properties"]["file"]
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for entry in manifest.get("files", {}).values():
            source = (path.parent / entry["source"]["path"]).resolve()
            for destination in entry["destinations"].values():
                url = f"s3://{destination['bucketName']}/{destination['objectKey']}"
                for placeholder, value in values.items():
                    url = url.replace(placeholder, value)
                assets[url] = source
    return assets


def find_stack(cdk_out: Path, stack_name: str) -> StackArtifact:
    """The stack named ``stack_name`` anywhere in the assembly at ``cdk_out``."""
    if not (cdk_out / "manifest.json").is_file():
        raise RehearsalError(f"{cdk_out}: no cloud assembly; fix: run make synth")
    for directory, artifact, siblings in _stacks(cdk_out):
        properties = artifact.get("properties", {})
        if properties.get("stackName") != stack_name:
            continue
        account, region = artifact["environment"].removeprefix("aws://").split("/")
        return StackArtifact(
            name=stack_name,
            template=json.loads(
                (directory / properties["templateFile"]).read_text(encoding="utf-8")
            ),
            directory=directory,
            account=account,
            region=region,
            assets=_assets(directory, artifact, siblings, account, region),
        )
    raise RehearsalError(
        f"{cdk_out}: no stack named {stack_name}; fix: check the environment's name, then run "
        "make synth"
    )


def _excluded(relative: str, patterns: list[str]) -> bool:
    """cdk.json ``watch`` semantics: a pattern names a file or a directory and all below it."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        name = pattern.removeprefix("**/")
        for prefix in prefixes:
            last = prefix.rsplit("/", 1)[-1]
            if fnmatch.fnmatch(prefix, pattern) or (
                name != pattern and fnmatch.fnmatch(last, name)
            ):
                return True
    return False


def _inputs(root: Path, cdk_out: Path) -> list[Path]:
    """The app's inputs: files git tracks (or, outside a checkout, every file but the
    assembly's) that cdk.json's ``watch`` settings count as part of the app."""
    watch = json.loads((root / "cdk.json").read_text(encoding="utf-8")).get("watch", {})
    include, exclude = watch.get("include", ["**"]), watch.get("exclude", [])
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False
    )
    if listing.returncode == 0:
        relatives = [name for name in listing.stdout.split("\0") if name]
    else:
        relatives = [
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file()
            and not path.is_relative_to(cdk_out)
            and not any(part.startswith(".") for part in path.relative_to(root).parts)
        ]
    return [
        root / relative
        for relative in relatives
        if any(fnmatch.fnmatch(relative, pattern) for pattern in include)
        and not _excluded(relative, exclude)
    ]


def is_stale(root: Path, cdk_out: Path) -> bool:
    """No assembly, or an input of the app changed after it was written."""
    manifest = cdk_out / "manifest.json"
    if not manifest.is_file():
        return True
    written = manifest.stat().st_mtime
    inputs = _inputs(root.resolve(), cdk_out.resolve())
    return any(path.is_file() and path.stat().st_mtime > written for path in inputs)


def synthesize(root: Path, cdk_out: Path) -> None:
    """``cdk synth`` with the pinned CLI, as ``make synth`` runs it; one line when it fails."""
    cdk = root / "node_modules" / ".bin" / "cdk"
    if not cdk.is_file():
        raise RehearsalError(f"{cdk}: the CDK CLI is not installed; fix: run make setup")
    path = os.pathsep.join(
        [str(root / ".venv" / "bin"), str(cdk.parent), os.environ.get("PATH", "")]
    )
    result = subprocess.run(
        [str(cdk), "synth", "--quiet", "--output", str(cdk_out)],
        cwd=root,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if line.startswith("error:")), None)
        reason = (reason or (lines[-1] if lines else f"exit {result.returncode}")).removeprefix(
            "error: "
        )
        raise RehearsalError(f"cdk synth failed: {reason}; fix: run make synth and correct it")


def load_stack(root: Path, cdk_out: Path, stack_name: str) -> StackArtifact:
    """The stack from ``cdk_out``, synthesized first when the assembly is missing or stale."""
    if is_stale(root, cdk_out):
        print(f"rehearse: {cdk_out} is missing or stale; synthesizing", flush=True)
        synthesize(root, cdk_out)
    return find_stack(cdk_out, stack_name)
