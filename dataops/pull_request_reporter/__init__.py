"""Lambda that reports a pull request's check build onto the CodeCommit pull request."""
