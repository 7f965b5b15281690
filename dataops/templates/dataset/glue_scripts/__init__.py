"""The $name data set: its parser; its SQL models live under models/."""
