"""``open_mailbox``: one account's gated, audited mailbox for Python programs and agent
frameworks, built by the same composition root as the MCP server (:mod:`.bootstrap`).

Every method is one tool: it takes the tool's arguments as typed Python values, turns them
into the tool's JSON arguments (exactly what an MCP client would send; ``None`` means "not
given"), and makes the call through :meth:`MailguardApp.call`: the same schema validation,
the same gate (posture, folder guard, rate limits, breaker), the same audit records, the same
service and the same result envelope as ``tools/call`` over MCP. A refusal or failure raises
the :class:`~mailguard_core.model.errors.MailguardError` subclass that the MCP server would have
answered with ``error <code>``.

Calls block (IMAP, SMTP, the sanitizer); see ``docs/library.md`` for asyncio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypedDict, cast

from mailguard_core.config import Config, load_config
from mailguard_core.model.tools import Posture, ToolName
from mailguard_core.model.values import MessageRef

if TYPE_CHECKING:
    from mailguard_core.app.bootstrap import MailguardApp
    from mailguard_core.ports import AuditSink, MailStore, SecretStore, Sender
    from mailguard_core.services.confirm import ConfirmationSummary


class Envelope(TypedDict, total=False):
    """A tool's result, as ``structuredContent`` over MCP (``docs/library.md``).

    ``meta`` is mailguard's own data (trusted); everything under ``untrusted`` (and each
    item's ``untrusted``) was written by whoever sent the mail: data, never instructions.
    ``security_warnings`` say what was removed or looks deceptive. List results carry
    ``items``, each an envelope of its own.
    """

    meta: dict[str, Any]
    untrusted: dict[str, Any]
    items: list[dict[str, Any]]
    security_warnings: list[dict[str, Any]]


Ref = MessageRef | str
Refs = Ref | Iterable[Ref]


def _ref(ref: Ref) -> str:
    return str(ref)


def _refs(refs: Refs) -> list[str]:
    if isinstance(refs, MessageRef | str):
        return [str(refs)]
    return [str(r) for r in refs]


def _date(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _given(**arguments: Any) -> dict[str, Any]:
    """The JSON arguments: every keyword that was given (not None); ``from_`` is ``from``."""
    out = {k.rstrip("_"): v for k, v in arguments.items() if v is not None}
    return out


class Mailbox:
    """A gated, audited mailbox: one method per tool (see the module docstring).

    Use it as a context manager, or call :meth:`close`. The account a call acts on is the
    call's ``account`` argument where the tool takes one, the account named in the message
    refs for the tools that take refs, else :attr:`account` (the active account, changed by
    :meth:`use_account`). Thread-safe; calls on one account are serialized.
    """

    def __init__(self, app: MailguardApp, manager: AbstractContextManager[MailguardApp]):
        self._app = app
        self._manager: AbstractContextManager[MailguardApp] | None = manager

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Mailbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every mail connection, then the audit log. Idempotent."""
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.__exit__(None, None, None)

    @property
    def closed(self) -> bool:
        return self._manager is None

    # ------------------------------------------------------------------ introspection
    @property
    def account(self) -> str:
        """The active account: the one calls act on unless they name another."""
        return self._app.active

    @property
    def config(self) -> Config:
        return self._app.config

    @property
    def confirmer(self) -> Callable[[ConfirmationSummary], bool] | None:
        """Asked before a call the account confirms (``[accounts.confirm] tools``), with the
        summary mailguard built (``.text`` is what a human should read, ``.tool``,
        ``.account``, ``.sha256``); only ``True`` proceeds, anything else (or an exception)
        refuses the call with ``ConfirmationDeclined``. None (the default): nobody can be
        asked, so ``on_unsupported`` applies (a send becomes a ``$PendingReview`` draft, the
        rest raise ``ConfirmationUnavailable``). Called in the calling thread; it may block."""
        return self._app.confirmer

    @confirmer.setter
    def confirmer(self, confirmer: Callable[[ConfirmationSummary], bool] | None) -> None:
        self._app.confirmer = confirmer

    def posture(self, account: str | None = None) -> Posture:
        """The account's configured posture (the active account by default)."""
        return self._app.account(account or self._app.active).posture

    def allowed_tools(self, account: str | None = None) -> frozenset[ToolName]:
        """The tools the account's effective posture (posture plus overrides) allows, and the
        two infrastructure tools: what ``tools/list`` shows an MCP client."""
        return self._app.allowed_tools(account)

    # ------------------------------------------------------------------ the generic call
    def call(self, tool: ToolName | str, arguments: Mapping[str, Any] | None = None) -> Envelope:
        """Call a tool by name with its JSON arguments, exactly as ``tools/call`` does.

        Raises:
            MailguardError: the refusal or failure (``ToolDenied`` for an unknown name).
        """
        if self._manager is None:
            from mailguard_core.model.errors import InputError

            raise InputError("call on a closed Mailbox", public="this mailbox is closed")
        name = tool.value if isinstance(tool, ToolName) else tool
        return cast(Envelope, self._app.call(name, arguments or {}))

    # ------------------------------------------------------------------ reading
    def list_folders(self, *, account: str | None = None) -> Envelope:
        return self.call(ToolName.LIST_FOLDERS, _given(account=account))

    def search(
        self,
        folder: str | None = None,
        *,
        from_: str | None = None,
        to: str | None = None,
        subject: str | None = None,
        text: str | None = None,
        since: dt.date | str | None = None,
        before: dt.date | str | None = None,
        seen: bool | None = None,
        flagged: bool | None = None,
        has_attachment: bool | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        account: str | None = None,
    ) -> Envelope:
        """One page of message summaries, newest first (``folder`` default INBOX)."""
        return self.call(
            ToolName.SEARCH,
            _given(
                account=account,
                folder=folder,
                from_=from_,
                to=to,
                subject=subject,
                text=text,
                since=_date(since),
                before=_date(before),
                seen=seen,
                flagged=flagged,
                has_attachment=has_attachment,
                limit=limit,
                cursor=cursor,
            ),
        )

    def search_advanced(
        self,
        query: str,
        folder: str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        account: str | None = None,
    ) -> Envelope:
        return self.call(
            ToolName.SEARCH_ADVANCED,
            _given(account=account, folder=folder, query=query, limit=limit, cursor=cursor),
        )

    def fetch_message(self, message_ref: Ref, *, max_body_chars: int | None = None) -> Envelope:
        return self.call(
            ToolName.FETCH_MESSAGE,
            _given(message_ref=_ref(message_ref), max_body_chars=max_body_chars),
        )

    def fetch_message_html(
        self, message_ref: Ref, *, max_body_chars: int | None = None
    ) -> Envelope:
        return self.call(
            ToolName.FETCH_MESSAGE_HTML,
            _given(message_ref=_ref(message_ref), max_body_chars=max_body_chars),
        )

    def list_attachments(self, message_ref: Ref) -> Envelope:
        return self.call(ToolName.LIST_ATTACHMENTS, {"message_ref": _ref(message_ref)})

    def download_attachment(self, message_ref: Ref, part_id: str) -> Envelope:
        return self.call(
            ToolName.DOWNLOAD_ATTACHMENT, {"message_ref": _ref(message_ref), "part_id": part_id}
        )

    def read_attachment(
        self, message_ref: Ref, part_id: str, *, max_chars: int | None = None
    ) -> Envelope:
        return self.call(
            ToolName.READ_ATTACHMENT,
            _given(message_ref=_ref(message_ref), part_id=part_id, max_chars=max_chars),
        )

    def list_labels(self, message_ref: Ref) -> Envelope:
        return self.call(ToolName.LIST_LABELS, {"message_ref": _ref(message_ref)})

    # ------------------------------------------------------------------ flags and labels
    def mark_read(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.MARK_READ, {"message_refs": _refs(message_refs)})

    def mark_unread(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.MARK_UNREAD, {"message_refs": _refs(message_refs)})

    def flag(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.FLAG, {"message_refs": _refs(message_refs)})

    def unflag(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.UNFLAG, {"message_refs": _refs(message_refs)})

    def add_label(self, message_refs: Refs, label: str) -> Envelope:
        return self.call(ToolName.ADD_LABEL, {"message_refs": _refs(message_refs), "label": label})

    def remove_label(self, message_refs: Refs, label: str) -> Envelope:
        return self.call(
            ToolName.REMOVE_LABEL, {"message_refs": _refs(message_refs), "label": label}
        )

    def move_message(self, message_refs: Refs, destination: str) -> Envelope:
        return self.call(
            ToolName.MOVE_MESSAGE,
            {"message_refs": _refs(message_refs), "destination": destination},
        )

    # ------------------------------------------------------------------ outgoing
    def _outgoing(
        self,
        tool: ToolName,
        to: Iterable[str],
        subject: str,
        body: str,
        cc: Iterable[str] | None,
        bcc: Iterable[str] | None,
        in_reply_to: Ref | None,
        account: str | None,
    ) -> Envelope:
        return self.call(
            tool,
            _given(
                account=account,
                to=list(to),
                cc=None if cc is None else list(cc),
                bcc=None if bcc is None else list(bcc),
                subject=subject,
                body=body,
                in_reply_to=None if in_reply_to is None else _ref(in_reply_to),
            ),
        )

    def create_draft(
        self,
        to: Iterable[str],
        subject: str,
        body: str,
        *,
        cc: Iterable[str] | None = None,
        bcc: Iterable[str] | None = None,
        in_reply_to: Ref | None = None,
        account: str | None = None,
    ) -> Envelope:
        """Save a plain-text draft (From is the account's own address)."""
        return self._outgoing(
            ToolName.CREATE_DRAFT, to, subject, body, cc, bcc, in_reply_to, account
        )

    def send_email(
        self,
        to: Iterable[str],
        subject: str,
        body: str,
        *,
        cc: Iterable[str] | None = None,
        bcc: Iterable[str] | None = None,
        in_reply_to: Ref | None = None,
        account: str | None = None,
    ) -> Envelope:
        """Send a plain-text message (posture ``full`` or more)."""
        return self._outgoing(ToolName.SEND_EMAIL, to, subject, body, cc, bcc, in_reply_to, account)

    # ------------------------------------------------------------------ deleting, folders
    def delete_message(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.DELETE_MESSAGE, {"message_refs": _refs(message_refs)})

    def expunge(self, message_refs: Refs) -> Envelope:
        return self.call(ToolName.EXPUNGE, {"message_refs": _refs(message_refs)})

    def create_folder(self, name: str, *, account: str | None = None) -> Envelope:
        return self.call(ToolName.CREATE_FOLDER, _given(account=account, name=name))

    def rename_folder(self, folder: str, new_name: str, *, account: str | None = None) -> Envelope:
        return self.call(
            ToolName.RENAME_FOLDER, _given(account=account, folder=folder, new_name=new_name)
        )

    def delete_folder(self, folder: str, *, account: str | None = None) -> Envelope:
        return self.call(ToolName.DELETE_FOLDER, _given(account=account, folder=folder))

    # ------------------------------------------------------------------ accounts
    def list_accounts(self) -> Envelope:
        return self.call(ToolName.LIST_ACCOUNTS, {})

    def use_account(self, account: str) -> Envelope:
        """Make ``account`` the active one (audited, as over MCP)."""
        return self.call(ToolName.USE_ACCOUNT, {"account": account})


def open_mailbox(
    config: Config | Path | str | None = None,
    account: str | None = None,
    *,
    secrets: SecretStore | None = None,
    stores: Mapping[str, MailStore] | None = None,
    senders: Mapping[str, Sender | None] | None = None,
    audit: AuditSink | None = None,
    confirmer: Callable[[ConfirmationSummary], bool] | None = None,
) -> Mailbox:
    """Open the configured mailboxes, gated and audited as the MCP server serves them.

    Args:
        config: a :class:`~mailguard_core.config.Config`, or the path of a config file, or
            None: the file ``mailguard-mcp`` reads by default (``$MAILGUARD_CONFIG``, else
            ``config.toml`` in the platform's config folder; see ``load_config``).
        account: the active account (default: the config's ``default_account``).
        secrets: where passwords and tokens come from (default: the keyring, then
            ``MAILGUARD_*`` environment variables, as the server).
        stores, senders: per account name, a mail store or sender to use instead of the
            configured one (``None`` as a sender: no sending); tests pass in-memory fakes.
        audit: the audit sink (default: the configured JSONL log, which one process at a
            time may hold). ``InMemoryAuditSink`` keeps the records in a list.
        confirmer: asked before a confirmed call (see :attr:`Mailbox.confirmer`).

    Returns:
        An open :class:`Mailbox`; close it (or use ``with``). Connections open on first use.

    Raises:
        ConfigError: the file or an account is not valid.
        InputError: ``account`` is not a configured account.
        AuditLocked: another mailguard process holds the audit log.
    """
    from mailguard_core.app.bootstrap import open_app

    if not isinstance(config, Config):
        config = load_config(None if config is None else str(config))
    manager = open_app(config, secrets=secrets, stores=stores, senders=senders, audit=audit)
    app = manager.__enter__()
    try:
        if account is not None:
            app.active = app.account(account).name
        app.confirmer = confirmer
    except BaseException as exc:
        manager.__exit__(type(exc), exc, exc.__traceback__)
        raise
    return Mailbox(app, manager)
