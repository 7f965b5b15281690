"""Glue entry point of the intermediate job; logic in vpcflow_jobs.intermediate."""

from vpcflow_jobs import intermediate
from vpcflow_jobs.glue_shell import run_glue_job

run_glue_job(intermediate.run)
