"""Glue entry point of the staging job; logic in vpcflow_jobs.staging, shared with local runs."""

from vpcflow_jobs import staging
from vpcflow_jobs.glue_shell import run_glue_job

run_glue_job(staging.run)
