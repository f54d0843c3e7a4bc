"""Ports: the Protocols the core depends on. Adapters live in ``mailguard_core.adapters``."""

from mailguard_core.ports.audit import AuditSink
from mailguard_core.ports.mail_store import MailStore
from mailguard_core.ports.secrets import Secret, SecretStore
from mailguard_core.ports.sender import Sender
from mailguard_core.ports.tokens import TokenProvider

__all__ = ["AuditSink", "MailStore", "Secret", "SecretStore", "Sender", "TokenProvider"]
