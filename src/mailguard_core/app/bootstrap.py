"""The composition root: config, secrets, mail stores, senders, gate and audit, wired once.

:func:`open_app` builds a :class:`MailguardApp`; both faces are built on it: the MCP server
(``mailguard_mcp``: its lifespan enters one app per connection) and the library
(:func:`mailguard_core.open_mailbox`). Everything has a default built from the config and
every piece can be handed in (tests pass in-memory fakes). Adapters are imported lazily so
that startup stays fast. Connections open on first use and are closed when the app closes.

This module may import adapters (it wires them); it never imports ``mailguard_mcp``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from mailguard_core.app.session import MailguardApp
from mailguard_core.config import AccountConfig, Config
from mailguard_core.model.errors import (
    ConfigError,
    MailguardError,
)
from mailguard_core.ports import AuditSink, MailStore, SecretStore, Sender, TokenProvider
from mailguard_core.system import paths

if TYPE_CHECKING:
    from mailguard_core.gate import Clock
    from mailguard_core.ports.downloads import DownloadStore
    from mailguard_core.ports.gate_state import GateState
    from mailguard_core.services.use_cases import MailboxService

__all__ = [
    "MailguardApp",
    "audit_log_path",
    "credential_version",
    "default_audit",
    "default_downloads",
    "default_secrets",
    "default_sender",
    "default_state",
    "default_store",
    "default_tokens",
    "keyring_store",
    "memory_audit",
    "open_app",
    "outbox_sender",
    "state_dir",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The default folder of the audit log (:func:`mailguard_core.system.paths.state_dir`: on Linux
    ``$XDG_STATE_HOME/mailguard``, ``~/.local/state/mailguard`` when unset)."""
    return paths.state_dir(environ)


# ---------------------------------------------------------------- the default adapters
# Every command builds its adapters here: ``serve`` and ``demo`` (through :func:`open_app`),
# ``--dry-run`` (stores, senders and tokens without a gate), ``login`` (:func:`keyring_store`)
# and ``audit`` (:func:`audit_log_path`, :func:`default_secrets`).


def default_secrets() -> SecretStore:
    """Where the server reads secrets: the OS keyring, then ``MAILGUARD_*`` variables."""
    from mailguard_core.adapters.keyring_secrets import (
        ChainSecretStore,
        EnvSecretStore,
        KeyringSecretStore,
    )

    return ChainSecretStore(KeyringSecretStore(), EnvSecretStore(os.environ))


def keyring_store() -> SecretStore:
    """Where ``mailguard-mcp login`` writes secrets: the OS keyring alone (environment
    variables are the user's to set)."""
    from mailguard_core.adapters.keyring_secrets import KeyringSecretStore

    return KeyringSecretStore()


def audit_log_path(config: Config, environ: Mapping[str, str] | None = None) -> Path:
    """The audit log this process writes: ``[audit] path``, else ``audit.jsonl`` in
    :func:`state_dir`; a replica (``MAILGUARD_REPLICA``, else ``[server.state] replica``)
    writes ``<stem>-<replica>.jsonl`` beside it (one hash chain each)."""
    env = os.environ if environ is None else environ
    path = (
        Path(config.audit.path).expanduser()
        if config.audit.path
        else state_dir(env) / "audit.jsonl"
    )
    replica = env.get("MAILGUARD_REPLICA") or config.server.state.replica
    if replica:
        path = path.with_name(f"{path.stem}-{replica}{path.suffix}")
    return path


def default_tokens(
    account: AccountConfig, secrets: Callable[[], SecretStore]
) -> TokenProvider | None:
    """The account's OAuth2 token source (one for IMAP and SMTP), None without OAuth."""
    if account.oauth is None or not account.uses_oauth:
        return None
    from mailguard_core.adapters.oauth_tokens import AuthlibTokenProvider

    return AuthlibTokenProvider(account.name, account.oauth, secrets())


def default_store(
    account: AccountConfig,
    secrets: Callable[[], SecretStore],
    tokens: TokenProvider | None = None,
) -> MailStore:
    if account.maildir is not None:
        from mailguard_core.adapters.maildir_store import MaildirMailStore

        return MaildirMailStore(account.name, Path(account.maildir).expanduser())
    if account.imap is not None:
        from mailguard_core.adapters.imap import ImapMailStore

        name = account.name
        return ImapMailStore(
            name, account.imap, password=lambda: secrets().get(name), tokens=tokens
        )
    raise ConfigError(f"account {account.name!r} has neither imap nor maildir settings")


def default_sender(
    account: AccountConfig,
    secrets: Callable[[], SecretStore],
    tokens: TokenProvider | None = None,
) -> Sender | None:
    if account.smtp is None:
        return None
    from mailguard_core.adapters.smtp import SmtpSender

    name = account.name
    return SmtpSender(account.smtp, password=lambda: secrets().get(name), tokens=tokens)


def outbox_sender(directory: Path) -> Sender:
    """A sender that writes each accepted message into ``directory`` and never sends (the
    demo's ``outbox``)."""
    from mailguard_core.adapters.outbox_sender import OutboxSender

    return OutboxSender(directory)


def default_downloads(account: AccountConfig, directory: Path | None = None) -> DownloadStore:
    """Attachments saved as files: ``directory``, else the account's ``download_dir``, else
    ``downloads`` in the state folder (XDG on Linux)."""
    from mailguard_core.adapters.download_dir import DirectoryDownloads, default_download_dir

    if directory is None:
        directory = (
            Path(account.download_dir).expanduser()
            if account.download_dir
            else default_download_dir()
        )
    return DirectoryDownloads(directory)


def memory_audit() -> AuditSink:
    """An audit sink kept in memory (a dry run's gate, which records nothing lasting)."""
    from mailguard_core.adapters.memory_audit import InMemoryAuditSink

    return InMemoryAuditSink()


def default_audit(config: Config, secrets: Callable[[], SecretStore]) -> AuditSink:
    from mailguard_core.adapters.jsonl_audit import JsonlAuditSink

    path = audit_log_path(config)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets().get("audit-hmac") if config.audit.hmac else None
    return JsonlAuditSink(
        path,
        hmac_key=key,
        rotate_bytes=config.audit.rotate_bytes,
        fsync_tool_records=config.audit.fsync_tool_records,
    )


def credential_version(
    config: Config, secrets: Callable[[], SecretStore]
) -> Callable[[str], str | None]:
    """For the gate: an opaque version of an account's stored credential (its password, or
    its OAuth2 grant): an HMAC under a key made for this process, never the secret itself;
    None when it cannot be read. It lets the gate end an auth cooldown once the credential
    was changed (``mailguard-mcp login``)."""
    import hashlib
    import hmac
    import secrets as random

    key = random.token_bytes(32)
    oauth = {a.name for a in config.accounts if a.oauth is not None and a.uses_oauth}

    def version(account: str) -> str | None:
        name = f"{account}:oauth" if account in oauth else account
        try:
            value = secrets().get(name).reveal()
        except MailguardError:
            return None
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    return version


def default_state(config: Config) -> GateState | None:
    """Redis when ``[server.state] redis_url`` is set, else the gate's own memory (None)."""
    url = config.server.state.redis_url
    if url is None:
        return None
    from mailguard_core.adapters.redis_gate_state import RedisGateState

    return RedisGateState(url, prefix=config.server.state.key_prefix)


@contextlib.contextmanager
def open_app(
    config: Config,
    *,
    secrets: SecretStore | None = None,
    stores: Mapping[str, MailStore] | None = None,
    senders: Mapping[str, Sender | None] | None = None,
    tokens: Mapping[str, TokenProvider] | None = None,
    audit: AuditSink | None = None,
    clock: Clock | None = None,
    download_dirs: Mapping[str, Path] | None = None,
    on_close: Callable[[], None] | None = None,
) -> Iterator[MailguardApp]:
    """Wire one app from ``config``; whatever is passed in replaces the default adapter.

    Raises:
        ConfigError: an account cannot be wired (no store settings).
        AuditLocked: another mailguard process holds the audit log.
    """
    from mailguard_core.services.dispatch import ToolGate

    cached: list[SecretStore] = [secrets] if secrets is not None else []

    def get_secrets() -> SecretStore:
        if not cached:
            cached.append(default_secrets())
        return cached[0]

    given = dict(stores or {})
    for account in config.accounts:
        if account.name not in given and account.maildir is None and account.imap is None:
            raise ConfigError(f"account {account.name!r} has neither imap nor maildir settings")

    def build_service(account: AccountConfig) -> MailboxService:
        from mailguard_core.services.outgoing import OutgoingService
        from mailguard_core.services.use_cases import MailboxService

        if tokens is not None and account.name in tokens:
            token_source: TokenProvider | None = tokens[account.name]
        else:
            token_source = default_tokens(account, get_secrets)
        store = given.get(account.name) or default_store(account, get_secrets, token_source)
        if senders is not None and account.name in senders:
            sender = senders[account.name]
        else:
            sender = default_sender(account, get_secrets, token_source)
        return MailboxService(
            account,
            store,
            outgoing=OutgoingService(account, store, sender),
            downloads=default_downloads(account, (download_dirs or {}).get(account.name)),
        )

    sink = audit if audit is not None else default_audit(config, get_secrets)
    state = None
    try:
        state = default_state(config)
        gate = ToolGate.from_config(config, sink, clock=clock, state=state)
    except BaseException:
        sink.close()
        if state is not None:
            state.close()
        raise
    app = MailguardApp(
        config, gate=gate, audit=sink, build_service=build_service, on_close=on_close
    )
    gate.set_special_folders_provider(app.special_folder_names)
    gate.set_credential_version(credential_version(config, get_secrets))
    try:
        yield app
    finally:
        try:
            app.close()
        finally:
            if state is not None:  # the Redis connections of [server.state]
                state.close()
