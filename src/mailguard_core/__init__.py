"""mailguard_core: the sanitizer and policy services of mailguard, as a library.

The public API is exactly ``__all__``; everything else is private. See ``docs/``.
"""

from mailguard_core.domain import MessageRef
from mailguard_core.errors import MailguardError
from mailguard_core.gate import Clock, FakeClock, Gate, GateCall, MonotonicClock
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

__all__ = [
    "Clock",
    "FakeClock",
    "Gate",
    "GateCall",
    "InjectionDetector",
    "MailguardError",
    "MessageRef",
    "MimeLimits",
    "MonotonicClock",
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
]
