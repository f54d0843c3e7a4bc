"""The use cases: one service call per tool, drafts and sending, one face-independent tool call,
the tool descriptions, and what a human is shown before a confirmed call."""
