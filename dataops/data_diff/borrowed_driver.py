"""Run ``python -m dataops ARGS`` of another commit's code on a Spark driver already running.

``python -P borrowed_driver.py ARGS`` is how a data diff's base run starts: its own Python
process, with the base commit's code first on ``PYTHONPATH`` (sys.modules never mixes the two
commits' job code), on the JVM of the head's session, which PySpark's own
``PYSPARK_GATEWAY_PORT`` and ``PYSPARK_GATEWAY_SECRET`` name. A second JVM would start cold and
hold a second heap on the pull-request box, for the same Spark of the same venv.

The base's code sees a session of its own (``newSession``: its own settings and temporary
views over the shared driver), and its ``stop`` leaves the driver running for the head. This
file imports nothing of the project: run from the head's tree, its imports would resolve to
the base commit's modules.
"""

from __future__ import annotations

import os
import runpy
import sys


def borrow_driver() -> None:
    """Make the running driver this process's Spark: the session the base's code builds."""
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    gateway = launch_gateway()
    jvm = gateway.jvm
    driver = jvm.org.apache.spark.SparkContext.getOrCreate()
    # Python workers (if the base's code starts any) import the base's code too.
    context = SparkContext(
        gateway=gateway,
        jsc=jvm.org.apache.spark.api.java.JavaSparkContext(driver),
        environment={"PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )
    head = jvm.org.apache.spark.sql.SparkSession.getDefaultSession().get()
    SparkSession(context, jsparkSession=head.newSession())
    SparkContext.stop = lambda self: None  # type: ignore[method-assign]
    SparkSession.stop = lambda self: None  # type: ignore[method-assign]


if __name__ == "__main__":
    borrow_driver()
    sys.argv = ["dataops", *sys.argv[1:]]
    runpy.run_module("dataops", run_name="__main__", alter_sys=True)
