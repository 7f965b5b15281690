"""Parts of the pull-request checks stack: the GitHub source and the CodeCommit triggers."""
