"""Use cases that tools call: one service call per tool (issue 6)."""
