"""Tools behind the delivery pipeline and the data workflow, run as ``python -m dataops``."""
