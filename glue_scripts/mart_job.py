"""Glue entry point of the mart job; logic in vpcflow_jobs.mart, shared with local runs."""

from vpcflow_jobs import mart
from vpcflow_jobs.glue_shell import run_glue_job

run_glue_job(mart.run)
