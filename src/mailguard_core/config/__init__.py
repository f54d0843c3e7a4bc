"""Configuration: attrs classes structured from one TOML file by one cattrs converter.

The data model is below; :func:`parse_config` structures and validates a decoded TOML
document and :func:`load_config` finds, reads and parses the file. Every problem is reported
with its key path (``accounts[1].imap.port: must be 1-65535``) and all problems are reported
at once. ``docs/configuration.md`` documents every key.

Shape of the document::

    default_account = "work"        # optional
    [defaults]                      # optional: any account key except name/address,
    posture = "draft-safe"          #   deep-merged (table by table) into every account
    [[accounts]]
    name = "work"
    address = "me@example.com"
    [accounts.imap]
    host = "imap.example.com"
    username = "me@example.com"
    [audit]                         # optional
    path = "~/.local/state/mailguard/audit.jsonl"
"""

from mailguard_core.config.accounts import (
    AUDIT_HMAC_ENTRY,
    AccountConfig,
    effective_tools,
    secret_name_problems,
)
from mailguard_core.config.document import Config, ConfigValidationError
from mailguard_core.config.mail import (
    DEFAULT_TENANT,
    AuthMode,
    ImapSettings,
    OAuthSettings,
    ProviderName,
    SmtpSettings,
    TlsMode,
    normalize_pin,
    oauth_endpoints,
)
from mailguard_core.config.parse import config_path, load_config, parse_config
from mailguard_core.config.policy import (
    CONFIRMABLE_TOOLS,
    DEFAULT_CONFIRM_TOOLS,
    DEFAULT_TOOL_RATES,
    ConfirmSettings,
    FolderSettings,
    OnUnsupported,
    RateLimitSettings,
    SendSettings,
    ToolOverrides,
)
from mailguard_core.config.server import (
    AuditSettings,
    PrincipalSettings,
    ServerAuthSettings,
    ServerSettings,
    ServerStateSettings,
)
from mailguard_core.model.breaker import BreakerSettings

__all__ = [
    "AUDIT_HMAC_ENTRY",
    "CONFIRMABLE_TOOLS",
    "DEFAULT_CONFIRM_TOOLS",
    "DEFAULT_TENANT",
    "DEFAULT_TOOL_RATES",
    "AccountConfig",
    "AuditSettings",
    "AuthMode",
    "BreakerSettings",
    "Config",
    "ConfigValidationError",
    "ConfirmSettings",
    "FolderSettings",
    "ImapSettings",
    "OAuthSettings",
    "OnUnsupported",
    "PrincipalSettings",
    "ProviderName",
    "RateLimitSettings",
    "SendSettings",
    "ServerAuthSettings",
    "ServerSettings",
    "ServerStateSettings",
    "SmtpSettings",
    "TlsMode",
    "ToolOverrides",
    "config_path",
    "effective_tools",
    "load_config",
    "normalize_pin",
    "oauth_endpoints",
    "parse_config",
    "secret_name_problems",
]
