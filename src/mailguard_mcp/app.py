"""The MCP server's composition root is the library's: :mod:`mailguard_core.bootstrap`.

Kept so that ``from mailguard_mcp.app import open_app`` goes on working; new code imports
from ``mailguard_core.bootstrap``.
"""

from mailguard_core.bootstrap import MailguardApp, open_app, state_dir

__all__ = ["MailguardApp", "open_app", "state_dir"]
