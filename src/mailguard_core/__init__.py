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

#: where the public names not imported above live, cheapest first. They load on first use:
#: the sanitizer (lxml, nh3, publicsuffixlist, ...) and message composition (the stdlib email
#: package) are a large share of the MCP server's startup, which needs neither before the
#: first tool call. Which names are public is ``__all__`` alone (checked against
#: docs/library.md); each resolves to its module's own object.
_DEFERRED_MODULES = (
    "mailguard_core.adapters.memory_audit",
    "mailguard_core.services.tooldefs",
    "mailguard_core.services.outgoing",
    "mailguard_core.app.mailbox",
    "mailguard_core.sanitize",
)


_MISSING = object()


def __getattr__(name: str) -> Any:
    """A public name of :data:`_DEFERRED_MODULES`, imported on first use."""
    if name in __all__:
        for module_name in _DEFERRED_MODULES:
            module = importlib.import_module(module_name)
            value = vars(module).get(name, _MISSING)
            # the module's own name (listed in its __all__, or defined there), never one it
            # merely imports under the same spelling
            own = name in getattr(module, "__all__", ()) or (
                getattr(value, "__module__", module_name) == module_name
            )
            if value is not _MISSING and own:
                globals()[name] = value
                return value
    raise AttributeError(f"module 'mailguard_core' has no attribute {name!r}")


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
