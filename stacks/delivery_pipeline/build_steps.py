"""CodeBuild steps made from ``buildspecs/*.yml``: one place that wires image, cache and reports.

Each step runs one buildspec file as it is (its build commands are make targets), with the
pinned ARM image, the shared S3 cache, and a report group for each report the file declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

from stacks.tooling.build_settings import (
    SMALL,
    BuildSpecFile,
    ReportGroups,
    build_environment,
)


@dataclass(frozen=True)
class StepOptions:
    """What differs between steps; everything else is shared."""

    compute_type: codebuild.ComputeType = SMALL
    env: dict[str, str] = field(default_factory=dict)
    role: iam.IRole | None = None
    policy: Sequence[iam.PolicyStatement] = ()
    timeout: cdk.Duration | None = None
    primary_output_directory: str | None = None


class BuildSteps:
    """Makes the pipeline's CodeBuild steps; all read the source checkout."""

    def __init__(
        self,
        *,
        source: pipelines.IFileSetProducer,
        cache: codebuild.Cache,
        report_groups: ReportGroups,
    ) -> None:
        self._source = source
        self._cache = cache
        self._report_groups = report_groups

    def step(
        self, step_id: str, buildspec_name: str, options: StepOptions | None = None
    ) -> pipelines.CodeBuildStep:
        options = options or StepOptions()
        buildspec = BuildSpecFile.load(buildspec_name)
        groups = self._report_groups.for_buildspec(buildspec)
        policy = list(options.policy)
        if groups:
            policy.append(ReportGroups.write_statement(groups))
        return pipelines.CodeBuildStep(
            step_id,
            input=self._source,
            commands=[],
            partial_build_spec=codebuild.BuildSpec.from_object(
                buildspec.with_report_groups(groups)
            ),
            build_environment=build_environment(options.compute_type),
            cache=self._cache,
            env=options.env or None,
            role=options.role,
            role_policy_statements=policy or None,
            timeout=options.timeout,
            primary_output_directory=options.primary_output_directory,
        )
