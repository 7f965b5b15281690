"""The VPC flow-log data set: the flow-log parser; its SQL models live under models/."""
