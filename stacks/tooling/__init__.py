"""Constructs of the tooling account shared by the delivery pipeline and the pull-request checks."""
