"""The data workflow's job library: plain PySpark, shared by Glue entry points and tests."""
