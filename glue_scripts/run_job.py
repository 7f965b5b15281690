"""The Glue entry point of every job of every data set: a parser or a SQL model, as its
arguments (written by the CDK app from the job graph) say. The logic is in ``jobkit``."""

from jobkit.glue_shell import run_glue_job

run_glue_job()
