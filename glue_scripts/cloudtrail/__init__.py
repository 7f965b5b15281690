"""The AWS CloudTrail data set: the CloudTrail parser; its SQL models live under models/."""
