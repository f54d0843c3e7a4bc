"""mailguard_core: the sanitizer and policy services of mailguard, as a library.

The public API is exactly ``__all__``; everything else is private. See ``docs/``.
"""

import importlib
from typing import TYPE_CHECKING, Any

from mailguard_core.config import AccountConfig, Config, load_config, parse_config
from mailguard_core.gate import Clock, FakeClock, GateCall, MonotonicClock
from mailguard_core.model.errors import (
    AuditError,
    BackendError,
    InputError,
    MailguardError,
    NotFound,
    PolicyViolation,
    RateLimited,
    ToolDenied,
)
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.model.values import MessageRef
from mailguard_core.services.dispatch import ToolGate as Gate

if TYPE_CHECKING:
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink
    from mailguard_core.app.mailbox import Envelope, Mailbox, open_mailbox
    from mailguard_core.sanitize import (
        AttachmentText,
        ExtractOptions,
        InjectionDetector,
        MimeLimits,
        RuleBasedDetector,
        SafeMessage,
        SanitizeOptions,
        SecurityWarning,
        extract_attachment_text,
        render_text,
        safe_filename,
        sanitize_headers,
        sanitize_message,
        sanitize_text,
        sniff_content_type,
    )
    from mailguard_core.services.outgoing import (
        DraftOutcome,
        OutgoingRequest,
        OutgoingService,
        SendOutcome,
    )
    from mailguard_core.services.tooldefs import TOOL_DEFS, ToolDef, listed_input_schema

#: names that load on first use, with their module: importing the sanitizer (lxml, nh3,
#: tldextract, ...) and message composition (the stdlib email package) is a large share of
#: the MCP server's startup, which needs neither before the first tool call
_LAZY_NAMES = {
    **dict.fromkeys(("Envelope", "Mailbox", "open_mailbox"), "mailguard_core.app.mailbox"),
    "InMemoryAuditSink": "mailguard_core.adapters.memory_audit",
    **dict.fromkeys(
        ("TOOL_DEFS", "ToolDef", "listed_input_schema"), "mailguard_core.services.tooldefs"
    ),
    **dict.fromkeys(
        ("DraftOutcome", "OutgoingRequest", "OutgoingService", "SendOutcome"),
        "mailguard_core.services.outgoing",
    ),
    **dict.fromkeys(
        (
            "AttachmentText",
            "ExtractOptions",
            "InjectionDetector",
            "MimeLimits",
            "RuleBasedDetector",
            "SafeMessage",
            "SanitizeOptions",
            "SecurityWarning",
            "extract_attachment_text",
            "render_text",
            "safe_filename",
            "sanitize_headers",
            "sanitize_message",
            "sanitize_text",
            "sniff_content_type",
        ),
        "mailguard_core.sanitize",
    ),
}


def __getattr__(name: str) -> Any:
    """Resolve a lazily loaded public name (see ``_LAZY_NAMES``)."""
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'mailguard_core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "TOOL_DEFS",
    "AccountConfig",
    "AttachmentText",
    "AuditError",
    "BackendError",
    "Clock",
    "Config",
    "DraftOutcome",
    "Envelope",
    "ExtractOptions",
    "FakeClock",
    "Gate",
    "GateCall",
    "InMemoryAuditSink",
    "InjectionDetector",
    "InputError",
    "Mailbox",
    "MailguardError",
    "MessageRef",
    "MimeLimits",
    "MonotonicClock",
    "NotFound",
    "OutgoingRequest",
    "OutgoingService",
    "PolicyViolation",
    "Posture",
    "RateLimited",
    "RuleBasedDetector",
    "SafeMessage",
    "SanitizeOptions",
    "SecurityWarning",
    "SendOutcome",
    "ToolDef",
    "ToolDenied",
    "ToolName",
    "extract_attachment_text",
    "listed_input_schema",
    "load_config",
    "open_mailbox",
    "parse_config",
    "render_text",
    "safe_filename",
    "sanitize_headers",
    "sanitize_message",
    "sanitize_text",
    "sniff_content_type",
]
