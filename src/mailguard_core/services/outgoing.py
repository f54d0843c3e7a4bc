"""Drafts and sending for one account: build, submit, keep a copy (issue 5).

- ``create_draft`` appends the message to the Drafts folder with ``\\Draft`` and
  ``$PendingReview``. Nothing is sent: a person reviews the draft and sends it themselves.
- ``send`` submits the message once through the :class:`~mailguard_core.ports.Sender`, then
  appends a copy to the Sent folder with ``\\Seen``. A failed copy does not undo or repeat the
  send: the outcome says the copy failed and why (``sent_copy_error``).

Both refuse bad input (header injection, sizes, the recipient allowlist) before anything
reaches a server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from mailguard_core.config import AccountConfig
from mailguard_core.model.compose import (
    DRAFT_FLAGS,
    SENT_FLAGS,
    ComposedMessage,
    Limits,
    Mailbox,
    Threading,
    compose,
    threading_from_headers,
)
from mailguard_core.model.errors import MailguardError, MessageNotFound, ToolDenied
from mailguard_core.model.folder_names import OUTGOING_FOLDERS
from mailguard_core.model.values import MessageRef, require_account
from mailguard_core.ports.mail_store import MailStore
from mailguard_core.ports.sender import Sender

log = logging.getLogger(__name__)

#: special-use flag -> the folder name used when the server announces none
FALLBACK_FOLDERS = OUTGOING_FOLDERS


def _strings(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen(kw_only=True)
class OutgoingRequest:
    """What the caller wants to send or draft (unchecked until used)."""

    to: tuple[str, ...] = attrs.field(converter=_strings)
    cc: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    bcc: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    subject: str
    body: str = attrs.field(repr=False)
    in_reply_to: MessageRef | None = None


@attrs.frozen(kw_only=True)
class DraftOutcome:
    #: the draft's ref when the server reported it (UIDPLUS), else None
    ref: MessageRef | None
    message_id: str


@attrs.frozen(kw_only=True)
class SendOutcome:
    message_id: str
    accepted: tuple[str, ...]
    refused: tuple[str, ...] = ()
    sent_copy_stored: bool = False
    sent_copy_ref: MessageRef | None = None
    #: why the Sent copy failed (a public message), None when it was stored
    sent_copy_error: str | None = None


class OutgoingService:
    """Drafts and sending for one account.

    Args:
        account: the account (its address is always From and the envelope sender).
        store: the account's mailbox, for the parent of a reply and the Drafts/Sent copies.
        sender: SMTP submission; None means the account cannot send.
    """

    def __init__(
        self,
        account: AccountConfig,
        store: MailStore,
        sender: Sender | None,
    ) -> None:
        self.account = account
        self._store = store
        self._sender = sender
        self._from = Mailbox(address=account.address, display_name=account.display_name)
        send = account.send
        self._limits = Limits(
            max_recipients=send.max_recipients,
            max_subject_chars=send.max_subject_chars,
            max_body_bytes=send.max_body_bytes,
            recipient_allowlist=send.recipient_allowlist,
        )

    def create_draft(self, request: OutgoingRequest) -> DraftOutcome:
        """Append the message to Drafts with ``\\Draft`` and ``$PendingReview``.

        Raises:
            InputError, LimitExceeded, RecipientNotAllowed: bad input; nothing stored.
            MailguardError: the store failed (nothing stored).
        """
        message = self._build(request, draft=True)
        folder = self._folder("\\Drafts")
        ref = self._store.append(folder, message.data, flags=DRAFT_FLAGS)
        return DraftOutcome(ref=ref, message_id=message.message_id)

    def send(self, request: OutgoingRequest) -> SendOutcome:
        """Submit the message once, then store a copy in Sent.

        Raises:
            ToolDenied: the account has no SMTP settings.
            InputError, LimitExceeded, RecipientNotAllowed: bad input; nothing sent.
            BackendError: the submission failed; nothing was sent.
        """
        if self._sender is None:
            raise ToolDenied(
                f"account {self.account.name!r} has no [smtp] settings",
                public="this account cannot send mail (no SMTP server configured)",
            )
        message = self._build(request, draft=False)
        result = self._sender.send(
            envelope_from=message.envelope_from, recipients=message.recipients, data=message.data
        )
        outcome = SendOutcome(
            message_id=message.message_id, accepted=result.accepted, refused=result.refused
        )
        try:
            ref = self._store.append(self._folder("\\Sent"), message.data, flags=SENT_FLAGS)
        except MailguardError as exc:
            log.warning("sent %s but the Sent copy failed: %s", message.message_id, exc)
            return attrs.evolve(outcome, sent_copy_error=f"{exc.code}: {exc.public_message}")
        except Exception as exc:  # the send counts: never turn it into a failure
            log.exception("sent %s but the Sent copy failed unexpectedly", message.message_id)
            return attrs.evolve(outcome, sent_copy_error=f"internal_error: {type(exc).__name__}")
        return attrs.evolve(outcome, sent_copy_stored=True, sent_copy_ref=ref)

    def preview(self, request: OutgoingRequest) -> ComposedMessage:
        """The message :meth:`send` would submit for ``request`` (same checks, nothing sent or
        stored; the Message-ID and Date of the real send differ).

        Raises:
            ToolDenied: the account has no SMTP settings.
            InputError, LimitExceeded, RecipientNotAllowed: bad input.
        """
        if self._sender is None:
            raise ToolDenied(
                f"account {self.account.name!r} has no [smtp] settings",
                public="this account cannot send mail (no SMTP server configured)",
            )
        return self._build(request, draft=False)

    def _build(self, request: OutgoingRequest, *, draft: bool) -> ComposedMessage:
        threading = None
        if request.in_reply_to is not None:
            threading = self._threading(request.in_reply_to)
        return compose(
            sender=self._from,
            to=request.to,
            cc=request.cc,
            bcc=request.bcc,
            subject=request.subject,
            body=request.body,
            limits=self._limits,
            threading=threading,
            draft=draft,
        )

    def _threading(self, ref: MessageRef) -> Threading | None:
        require_account(self.account.name, (ref,))
        summaries = [s for s in self._store.summaries([ref]) if s.ref == ref]
        if not summaries:
            raise MessageNotFound(f"in_reply_to {ref} not found")
        return threading_from_headers(summaries[0].header_bytes)

    def _folder(self, special_use: str) -> str:
        folders = self._store.special_folders()
        return folders.get(special_use) or FALLBACK_FOLDERS[special_use]
