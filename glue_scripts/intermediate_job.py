"""Glue entry point of the intermediate job (placeholder until the job library lands)."""
