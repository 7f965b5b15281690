"""Stage conditions of CodePipeline V2: a failed environment stage rolls back.

CDK Pipelines builds the stages but offers no stage conditions, so they are set on the
synthesized pipeline once it is built. A stage fails when its deploy fails or when a step
after it fails (the integration test, the alarm watch); either way CodePipeline redeploys the
stage with the last execution that succeeded in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from aws_cdk import aws_codepipeline as codepipeline


def roll_back_on_failure(pipeline: codepipeline.Pipeline, stage_names: Iterable[str]) -> None:
    names = list(stage_names)
    stages = [stage.stage_name for stage in pipeline.stages]
    unknown = sorted(set(names) - set(stages))
    if unknown:
        raise ValueError(f"no pipeline stage(s) {unknown}; the pipeline has {stages}")
    cfn_pipeline = cast(codepipeline.CfnPipeline, pipeline.node.default_child)
    for name in names:
        cfn_pipeline.add_property_override(
            f"Stages.{stages.index(name)}.OnFailure", {"Result": "ROLLBACK"}
        )
