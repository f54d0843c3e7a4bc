"""One connection's app: :class:`MailguardApp`, what the MCP server's lifespan and the
library's :class:`~mailguard_core.Mailbox` work with (built by
:func:`mailguard_core.app.bootstrap.open_app`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from mailguard_core.app.wire import WireDict, envelope
from mailguard_core.config import AccountConfig, Config
from mailguard_core.model.errors import (
    ConfirmationDeclined,
    ConfirmationUnavailable,
    InputError,
)
from mailguard_core.model.tools import ToolName
from mailguard_core.ports import AuditSink
from mailguard_core.services.confirm import (
    ConfirmationSummary,
    audit_fields,
    needs_confirmation,
    summary_call,
    unconfirmable_call,
)
from mailguard_core.services.dispatch import (
    ServiceCall,
    accounts_result,
    prepare,
    use_account_result,
)
from mailguard_core.services.results import ToolResult, audit_summary

if TYPE_CHECKING:
    from mailguard_core.gate import Gate, GateCall
    from mailguard_core.services.use_cases import MailboxService

logger = logging.getLogger(__name__)

T = TypeVar("T")


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

    def call(self, name: str, arguments: Mapping[str, Any]) -> WireDict:
        """One tool call exactly as the MCP server makes it, in the caller's thread (blocks).

        The arguments are the tool's JSON arguments. The same steps in the same order as
        ``mailguard_mcp.server.call_tool``: validate against the tool's input schema, resolve
        the account and describe the call once (:func:`mailguard_core.services.dispatch.prepare`),
        then ``gate.admit`` (the start record, posture, breaker, folder guard, rate limits),
        exactly one service call, and ``gate.finish`` (the end record with the same result
        summary). The result is the envelope :func:`mailguard_core.app.wire.envelope` makes
        of the use case's value, as ``structuredContent`` over MCP. Invalid arguments are
        refused by the gate (audited, no rate-limit token taken), as over MCP.
        ``use_account`` changes :attr:`active` (no notification: there is no client to tell).

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
            result: ToolResult
            if call is not None:
                result = self.with_service(prepared.account, call)
            elif tool is ToolName.LIST_ACCOUNTS:
                result = accounts_result(self.config, self.active)
            else:
                target = args["account"]
                posture = self.account(target).posture
                self.active = target
                result = use_account_result(posture, target, self.allowed_tools(target))
            admitted.set_result({**audit_summary(result), **fields})
        except BaseException as exc:
            self.gate.finish(admitted, exc)
            raise
        self.gate.finish(admitted)
        return envelope(result)

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
