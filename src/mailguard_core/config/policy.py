"""The per-account policy tables: tool overrides, folders, rate limits, the breaker, sending,
confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

#: per-tool rate limits that apply unless the configuration sets the same tool
DEFAULT_TOOL_RATES: Mapping[str, str] = {"create_draft": "5/min", "send_email": "3/min"}


@attrs.frozen(kw_only=True)
class ToolOverrides:
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class FolderSettings:
    #: protected in addition to INBOX and the server's special-use folders
    protected: tuple[str, ...] = ()
    #: the only folders ``expunge`` and ``delete_folder`` may act on
    expunge_allowed: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class RateLimitSettings:
    calls_per_second: float = 10.0
    burst: int = 20
    #: per-tool limits as "N/s", "N/min" or "N/h"
    tools: dict[str, str] = attrs.field(factory=lambda: dict(DEFAULT_TOOL_RATES))


@attrs.frozen(kw_only=True)
class BreakerSettings:
    failure_threshold: int = 5
    window_seconds: float = 30.0
    cooldown_seconds: float = 15.0
    max_cooldown_seconds: float = 300.0
    auth_cooldown_seconds: float = 60.0
    auth_max_cooldown_seconds: float = 600.0


@attrs.frozen(kw_only=True)
class SendSettings:
    max_recipients: int = 50
    max_subject_chars: int = 998
    max_body_bytes: int = 1_000_000
    #: exact addresses or bare domains; empty means no allowlist
    recipient_allowlist: tuple[str, ...] = ()


#: what happens to a confirmed call when the client cannot ask its user (no elicitation)
OnUnsupported = Literal["draft", "refuse"]

#: the tools a human can be asked to confirm (mailguard builds a summary for each)
CONFIRMABLE_TOOLS: tuple[str, ...] = (
    "send_email",
    "delete_message",
    "expunge",
    "move_message",
    "delete_folder",
    "rename_folder",
)

#: the tools that ask the human by default (issue 21)
DEFAULT_CONFIRM_TOOLS: tuple[str, ...] = (
    "send_email",
    "delete_message",
    "expunge",
    "delete_folder",
    "rename_folder",
)


@attrs.frozen(kw_only=True)
class ConfirmSettings:
    """``[accounts.confirm]``: tools the human confirms through MCP elicitation."""

    #: tool names; an empty list turns confirmation off for the account
    tools: tuple[str, ...] = DEFAULT_CONFIRM_TOOLS
    #: a client without elicitation: ``"draft"`` saves a send as a $PendingReview draft
    #: (every other confirmed tool is refused); ``"refuse"`` refuses every confirmed call
    on_unsupported: OnUnsupported = "draft"
    #: no answer within this many seconds is a decline
    timeout_seconds: float = 120.0
