"""Glue entry point of the staging job (placeholder until the job library lands)."""
