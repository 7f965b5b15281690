"""Benchmarks of the project (``make bench`` / ``python -m bench``), never timed tests.

They measure, in one run on the machine at hand: synthesis of the whole CDK app against a bare
app, the full pull-request check (``make pull-request-check``), run-local on a million
generated records against the same transformation in DuckDB, and the incremental run after 1%
new files. The figures and the machine go to ``bench/results.md``.
"""
