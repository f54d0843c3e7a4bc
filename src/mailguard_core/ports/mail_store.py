"""The ``MailStore`` port: everything an agent reads or changes in one account's mailbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from mailguard_core.model.values import (
    AttachmentInfo,
    FolderInfo,
    Labels,
    MessageRef,
    MessageSummary,
    PartData,
    RawMessage,
    SearchCriteria,
    SearchPage,
    ServerInfo,
)


class MailStore(Protocol):
    """One account's mailbox. Contract, checked by ``tests/contract/mail_store_contract.py``
    for every adapter (IMAP against Dovecot, in-memory, Maildir):

    Names and refs
    - Folder names are the decoded (Unicode) names with ``/`` as the hierarchy delimiter
      (the IMAP adapter uses the server's delimiter); adapters encode them for the wire
      (modified UTF-7 on IMAP). A name that is empty, longer than 255 characters, or contains
      CR, LF, NUL or another control character raises ``InvalidFolderNameError`` before
      anything is sent. ``*`` and ``%`` are ordinary characters, never wildcards.
    - Every ref an operation takes is checked: another account raises ``InputError``; a
      UIDVALIDITY that no longer matches the folder's raises ``StaleReference``; a missing uid
      raises ``MessageNotFound``; a missing folder raises ``FolderNotFound``.
    - Flags are strings: system flags with a backslash (``\\Seen``), keywords as atoms
      (``$Important``). ``\\Recent`` is session state and never reported. Flags to set must
      be system flags or atoms, else ``InputError``.

    Reading
    - ``search``/``search_raw`` return refs newest first (highest uid first), at most ``limit``
      (1..500, else ``InputError``) per page; the cursor continues the same result set even
      when new mail arrives (see ``mailguard_core.search.cursor``); a cursor from another
      folder, query, process or UIDVALIDITY raises ``InvalidCursorError``. ``total`` is the
      match count when the first page was served. Search terms with control characters and
      raw expressions that are not in the allowed grammar raise ``InvalidSearchError``.
    - ``summaries`` keeps the order given and leaves out refs whose message no longer exists.
    - ``fetch`` returns the exact bytes stored and does not set ``\\Seen``.
    - ``attachments`` lists leaf parts that are attachments (disposition attachment, a file
      name, or a non-text type), with IMAP part ids (``"2"``, ``"1.2"``); ``size_bytes`` is
      the part's size as transferred (before base64/quoted-printable decoding).
      ``fetch_part`` returns the decoded content; an unknown part id raises
      ``AttachmentNotFound``, a malformed one ``InputError``.

    Changing
    - ``move`` leaves every message exactly once, in the source or the destination, and
      returns ``{old ref: new ref or None where the server did not say}``. Moving to the same
      folder is an ``InputError``.
    - ``append`` returns the new ref when the store knows it (IMAP: UIDPLUS).
    - ``expunge`` removes exactly the given uids and no other message marked ``\\Deleted``.
    - ``create_folder`` of an existing name, ``rename_folder`` onto an existing name raise
      ``InputError``; ``rename_folder``/``delete_folder`` of INBOX raise ``InputError``.

    Errors and connections
    - Only ``MailguardError`` subclasses escape; library errors are chained with ``from``.
    - After a dropped connection the next call reconnects. A store is used from one thread
      at a time.
    """

    @property
    def account(self) -> str: ...

    def server_info(self) -> ServerInfo: ...

    def list_folders(self) -> Sequence[FolderInfo]: ...

    def special_folders(self) -> Mapping[str, str]:
        """Special-use flag (``\\Sent``, ``\\Drafts``, ``\\Trash``, ...) to folder name."""
        ...

    def search(
        self,
        folder: str,
        criteria: SearchCriteria,
        *,
        limit: int,
        cursor: str | None = None,
    ) -> SearchPage: ...

    def search_raw(
        self, folder: str, expression: str, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        """Search with a raw IMAP SEARCH expression, validated (no CR/LF, NUL or literals)."""
        ...

    def summaries(self, refs: Sequence[MessageRef]) -> Sequence[MessageSummary]:
        """Headers, flags, size and internal date of each ref, in the order given."""
        ...

    def fetch(self, ref: MessageRef, *, max_bytes: int | None = None) -> RawMessage:
        """The whole message. Larger than ``max_bytes`` raises ``MessageTooLarge``."""
        ...

    def attachments(self, ref: MessageRef) -> Sequence[AttachmentInfo]: ...

    def fetch_part(self, ref: MessageRef, part_id: str) -> PartData: ...

    def get_flags(self, ref: MessageRef) -> frozenset[str]: ...

    def labels(self, ref: MessageRef) -> Labels: ...

    def set_flags(
        self,
        refs: Sequence[MessageRef],
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
    ) -> None:
        """Add and remove flags or keywords (on Gmail, labels go through X-GM-LABELS)."""
        ...

    def move(
        self, refs: Sequence[MessageRef], destination: str
    ) -> Mapping[MessageRef, MessageRef | None]: ...

    def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> MessageRef | None:
        """Store a message; returns its ref when the server reports it (UIDPLUS)."""
        ...

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        """Permanently remove exactly these messages; returns how many were removed."""
        ...

    def create_folder(self, name: str) -> None: ...

    def rename_folder(self, old: str, new: str) -> None: ...

    def delete_folder(self, name: str) -> None: ...

    def close(self) -> None:
        """Release the connection. Idempotent; a later call may reconnect."""
        ...
