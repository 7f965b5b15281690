"""Glue entry point of the mart job (placeholder until the job library lands)."""
