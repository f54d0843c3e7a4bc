"""``[[accounts]]``: one mailbox, its rules, and the rules over the account names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import attrs

from mailguard_core.config.mail import ImapSettings, OAuthSettings, SmtpSettings
from mailguard_core.config.policy import (
    ConfirmSettings,
    FolderSettings,
    RateLimitSettings,
    SendSettings,
    ToolOverrides,
)
from mailguard_core.model.breaker import BreakerSettings
from mailguard_core.model.checks import (
    Problem,
    at_least_one,
    check,
    converting,
    each,
    expand,
    fail,
    raise_problems,
)
from mailguard_core.model.errors import ConfigError
from mailguard_core.model.oauth import client_secret_entry, refresh_token_entry
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.model.values import validate_account_name
from mailguard_core.ports.secrets import env_var_name

#: the secret-store entry that holds the audit log's HMAC key (not usable as an account name)
AUDIT_HMAC_ENTRY = "audit-hmac"


def _account_name(instance: object, attribute: object, name: str) -> None:
    check(validate_account_name)(instance, attribute, name)
    if name == AUDIT_HMAC_ENTRY:
        raise fail(f"{AUDIT_HMAC_ENTRY!r} is reserved")


def _address(address: str) -> str:
    from mailguard_core.model.compose import validate_address

    return converting(validate_address)(address)


def _display_name(_instance: object, _attribute: object, value: str) -> None:
    from mailguard_core.model.compose import validate_header_text

    check(lambda text: validate_header_text(text, field="display name"))(None, None, value)


def _domain(domain: str) -> str:
    from mailguard_core.model.compose import validate_domain

    return validate_domain(domain)


def _domains(domains: tuple[str, ...]) -> tuple[str, ...]:
    return each(_domain)(domains) if domains else ()


def _authserv_id(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and (not value or any(c.isspace() or not c.isprintable() for c in value)):
        raise fail("must be a host name without spaces")


def _brands(brands: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Brand names to registrable domains (IDNA-encoded); every bad name or domain named."""
    result: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for brand, domains in brands.items():
        if not brand.strip() or len(brand) > 64 or not brand.isprintable():
            problems.append((brand, "a brand name is 1-64 printable characters"))
            continue
        checked = []
        for index, domain in enumerate(domains):
            try:
                checked.append(converting(_domain)(domain))
            except ConfigError as exc:
                problems.append((f"{brand}[{index}]", exc.public_message))
        if not domains:
            problems.append((brand, "needs at least one domain"))
        result[brand] = tuple(checked)
    raise_problems(problems)
    return result


@attrs.frozen(kw_only=True)
class AccountConfig:
    name: str = attrs.field(validator=_account_name)
    address: str = attrs.field(converter=_address)
    display_name: str = attrs.field(default="", validator=_display_name)
    posture: Posture = Posture.DRAFT_SAFE
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    #: the OAuth2 provider, for servers with ``auth = "oauth2"``
    oauth: OAuthSettings | None = None
    #: a local Maildir instead of IMAP (read-mostly use, demo mailbox)
    maildir: str | None = attrs.field(default=None, converter=expand)
    tools: ToolOverrides = attrs.Factory(ToolOverrides)
    folders: FolderSettings = attrs.Factory(FolderSettings)
    limits: RateLimitSettings = attrs.Factory(RateLimitSettings)
    breaker: BreakerSettings = attrs.Factory(BreakerSettings)
    send: SendSettings = attrs.Factory(SendSettings)
    confirm: ConfirmSettings = attrs.Factory(ConfirmSettings)
    trusted_authserv_id: str | None = attrs.field(default=None, validator=_authserv_id)
    #: domains look-alike checks compare against, besides the account's own
    known_domains: tuple[str, ...] = attrs.field(default=(), converter=_domains)
    #: brands the phishing checks know besides the bundled table: name -> registrable domains
    brands: dict[str, tuple[str, ...]] = attrs.field(factory=dict, hash=False, converter=_brands)
    download_dir: str | None = attrs.field(default=None, converter=expand)
    max_body_chars: int = attrs.field(default=20_000, validator=at_least_one)
    max_message_bytes: int = attrs.field(default=25_000_000, validator=at_least_one)
    #: attachments larger than this are not read as text by ``read_attachment``
    max_attachment_bytes: int = attrs.field(default=10_000_000, validator=at_least_one)

    def __attrs_post_init__(self) -> None:
        raise_problems(self._oauth_problems())

    def _oauth_problems(self) -> Iterator[Problem]:
        if self.oauth is None and self.uses_oauth:
            yield "", "auth = 'oauth2' needs an [accounts.oauth] table (the provider)"
        elif self.oauth is not None and not self.uses_oauth:
            yield "oauth", "set, but neither [imap] nor [smtp] has auth = 'oauth2'"

    @property
    def domain(self) -> str:
        """The domain of the account's address (IDNA-encoded, lower case)."""
        return self.address.rpartition("@")[2].lower()

    @property
    def uses_oauth(self) -> bool:
        """True when the IMAP or the SMTP server is signed in to with OAuth2."""
        return any(s is not None and s.auth == "oauth2" for s in (self.imap, self.smtp))


def file_problems(account: AccountConfig) -> Iterator[Problem]:
    """What an account in a configuration *file* must also say: where its mail is, and an
    SMTP server when it may send. (An account built in code may leave both out and hand its
    store and sender to :func:`~mailguard_core.app.bootstrap.open_app`.)"""
    if account.imap is None and account.maildir is None:
        yield "", "set either [imap] or maildir"
    if account.imap is not None and account.maildir is not None:
        yield "", "set either [imap] or maildir, not both"
    if account.smtp is None and ToolName.SEND_EMAIL in effective_tools(account):
        yield (
            "",
            f"send_email is allowed (posture {account.posture.value!r} and tool overrides) "
            "but [smtp] is not set; add [smtp] or deny send_email",
        )


def effective_tools(account: AccountConfig) -> frozenset[ToolName]:
    """The tools the account's posture allows, after ``tools.allow``/``tools.deny``; the
    infrastructure tools are always included (:meth:`ToolOverrides.tools_for`, the gate's
    rule too)."""
    return account.tools.tools_for(account.posture)


def secret_name_problems(names: Iterable[str]) -> list[Problem]:
    """Account names whose secret-store entries would collide, as (key path, message).

    Each account has three entries: its password, ``ACCOUNT:oauth`` (refresh token) and
    ``ACCOUNT:oauth-client`` (client secret). Two entries collide when
    :func:`~mailguard_core.ports.secrets.env_var_name` maps them to
    one environment variable (``my-box``, ``my.box`` and ``MY_BOX`` all read
    ``MAILGUARD_MY_BOX_PASSWORD``): one account's password would be sent for the other, and
    an account mapped onto the audit key's entry (``audit_hmac``, ``AUDIT.HMAC``...) would
    send the audit HMAC key to a mail server as its password. Exact duplicates are reported
    as duplicate names (and ``audit-hmac`` itself as reserved) elsewhere and are skipped here.
    """
    problems: list[Problem] = []
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
                    (
                        f"accounts[{index}].name",
                        f"{name!r} and {owner[0]!r} ({owner[1]}) would "
                        f"share the secret {var} (names are compared upper-cased, with '-' and '.' "
                        "as '_'); rename one of them",
                    )
                )
                break  # one problem per account
    return problems
