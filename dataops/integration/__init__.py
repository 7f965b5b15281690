"""The post-deploy integration run, one module a step (see ``dataops.integration_test``)."""
