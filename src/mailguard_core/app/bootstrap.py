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
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mailguard_core.config import AccountConfig, Config
from mailguard_core.model.errors import (
    ConfigError,
    ConfirmationDeclined,
    ConfirmationUnavailable,
    InputError,
    MailguardError,
)
from mailguard_core.model.tools import ToolName
from mailguard_core.ports import AuditSink, MailStore, SecretStore, Sender, TokenProvider
from mailguard_core.services.confirm import (
    ConfirmationSummary,
    audit_fields,
    needs_confirmation,
    summary_call,
    unconfirmable_call,
)
from mailguard_core.services.dispatch import (
    Result,
    ServiceCall,
    accounts_result,
    prepare,
    summary,
    use_account_result,
)
from mailguard_core.system import paths

if TYPE_CHECKING:
    from mailguard_core.gate import Clock, Gate, GateCall
    from mailguard_core.ports.downloads import DownloadStore
    from mailguard_core.ports.gate_state import GateState
    from mailguard_core.services.use_cases import MailboxService

logger = logging.getLogger(__name__)

T = TypeVar("T")


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The default folder of the audit log (:func:`mailguard_core.system.paths.state_dir`: on Linux
    ``$XDG_STATE_HOME/mailguard``, ``~/.local/state/mailguard`` when unset)."""
    return paths.state_dir(environ)


class MailguardApp:
    """Everything one MCP connection (or one library :class:`~mailguard_core.Mailbox`) works
    with.

    The session's active account lives here: stdio serves exactly one client per process, and
    the server's lifespan builds one app per connection. Each account's service (and with it
    the sanitizer, a large import) is built on the account's first call. Services are used
    from worker threads, one call per account at a time (:meth:`with_service`).
    """

    def __init__(
        self,
        config: Config,
        *,
        gate: Gate,
        audit: AuditSink,
        build_service: Callable[[AccountConfig], MailboxService],
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.gate = gate
        self.audit = audit
        self._build_service = build_service
        self._services: dict[str, MailboxService] = {}
        names = [a.name for a in config.accounts]
        self.active: str = config.default_account if config.default_account in names else names[0]
        self._locks = {name: threading.Lock() for name in names}
        self._build_lock = threading.Lock()
        self._on_close = on_close
        #: asked (with the summary, in the caller's thread) before a call the account
        #: confirms (``[accounts.confirm]``); True alone proceeds. None: nobody can be asked,
        #: so ``on_unsupported`` applies (a send becomes a draft, the rest are refused)
        self.confirmer: Callable[[ConfirmationSummary], bool] | None = None

    def account(self, name: str) -> AccountConfig:
        for account in self.config.accounts:
            if account.name == name:
                return account
        raise InputError(f"unknown account {name!r}", public="no such account; see list_accounts")

    def service(self, name: str) -> MailboxService:
        """The account's service, built on first use.

        Raises:
            InputError: no account of that name.
        """
        with self._build_lock:  # worker threads ask too: build each service once
            if name not in self._services:
                self._services[name] = self._build_service(self.account(name))
            return self._services[name]

    def has_account(self, name: str) -> bool:
        return any(a.name == name for a in self.config.accounts)

    def with_service(self, name: str, fn: Callable[[MailboxService], T]) -> T:
        """Run ``fn`` on the account's service, holding the account's lock (a mail store
        connection serves one call at a time). Blocks: call it from a worker thread.

        Raises:
            InputError: no account of that name.
        """
        service = self.service(name)
        with self._locks[name]:
            return fn(service)

    def allowed_tools(self, account: str | None = None) -> frozenset[ToolName]:
        return self.gate.allowed_tools(account or self.active)

    def special_folder_names(self, name: str) -> dict[str, str]:
        """The folders the account's server marks special-use, flag to name: the gate's
        provider, which it calls (in the caller's worker thread) when a folder tool first needs
        them.

        Raises:
            MailguardError: the store cannot reach or log in to the server.
        """
        return self.with_service(name, lambda service: dict(service.special_folders()))

    def call(self, name: str, arguments: Mapping[str, Any]) -> Result:
        """One tool call exactly as the MCP server makes it, in the caller's thread (blocks).

        The arguments are the tool's JSON arguments. The same steps in the same order as
        ``mailguard_mcp.server.call_tool``: validate against the tool's input schema, resolve
        the account and describe the call once (:func:`mailguard_core.services.dispatch.prepare`),
        then ``gate.admit`` (the start record, posture, breaker, folder guard, rate limits),
        exactly one service call, and ``gate.finish`` (the end record with the same result
        summary). Invalid arguments are refused by the gate
        (audited, no rate-limit token taken), as over MCP. ``use_account`` changes
        :attr:`active` (no notification: there is no client to tell).

        Raises:
            MailguardError: the refusal or failure the MCP server would map to ``error``.
        """
        args = dict(arguments)
        prepared = prepare(self.active, name, args)
        request, call = prepared.request, prepared.call
        tool = request.tool
        admitted = self.gate.admit(request)  # raises the refusal (invalid arguments too)
        try:
            fields: dict[str, Any] = {}
            if call is not None and needs_confirmation(self.account(prepared.account), tool):
                assert tool is not None
                call, fields = self._confirm(tool, prepared.account, args, admitted, call)
            if call is not None:
                result = self.with_service(prepared.account, call)
            elif tool is ToolName.LIST_ACCOUNTS:
                result = accounts_result(self.config, self.active)
            else:
                target = args["account"]
                posture = self.account(target).posture.value
                self.active = target
                result = use_account_result(posture, target, self.allowed_tools(target))
            admitted.set_result({**summary(result), **fields})
        except BaseException as exc:
            self.gate.finish(admitted, exc)
            raise
        self.gate.finish(admitted)
        return result

    def _confirm(
        self,
        tool: ToolName,
        account: str,
        args: Mapping[str, Any],
        guarded: GateCall,
        call: ServiceCall,
    ) -> tuple[ServiceCall, dict[str, Any]]:
        """The library face's confirmation: :attr:`confirmer`, else ``on_unsupported``."""
        config = self.account(account)
        if self.confirmer is None:
            try:
                fallback = unconfirmable_call(config, tool, args)
            except ConfirmationUnavailable:
                guarded.set_result({"confirm_decision": "unsupported_refused"})
                raise
            return fallback, {"confirm_decision": "unsupported_draft"}
        shown = self.with_service(account, summary_call(tool, args))
        started = time.monotonic()
        try:
            decision = "accept" if self.confirmer(shown) is True else "decline"
        except Exception:
            logger.warning("the confirmer of %s raised; taken as a refusal", tool.value)
            decision = "error"
        fields = audit_fields(shown, decision, time.monotonic() - started)
        if decision != "accept":
            guarded.set_result(fields)
            raise ConfirmationDeclined(f"{tool.value}: the confirmer answered {decision}")
        return call, fields

    def close(self) -> None:
        """Close every mail store, then the audit log. Idempotent."""
        for service in self._services.values():
            try:
                service.close()
            except Exception:
                logger.exception("closing account %s failed", service.name)
        try:
            self.audit.close()
        finally:
            if self._on_close is not None:
                self._on_close()
                self._on_close = None


# ---------------------------------------------------------------- the default adapters
# (also what ``mailguard-mcp --dry-run`` and ``mailguard-mcp audit`` build)


def default_secrets() -> SecretStore:
    from mailguard_core.adapters.keyring_secrets import (
        ChainSecretStore,
        EnvSecretStore,
        KeyringSecretStore,
    )

    return ChainSecretStore(KeyringSecretStore(), EnvSecretStore(os.environ))


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


def default_audit(config: Config, secrets: Callable[[], SecretStore]) -> AuditSink:
    from mailguard_core.adapters.jsonl_audit import JsonlAuditSink

    path = (
        Path(config.audit.path).expanduser() if config.audit.path else state_dir() / "audit.jsonl"
    )
    replica = os.environ.get("MAILGUARD_REPLICA") or config.server.state.replica
    if replica:  # replicas write one hash-chained log each (audit verify checks each)
        path = path.with_name(f"{path.stem}-{replica}{path.suffix}")
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
