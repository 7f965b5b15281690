"""Constructs of the data workflow stack, one module a concern."""
