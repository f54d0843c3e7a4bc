"""The behaviour shared by the stores that hold mail locally (in memory, Maildir).

:class:`LocalMailStore` implements the whole ``MailStore`` contract over a small storage
:class:`Backend` (folders of ``uid -> StoredMessage`` with a UIDVALIDITY each), so the
in-memory fake and the Maildir store behave exactly alike, and like an IMAP server: UIDs grow
per folder and are never reused, moves and appends assign new UIDs, a recreated folder gets a
new UIDVALIDITY.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from email.message import Message
from typing import Protocol

import attrs

from mailguard_core.adapters.mail_common import (
    attachment_parts,
    check_refs,
    find_part,
    part_filename,
    validate_flags,
    validate_folder_name,
    validate_part_id,
)
from mailguard_core.model.errors import (
    AttachmentNotFound,
    FolderNotFound,
    InputError,
    MessageNotFound,
    MessageTooLarge,
    StaleReference,
)
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
from mailguard_core.sanitize.email_parser_shim import message_from_bytes
from mailguard_core.search.cursor import decode_cursor, page_uids, query_fingerprint
from mailguard_core.search.matching import MessageView, matches
from mailguard_core.search.query import (
    Node,
    criteria_to_node,
    describe,
    parse_expression,
)

__all__ = ["DELIMITER", "Backend", "LocalMailStore", "StoredMessage"]

DELIMITER = "/"


@attrs.define
class StoredMessage:
    uid: int
    data: bytes = attrs.field(repr=False)
    flags: frozenset[str]
    internal_date: dt.datetime


class Backend(Protocol):
    """Storage under a :class:`LocalMailStore`. Names are validated before they get here."""

    def folder_names(self) -> list[str]: ...

    def special_use(self, name: str) -> str | None: ...

    def exists(self, name: str) -> bool: ...

    def uidvalidity(self, name: str) -> int: ...

    def messages(self, name: str) -> dict[int, StoredMessage]: ...

    def add(
        self, name: str, data: bytes, flags: frozenset[str], internal_date: dt.datetime
    ) -> int: ...

    def set_flags(self, name: str, uid: int, flags: frozenset[str]) -> None: ...

    def remove(self, name: str, uids: Sequence[int]) -> None: ...

    def create(self, name: str) -> None: ...

    def rename(self, old: str, new: str) -> None: ...

    def delete(self, name: str) -> None: ...


def _parse(data: bytes) -> Message:
    return message_from_bytes(data)  # the sanitizer's parser: the same tree as the stdlib's


def _body_text(msg: Message) -> str:
    chunks = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                chunks.append(payload.decode(charset, "replace"))
            except LookupError:
                chunks.append(payload.decode("utf-8", "replace"))
    return "\n".join(chunks)


def _header_block(data: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        idx = data.find(sep)
        if idx >= 0:
            return data[: idx + len(sep)]
    return data


class LocalMailStore:
    """``MailStore`` over a :class:`Backend`. Subclasses pick the backend."""

    def __init__(self, account: str, backend: Backend) -> None:
        self._account = account
        self._backend = backend

    # ------------------------------------------------------------------ helpers
    @property
    def account(self) -> str:
        return self._account

    def _folder(self, name: str) -> str:
        validate_folder_name(name)
        if name.upper() == "INBOX":
            name = "INBOX"
        if not self._backend.exists(name):
            raise FolderNotFound(f"no folder {name!r}")
        return name

    def _message(self, ref: MessageRef) -> StoredMessage:
        check_refs(self._account, [ref])
        folder = self._folder(ref.folder)
        if self._backend.uidvalidity(folder) != ref.uidvalidity:
            raise StaleReference(f"{ref}: UIDVALIDITY is now {self._backend.uidvalidity(folder)}")
        msg = self._backend.messages(folder).get(ref.uid)
        if msg is None:
            raise MessageNotFound(f"{ref} does not exist")
        return msg

    def _ref(self, folder: str, uid: int) -> MessageRef:
        return MessageRef(
            account=self._account,
            folder=folder,
            uidvalidity=self._backend.uidvalidity(folder),
            uid=uid,
        )

    # ------------------------------------------------------------------ reading
    def server_info(self) -> ServerInfo:
        return ServerInfo(capabilities=("LOCAL", "UIDPLUS", "MOVE"))

    def list_folders(self) -> Sequence[FolderInfo]:
        out = []
        for name in self._backend.folder_names():
            msgs = self._backend.messages(name)
            out.append(
                FolderInfo(
                    name=name,
                    delimiter=DELIMITER,
                    special_use=self._backend.special_use(name),
                    messages=len(msgs),
                    unseen=sum(1 for m in msgs.values() if "\\Seen" not in m.flags),
                    uidvalidity=self._backend.uidvalidity(name),
                )
            )
        return out

    def special_folders(self) -> Mapping[str, str]:
        out: dict[str, str] = {}
        for name in self._backend.folder_names():
            use = self._backend.special_use(name)
            if use and use not in out:
                out[use] = name
        return out

    def _search(
        self, folder: str, node: Node, kind: str, *, limit: int, cursor: str | None
    ) -> SearchPage:
        folder = self._folder(folder)
        query = query_fingerprint(kind, describe(node))
        state = None
        if cursor is not None:
            state = decode_cursor(cursor, account=self._account, folder=folder, query=query)
        msgs = self._backend.messages(folder)
        max_uid = max(msgs, default=0)
        matching = []
        for uid, stored in msgs.items():
            if state is not None and uid >= state.below_uid:
                continue
            parsed = _parse(stored.data)
            view = MessageView(
                uid=uid,
                flags=stored.flags,
                internal_date=stored.internal_date,
                size=len(stored.data),
                message=parsed,
                body_text=_body_text(parsed),
                header_text=_header_block(stored.data).decode("utf-8", "replace"),
            )
            if matches(node, view, max_uid=max_uid):
                matching.append(uid)
        page, next_cursor, total = page_uids(
            matching,
            limit=limit,
            state=state,
            account=self._account,
            folder=folder,
            uidvalidity=self._backend.uidvalidity(folder),
            query=query,
        )
        return SearchPage(
            refs=tuple(self._ref(folder, uid) for uid in page), next_cursor=next_cursor, total=total
        )

    def search(
        self, folder: str, criteria: SearchCriteria, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        return self._search(folder, criteria_to_node(criteria), "q", limit=limit, cursor=cursor)

    def search_raw(
        self, folder: str, expression: str, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        node = parse_expression(expression)
        return self._search(folder, node, "q", limit=limit, cursor=cursor)

    def summaries(self, refs: Sequence[MessageRef]) -> Sequence[MessageSummary]:
        out = []
        for ref in refs:
            try:
                stored = self._message(ref)
            except MessageNotFound:
                continue
            out.append(
                MessageSummary(
                    ref=ref,
                    header_bytes=_header_block(stored.data),
                    flags=stored.flags,
                    size_bytes=len(stored.data),
                    internal_date=stored.internal_date,
                )
            )
        return out

    def fetch(self, ref: MessageRef, *, max_bytes: int | None = None) -> RawMessage:
        stored = self._message(ref)
        if max_bytes is not None and len(stored.data) > max_bytes:
            raise MessageTooLarge(f"{ref} has {len(stored.data)} bytes > {max_bytes}")
        return RawMessage(
            ref=ref, data=stored.data, flags=stored.flags, internal_date=stored.internal_date
        )

    def attachments(self, ref: MessageRef) -> Sequence[AttachmentInfo]:
        return attachment_parts(_parse(self._message(ref).data))

    def fetch_part(self, ref: MessageRef, part_id: str) -> PartData:
        validate_part_id(part_id)
        part = find_part(_parse(self._message(ref).data), part_id)
        if part is None:
            raise AttachmentNotFound(f"{ref} has no part {part_id}")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # message/rfc822: the enclosed message
            inner = part.get_payload()
            first = inner[0] if isinstance(inner, list) and inner else None
            payload = first.as_bytes() if isinstance(first, Message) else b""
        return PartData(
            part_id=part_id,
            content=payload,
            content_type=part.get_content_type(),
            filename=part_filename(part),
        )

    def get_flags(self, ref: MessageRef) -> frozenset[str]:
        return self._message(ref).flags

    def labels(self, ref: MessageRef) -> Labels:
        flags = self._message(ref).flags
        return Labels(keywords=tuple(sorted(f for f in flags if not f.startswith("\\"))))

    # ------------------------------------------------------------------ changing
    def set_flags(
        self, refs: Sequence[MessageRef], *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> None:
        add_set, remove_set = set(validate_flags(add)), set(validate_flags(remove))
        stored = [(ref, self._message(ref)) for ref in refs]  # check all before changing any
        for ref, msg in stored:
            flags = frozenset((msg.flags | add_set) - remove_set)
            self._backend.set_flags(self._folder(ref.folder), msg.uid, flags)

    def move(
        self, refs: Sequence[MessageRef], destination: str
    ) -> Mapping[MessageRef, MessageRef | None]:
        dest = self._folder(destination)
        stored = [(ref, self._message(ref)) for ref in refs]
        if any(self._folder(ref.folder) == dest for ref in refs):
            raise InputError("move to the same folder", public="the message is already there")
        out: dict[MessageRef, MessageRef | None] = {}
        # like UID MOVE/COPY: per source folder, in ascending uid order
        for ref, msg in sorted(stored, key=lambda item: (item[0].folder, item[0].uid)):
            if ref in out:
                continue
            uid = self._backend.add(dest, msg.data, msg.flags, msg.internal_date)
            self._backend.remove(self._folder(ref.folder), [msg.uid])
            out[ref] = self._ref(dest, uid)
        return out

    def append(self, folder: str, data: bytes, *, flags: Sequence[str] = ()) -> MessageRef | None:
        name = self._folder(folder)
        if not isinstance(data, bytes) or not data:
            raise InputError("append needs message bytes", public="the message is empty")
        checked = frozenset(validate_flags(flags))
        uid = self._backend.add(name, data, checked, dt.datetime.now(dt.UTC).replace(microsecond=0))
        return self._ref(name, uid)

    def expunge(self, refs: Sequence[MessageRef]) -> int:
        stored = [(ref, self._message(ref)) for ref in refs]
        removed = 0
        by_folder: dict[str, list[int]] = {}
        for ref, msg in stored:
            uids = by_folder.setdefault(self._folder(ref.folder), [])
            if msg.uid not in uids:
                uids.append(msg.uid)
                removed += 1
        for folder, uids in by_folder.items():
            self._backend.remove(folder, uids)
        return removed

    def create_folder(self, name: str) -> None:
        validate_folder_name(name)
        if name.upper() == "INBOX" or self._backend.exists(name):
            raise InputError(f"folder {name!r} exists", public="a folder with that name exists")
        self._backend.create(name)

    def rename_folder(self, old: str, new: str) -> None:
        source = self._folder(old)
        validate_folder_name(new)
        if source == "INBOX" or new.upper() == "INBOX":
            raise InputError("rename of INBOX", public="INBOX cannot be renamed")
        if self._backend.exists(new):
            raise InputError(f"folder {new!r} exists", public="a folder with that name exists")
        self._backend.rename(source, new)

    def delete_folder(self, name: str) -> None:
        folder = self._folder(name)
        if folder == "INBOX":
            raise InputError("delete of INBOX", public="INBOX cannot be deleted")
        self._backend.delete(folder)

    def close(self) -> None:
        return None
