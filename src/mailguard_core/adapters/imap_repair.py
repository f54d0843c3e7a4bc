"""Repair of IMAP moves that a dead connection or server cut short.

A server killed mid-MOVE (Dovecot's Maildir MOVE is copy-then-expunge internally) or between
COPY and UID EXPUNGE can leave a message both in the source and as a fresh copy in the
destination. ``ImapMailStore`` journals each move in flight as a :class:`PendingMove` and, on
its next connection, calls :func:`repair_move`: for every original still in the source, the
copy that move made (a destination UID at or above the UIDNEXT seen before the move, with the
same header, size and internal date) is expunged, and a ``\\Deleted`` the move set is cleared.
Every message then exists exactly once. Originals are never deleted here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from mailguard_core.adapters.imap_session import Edge
from mailguard_core.adapters.imap_support import to_utc

__all__ = ["PendingMove", "repair_move"]


@attrs.frozen
class PendingMove:
    """What is needed to repair a move that a broken connection interrupted."""

    source: str
    source_validity: int
    uids: tuple[int, ...]
    deleted_before: frozenset[int]
    dest: str
    dest_validity: int
    dest_uidnext: int
    used_copy: bool


def _fingerprints(client: Edge, uids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    if not uids:
        return {}
    data = client.fetch(list(uids), [b"BODY.PEEK[HEADER]", b"RFC822.SIZE", b"INTERNALDATE"])
    return {
        uid: (
            bytes(v.get(b"BODY[HEADER]") or b""),
            v.get(b"RFC822.SIZE"),
            to_utc(v.get(b"INTERNALDATE")),
        )
        for uid, v in data.items()
    }


def repair_move(
    client: Edge,
    p: PendingMove,
    select: Callable[..., int],
    *,
    has_uidplus: bool,
) -> None:
    """Leave every message of ``p`` exactly once (see the module docstring).

    ``select(client, folder, readonly=False)`` selects a folder and returns its UIDVALIDITY.
    Library errors come translated by ``client`` (an :class:`Edge`).
    """
    if select(client, p.source, readonly=False) != p.source_validity:
        return  # the source was renumbered: nothing can be matched safely
    still = _fingerprints(client, p.uids)  # originals still in the source
    if not still:
        return
    status = client.folder_status(p.dest, [b"UIDVALIDITY"])
    if int(status.get(b"UIDVALIDITY", 0)) == p.dest_validity and has_uidplus:
        select(client, p.dest, readonly=False)
        found = client.search(["UID", f"{p.dest_uidnext}:*"])
        unused = _fingerprints(client, [u for u in found if u >= p.dest_uidnext])
        duplicates: list[int] = []
        for fingerprint in still.values():
            match = next((u for u, fp in unused.items() if fp == fingerprint), None)
            if match is not None:
                duplicates.append(match)
                del unused[match]
        if duplicates:
            client.add_flags(duplicates, [b"\\Deleted"])
            client.uid_expunge(duplicates)
    if p.used_copy:
        select(client, p.source, readonly=False)
        clear = [u for u in still if u not in p.deleted_before]
        if clear:
            client.remove_flags(clear, [b"\\Deleted"])
