"""The ``MailStore`` port: everything an agent reads or changes in one account's mailbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from mailguard_core.domain import (
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
    """One account's mailbox. Contract, checked by ``tests/contract/``:

    - Folder names are the decoded (Unicode) names; adapters encode them for the wire.
      A name containing CR, LF, NUL or other C0 controls raises ``InvalidFolderNameError``
      before anything is sent.
    - Every ref an operation takes is checked: another account raises ``InputError``; a
      UIDVALIDITY that no longer matches raises ``StaleReference``; a missing uid raises
      ``MessageNotFound``; a missing folder raises ``FolderNotFound``.
    - ``search`` returns refs newest first (highest uid first), at most ``limit`` per page;
      the cursor continues the same result set even when new mail arrives; a cursor from
      another folder, criteria or UIDVALIDITY raises ``InvalidCursorError``.
    - ``fetch`` returns the exact bytes stored, and does not set ``\\Seen``.
    - ``move`` leaves every message exactly once, in the source or the destination, and
      returns the new refs (None where the server did not say).
    - ``expunge`` removes exactly the given uids and no other message marked ``\\Deleted``.
    - Only ``MailguardError`` subclasses escape; library errors are chained with ``from``.
    - After a dropped connection the next call reconnects.
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
