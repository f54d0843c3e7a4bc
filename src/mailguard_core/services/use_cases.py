"""Use cases that tools call: one service call per tool (issue 6).

:class:`MailboxService` wraps one account's :class:`~mailguard_core.ports.MailStore`, the
sanitizer and the outgoing service. Every method takes already-parsed domain values and returns
a frozen value (:mod:`mailguard_core.services.results`, or the sanitizer's ``SafeMessage``),
its stranger-written text sanitized; the faces shape it for the wire
(:mod:`mailguard_core.app.wire`). Policy (posture, rate limits, folder protection) is the
gate's job and happens before these methods are called; the folder and label rules are
checked again here, by the gate's own :class:`~mailguard_core.gate.folders.FolderGuard`, as
defence in depth (one rule, one comparison of folder names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from mailguard_core.config import AccountConfig
from mailguard_core.gate.folders import FolderGuard
from mailguard_core.gate.request import ToolRequest
from mailguard_core.model.errors import (
    FolderNotFound,
    InputError,
    LabelReserved,
)
from mailguard_core.model.folder_names import is_reserved_label
from mailguard_core.model.tools import ToolName
from mailguard_core.model.values import (
    Labels,
    MessageRef,
    SearchCriteria,
    SearchPage,
    parse_keyword,
    require_account,
)
from mailguard_core.ports.downloads import DownloadStore
from mailguard_core.ports.mail_store import MailStore
from mailguard_core.sanitize import (
    SafeMessage,
    SanitizeOptions,
    SecurityWarning,
    sanitize_headers,
    sanitize_message,
    sanitize_text,
)
from mailguard_core.services import confirm
from mailguard_core.services.attachments import AttachmentCases
from mailguard_core.services.confirm import ConfirmationSummary
from mailguard_core.services.outgoing import OutgoingRequest, OutgoingService
from mailguard_core.services.results import (
    Drafted,
    Expunged,
    FlagsChanged,
    FolderChanged,
    FolderEntry,
    FolderList,
    MessageLabels,
    Moved,
    SearchHit,
    SearchResults,
    Sent,
)

#: a top-level ``Content-Type: multipart/mixed`` (the header may be folded): what the
#: ``has_attachment`` search criterion means, shown on each search hit
_MIXED_RE = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/mixed\b")


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


class MailboxService(AttachmentCases):
    """The reading, flag, move, folder and outgoing use cases of one account.

    Args:
        account: the account's configuration.
        store: its mailbox.
        outgoing: drafts and sending (None: the tools raise ``InputError``).
        downloads: where ``download_attachment`` saves attachments (None: it is refused;
            the composition root passes the account's download directory).
        options: extra keyword arguments for every ``SanitizeOptions`` (e.g. a detector).
    """

    def __init__(
        self,
        account: AccountConfig,
        store: MailStore,
        *,
        outgoing: OutgoingService | None = None,
        downloads: DownloadStore | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.account = account
        self.store = store
        self._outgoing = outgoing
        self._downloads = downloads
        self._extra_options = dict(options or {})
        own = _domain(account.address)
        self._own_domains = (own,) if own else ()
        self._special: dict[str, str] | None = None
        self._guard = FolderGuard(account.folders)

    @property
    def name(self) -> str:
        return self.account.name

    # ------------------------------------------------------------------ helpers
    def _options(self, **fields: Any) -> SanitizeOptions:
        return SanitizeOptions(
            account=self.name,
            known_domains=tuple(self.account.known_domains),
            own_domains=self._own_domains,
            brands=tuple(sorted(self.account.brands.items())),
            trusted_authserv_id=self.account.trusted_authserv_id,
            **self._extra_options,
            **fields,
        )

    def _check_refs(self, refs: Sequence[MessageRef]) -> None:
        require_account(self.name, refs)  # the gate's check, again: defence in depth

    def special_folders(self) -> dict[str, str]:
        """Special-use flag to folder name, asked of the server once and then remembered."""
        if self._special is None:
            self._learn(dict(self.store.special_folders()))
        assert self._special is not None
        return self._special

    def _learn(self, special: dict[str, str]) -> None:
        self._special = special
        self._guard.set_special_folders(special)

    def _check(
        self,
        tool: ToolName,
        *,
        folder: str | None = None,
        new_folder: str | None = None,
        destination: str | None = None,
    ) -> None:
        """The gate's folder rules for ``tool`` (the request's folder fields), with the
        server's special-use folders."""
        self.special_folders()
        request = ToolRequest(
            tool=tool,
            requested=tool.value,
            account=self.name,
            folder=folder,
            new_folder=new_folder,
            destination=destination,
        )
        self._guard.check(request)

    # ------------------------------------------------------------------ reading
    def list_folders(self) -> FolderList:
        folders = self.store.list_folders()
        self._learn(dict(self.store.special_folders()))
        entries = []
        for info in folders:
            shown, warnings = sanitize_text(info.name, location="folder_name", max_chars=200)
            protected = self._guard.is_protected(info.name)
            entries.append(
                FolderEntry(info=info, shown=shown, protected=protected, warnings=tuple(warnings))
            )
        return FolderList(account=self.name, folders=tuple(entries))

    def _page(self, folder: str, page: SearchPage) -> SearchResults:
        hits = []
        for summary in self.store.summaries(page.refs):
            ref = summary.ref
            safe = sanitize_headers(
                summary.header_bytes,
                self._options(
                    folder=ref.folder,
                    uid=ref.uid,
                    uidvalidity=ref.uidvalidity,
                    flags=tuple(sorted(summary.flags)),
                    internal_date=summary.internal_date,
                    # the store knows the whole message's size; the sanitizer sees the headers
                    size_bytes=summary.size_bytes,
                ),
            )
            # the has_attachment search rule (docs/imap.md): top-level multipart/mixed
            mixed = bool(_MIXED_RE.search(summary.header_bytes))
            hits.append(SearchHit(headers=safe, has_attachment=mixed))
        return SearchResults(
            account=self.name,
            folder=folder,
            total=page.total,
            next_cursor=page.next_cursor,
            hits=tuple(hits),
        )

    def search(
        self, folder: str, criteria: SearchCriteria, *, limit: int, cursor: str | None
    ) -> SearchResults:
        page = self.store.search(folder, criteria, limit=limit, cursor=cursor)
        return self._page(folder, page)

    def search_advanced(
        self, folder: str, expression: str, *, limit: int, cursor: str | None
    ) -> SearchResults:
        page = self.store.search_raw(folder, expression, limit=limit, cursor=cursor)
        return self._page(folder, page)

    def fetch_message(
        self, ref: MessageRef, *, max_body_chars: int | None = None, include_html: bool = False
    ) -> SafeMessage:
        self._check_refs([ref])
        raw = self.store.fetch(ref, max_bytes=self.account.max_message_bytes)
        return sanitize_message(
            raw.data,
            self._options(
                folder=ref.folder,
                uid=ref.uid,
                uidvalidity=ref.uidvalidity,
                flags=tuple(sorted(raw.flags)),
                internal_date=raw.internal_date,
                include_html=include_html,
                max_body_chars=max_body_chars or self.account.max_body_chars,
            ),
        )

    def list_labels(self, ref: MessageRef) -> MessageLabels:
        self._check_refs([ref])
        flags = self.store.get_flags(ref)
        labels = self.store.labels(ref)
        warnings: list[SecurityWarning] = []

        def clean(values: Sequence[str], where: str) -> tuple[str, ...]:
            out = []
            for value in values:
                text, found = sanitize_text(value, location=where, max_chars=200)
                warnings.extend(found)
                out.append(text)
            return tuple(out)

        gmail = None if labels.gmail_labels is None else clean(labels.gmail_labels, "label")
        keywords = clean(labels.keywords, "keyword")  # warnings: the Gmail labels' first
        return MessageLabels(
            ref=ref,
            system_flags=tuple(sorted(f for f in flags if f.startswith("\\"))),
            labels=Labels(keywords=keywords, gmail_labels=gmail),
            warnings=tuple(warnings),
        )

    # ------------------------------------------------------------------ changing
    def store_flag(
        self, action: str, refs: Sequence[MessageRef], flag: str, *, add: bool
    ) -> FlagsChanged:
        """Add or remove a system ``flag`` (the flag tools: ``action`` is the tool's name)."""
        return self._store_flags(action, refs, flag, add)

    def set_label(self, refs: Sequence[MessageRef], label: str, *, add: bool) -> FlagsChanged:
        if is_reserved_label(label):
            raise LabelReserved(f"{'add' if add else 'remove'}_label of {label!r}")
        parse_keyword(label)
        return self._store_flags("add_label" if add else "remove_label", refs, label, add)

    def _store_flags(
        self, action: str, refs: Sequence[MessageRef], flag: str, add: bool
    ) -> FlagsChanged:
        self._check_refs(refs)
        if add:
            self.store.set_flags(refs, add=[flag])
        else:
            self.store.set_flags(refs, remove=[flag])
        return FlagsChanged(account=self.name, action=action, refs=tuple(refs))

    def move(self, refs: Sequence[MessageRef], destination: str) -> Moved:
        self._check_refs(refs)
        self._check(ToolName.MOVE_MESSAGE, destination=destination)
        return self._move(refs, destination)

    def _move(self, refs: Sequence[MessageRef], destination: str) -> Moved:
        moved = self.store.move(refs, destination)
        return Moved(account=self.name, destination=destination, moved=tuple(moved.items()))

    def delete_messages(self, refs: Sequence[MessageRef]) -> Moved:
        """Move to the Trash folder (special-use ``\\Trash``)."""
        trash = self.special_folders().get("\\Trash")
        if trash is None:
            raise FolderNotFound(
                f"account {self.name!r} has no \\Trash folder",
                public="this account has no Trash folder; use move_message instead",
            )
        if any(ref.folder == trash for ref in refs):
            raise InputError(
                "delete_message of a message already in Trash",
                public="the message is already in Trash",
            )
        self._check_refs(refs)
        self._check(ToolName.DELETE_MESSAGE)
        return self._move(refs, trash)

    def expunge(self, refs: Sequence[MessageRef]) -> Expunged:
        self._check_refs(refs)
        self._guard.check(
            ToolRequest(
                tool=ToolName.EXPUNGE, requested="expunge", account=self.name, refs=(*refs,)
            )
        )
        count = self.store.expunge(refs)
        return Expunged(account=self.name, count=count)

    def _folder_op(self, action: str, folder: str) -> FolderChanged:
        return FolderChanged(account=self.name, action=action, folder=folder)

    def create_folder(self, name: str) -> FolderChanged:
        self._check(ToolName.CREATE_FOLDER, new_folder=name)
        self.store.create_folder(name)
        return self._folder_op("created", name)

    def rename_folder(self, folder: str, new_name: str) -> FolderChanged:
        self._check(ToolName.RENAME_FOLDER, folder=folder, new_folder=new_name)
        self.store.rename_folder(folder, new_name)
        return self._folder_op("renamed", new_name)

    def delete_folder(self, folder: str) -> FolderChanged:
        self._check(ToolName.DELETE_FOLDER, folder=folder)
        self.store.delete_folder(folder)
        return self._folder_op("deleted", folder)

    # ------------------------------------------------------------------ outgoing
    def _need_outgoing(self) -> OutgoingService:
        if self._outgoing is None:
            raise InputError(
                f"account {self.name!r} has no outgoing service",
                public="this account cannot compose mail",
            )
        return self._outgoing

    def create_draft(self, request: OutgoingRequest) -> Drafted:
        if request.in_reply_to is not None:
            self._check_refs([request.in_reply_to])
        return Drafted(account=self.name, outcome=self._need_outgoing().create_draft(request))

    def send_email(self, request: OutgoingRequest) -> Sent:
        if request.in_reply_to is not None:
            self._check_refs([request.in_reply_to])
        return Sent(account=self.name, outcome=self._need_outgoing().send(request))

    # ------------------------------------------------------------------ confirmation
    def confirm_send(self, request: OutgoingRequest) -> ConfirmationSummary:
        """What a human approves before :meth:`send_email` (the composed message, read back).

        Raises:
            InputError, LimitExceeded, RecipientNotAllowed, ToolDenied: as :meth:`send_email`.
        """
        if request.in_reply_to is not None:
            self._check_refs([request.in_reply_to])
        composed = self._need_outgoing().preview(request)
        return confirm.summarize_send(self.name, composed)

    def confirm_messages(
        self, tool: ToolName, refs: Sequence[MessageRef], destination: str | None = None
    ) -> ConfirmationSummary:
        """What a human approves before a call on ``refs`` (delete, expunge, move): the
        stored messages' senders and subjects."""
        self._check_refs(refs)
        found = self.store.summaries(refs[: confirm.LISTED_MESSAGES])
        return confirm.summarize_messages(
            tool.value, self.name, refs, found, destination=destination
        )

    def confirm_folder(
        self, tool: ToolName, folder: str, new_name: str | None = None
    ) -> ConfirmationSummary:
        """What a human approves before ``delete_folder`` / ``rename_folder``."""
        messages = None
        for info in self.store.list_folders():
            if info.name == folder:
                messages = info.messages
        return confirm.summarize_folder(
            tool.value, self.name, folder, new_name=new_name, messages=messages
        )

    def close(self) -> None:
        self.store.close()


#: builds a :class:`MailboxService` for an account (the composition root supplies it)
ServiceFactory = Callable[[AccountConfig], MailboxService]
