"""What the ``mailguard-mcp`` commands reach besides a mailbox, provided by the composition
root so that the face imports no adapter (pyproject's import-linter contract): the TLS probes
of ``init`` and the dry run, the OAuth sign-in of ``login``, the audit log's verifier of
``audit``, and token introspection for ``serve --http``.

The commands import this module inside the functions that need it, so a server's startup
does not load it (the demo's outbox sender and the dry run's audit sink are
:mod:`~mailguard_core.app.bootstrap`'s, which imports adapters lazily).
"""

from __future__ import annotations

from mailguard_core.adapters.jsonl_audit import log_files, verify_log
from mailguard_core.adapters.oauth_login import authorization_code_login, device_login
from mailguard_core.adapters.tls_probe import (
    DEFAULT_PORTS,
    presented_certificate,
    probe_ports,
    verify_certificate,
)
from mailguard_core.adapters.token_introspection import IntrospectionRefused, introspect

__all__ = [
    "DEFAULT_PORTS",
    "IntrospectionRefused",
    "authorization_code_login",
    "device_login",
    "introspect",
    "log_files",
    "presented_certificate",
    "probe_ports",
    "verify_certificate",
    "verify_log",
]
