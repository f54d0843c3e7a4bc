"""mailguard_core: the sanitizer and policy services of mailguard, as a library.

The public API is exactly ``__all__``; everything else is private. See ``docs/``.
"""

from typing import TYPE_CHECKING, Any

from mailguard_core.config import AccountConfig, Config, load_config, parse_config
from mailguard_core.domain import MessageRef
from mailguard_core.errors import MailguardError
from mailguard_core.gate import Clock, FakeClock, Gate, GateCall, MonotonicClock
from mailguard_core.outgoing import DraftOutcome, OutgoingRequest, OutgoingService, SendOutcome

if TYPE_CHECKING:
    from mailguard_core.sanitize import (
        InjectionDetector,
        MimeLimits,
        RuleBasedDetector,
        SafeMessage,
        SanitizeOptions,
        SecurityWarning,
        render_text,
        safe_filename,
        sanitize_headers,
        sanitize_message,
        sanitize_text,
        sniff_content_type,
    )

_SANITIZE_NAMES = frozenset(
    {
        "InjectionDetector",
        "MimeLimits",
        "RuleBasedDetector",
        "SafeMessage",
        "SanitizeOptions",
        "SecurityWarning",
        "render_text",
        "safe_filename",
        "sanitize_headers",
        "sanitize_message",
        "sanitize_text",
        "sniff_content_type",
    }
)


def __getattr__(name: str) -> Any:
    """The sanitizer's names load on first use: importing it (lxml, nh3, tldextract, ...) is
    a large share of the MCP server's startup, which needs no sanitizer before the first call."""
    if name in _SANITIZE_NAMES:
        from mailguard_core import sanitize

        return getattr(sanitize, name)
    raise AttributeError(f"module 'mailguard_core' has no attribute {name!r}")


__all__ = [
    "AccountConfig",
    "Clock",
    "Config",
    "DraftOutcome",
    "FakeClock",
    "Gate",
    "GateCall",
    "InjectionDetector",
    "MailguardError",
    "MessageRef",
    "MimeLimits",
    "MonotonicClock",
    "OutgoingRequest",
    "OutgoingService",
    "RuleBasedDetector",
    "SafeMessage",
    "SanitizeOptions",
    "SecurityWarning",
    "SendOutcome",
    "load_config",
    "parse_config",
    "render_text",
    "safe_filename",
    "sanitize_headers",
    "sanitize_message",
    "sanitize_text",
    "sniff_content_type",
]
