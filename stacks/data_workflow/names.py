"""Construct ids and state names from declared names (``staging_raw_vpcflowlogs`` ->
``StagingRawVpcflowlogs``), so every generated id reads like the declaration it comes from."""

from __future__ import annotations


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.replace("-", "_").split("_"))
