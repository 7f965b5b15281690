"""The pull-request check's memory depends on ``--dist loadgroup`` really grouping tests."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("spark")


def test_grouped_tests_carry_their_group_under_loadgroup(request: pytest.FixtureRequest) -> None:
    """Without the group in the node id, xdist spreads Spark tests over every worker, and each
    worker starts a JVM of its own (pytest 9.2 with pytest-xdist 3.8 does that silently)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@spark")
