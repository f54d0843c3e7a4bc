"""``[[accounts]]``: one mailbox, and the rules over the account names."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from mailguard_core.config.mail import ImapSettings, OAuthSettings, SmtpSettings
from mailguard_core.config.policy import (
    BreakerSettings,
    ConfirmSettings,
    FolderSettings,
    RateLimitSettings,
    SendSettings,
    ToolOverrides,
)
from mailguard_core.config.policy_rules import (
    known_tools,
    tool_set,
)
from mailguard_core.model.oauth import client_secret_entry, refresh_token_entry
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.ports.secrets import env_var_name

#: the secret-store entry that holds the audit log's HMAC key (not usable as an account name)
AUDIT_HMAC_ENTRY = "audit-hmac"


@attrs.frozen(kw_only=True)
class AccountConfig:
    name: str
    address: str
    display_name: str = ""
    posture: Posture = Posture.DRAFT_SAFE
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    #: the OAuth2 provider, for servers with ``auth = "oauth2"``
    oauth: OAuthSettings | None = None
    #: a local Maildir instead of IMAP (read-mostly use, demo mailbox)
    maildir: str | None = None
    tools: ToolOverrides = attrs.Factory(ToolOverrides)
    folders: FolderSettings = attrs.Factory(FolderSettings)
    limits: RateLimitSettings = attrs.Factory(RateLimitSettings)
    breaker: BreakerSettings = attrs.Factory(BreakerSettings)
    send: SendSettings = attrs.Factory(SendSettings)
    confirm: ConfirmSettings = attrs.Factory(ConfirmSettings)
    trusted_authserv_id: str | None = None
    #: domains look-alike checks compare against, besides the account's own
    known_domains: tuple[str, ...] = ()
    #: brands the phishing checks know besides the bundled table: name -> registrable domains
    brands: dict[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False)
    download_dir: str | None = None
    max_body_chars: int = 20_000
    max_message_bytes: int = 25_000_000
    #: attachments larger than this are not read as text by ``read_attachment``
    max_attachment_bytes: int = 10_000_000

    @property
    def domain(self) -> str:
        """The domain of the account's address (IDNA-encoded, lower case)."""
        return self.address.rpartition("@")[2].lower()

    @property
    def uses_oauth(self) -> bool:
        """True when the IMAP or the SMTP server is signed in to with OAuth2."""
        return any(s is not None and s.auth == "oauth2" for s in (self.imap, self.smtp))


# --- helpers other modules use -------------------------------------------------------------


def effective_tools(account: AccountConfig) -> frozenset[ToolName]:
    """The tools the account's posture allows, after ``tools.allow``/``tools.deny``.

    Unknown names in the overrides are ignored here (validation refuses them); the
    infrastructure tools are always included. The same rule as the gate's
    (:func:`mailguard_core.config.policy_rules.tool_set`).
    """
    return tool_set(
        account.posture, known_tools(account.tools.allow), known_tools(account.tools.deny)
    )


def secret_name_problems(names: Iterable[str]) -> list[str]:
    """Account names whose secret-store entries would collide, as ``"key.path: message"``.

    Each account has three entries: its password, ``ACCOUNT:oauth`` (refresh token) and
    ``ACCOUNT:oauth-client`` (client secret). Two entries collide when
    :func:`~mailguard_core.ports.secrets.env_var_name` maps them to
    one environment variable (``my-box``, ``my.box`` and ``MY_BOX`` all read
    ``MAILGUARD_MY_BOX_PASSWORD``): one account's password would be sent for the other, and
    an account mapped onto the audit key's entry (``audit_hmac``, ``AUDIT.HMAC``...) would
    send the audit HMAC key to a mail server as its password. Exact duplicates are reported
    as duplicate names (and ``audit-hmac`` itself as reserved) elsewhere and are skipped here.
    """
    problems: list[str] = []
    owners: dict[str, tuple[str, str]] = {
        env_var_name(AUDIT_HMAC_ENTRY): (AUDIT_HMAC_ENTRY, "the audit HMAC key's entry")
    }
    for index, name in enumerate(names):
        # the password and the OAuth entries (refresh token, client secret) of each account
        for entry in (name, refresh_token_entry(name), client_secret_entry(name)):
            var = env_var_name(entry)
            owner = owners.get(var)
            if owner is None:
                owners[var] = (name, f"accounts[{index}]")
            elif owner[0] != name:
                problems.append(
                    f"accounts[{index}].name: {name!r} and {owner[0]!r} ({owner[1]}) would "
                    f"share the secret {var} (names are compared upper-cased, with '-' and '.' "
                    "as '_'); rename one of them"
                )
                break  # one problem per account
    return problems
