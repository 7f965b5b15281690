"""The job framework every data set's jobs run on, in Glue and locally alike.

It owns what is the same for every job: reading a run's arguments, listing the raw objects not
yet processed, the incremental protocol between jobs, committing output so that a rerun of the
same batch is harmless, quarantine of unreadable objects, and the bookkeeping. A data set adds
only a parser (for its raw format) and SQL models.
"""
