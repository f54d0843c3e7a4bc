"""``ImapMailStore``: the MailStore port over imapclient (IMAP4rev1 + UIDPLUS/MOVE/SPECIAL-USE).

The connection rules (TLS, pins, timeouts, reconnects) and the error mapping: see
``imap_connection``; the reading methods: ``imap_read``; the imapclient methods used and
where their errors are translated: ``imap_session``.

Wire safety: folder names go through imapclient's modified UTF-7 encoding and quoting after
control characters were refused; search terms are compiled by ``search_query`` into quoted
strings or literals; flags are validated atoms; part ids are validated digits.

Moves use UID MOVE when offered; otherwise UID COPY + STORE \\Deleted + UID EXPUNGE of exactly
the moved UIDs (UIDPLUS); without either the move is refused, never done with a bare EXPUNGE.
Gmail (X-GM-EXT-1): keywords are set and read as X-GM-LABELS.

Search: when the server advertises ESEARCH (RFC 4731) the search is ``UID SEARCH RETURN (ALL)``,
whose answer is a compact UID set (``1:100000``) parsed strictly (``imap_esearch``) and paged
from its top without listing its UIDs (``search.uidset``); otherwise a plain ``UID SEARCH``.
Both give the same pages and cursors (``tests/unit/test_imap_esearch.py``, on Dovecot).

imapclient internals are used where its public API lacks a feature, each behind one function
of ``imapclient_private``: ``_raw_command_untagged`` (SEARCH and ESEARCH with our own
quoting/literals, the latter with imaplib's tag for its correlator) and ``_imap.response``
(COPYUID of MOVE/COPY).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mailguard_core.adapters.imap_read import ImapReader
from mailguard_core.adapters.imap_repair import PendingMove
from mailguard_core.adapters.imap_session import Edge
from mailguard_core.adapters.imap_support import (
    parse_appenduid,
    parse_uid_pairs,
)
from mailguard_core.adapters.mail_common import (
    SYSTEM_FLAGS,
    check_refs,
    validate_flags,
    validate_folder_name,
)
from mailguard_core.model.errors import (
    InputError,
    UnsupportedByServer,
)
from mailguard_core.model.values import (
    MessageRef,
)

__all__ = ["ImapMailStore"]


class ImapMailStore(ImapReader):
    """``MailStore`` over IMAP; see :class:`ImapConnection` for the arguments."""

    # ------------------------------------------------------------------ changing
    def set_flags(
        self, refs: Sequence[MessageRef], *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        add_l, remove_l = validate_flags(add), validate_flags(remove)

        def op(client: Edge) -> None:
            for folder, uids in self._checked(client, refs, readonly=False).items():
                self._select(client, folder, readonly=False)
                for flags, adding in ((add_l, True), (remove_l, False)):
                    system = [f for f in flags if f in SYSTEM_FLAGS]
                    keywords = [f for f in flags if f not in SYSTEM_FLAGS]
                    if self._gmail() and keywords:
                        (client.add_gmail_labels if adding else client.remove_gmail_labels)(
                            uids, keywords
                        )
                    else:
                        system += keywords
                    if system:
                        (client.add_flags if adding else client.remove_flags)(uids, system)

        self._run("store", op, idempotent=True)

    def move(
        self, refs: Sequence[MessageRef], destination: str
    ) -> Mapping[MessageRef, MessageRef | None]:
        validate_folder_name(destination)
        check_refs(self._account, refs)
        if any(ref.folder == destination for ref in refs):
            raise InputError("move to the same folder", public="the message is already there")

        def op(client: Edge) -> dict[MessageRef, MessageRef | None]:
            if "MOVE" not in self._caps and "UIDPLUS" not in self._caps:
                raise UnsupportedByServer(
                    "server has neither MOVE nor UIDPLUS: refusing a move that would need a "
                    "bare EXPUNGE",
                    public="this mail server cannot move messages safely",
                )
            status = client.folder_status(destination, [b"UIDVALIDITY", b"UIDNEXT"])
            dest_validity = int(status.get(b"UIDVALIDITY", 0))
            out: dict[MessageRef, MessageRef | None] = {}
            for folder, flags in self._checked_flags(client, refs, False).items():
                uids = list(flags)
                source_validity = self._select(client, folder, readonly=False)
                journal = PendingMove(
                    source=folder,
                    source_validity=source_validity,
                    uids=tuple(uids),
                    deleted_before=frozenset(u for u, f in flags.items() if "\\Deleted" in f),
                    dest=destination,
                    dest_validity=dest_validity,
                    dest_uidnext=int(status.get(b"UIDNEXT", 1)),
                    used_copy="MOVE" not in self._caps,
                )
                self._pending.append(journal)  # until the move is known to be complete
                client.take_copyuid()  # clear a stale value
                if journal.used_copy:
                    client.copy(uids, destination)
                    client.add_flags(uids, [b"\\Deleted"])
                    client.uid_expunge(uids)
                else:
                    client.move(uids, destination)
                self._pending.remove(journal)
                data = client.take_copyuid()
                pairs = parse_uid_pairs(data, len(uids)) if data and data[0] is not None else None
                mapping = pairs[1] if pairs and pairs[0] == dest_validity else {}
                for ref in refs:
                    if ref.folder == folder:
                        new = mapping.get(ref.uid)
                        out[ref] = self._ref(destination, dest_validity, new) if new else None
            return out

        return self._run("move", op)

    def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> MessageRef | None:
        validate_folder_name(folder)
        checked = validate_flags(flags)
        if not isinstance(data, bytes) or not data:
            raise InputError("append needs message bytes", public="the message is empty")

        def op(client: Edge) -> MessageRef | None:
            response = client.append(folder, data, flags=checked)
            parsed = parse_appenduid(response)
            return self._ref(folder, parsed[0], parsed[1]) if parsed else None

        return self._run("append", op)

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        def op(client: Edge) -> int:
            if "UIDPLUS" not in self._caps:
                raise UnsupportedByServer(
                    "server lacks UIDPLUS: UID EXPUNGE of exact messages is impossible",
                    public="this mail server cannot expunge single messages safely",
                )
            count = 0
            for folder, uids in self._checked(client, refs, readonly=False).items():
                self._select(client, folder, readonly=False)
                client.add_flags(uids, [b"\\Deleted"])
                client.uid_expunge(uids)
                count += len(uids)
            return count

        return self._run("expunge", op)

    def _folder_op(self, action: str, fn: Callable[[Edge], None]) -> None:
        def op(client: Edge) -> None:
            if self._selected is not None:
                self._selected = None
                if "UNSELECT" in self._caps:
                    client.unselect_folder()
                else:
                    client.close_folder()
            fn(client)

        self._run(action, op)

    def create_folder(self, name: str) -> None:
        validate_folder_name(name)
        if name.upper() == "INBOX":
            raise InputError("create INBOX", public="a folder with that name exists")
        self._folder_op("create", lambda c: c.create_folder(name))

    def rename_folder(self, old: str, new: str) -> None:
        validate_folder_name(old)
        validate_folder_name(new)
        if "INBOX" in (old.upper(), new.upper()):
            raise InputError("rename of INBOX", public="INBOX cannot be renamed")

        def op(client: Edge) -> None:
            # exact match in the full listing (never LIST with the name: * and % would match)
            if any(name == new for _f, _d, name in self._list(client)):
                raise InputError(f"folder {new!r} exists", public="a folder with that name exists")
            client.rename_folder(old, new)

        self._folder_op("rename", op)

    def delete_folder(self, name: str) -> None:
        validate_folder_name(name)
        if name.upper() == "INBOX":
            raise InputError("delete of INBOX", public="INBOX cannot be deleted")

        self._folder_op("delete", lambda c: c.delete_folder(name))
