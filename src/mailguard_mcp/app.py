"""The MCP server's composition root is the library's: :mod:`mailguard_core.app.bootstrap`.

Kept so that ``from mailguard_mcp.app import ...`` goes on working (the default adapters also
under their former private names); new code imports from ``mailguard_core.app.bootstrap``.
"""

from mailguard_core.app.bootstrap import (
    MailguardApp,
    default_audit,
    default_secrets,
    default_sender,
    default_store,
    default_tokens,
    open_app,
    state_dir,
)

_default_audit = default_audit
_default_secrets = default_secrets
_default_sender = default_sender
_default_store = default_store
_default_tokens = default_tokens

__all__ = [
    "MailguardApp",
    "default_audit",
    "default_secrets",
    "default_sender",
    "default_store",
    "default_tokens",
    "open_app",
    "state_dir",
]
