"""Opaque, tamper-evident search cursors and the paging rule every MailStore shares.

A search result is a set of UIDs in one folder. Pages are served newest first (highest UID
first). The first page fixes a *snapshot*: the folder's UIDVALIDITY and the highest UID that
matched. A cursor carries that snapshot plus the lowest UID already returned; the next page is
"matching UIDs below ``last_uid``". New mail gets higher UIDs than anything in the snapshot, so
it never shifts later pages; a message deleted between pages simply does not appear.

A cursor is bound to one account, folder, query (by hash) and UIDVALIDITY, and is signed with a
per-process random key: a cursor from another query, a changed folder, another process or with
edited bytes raises :class:`~mailguard_core.model.errors.InvalidCursorError`, never wrong results.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import itertools
import json
import operator
import secrets
from collections.abc import Iterable, Sequence

import attrs

from mailguard_core.model.errors import InputError, InvalidCursorError
from mailguard_core.search.uidset import UidSet

__all__ = [
    "MAX_PAGE_SIZE",
    "CursorState",
    "decode_cursor",
    "encode_cursor",
    "page_uids",
    "query_fingerprint",
    "validate_limit",
]

#: the largest page a store returns (tools use 1..100)
MAX_PAGE_SIZE = 500

_KEY = secrets.token_bytes(32)
_MAC_BYTES = 16
_VERSION = 1
_MAX_CURSOR_CHARS = 2048


@attrs.frozen(kw_only=True)
class CursorState:
    """What a cursor remembers between pages."""

    account: str
    folder: str
    uidvalidity: int
    query: str
    #: highest matching UID when the first page was served
    high_uid: int
    #: the next page holds matching UIDs strictly below this one
    below_uid: int
    #: how many messages matched when the first page was served
    total: int


def validate_limit(limit: int) -> int:
    """Return ``limit`` if it is a valid page size (1..MAX_PAGE_SIZE), else raise InputError."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InputError(
            f"page size {limit!r} out of range", public=f"limit must be 1..{MAX_PAGE_SIZE}"
        )
    return limit


def query_fingerprint(kind: str, query: object) -> str:
    """A short stable hash of a query (structured criteria repr or raw expression)."""
    return hashlib.sha256(f"{kind}\x00{query!r}".encode()).hexdigest()[:24]


def _sign(payload: bytes) -> bytes:
    return hmac.new(_KEY, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(state: CursorState) -> str:
    """Serialize and sign ``state`` into a URL-safe opaque string."""
    payload = json.dumps(
        [
            _VERSION,
            state.account,
            state.folder,
            state.uidvalidity,
            state.query,
            state.high_uid,
            state.below_uid,
            state.total,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")
    return base64.urlsafe_b64encode(_sign(payload) + payload).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *, account: str, folder: str, query: str) -> CursorState:
    """Verify and decode a cursor for this account, folder and query.

    Raises:
        InvalidCursorError: malformed, forged, from another process, another account, folder
            or query. (A UIDVALIDITY change is checked by the store, which knows the folder.)
    """
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursorError("cursor empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursorError("cursor is not base64") from exc
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _sign(payload)):
        raise InvalidCursorError("cursor signature mismatch (edited, or from another process)")
    try:
        fields = json.loads(payload)
        version, c_account, c_folder, uidvalidity, c_query, high, below, total = fields
    except (ValueError, TypeError) as exc:  # pragma: no cover - only reachable with our key
        raise InvalidCursorError("cursor payload malformed") from exc
    if version != _VERSION:
        raise InvalidCursorError("cursor from another version")
    if (c_account, c_folder, c_query) != (account, folder, query):
        raise InvalidCursorError("cursor belongs to another account, folder or search")
    return CursorState(
        account=c_account,
        folder=c_folder,
        uidvalidity=int(uidvalidity),
        query=c_query,
        high_uid=int(high),
        below_uid=int(below),
        total=int(total),
    )


def _rising(matching: Iterable[int]) -> Sequence[int] | None:
    """``matching`` itself when it is a list or tuple of strictly rising UIDs (what an IMAP
    SEARCH answers), else None. Checked in C, without a copy: a 100,000-UID answer then needs
    neither a set (4 MB) nor a sorted copy, which a bounded heap would fault in afresh on every
    search (``system.heap``)."""
    if not isinstance(matching, list | tuple):
        return None
    if not all(map(operator.lt, matching, itertools.islice(matching, 1, None))):
        return None
    return matching


def page_uids(
    matching: Iterable[int] | UidSet,
    *,
    limit: int,
    state: CursorState | None,
    account: str,
    folder: str,
    uidvalidity: int,
    query: str,
) -> tuple[Sequence[int], str | None, int]:
    """Apply the paging rule to the UIDs that match now.

    Args:
        matching: every UID matching the query now (any order), or a :class:`UidSet` (an
            ESEARCH answer: paged from its top without listing its UIDs).
        state: the decoded cursor, or None for the first page.

    Returns:
        ``(page, next_cursor, total)``: the page's UIDs newest first, the cursor for the next
        page (None when this is the last), and the total fixed at the first page.

    Raises:
        InvalidCursorError: the folder's UIDVALIDITY changed since the first page.
    """
    validate_limit(limit)
    if state is not None and state.uidvalidity != uidvalidity:
        raise InvalidCursorError("the folder's UIDVALIDITY changed since the first page")
    if isinstance(matching, UidSet):  # ESEARCH: O(limit), whatever the number of UIDs
        if state is None:
            high, total = matching.highest, matching.count
            top = matching.top(limit + 1, at_most=high)
        else:
            high, total = state.high_uid, state.total
            top = matching.top(limit + 1, at_most=min(state.below_uid - 1, high))
    elif (rising := _rising(matching)) is not None:
        # a SEARCH answer: no set, no sort, no copy of 100,000 UIDs
        if state is None:
            high, total, end = (rising[-1] if rising else 0), len(rising), len(rising)
        else:
            high, total = state.high_uid, state.total
            end = bisect.bisect_right(rising, min(state.below_uid - 1, high))
        top = list(rising[max(0, end - limit - 1) : end])[::-1]
    else:
        unique = set(matching)
        candidates: Iterable[int]
        if state is None:
            high = max(unique, default=0)
            total = len(unique)
            candidates = unique
        else:
            high, total = state.high_uid, state.total
            candidates = [u for u in unique if u < state.below_uid and u <= high]
        # Timsort finds the order of dense UIDs in C in ~1 ms (heapq.nlargest: ~35 ms)
        top = sorted(candidates, reverse=True)[: limit + 1]
    page = top[:limit]
    next_cursor = None
    if len(top) > limit:
        next_cursor = encode_cursor(
            CursorState(
                account=account,
                folder=folder,
                uidvalidity=uidvalidity,
                query=query,
                high_uid=high,
                below_uid=page[-1],
                total=total,
            )
        )
    return page, next_cursor, total
