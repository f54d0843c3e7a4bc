"""Building outgoing messages with the stdlib ``email`` API (issue 5)."""
