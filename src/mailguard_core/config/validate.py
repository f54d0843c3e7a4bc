"""Validation of a structured configuration, every problem with its key path."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mailguard_core.config.accounts import (
    AUDIT_HMAC_ENTRY,
    AccountConfig,
    effective_tools,
    secret_name_problems,
)
from mailguard_core.config.document import Config
from mailguard_core.config.mail import ImapSettings, SmtpSettings, normalize_pin
from mailguard_core.config.policy import (
    CONFIRMABLE_TOOLS,
    ConfirmSettings,
    FolderSettings,
    SendSettings,
)
from mailguard_core.config.policy_rules import (
    Problem,
    breaker_problems,
    folder_list_problems,
    override_problems,
    rate_limit_problems,
)
from mailguard_core.config.server import ServerSettings
from mailguard_core.model.compose import validate_address, validate_domain, validate_header_text
from mailguard_core.model.errors import ConfigError, MailguardError
from mailguard_core.model.oauth import PRESETS
from mailguard_core.model.tools import ToolName, parse_tool_name
from mailguard_core.model.values import validate_account_name

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
