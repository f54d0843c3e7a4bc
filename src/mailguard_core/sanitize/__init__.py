"""The content sanitizer: raw RFC 822 bytes in, a :class:`SafeMessage` envelope out.

See ``docs/sanitizer.md`` for what each stage does and why.
"""

from mailguard_core.ports.detector import InjectionDetector
from mailguard_core.sanitize.api import sanitize_headers, sanitize_message
from mailguard_core.sanitize.attachment import (
    AttachmentText,
    ExtractOptions,
    extract_attachment_text,
)
from mailguard_core.sanitize.envelope import MimeLimits, SafeMessage, SanitizeOptions
from mailguard_core.sanitize.files import safe_filename, sniff_content_type
from mailguard_core.sanitize.injection import RuleBasedDetector
from mailguard_core.sanitize.render import render_text
from mailguard_core.sanitize.text import sanitize_text
from mailguard_core.sanitize.warnings import SecurityWarning

__all__ = [
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
]
