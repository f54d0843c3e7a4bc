"""The reading side of ``ImapMailStore``: folders, search, summaries, messages, parts, flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mailguard_core.adapters.imap_connection import ImapConnection, as_text, flag_set
from mailguard_core.adapters.imap_session import Edge
from mailguard_core.adapters.imap_support import (
    decode_transfer,
    to_utc,
    walk_bodystructure,
)
from mailguard_core.adapters.mail_common import (
    check_refs,
    validate_folder_name,
    validate_part_id,
)
from mailguard_core.model.errors import (
    AttachmentNotFound,
    FolderNotFound,
    MessageNotFound,
    MessageTooLarge,
    ProtocolError,
    RefusedByServer,
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
from mailguard_core.search.cursor import (
    decode_cursor,
    page_uids,
    query_fingerprint,
    validate_limit,
)
from mailguard_core.search.query import (
    Key,
    Node,
    criteria_to_node,
    describe,
    flatten_and,
    parse_expression,
    to_imap_args,
)
from mailguard_core.search.uidset import UidSet

__all__ = ["ImapReader"]

_SPECIAL_USES = ("\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged")
_CONVENTIONAL = {
    "\\Drafts": ("drafts", "draft"),
    "\\Sent": ("sent", "sent items", "sent mail"),
    "\\Trash": ("trash", "deleted items", "deleted messages"),
    "\\Junk": ("junk", "spam"),
    "\\Archive": ("archive",),
}


class ImapReader(ImapConnection):
    """The port's reading methods over an :class:`ImapConnection`."""

    # ------------------------------------------------------------------ reading
    def server_info(self) -> ServerInfo:
        def op(client: Edge) -> ServerInfo:
            caps = tuple(sorted(as_text(c).upper() for c in client.capabilities()))
            return ServerInfo(
                capabilities=caps,
                tls_version=self._tls_version,
                certificate_sha256=self._cert_sha256,
                login_mechanism=self._mechanism,
            )

        return self._run("capability", op, idempotent=True)

    def _list(self, client: Edge) -> list[tuple[tuple[str, ...], str | None, str]]:
        out = []
        for flags, delim, name in client.list_folders():
            out.append(
                (tuple(as_text(f) for f in flags), as_text(delim) if delim else None, as_text(name))
            )
        return out

    def list_folders(self) -> Sequence[FolderInfo]:
        def op(client: Edge) -> list[FolderInfo]:
            folders = []
            for flags, delim, name in self._list(client):
                selectable = not any(f.lower() in ("\\noselect", "\\nonexistent") for f in flags)
                counts: dict[bytes, Any] = {}
                if selectable:
                    try:
                        counts = client.folder_status(
                            name, [b"MESSAGES", b"UNSEEN", b"UIDVALIDITY"]
                        )
                    except (FolderNotFound, RefusedByServer, ProtocolError):
                        counts = {}  # one odd folder (a BAD or NO to STATUS): counts unknown
                special = next((f for f in flags if f in _SPECIAL_USES), None)
                folders.append(
                    FolderInfo(
                        name=name,
                        delimiter=delim,
                        flags=flags,
                        special_use=special,
                        messages=counts.get(b"MESSAGES"),
                        unseen=counts.get(b"UNSEEN"),
                        uidvalidity=counts.get(b"UIDVALIDITY"),
                        selectable=selectable,
                    )
                )
            return folders

        return self._run("list", op, idempotent=True)

    def special_folders(self) -> Mapping[str, str]:
        def op(client: Edge) -> dict[str, str]:
            listing = self._list(client)
            out: dict[str, str] = {}
            for flags, _delim, name in listing:
                for flag in flags:
                    if flag in _SPECIAL_USES and flag not in out:
                        out[flag] = name
            for use, names in _CONVENTIONAL.items():  # servers without SPECIAL-USE
                if use not in out:
                    match = next((n for _f, _d, n in listing if n.lower() in names), None)
                    if match is not None:
                        out[use] = match
            return out

        return self._run("list", op, idempotent=True)

    def _search(self, folder: str, node: Node, *, limit: int, cursor: str | None) -> SearchPage:
        validate_folder_name(folder)
        validate_limit(limit)
        query = query_fingerprint("q", describe(node))
        state = None
        if cursor is not None:
            state = decode_cursor(cursor, account=self._account, folder=folder, query=query)

        def op(client: Edge) -> SearchPage:
            uidvalidity = self._select(client, folder, readonly=True)
            uids: list[int] | UidSet = []
            if state is None or state.below_uid > 1:
                wire = node
                if state is not None:  # page 2+: only UIDs below the last one served
                    wire = flatten_and([Key("UID", (f"1:{state.below_uid - 1}",)), node])
                args, utf8 = to_imap_args(wire)
                prefix = [b"CHARSET", b"UTF-8"] if utf8 else []
                if "ESEARCH" in self._caps:  # a compact answer: 1:100000, not 100,000 UIDs
                    uids = client.uid_esearch(prefix + args)
                else:
                    uids = client.uid_search(prefix + args)
            page, next_cursor, total = page_uids(
                uids,
                limit=limit,
                state=state,
                account=self._account,
                folder=folder,
                uidvalidity=uidvalidity,
                query=query,
            )
            refs = tuple(self._ref(folder, uidvalidity, u) for u in page)
            return SearchPage(refs=refs, next_cursor=next_cursor, total=total)

        return self._run("search", op, idempotent=True)

    def search(
        self, folder: str, criteria: SearchCriteria, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        return self._search(folder, criteria_to_node(criteria), limit=limit, cursor=cursor)

    def search_raw(
        self, folder: str, expression: str, *, limit: int, cursor: str | None = None
    ) -> SearchPage:
        return self._search(folder, parse_expression(expression), limit=limit, cursor=cursor)

    def summaries(self, refs: Sequence[MessageRef]) -> Sequence[MessageSummary]:
        check_refs(self._account, refs)

        def op(client: Edge) -> list[MessageSummary]:
            found: dict[MessageRef, MessageSummary] = {}
            folders: dict[str, list[MessageRef]] = {}
            for ref in refs:
                folders.setdefault(ref.folder, []).append(ref)
            for folder, group in folders.items():
                uidvalidity = self._select(client, folder, readonly=True)
                stale = [r for r in group if r.uidvalidity != uidvalidity]
                if stale:
                    raise StaleReference(f"{stale[0]}: UIDVALIDITY is now {uidvalidity}")
                items = [b"BODY.PEEK[HEADER]", b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE"]
                data = client.fetch(sorted({r.uid for r in group}), items)
                for ref in group:
                    item = data.get(ref.uid)
                    if item is None:
                        continue
                    found[ref] = MessageSummary(
                        ref=ref,
                        header_bytes=bytes(item.get(b"BODY[HEADER]") or b""),
                        flags=flag_set(item.get(b"FLAGS", ())),
                        size_bytes=int(item.get(b"RFC822.SIZE", 0)),
                        internal_date=to_utc(item.get(b"INTERNALDATE")),
                    )
            return [found[r] for r in refs if r in found]

        return self._run("fetch", op, idempotent=True)

    def _fetch_one(self, client: Edge, ref: MessageRef, items: list[bytes]) -> dict[bytes, Any]:
        check_refs(self._account, [ref])
        uidvalidity = self._select(client, ref.folder, readonly=True)
        if uidvalidity != ref.uidvalidity:
            raise StaleReference(f"{ref}: UIDVALIDITY is now {uidvalidity}")
        item: dict[bytes, Any] | None = client.fetch([ref.uid], items).get(ref.uid)
        if item is None:
            raise MessageNotFound(f"{ref} does not exist")
        return item

    def fetch(self, ref: MessageRef, *, max_bytes: int | None = None) -> RawMessage:
        def op(client: Edge) -> RawMessage:
            body = b"BODY.PEEK[]"
            if max_bytes is not None:  # one round trip, never more than max_bytes + 1 read
                body = f"BODY.PEEK[]<0.{max(0, max_bytes) + 1}>".encode("ascii")
            items = [body, b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]
            item = self._fetch_one(client, ref, items)
            size = int(item.get(b"RFC822.SIZE", 0))
            data = bytes(next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b"")
            if max_bytes is not None and max(size, len(data)) > max_bytes:
                raise MessageTooLarge(f"{ref} has {max(size, len(data))} bytes > {max_bytes}")
            return RawMessage(
                ref=ref,
                data=data,
                flags=flag_set(item.get(b"FLAGS", ())),
                internal_date=to_utc(item.get(b"INTERNALDATE")),
            )

        return self._run("fetch", op, idempotent=True)

    def attachments(self, ref: MessageRef) -> Sequence[AttachmentInfo]:
        def op(client: Edge) -> list[AttachmentInfo]:
            bs = self._fetch_one(client, ref, [b"BODYSTRUCTURE"]).get(b"BODYSTRUCTURE")
            infos = (part.attachment_info() for part in walk_bodystructure(bs))
            return [info for info in infos if info is not None]

        return self._run("fetch", op, idempotent=True)

    def fetch_part(self, ref: MessageRef, part_id: str) -> PartData:
        validate_part_id(part_id)

        def op(client: Edge) -> PartData:
            bs = self._fetch_one(client, ref, [b"BODYSTRUCTURE"]).get(b"BODYSTRUCTURE")
            part = next((p for p in walk_bodystructure(bs) if p.part_id == part_id), None)
            if part is None:
                raise AttachmentNotFound(f"{ref} has no part {part_id}")
            section = f"BODY.PEEK[{part_id}]".encode("ascii")
            item = self._fetch_one(client, ref, [section])
            raw = next((v for k, v in item.items() if k.startswith(b"BODY[")), b"") or b""
            return PartData(
                part_id=part_id,
                content=decode_transfer(bytes(raw), part.encoding),
                content_type=part.content_type,
                filename=part.filename,
            )

        return self._run("fetch", op, idempotent=True)

    def get_flags(self, ref: MessageRef) -> frozenset[str]:
        def op(client: Edge) -> frozenset[str]:
            return flag_set(self._fetch_one(client, ref, [b"FLAGS"]).get(b"FLAGS", ()))

        return self._run("fetch", op, idempotent=True)

    def labels(self, ref: MessageRef) -> Labels:
        def op(client: Edge) -> Labels:
            items = [b"FLAGS", b"X-GM-LABELS"] if self._gmail() else [b"FLAGS"]
            item = self._fetch_one(client, ref, items)
            keywords = tuple(sorted(f for f in flag_set(item.get(b"FLAGS", ())) if f[:1] != "\\"))
            gmail = None
            if self._gmail():
                gmail = tuple(sorted(as_text(x) for x in item.get(b"X-GM-LABELS", ()) or ()))
            return Labels(keywords=keywords, gmail_labels=gmail)

        return self._run("fetch", op, idempotent=True)
