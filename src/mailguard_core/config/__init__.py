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

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError

from mailguard_core.config.policy_rules import (
    Problem,
    breaker_problems,
    folder_list_problems,
    known_tools,
    override_problems,
    rate_limit_problems,
    tool_set,
)
from mailguard_core.model.compose import validate_address, validate_domain, validate_header_text
from mailguard_core.model.errors import ConfigError, MailguardError
from mailguard_core.model.oauth import PRESETS, Endpoints, client_secret_entry, refresh_token_entry
from mailguard_core.model.tools import Posture, ToolName, parse_tool_name
from mailguard_core.model.values import validate_account_name
from mailguard_core.ports.secrets import env_var_name
from mailguard_core.system.paths import config_dir

TlsMode = Literal["implicit", "starttls"]
#: how mailguard signs in to a server: a stored password, or an OAuth2 bearer token
AuthMode = Literal["password", "oauth2"]
ProviderName = Literal["microsoft", "google", "custom"]

#: the secret-store entry that holds the audit log's HMAC key (not usable as an account name)
AUDIT_HMAC_ENTRY = "audit-hmac"
#: per-tool rate limits that apply unless the configuration sets the same tool
DEFAULT_TOOL_RATES: Mapping[str, str] = {"create_draft": "5/min", "send_email": "3/min"}
#: the Microsoft tenant when ``[accounts.oauth] tenant`` is not set (work, school and
#: personal accounts)
DEFAULT_TENANT = "common"


@attrs.frozen(kw_only=True)
class ImapSettings:
    host: str
    username: str
    port: int = 993
    tls: TlsMode = "implicit"
    #: SHA-256 of the server's leaf certificate; after loading: 64 lowercase hex digits
    #: without separators (the file may use upper case and ':' separators)
    pin_sha256: str | None = None
    #: extra CA file to trust (PEM), for self-hosted servers
    ca_file: str | None = None
    connect_timeout: float = 10.0
    command_timeout: float = 30.0
    auth: AuthMode = "password"


@attrs.frozen(kw_only=True)
class SmtpSettings:
    host: str
    username: str
    port: int = 465
    tls: TlsMode = "implicit"
    #: as ``ImapSettings.pin_sha256``: with it, only that certificate is accepted
    pin_sha256: str | None = None
    ca_file: str | None = None
    timeout: float = 30.0
    auth: AuthMode = "password"


@attrs.frozen(kw_only=True)
class OAuthSettings:
    """``[accounts.oauth]``: the OAuth2 provider and the user's own app registration."""

    provider: ProviderName
    client_id: str
    #: Microsoft only: the directory (tenant) id or "common" / "organizations" / "consumers"
    tenant: str | None = None
    #: custom only (the presets carry their own)
    authorization_url: str | None = None
    token_url: str | None = None
    device_authorization_url: str | None = None
    scopes: tuple[str, ...] = ()


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
    tools: ToolOverrides = ToolOverrides()
    folders: FolderSettings = FolderSettings()
    limits: RateLimitSettings = RateLimitSettings()
    breaker: BreakerSettings = BreakerSettings()
    send: SendSettings = SendSettings()
    confirm: ConfirmSettings = ConfirmSettings()
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


@attrs.frozen(kw_only=True)
class AuditSettings:
    path: str | None = None
    #: HMAC-key the hash chain with a key from the secret store (entry ``audit-hmac``)
    hmac: bool = False
    rotate_bytes: int = 50_000_000
    fsync_tool_records: bool = False


@attrs.frozen(kw_only=True)
class ServerAuthSettings:
    """``[server.auth]``: mailguard as an OAuth 2.1 resource server (signed JWT access tokens,
    or opaque ones checked by RFC 7662 introspection)."""

    issuer: str
    #: the server's own URL as tokens name it in ``aud`` (RFC 8707 resource indicator)
    audience: str
    jwks_url: str | None = None
    jwks_file: str | None = None
    #: RFC 7662 endpoint for opaque tokens (instead of a JWKS)
    introspection_url: str | None = None
    #: the client mailguard authenticates as at ``introspection_url``
    client_id: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256", "PS256", "EdDSA")
    required_scopes: tuple[str, ...] = ()
    leeway_seconds: int = 30


@attrs.frozen(kw_only=True)
class PrincipalSettings:
    """``[[server.principals]]``: who (a token subject, or a claim value) may use which
    accounts, with an optional lower posture ceiling."""

    name: str
    accounts: tuple[str, ...]
    subject: str | None = None
    claim: str | None = None
    value: str | None = None
    posture: Posture | None = None


@attrs.frozen(kw_only=True)
class ServerStateSettings:
    """``[server.state]``: where the gate keeps token buckets and circuit breakers."""

    #: ``redis://`` or ``rediss://``: shared by every replica; none: this process's memory
    redis_url: str | None = None
    key_prefix: str = "mailguard:"
    #: this replica's name: the audit file becomes ``<stem>-<replica>.jsonl``
    replica: str | None = None


@attrs.frozen(kw_only=True)
class ServerSettings:
    """``[server]``: how ``mailguard-mcp serve`` is reached (stdio, or streamable HTTP)."""

    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    #: the URL clients use (behind a proxy); default ``http://host:port``
    public_url: str | None = None
    #: extra allowed ``Origin`` values (browser hosts); loopback origins are always allowed
    allowed_origins: tuple[str, ...] = ()
    #: extra allowed ``Host`` header values (the proxy's name); loopback is always allowed
    allowed_hosts: tuple[str, ...] = ()
    max_sessions: int = 100
    max_concurrent_calls: int = 32
    max_request_bytes: int = 1_000_000
    session_idle_seconds: float = 1800.0
    shutdown_grace_seconds: float = 30.0
    auth: ServerAuthSettings | None = None
    principals: tuple[PrincipalSettings, ...] = ()
    state: ServerStateSettings = ServerStateSettings()


@attrs.frozen(kw_only=True)
class Config:
    accounts: tuple[AccountConfig, ...]
    default_account: str | None = None
    audit: AuditSettings = AuditSettings()
    server: ServerSettings = ServerSettings()

    def account(self, name: str) -> AccountConfig:
        """The account called exactly ``name``.

        Raises:
            ConfigError: no such account.
        """
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no account named {name!r}", public="no such account")

    @property
    def default(self) -> AccountConfig:
        """``default_account`` if set, else the first account."""
        if self.default_account is not None:
            return self.account(self.default_account)
        return self.accounts[0]


class ConfigValidationError(ConfigError):
    """The configuration has problems; ``problems`` lists each as ``"key.path: message"``."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        listing = "\n  ".join(self.problems)
        where = f" in {source}" if source else ""
        super().__init__(
            f"invalid configuration{where}:\n  {listing}",
            public=f"invalid configuration:\n  {listing}",
        )


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


def normalize_pin(pin: str) -> str:
    """``pin`` as 64 lowercase hex digits; ':' separators are dropped.

    Raises:
        ConfigError: not a SHA-256 fingerprint.
    """
    digits = pin.replace(":", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise ConfigError(
            "bad certificate pin", public="must be a SHA-256 fingerprint: 64 hex digits"
        )
    return digits


def oauth_endpoints(oauth: OAuthSettings) -> Endpoints:
    """The endpoints and scopes of ``oauth``: the provider's preset, or the custom keys.

    Raises:
        ConfigError: a custom provider without its URLs or scopes (validation refuses it).
    """
    preset = PRESETS.get(oauth.provider)
    if preset is not None:
        return preset.endpoints(oauth.tenant or DEFAULT_TENANT)
    if not (oauth.authorization_url and oauth.token_url and oauth.scopes):
        raise ConfigError(
            "custom OAuth provider without URLs or scopes",
            public="provider 'custom' needs authorization_url, token_url and scopes",
        )
    return Endpoints(
        authorization_url=oauth.authorization_url,
        token_url=oauth.token_url,
        device_authorization_url=oauth.device_authorization_url,
        scopes=oauth.scopes,
    )


# --- structuring ---------------------------------------------------------------------------


class _Invalid(ValueError):
    """A type or value problem whose text is the user-facing message."""


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a {type(value).__name__}"


def _structure_str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid(f"expected a string, got {_kind(value)}")


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Invalid(f"expected an integer, got {_kind(value)}")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _Invalid("must be a finite number (not inf or nan)")
        return float(value)
    raise _Invalid(f"expected a number, got {_kind(value)}")


def _structure_bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid(f"expected true or false, got {_kind(value)}")


def _structure_str_tuple(value: object, _: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _Invalid(f"expected an array of strings, got {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _Invalid(f"item {index}: expected a string, got {_kind(item)}")
    return tuple(value)


def _structure_str_dict(value: object, _: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a table, got {_kind(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise _Invalid(f"{key}: expected a string, got {_kind(item)}")
    return dict(value)


def _structure_brands(value: object, _: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a table, got {_kind(value)}")
    return {str(key): _structure_str_tuple(item, None) for key, item in value.items()}


def _structure_tls(value: object, _: object) -> str:
    if isinstance(value, str) and value in get_args(TlsMode):
        return value
    raise _Invalid("must be 'implicit' or 'starttls'")


def _literal_hook(kind: Any) -> Callable[[object, object], str]:
    choices = get_args(kind)

    def structure(value: object, _: object) -> str:
        if isinstance(value, str) and value in choices:
            return value
        raise _Invalid("must be one of: " + ", ".join(repr(c) for c in choices))

    return structure


def _structure_posture(value: object, _: object) -> Posture:
    if isinstance(value, str) and value in {p.value for p in Posture}:
        return Posture(value)
    raise _Invalid("must be one of: " + ", ".join(repr(p.value) for p in Posture))


_T = TypeVar("_T")


def _table_first(
    hook: Callable[[Any, Any], _T],
) -> Callable[[object, object], _T]:
    def structure(value: object, type_: object) -> _T:
        if not isinstance(value, Mapping):
            raise _Invalid(f"expected a table, got {_kind(value)}")
        return hook(value, type_)

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook_func(lambda t: t == tuple[str, ...], _structure_str_tuple)
    converter.register_structure_hook_func(lambda t: t == dict[str, str], _structure_str_dict)
    converter.register_structure_hook_func(
        lambda t: t == dict[str, tuple[str, ...]], _structure_brands
    )
    converter.register_structure_hook_func(lambda t: t == TlsMode, _structure_tls)
    converter.register_structure_hook_func(lambda t: t == AuthMode, _literal_hook(AuthMode))
    converter.register_structure_hook_func(lambda t: t == ProviderName, _literal_hook(ProviderName))
    converter.register_structure_hook_func(
        lambda t: t == OnUnsupported, _literal_hook(OnUnsupported)
    )
    converter.register_structure_hook(Posture, _structure_posture)
    for cls in (
        ImapSettings,
        SmtpSettings,
        OAuthSettings,
        ToolOverrides,
        FolderSettings,
        RateLimitSettings,
        BreakerSettings,
        SendSettings,
        ConfirmSettings,
        AccountConfig,
        AuditSettings,
        ServerAuthSettings,
        PrincipalSettings,
        ServerStateSettings,
        ServerSettings,
    ):
        converter.register_structure_hook(cls, _table_first(converter.get_structure_hook(cls)))
    return converter


#: the one converter for the configuration
CONVERTER = _make_converter()


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, _Invalid):
        return str(exc)
    if isinstance(exc, ForbiddenExtraKeysError):
        known = [f.name for f in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        return "unknown key(s): " + ", ".join(
            _with_suggestion(key, known) for key in sorted(exc.extra_fields)
        )
    if isinstance(exc, KeyError):
        return "required key missing"
    return cattrs.v.format_exception(exc, type_)


def _problems_from(exc: BaseException) -> list[str]:
    problems = []
    for line in cattrs.transform_error(exc, path="$", format_exception=_format_exception):
        message, _, path = line.rpartition(" @ ")
        path = path.removeprefix("$").removeprefix(".")
        problems.append(f"{path or '(top level)'}: {message}")
    return problems


# --- merging defaults ----------------------------------------------------------------------

_PER_ACCOUNT_ONLY = ("name", "address")
#: tables that [defaults] fills in only for accounts that have the table themselves
_OPTIONAL_TABLES = ("imap", "smtp")


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_account(base: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
    applicable = {
        k: v for k, v in base.items() if k not in (*_OPTIONAL_TABLES, "oauth") or k in account
    }
    merged = _deep_merge(applicable, account)
    # [defaults.oauth] fills in accounts that sign in with OAuth2 (or have their own table)
    if "oauth" in base and "oauth" not in merged and _wants_oauth(merged):
        merged["oauth"] = base["oauth"]
    return merged


def _wants_oauth(account: Mapping[str, Any]) -> bool:
    return any(
        isinstance(account.get(k), Mapping) and account[k].get("auth") == "oauth2"
        for k in _OPTIONAL_TABLES
    )


def _apply_preset(account: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``host``/``port``/``tls`` of ``[imap]``/``[smtp]`` from the OAuth provider's
    preset where the account leaves them out (keys it sets win)."""
    result = dict(account)
    oauth = account.get("oauth")
    provider = oauth.get("provider") if isinstance(oauth, Mapping) else None
    preset = PRESETS.get(provider) if isinstance(provider, str) else None
    if preset is None:
        return result
    for key, server in (("imap", preset.imap), ("smtp", preset.smtp)):
        table = result.get(key)
        if isinstance(table, Mapping):
            filled = {"host": server.host, "port": server.port, "tls": server.tls}
            if "port" in table or "tls" in table:  # a deliberate choice: keep the pair apart
                filled = {"host": server.host}
            result[key] = {**filled, **table}
    return result


def _attrs_class(type_: Any) -> type | None:
    """The attrs class in ``type_`` (``X`` or ``X | None``), else None."""
    candidates = get_args(type_) or (type_,)
    for candidate in candidates:
        if isinstance(candidate, type) and attrs.has(candidate):
            return candidate
    return None


def _with_suggestion(key: str, known: Iterable[str]) -> str:
    """``key``, with ``(did you mean 'x'?)`` when a known key is close to it."""
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f"{key} (did you mean {close[0]!r}?)" if close else key


def _unknown_keys(data: Mapping[str, Any], cls: type, path: str) -> list[str]:
    fields = {f.name: f for f in attrs.fields(cls)}
    problems = []
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            problems.append(f"{path}: unknown key(s): {_with_suggestion(key, fields)}")
            continue
        nested = _attrs_class(field.type)
        if nested is not None and isinstance(value, Mapping):
            problems.extend(_unknown_keys(value, nested, f"{path}.{key}"))
    return problems


def _check_defaults(defaults: object) -> tuple[dict[str, Any], list[str]]:
    if not isinstance(defaults, Mapping):
        return {}, [f"defaults: expected a table, got {_kind(defaults)}"]
    problems = [
        f"defaults.{key}: must be set in each account, not in [defaults]"
        for key in _PER_ACCOUNT_ONLY
        if key in defaults
    ]
    usable = {k: v for k, v in defaults.items() if k not in _PER_ACCOUNT_ONLY}
    problems.extend(_unknown_keys(usable, AccountConfig, "defaults"))
    if problems:
        return {}, problems
    return usable, []


# --- validation ----------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")

    def extend(self, path: str, problems: Iterable[Problem]) -> None:
        """Add shared-rule problems, each under ``path`` plus its sub-path."""
        for sub_path, message in problems:
            self.add(f"{path}.{sub_path}" if sub_path else path, message)

    def check(self, path: str, func: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Run ``func``; a MailguardError it raises becomes a problem at ``path``."""
        try:
            func(*args, **kwargs)
        except MailguardError as exc:
            self.add(path, exc.public_message)


def _positive(problems: _Problems, path: str, value: float, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        problems.add(path, "must be greater than 0" if not allow_zero else "must not be negative")


def _check_port(problems: _Problems, path: str, port: int) -> None:
    if not 1 <= port <= 65535:
        problems.add(path, "must be 1-65535")


def _check_host(problems: _Problems, path: str, host: str) -> None:
    if not host or any(c.isspace() or not c.isprintable() or c in "/@" for c in host):
        problems.add(path, "must be a host name or IP address")


def _expand(path: str | None) -> str | None:
    return None if path is None else os.path.expanduser(path)


def _check_sasl_username(problems: _Problems, path: str, username: str, auth: str) -> None:
    """With OAuth2 the username goes into a SASL message whose fields are separated by
    control characters (XOAUTH2 has no escaping): none may be in it."""
    if auth == "oauth2" and any(not c.isprintable() for c in username):
        problems.add(path, "must not contain control characters (OAuth2 sign-in)")


def _validate_imap(problems: _Problems, path: str, imap: ImapSettings) -> ImapSettings:
    _check_host(problems, f"{path}.host", imap.host)
    _check_port(problems, f"{path}.port", imap.port)
    if not imap.username:
        problems.add(f"{path}.username", "must not be empty")
    _check_sasl_username(problems, f"{path}.username", imap.username, imap.auth)
    _positive(problems, f"{path}.connect_timeout", imap.connect_timeout)
    _positive(problems, f"{path}.command_timeout", imap.command_timeout)
    pin = imap.pin_sha256
    if pin is not None:
        try:
            pin = normalize_pin(pin)
        except ConfigError as exc:
            problems.add(f"{path}.pin_sha256", exc.public_message)
    return attrs.evolve(imap, pin_sha256=pin, ca_file=_expand(imap.ca_file))


def _validate_smtp(problems: _Problems, path: str, smtp: SmtpSettings) -> SmtpSettings:
    _check_host(problems, f"{path}.host", smtp.host)
    _check_port(problems, f"{path}.port", smtp.port)
    if not smtp.username:
        problems.add(f"{path}.username", "must not be empty")
    _check_sasl_username(problems, f"{path}.username", smtp.username, smtp.auth)
    _positive(problems, f"{path}.timeout", smtp.timeout)
    pin = smtp.pin_sha256
    if pin is not None:
        try:
            pin = normalize_pin(pin)
        except ConfigError as exc:
            problems.add(f"{path}.pin_sha256", exc.public_message)
    return attrs.evolve(smtp, pin_sha256=pin, ca_file=_expand(smtp.ca_file))


_TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def _check_token_text(problems: _Problems, path: str, value: str, what: str) -> None:
    if not value or any(c not in _TOKEN_CHARS for c in value):
        problems.add(path, f"must be a non-empty {what} (printable ASCII, no spaces)")


def _check_url(problems: _Problems, path: str, url: str | None) -> None:
    """https URLs only; plain http only to a loopback address (a local test server)."""
    if url is None:
        return
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if (
        parts is None
        or not host
        or any(c not in _TOKEN_CHARS for c in url)
        or parts.fragment
        or not (
            parts.scheme == "https"
            or (parts.scheme == "http" and host in ("127.0.0.1", "::1", "localhost"))
        )
    ):
        problems.add(path, "must be an https:// URL (http:// only on 127.0.0.1 or localhost)")


def _validate_oauth(problems: _Problems, path: str, account: AccountConfig) -> None:
    oauth = account.oauth
    if oauth is None:
        if account.uses_oauth:
            problems.add(path, "auth = 'oauth2' needs an [accounts.oauth] table (the provider)")
        return
    where = f"{path}.oauth"
    if not account.uses_oauth:
        problems.add(where, "set, but neither [imap] nor [smtp] has auth = 'oauth2'")
    _check_token_text(problems, f"{where}.client_id", oauth.client_id, "client id")
    preset = PRESETS.get(oauth.provider)
    if oauth.tenant is not None:
        if preset is None or not preset.has_tenant:
            problems.add(f"{where}.tenant", "only for provider 'microsoft'")
        elif not oauth.tenant or any(
            not (c.isascii() and (c.isalnum() or c in "-.")) for c in oauth.tenant
        ):
            problems.add(f"{where}.tenant", "must be a tenant id or domain (letters, digits, - .)")
    custom_keys = ("authorization_url", "token_url", "device_authorization_url", "scopes")
    if preset is not None:
        for key in custom_keys:
            if getattr(oauth, key):
                problems.add(f"{where}.{key}", "only for provider 'custom' (the preset sets it)")
        return
    for key in ("authorization_url", "token_url"):
        if getattr(oauth, key) is None:
            problems.add(f"{where}.{key}", "required with provider 'custom'")
        _check_url(problems, f"{where}.{key}", getattr(oauth, key))
    _check_url(problems, f"{where}.device_authorization_url", oauth.device_authorization_url)
    if not oauth.scopes:
        problems.add(f"{where}.scopes", "required with provider 'custom' (at least one scope)")
    for index, scope in enumerate(oauth.scopes):
        _check_token_text(problems, f"{where}.scopes[{index}]", scope, "scope")


def _validate_folders(problems: _Problems, path: str, folders: FolderSettings) -> None:
    for key, names in (
        ("protected", folders.protected),
        ("expunge_allowed", folders.expunge_allowed),
    ):
        for index, name in enumerate(names):
            if not name or any(not c.isprintable() for c in name):
                problems.add(f"{path}.{key}[{index}]", "must be a non-empty folder name")
    problems.extend(path, folder_list_problems(folders.protected, folders.expunge_allowed))


def _validate_allow_entry(entry: str) -> str:
    if "@" in entry:
        return validate_address(entry)
    return validate_domain(entry)


def _validate_send(problems: _Problems, path: str, send: SendSettings) -> SendSettings:
    if send.max_recipients < 1:
        problems.add(f"{path}.max_recipients", "must be at least 1")
    if not 1 <= send.max_subject_chars <= 10_000:
        problems.add(f"{path}.max_subject_chars", "must be 1-10000")
    if send.max_body_bytes < 1:
        problems.add(f"{path}.max_body_bytes", "must be at least 1")
    entries = []
    for index, entry in enumerate(send.recipient_allowlist):
        try:
            entries.append(_validate_allow_entry(entry))
        except MailguardError as exc:
            problems.add(f"{path}.recipient_allowlist[{index}]", exc.public_message)
    return attrs.evolve(send, recipient_allowlist=tuple(entries))


def _validate_confirm(problems: _Problems, path: str, confirm: ConfirmSettings) -> None:
    seen: set[str] = set()
    for index, name in enumerate(confirm.tools):
        tool = parse_tool_name(name)
        if tool is None:
            problems.add(f"{path}.tools[{index}]", f"unknown tool {name[:64]!r}")
        elif name not in CONFIRMABLE_TOOLS:
            problems.add(
                f"{path}.tools[{index}]",
                f"{name!r} cannot be confirmed; one of: " + ", ".join(CONFIRMABLE_TOOLS),
            )
        elif name in seen:
            problems.add(f"{path}.tools[{index}]", f"{name!r} is listed twice")
        seen.add(name)
    if not (math.isfinite(confirm.timeout_seconds) and 1 <= confirm.timeout_seconds <= 3600):
        problems.add(f"{path}.timeout_seconds", "must be 1-3600")


def _validate_account(problems: _Problems, path: str, account: AccountConfig) -> AccountConfig:
    problems.check(f"{path}.name", validate_account_name, account.name)
    if account.name == AUDIT_HMAC_ENTRY:
        problems.add(f"{path}.name", f"{AUDIT_HMAC_ENTRY!r} is reserved")
    address = account.address
    try:
        address = validate_address(account.address)
    except MailguardError as exc:
        problems.add(f"{path}.address", exc.public_message)
    problems.check(
        f"{path}.display_name",
        validate_header_text,
        account.display_name,
        field="display name",
    )
    imap = account.imap
    if imap is not None:
        imap = _validate_imap(problems, f"{path}.imap", imap)
    if account.imap is None and account.maildir is None:
        problems.add(path, "set either [imap] or maildir")
    if account.imap is not None and account.maildir is not None:
        problems.add(path, "set either [imap] or maildir, not both")
    smtp = account.smtp
    if smtp is not None:
        smtp = _validate_smtp(problems, f"{path}.smtp", smtp)
    _validate_oauth(problems, path, account)
    problems.extend(f"{path}.tools", override_problems(account.tools.allow, account.tools.deny))
    if smtp is None and ToolName.SEND_EMAIL in effective_tools(account):
        problems.add(
            path,
            f"send_email is allowed (posture {account.posture.value!r} and tool overrides) "
            "but [smtp] is not set; add [smtp] or deny send_email",
        )
    _validate_folders(problems, f"{path}.folders", account.folders)
    problems.extend(f"{path}.limits", rate_limit_problems(account.limits))
    problems.extend(f"{path}.breaker", breaker_problems(account.breaker))
    send = _validate_send(problems, f"{path}.send", account.send)
    _validate_confirm(problems, f"{path}.confirm", account.confirm)
    if account.trusted_authserv_id is not None and (
        not account.trusted_authserv_id
        or any(c.isspace() or not c.isprintable() for c in account.trusted_authserv_id)
    ):
        problems.add(f"{path}.trusted_authserv_id", "must be a host name without spaces")
    known = []
    for index, domain in enumerate(account.known_domains):
        try:
            known.append(validate_domain(domain))
        except MailguardError as exc:
            problems.add(f"{path}.known_domains[{index}]", exc.public_message)
    brands: dict[str, tuple[str, ...]] = {}
    for brand, domains in account.brands.items():
        where = f"{path}.brands.{brand}"
        if not brand.strip() or len(brand) > 64 or not brand.isprintable():
            problems.add(where, "a brand name is 1-64 printable characters")
            continue
        checked = []
        for index, domain in enumerate(domains):
            try:
                checked.append(validate_domain(domain))
            except MailguardError as exc:
                problems.add(f"{where}[{index}]", exc.public_message)
        if not checked:
            problems.add(where, "needs at least one domain")
        brands[brand] = tuple(checked)
    if account.max_body_chars < 1:
        problems.add(f"{path}.max_body_chars", "must be at least 1")
    if account.max_message_bytes < 1:
        problems.add(f"{path}.max_message_bytes", "must be at least 1")
    if account.max_attachment_bytes < 1:
        problems.add(f"{path}.max_attachment_bytes", "must be at least 1")
    return attrs.evolve(
        account,
        address=address,
        imap=imap,
        smtp=smtp,
        send=send,
        known_domains=tuple(known),
        brands=brands,
        maildir=_expand(account.maildir),
        download_dir=_expand(account.download_dir),
    )


def _validate(problems: _Problems, config: Config) -> Config:
    if not config.accounts:
        problems.add("accounts", "at least one [[accounts]] entry is required")
    accounts = tuple(
        _validate_account(problems, f"accounts[{i}]", account)
        for i, account in enumerate(config.accounts)
    )
    seen: dict[str, int] = {}
    for index, account in enumerate(config.accounts):
        first = seen.setdefault(account.name, index)
        if first != index:
            problems.add(
                f"accounts[{index}].name", f"duplicate account name (also accounts[{first}])"
            )
    problems.items.extend(secret_name_problems(a.name for a in config.accounts))
    if config.default_account is not None and config.default_account not in seen:
        problems.add("default_account", f"no account named {config.default_account!r}")
    audit = config.audit
    if audit.rotate_bytes < 1:
        problems.add("audit.rotate_bytes", "must be at least 1")
    server = _validate_server(problems, config.server, set(seen))
    return attrs.evolve(
        config,
        accounts=accounts,
        audit=attrs.evolve(audit, path=_expand(audit.path)),
        server=server,
    )


def _validate_server(
    problems: _Problems, server: ServerSettings, names: set[str]
) -> ServerSettings:
    if server.transport not in ("stdio", "http"):
        problems.add("server.transport", 'must be "stdio" or "http"')
    _check_host(problems, "server.host", server.host)
    _check_port(problems, "server.port", server.port)
    for key in ("max_sessions", "max_concurrent_calls", "max_request_bytes"):
        if getattr(server, key) < 1:
            problems.add(f"server.{key}", "must be at least 1")
    _positive(problems, "server.session_idle_seconds", server.session_idle_seconds)
    _positive(
        problems, "server.shutdown_grace_seconds", server.shutdown_grace_seconds, allow_zero=True
    )
    if server.public_url is not None:
        _check_url(problems, "server.public_url", server.public_url)
    auth = server.auth
    if auth is not None:
        _check_url(problems, "server.auth.issuer", auth.issuer)
        _check_url(problems, "server.auth.audience", auth.audience)
        sources = (auth.jwks_url, auth.jwks_file, auth.introspection_url)
        if sum(source is not None for source in sources) != 1:
            problems.add(
                "server.auth", "set exactly one of jwks_url, jwks_file and introspection_url"
            )
        _check_url(problems, "server.auth.jwks_url", auth.jwks_url)
        _check_url(problems, "server.auth.introspection_url", auth.introspection_url)
        if auth.introspection_url is not None and not auth.client_id:
            problems.add("server.auth.client_id", "introspection_url needs the client_id")
        if not auth.algorithms or any(
            a.upper().startswith(("HS", "NONE")) for a in auth.algorithms
        ):
            problems.add("server.auth.algorithms", "asymmetric algorithms only (no HS*, no none)")
        if auth.leeway_seconds < 0 or auth.leeway_seconds > 300:
            problems.add("server.auth.leeway_seconds", "must be 0-300")
        auth = attrs.evolve(auth, jwks_file=_expand(auth.jwks_file))
    state = server.state
    if state.redis_url is not None and not state.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        problems.add("server.state.redis_url", "must start with redis://, rediss:// or unix://")
    if state.replica is not None and not (
        0 < len(state.replica) <= 64
        and all(c.isascii() and (c.isalnum() or c in "-_.") for c in state.replica)
    ):
        problems.add("server.state.replica", "1-64 characters of A-Z a-z 0-9 - _ .")
    if server.principals and auth is None:
        problems.add("server.principals", "principals need [server.auth]")
    seen: set[str] = set()
    for i, principal in enumerate(server.principals):
        where = f"server.principals[{i}]"
        if principal.name in seen:
            problems.add(f"{where}.name", "duplicate principal name")
        seen.add(principal.name)
        by_subject = principal.subject is not None
        by_claim = principal.claim is not None and principal.value is not None
        if by_subject == by_claim or (principal.claim is None) != (principal.value is None):
            problems.add(where, "set either subject, or claim and value")
        if not principal.accounts:
            problems.add(f"{where}.accounts", "name at least one account")
        for account in principal.accounts:
            if account not in names:
                problems.add(f"{where}.accounts", f"no account named {account!r}")
    return attrs.evolve(server, auth=auth)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
#: rounds of removing the values cattrs refused to find the problems behind them
_ROUNDS = 4


def _parts(path: str) -> list[str | int]:
    return [int(i) if i else str(k) for k, i in _PATH_PART.findall(path)]


def _drop(document: Any, problem: str) -> bool:
    """Remove from ``document`` the value a structuring problem names (an unknown key, a value
    of the wrong kind); True when something was removed."""
    path, _, message = problem.partition(": ")
    if path == "(top level)":
        return False
    parts = _parts(path)
    node = document
    if message.startswith("unknown key(s): "):
        keys = [k.strip() for k in message.removeprefix("unknown key(s): ").split(",")]
        keys = [k.split(" (did you mean")[0] for k in keys]
        last: str | int | None = None
    else:
        last = parts.pop()
        keys = []
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if last is not None:
        keys = [last]  # type: ignore[list-item]
    removed = False
    for key in keys:
        if isinstance(node, dict) and key in node:
            del node[key]
            removed = True
    return removed


def _problems_behind(document: dict[str, Any], found: list[str]) -> list[str]:
    """The problems a structuring failure hid: the refused values are removed (their keys
    fall back to defaults) and the rest structured and validated again, a few rounds at most,
    so that every problem is reported at once. Problems at paths already reported, and
    "required" ones caused by a removal, are not repeated."""
    import copy

    reported = {p.partition(": ")[0] for p in found}
    working = copy.deepcopy(document)
    extra: list[str] = []
    pending = list(found)
    for _ in range(_ROUNDS):
        dropped = [_drop(working, p) for p in pending]  # every one, not the first only
        if not any(dropped):
            return extra
        try:
            config = CONVERTER.structure(working, Config)
        except Exception as exc:
            pending = [p for p in _problems_from(exc) if p.partition(": ")[0] not in reported]
            extra.extend(p for p in pending if not p.endswith(": required key missing"))
            reported.update(p.partition(": ")[0] for p in pending)
            continue
        later = _Problems()
        _validate(later, config)
        extra.extend(p for p in later.items if p.partition(": ")[0] not in reported)
        return extra
    return extra


def parse_config(data: Mapping[str, Any], *, source: str | None = None) -> Config:
    """Structure and validate a decoded TOML document.

    Args:
        data: the document (``tomllib.loads`` output or an equivalent dict).
        source: where it came from, for the error's detail (not its public message).

    Raises:
        ConfigValidationError: with every problem found, each naming its key path.
    """
    if not isinstance(data, Mapping):
        raise ConfigValidationError([f"(top level): expected a table, got {_kind(data)}"])
    problems = _Problems()
    document = dict(data)
    defaults, default_problems = _check_defaults(document.pop("defaults", {}))
    problems.items.extend(default_problems)
    base = _deep_merge({"limits": {"tools": dict(DEFAULT_TOOL_RATES)}}, defaults)
    accounts = document.get("accounts", [])
    if isinstance(accounts, list):
        document["accounts"] = [
            _apply_preset(_merge_account(base, account))
            if isinstance(account, Mapping)
            else account
            for account in accounts
        ]
    try:
        config = CONVERTER.structure(document, Config)
    except Exception as exc:  # cattrs raises ExceptionGroups of mixed kinds
        found = _problems_from(exc)
        problems.items.extend(found)
        problems.items.extend(_problems_behind(document, found))
        raise ConfigValidationError(problems.items, source=source) from None
    config = _validate(problems, config)
    if problems.items:
        raise ConfigValidationError(problems.items, source=source)
    return config


def config_path(path: str | None = None, *, environ: Mapping[str, str] | None = None) -> Path:
    """The file :func:`load_config` reads: ``path``, else ``$MAILGUARD_CONFIG``, else
    ``config.toml`` in :func:`mailguard_core.system.paths.config_dir` (on Linux
    ``$XDG_CONFIG_HOME/mailguard``, ``~/.config/mailguard`` when XDG_CONFIG_HOME is unset)."""
    env = os.environ if environ is None else environ
    if path:
        return Path(path).expanduser()
    if env.get("MAILGUARD_CONFIG"):
        return Path(env["MAILGUARD_CONFIG"]).expanduser()
    return config_dir(env) / "config.toml"


def load_config(path: str | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and parse the configuration file (see :func:`config_path`).

    Raises:
        ConfigError: the file is missing, unreadable or not TOML, or any problem of
            :func:`parse_config`.
    """
    file = config_path(path, environ=environ)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {file} not found",
            public="configuration file not found (use --config PATH or MAILGUARD_CONFIG)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read configuration file {file}: {type(exc).__name__}",
            public="configuration file unreadable",
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file} is not valid TOML: {exc}", public=f"configuration is not valid TOML: {exc}"
        ) from None
    return parse_config(data, source=str(file))
