"""Configuration: attrs classes structured from one TOML file by one cattrs converter.

This module holds the data model. Loading, defaults merging and validation (issue 5) live
in ``load_config`` / ``parse_config`` below; every error names its key path.
"""

from __future__ import annotations

from typing import Literal

import attrs

from mailguard_core.tools import Posture

TlsMode = Literal["implicit", "starttls"]


@attrs.frozen(kw_only=True)
class ImapSettings:
    host: str
    username: str
    port: int = 993
    tls: TlsMode = "implicit"
    #: SHA-256 of the server's leaf certificate (hex, ':' separators allowed); only it is accepted
    pin_sha256: str | None = None
    #: extra CA file to trust (PEM), for self-hosted servers
    ca_file: str | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 30.0


@attrs.frozen(kw_only=True)
class SmtpSettings:
    host: str
    username: str
    port: int = 465
    tls: TlsMode = "implicit"
    ca_file: str | None = None
    timeout: float = 30.0


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
    tools: dict[str, str] = attrs.field(
        factory=lambda: {"create_draft": "5/min", "send_email": "3/min"}
    )


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


@attrs.frozen(kw_only=True)
class AccountConfig:
    name: str
    address: str
    display_name: str = ""
    posture: Posture = Posture.DRAFT_SAFE
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    #: a local Maildir instead of IMAP (read-mostly use, demo mailbox)
    maildir: str | None = None
    tools: ToolOverrides = ToolOverrides()
    folders: FolderSettings = FolderSettings()
    limits: RateLimitSettings = RateLimitSettings()
    breaker: BreakerSettings = BreakerSettings()
    send: SendSettings = SendSettings()
    trusted_authserv_id: str | None = None
    #: domains look-alike checks compare against, besides the account's own
    known_domains: tuple[str, ...] = ()
    download_dir: str | None = None
    max_body_chars: int = 20_000
    max_message_bytes: int = 25_000_000


@attrs.frozen(kw_only=True)
class AuditSettings:
    path: str | None = None
    #: HMAC-key the hash chain with a key from the secret store (entry ``audit-hmac``)
    hmac: bool = False
    rotate_bytes: int = 50_000_000
    fsync_tool_records: bool = False


@attrs.frozen(kw_only=True)
class Config:
    accounts: tuple[AccountConfig, ...]
    default_account: str | None = None
    audit: AuditSettings = AuditSettings()
