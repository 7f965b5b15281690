"""A local stand-in for AWS Glue's ``awsglue`` library, for the cloud rehearsal.

Only what the job entry scripts use: ``getResolvedOptions``, ``GlueContext`` with its
``spark_session`` and ``Job`` init/commit. The rehearsal puts this directory's parent on
``sys.path`` while it runs and takes it off again; nothing else imports it.
"""
