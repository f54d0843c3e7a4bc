"""``mailguard-mcp [serve|demo] --dry-run``: check everything ``serve`` will need, then exit.

Print the effective tool matrix per account, then connect to each account's server (an OAuth2
account: with a token from its stored grant) and print how it signed in, its capabilities and
the TLS certificate fingerprint line to paste into the config for pinning; when the posture
can send, sign in to SMTP (no mail is sent); check that the audit log can be written and its
HMAC key read. On a certificate that does not verify it prints the certificate the server
presents and the exact line to add. Exit 0 when every check passed, 1 otherwise.

The adapters are the composition root's (:mod:`mailguard_core.app.bootstrap`), the ones
``serve`` would use; only the gate's audit goes to memory (nothing is called through it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from mailguard_core.config import (
    AUDIT_HMAC_ENTRY,
    AccountConfig,
    Config,
    ImapSettings,
    SmtpSettings,
)
from mailguard_core.model.errors import MailguardError, TLSError
from mailguard_core.model.tools import GATED_TOOLS, ToolName
from mailguard_core.ports import SecretStore, TokenProvider
from mailguard_core.ports.secrets import env_var_name


def print_matrix(config: Config, allowed: dict[str, frozenset[ToolName]], out: TextIO) -> None:
    names = [a.name for a in config.accounts]
    width = max(len(t.value) for t in ToolName)
    cols = [max(len(n), 3) for n in names]
    out.write(
        f"{'tool':<{width}}  "
        + "  ".join(f"{n:^{w}}" for n, w in zip(names, cols, strict=True))
        + "\n"
    )
    postures = [a.posture.value for a in config.accounts]
    out.write(
        f"{'(posture)':<{width}}  "
        + "  ".join(f"{p:^{w}}" for p, w in zip(postures, cols, strict=True))
        + "\n"
    )
    for tool in ToolName:
        marks = ["yes" if tool in allowed[n] else "-" for n in names]
        suffix = "" if tool in GATED_TOOLS else "  (always)"
        out.write(
            f"{tool.value:<{width}}  "
            + "  ".join(f"{m:^{w}}" for m, w in zip(marks, cols, strict=True))
            + suffix
            + "\n"
        )


def _offer_certificate(settings: ImapSettings | SmtpSettings, protocol: str, out: TextIO) -> None:
    """After a TLS failure: the certificate the server presents and exactly what to add."""
    from mailguard_core.app.commands import presented_certificate

    if settings.pin_sha256:
        return  # a pin mismatch: never offer to replace a pin from here
    timeout = settings.connect_timeout if isinstance(settings, ImapSettings) else settings.timeout
    try:
        cert = presented_certificate(
            settings.host,
            settings.port,
            tls=settings.tls,
            protocol="imap" if protocol == "imap" else "smtp",
            timeout=timeout,
        )
    except MailguardError:
        return  # the failure above already says what is wrong
    out.write("  the server presents this certificate (not verified):\n")
    out.writelines(f"    {line}\n" for line in cert.describe())
    out.write(
        "  if it is your server's certificate (compare the sha256 with the server's own),\n"
        f"  trust exactly this certificate by adding to [accounts.{protocol}]:\n"
        f'  pin_sha256 = "{cert.sha256}"\n'
    )


def _check_smtp(
    account: AccountConfig,
    get_secrets: Callable[[], SecretStore],
    tokens: TokenProvider | None,
    out: TextIO,
) -> bool:
    """Connect, TLS, EHLO, AUTH and QUIT on the account's SMTP server; no mail is sent."""
    from mailguard_core.app.bootstrap import default_sender

    smtp = account.smtp
    assert smtp is not None
    out.write(f"  smtp {smtp.host}:{smtp.port} ({smtp.tls} TLS): ")
    try:
        sender = default_sender(account, get_secrets, tokens)
        check = getattr(sender, "check", None)
        version = check() if callable(check) else "?"
    except MailguardError as exc:
        out.write(f"FAILED: {exc.public_message} ({exc})\n")
        if isinstance(exc, TLSError):
            _offer_certificate(smtp, "smtp", out)
        return False
    out.write(f"signed in ({version}), no mail sent\n")
    fingerprint = getattr(sender, "certificate_sha256", None)
    if fingerprint:
        out.write(
            "  # certificate fingerprint; to pin it, paste into [accounts.smtp]:\n"
            f'  pin_sha256 = "{fingerprint}"\n'
        )
    return True


def _check_audit(config: Config, get_secrets: Callable[[], SecretStore], out: TextIO) -> bool:
    """The audit log's folder can be created and written, and its HMAC key can be read."""
    from mailguard_core.app.bootstrap import audit_log_path

    path = audit_log_path(config)
    out.write(f"\naudit log {path}: ")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = path if path.exists() else path.parent
        if not os.access(target, os.W_OK):
            raise PermissionError(f"{target} is not writable")
    except OSError as exc:
        out.write(f"FAILED: cannot write it ({type(exc).__name__}: {exc})\n")
        return False
    if config.audit.hmac:
        try:
            get_secrets().get(AUDIT_HMAC_ENTRY)
        except MailguardError as exc:
            out.write(f"FAILED: [audit] hmac = true but {exc.public_message}\n")
            return False
        out.write("writable, HMAC key found\n")
    else:
        out.write("writable\n")
    return True


def dry_run(config: Config, out: TextIO) -> int:
    from mailguard_core.app.bootstrap import (
        default_secrets,
        default_store,
        default_tokens,
        memory_audit,
    )
    from mailguard_core.gate import Gate
    from mailguard_mcp.preflight import folder_report

    gate = Gate.from_config(config, memory_audit())
    allowed = {a.name: gate.allowed_tools(a.name) for a in config.accounts}
    out.write("Effective tools per account (posture + overrides):\n")
    print_matrix(config, allowed, out)
    failures = 0
    secrets: list[SecretStore] = []

    def get_secrets() -> SecretStore:
        if not secrets:
            secrets.append(default_secrets())
        return secrets[0]

    for account in config.accounts:
        where = (
            f"maildir {account.maildir}"
            if account.maildir
            else f"imap {account.imap.host}:{account.imap.port} ({account.imap.tls} TLS)"
            if account.imap
            else "no mailbox"
        )
        out.write(f"\n[{account.name}] {account.address}: {where}\n")
        if account.oauth is not None and account.uses_oauth:
            servers = [
                k
                for k, s in (("imap", account.imap), ("smtp", account.smtp))
                if s and s.auth == "oauth2"
            ]
            out.write(
                f"  auth: oauth2 for {' and '.join(servers)} (provider {account.oauth.provider}, "
                f"client_id {account.oauth.client_id}); refresh token: keyring entry "
                f"{account.name}:oauth or ${env_var_name(account.name + ':oauth')}\n"
            )
        try:
            tokens = default_tokens(account, get_secrets)
            store = default_store(account, get_secrets, tokens)
            try:
                info = store.server_info()
                folders = folder_report(account, allowed[account.name], store)
            finally:
                store.close()
        except MailguardError as exc:
            failures += 1
            out.write(f"  FAILED: {exc.public_message} ({exc})\n")
            if isinstance(exc, TLSError) and account.imap is not None:
                _offer_certificate(account.imap, "imap", out)
            continue
        if info.login_mechanism:
            out.write(f"  signed in with: {info.login_mechanism}\n")
        out.write(f"  capabilities: {' '.join(info.capabilities) or '-'}\n")
        if info.tls_version:
            out.write(f"  tls: {info.tls_version}\n")
        if info.certificate_sha256:
            out.write(
                "  # certificate fingerprint; to pin it, paste into [accounts.imap]:\n"
                f'  pin_sha256 = "{info.certificate_sha256}"\n'
            )
        failures += folders.write(out)
        can_send = account.smtp is not None and ToolName.SEND_EMAIL in allowed[account.name]
        if can_send and not _check_smtp(account, get_secrets, tokens, out):
            failures += 1
    if not _check_audit(config, get_secrets, out):
        failures += 1
    out.write(
        "\nOK: every account connected (and SMTP and the audit log checked)\n"
        if not failures
        else f"\n{failures} check(s) failed\n"
    )
    return 0 if failures == 0 else 1
