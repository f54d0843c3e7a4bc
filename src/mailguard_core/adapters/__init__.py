"""Concrete adapters for the ports: real ones (IMAP, SMTP, keyring, JSONL) and in-memory fakes."""
